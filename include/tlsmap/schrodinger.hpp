#pragma once
// The two lowest levels of a particle of unit mass on a TLS path: the quantum splitting E_qs.
//
// What: along the mass-weighted arc length s of an NEB band (σ√m) the tunnelling coordinate is a
// particle of unit mass in V(s), and its two lowest eigenvalues of
//     −(ħ²/2) ψ'' + V(s) ψ = E ψ          (ħ = ħ* = ħ/(σ√(mε)), energies in ε)
// give the level gap of the two-level system, E_qs = E1 − E0 (= sqrt(Δ0² + ε_TLS²) when the two-level
// picture holds). This is the quantity WKB (tunnelling.hpp) only estimates; it is exact for the 1D
// model at any asymmetry and any barrier, and it needs nothing of the band but V(s) and the path
// frequencies ω_A, ω_B at its ends (Khomenko et al., PRL 124, 225901 (2020) solve the same equation).
//
// Why this way: the band has images only between its end minima, but the wavefunctions leak past
// them, so V is continued beyond each end (`PathContinuation`). The equation is discretised by
// Numerov's method (4th order, tridiagonal in the variable w = (1 − h²F/12)ψ, F = 2(V − E)/ħ²), so
// the count of eigenvalues below a trial E is a Sturm sequence of one O(n) recurrence and the two
// lowest levels follow by bisection to the last bit: no matrix is stored, no eigen-solver can miss a
// nearly degenerate pair, and a splitting of 1e-12 ε is still resolved. Two grids (h, h/2) give a
// Richardson-extrapolated E_qs and its error estimate. The cost is milliseconds (docs/tunnelling.md).
//
// Trade-off: a uniform grid fine enough for the shortest quantum length anywhere (the harmonic
// length sqrt(ħ/ω) or the decay length under the barrier) is wasteful where ψ is smooth, but it
// keeps the discretisation order and the error estimate honest; at a few thousand points it costs
// nothing next to an NEB. The result is exact for the 1D path model only: the other 3n − 1 modes
// and the curvature of the path are left out, as in the TLS studies this follows.
#include "tlsmap/tunnelling.hpp"

namespace tlsmap {

// How V is continued past the band's ends, where the band has no images (the wavefunctions leak out
// there):
//  * harmonic: V(s) = V_end + ½ ω_end² (s − s_end)² (the end is a minimum; ω from the Hessian along
//    the path; if the caller's ω_end is not positive, the curvature of the interpolant at the end;
//    if that is not positive either, that end is mirrored);
//  * mirror: V(s_end + x) = V(s_end − x) for x up to the distance from the end to the band's highest
//    point (the end's well is reflected up to the barrier top, never into the other well), then
//    V_top + ½ ω_w² (x − d)² (ω_w: the end's own ω, else the other end's, else sqrt(32 ΔV)/L).
enum class PathContinuation { harmonic, mirror };

// Grid controls; the defaults give E_qs to ~1e-6 relative (docs/tunnelling.md).
struct PathGridOptions {
  double points_per_length = 16.0;  // coarse-grid points per shortest quantum length (fine grid: 2×)
  double decay_lengths = 10.0;      // margin past each outer turning point, in harmonic lengths
  long max_points = 400000;         // cap on the fine grid (h grows past it; error_estimate shows it)
};

struct PathLevels {
  double e0 = 0, e1 = 0;             // two lowest eigenvalues of −(ħ²/2) d²/ds² + V(s) (ε)
  double e_qs = 0;                   // E1 − E0 (ε)
  double e_qs_other = 0;             // E_qs with the other continuation (the sensitivity to that choice)
  double barrier_top = 0;            // max V along the band (ε)
  bool levels_below_barrier = false; // e1 < barrier_top (both of the two lowest levels under the top)
  int n_grid = 0;                    // grid points used (fine grid)
  double s_lo = 0, s_hi = 0;         // the solve interval (σ√m)
  double error_estimate = 0;         // estimated discretisation error of e_qs (ε): Richardson h vs h/2
  double omega_a = 0, omega_b = 0;   // ω of the harmonic continuation used at each end (0: mirrored)
};

// The two lowest levels of the path potential v (band from v.front() to v.back(), ends at or near
// minima) continued past its ends. omega_a/b: path frequencies at the ends ((ε/σ²m)^½; ≤ 0 or NaN:
// unknown). hbar: ħ* (hbar_reduced(units)). Serial, deterministic. Throws Error on hbar ≤ 0 or a
// non-finite V.
PathLevels path_levels(const PathPotential& v, double omega_a, double omega_b, double hbar,
                       PathContinuation continuation = PathContinuation::harmonic,
                       const PathGridOptions& grid = {});

}  // namespace tlsmap
