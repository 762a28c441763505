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
// linear finite elements on a uniform grid with the potential integrals done exactly (V is a cubic
// between the band's nodes), so the pencil K − E M is tridiagonal and the number of levels below a
// trial E is a Sturm count of one O(n) recurrence: E0 and E1 follow by bisection to the last bit,
// with no matrix stored and no eigen-solver that could miss or mix a nearly degenerate pair (the
// rounding floor of E_qs is a few 1e-16 ε). Three nested grids (h, h/2, h/4) give a
// Romberg-extrapolated E_qs and its error estimate. The cost is a few milliseconds
// (docs/tunnelling.md).
//
// Trade-off: linear elements converge only as h², but with exact integrals their error expansion
// stays regular where V'' jumps (every node of the Hermite interpolant, noisy bands), so the
// extrapolation and the estimate can be trusted there; a pointwise 4th-order scheme (Numerov) is
// more accurate on a smooth V but converges irregularly on a real band. A uniform grid fine enough
// for the shortest quantum length anywhere is wasteful where ψ is smooth, but at a few thousand
// points it costs nothing next to an NEB. The result is exact for the 1D path model only: the other
// 3n − 1 modes and the curvature of the path are left out, as in the TLS studies this follows.
#include "tlsmap/search/tunnelling.hpp"

namespace tlsmap {

// How V is continued past the band's ends, where the band has no images (the wavefunctions leak out
// there):
//  * harmonic: V(s) = V_end + ½ ω_end² (s − s_end)² (the end is a minimum; ω from the Hessian along
//    the path; if the caller's ω_end is not positive, the curvature of the interpolant at the end;
//    if that is not positive either, that end is mirrored). The band's own slope at the end is
//    continued as well (+ V'_end (s − s_end)), which keeps V C¹ on a noisy band; an NEB band has
//    V' = 0 at its ends, so there this is exactly the parabola;
//  * mirror: V(s_end + x) = V(s_end − x) for x up to the distance d from the end to the barrier top
//    (the end's well is reflected up to the top, never into the other well), then
//    V_top + ½ ω_w² (x − d)² (ω_w: the end's own ω, else the other end's, else sqrt(32 ΔV)/L).
//  * extended: the caller's own V past each end (PathOuter: e.g. the model's energy on the straight
//    line along the band's end tangent, event_search.cpp), then the harmonic continuation from the
//    far end of that (with its own slope). An end without a PathOuter is continued harmonically.
enum class PathContinuation { harmonic, mirror, extended };

// V past the band's ends for PathContinuation::extended: `before` spans [s_first, v.front()] and
// `after` [v.back(), s_last] (each includes the band's end node, so V is continuous there).
struct PathOuter {
  const PathPotential* before = nullptr;
  const PathPotential* after = nullptr;
};

// Grid controls; the defaults give E_qs to ~1e-9 relative or better (docs/tunnelling.md).
struct PathGridOptions {
  double points_per_length = 8.0;  // points per shortest quantum length on the coarsest of 3 grids
  double decay_lengths = 10.0;     // margin past each outer turning point, in harmonic lengths
  long max_points = 400000;        // cap on the finest grid (h grows past it; error_estimate shows it)
};

struct PathLevels {
  double e0 = 0, e1 = 0;              // two lowest eigenvalues of −(ħ²/2) d²/ds² + V(s) (ε)
  double e_qs = 0;                    // E1 − E0 (ε)
  double e_qs_other = 0;              // E_qs with the other continuation (mirror; harmonic when mirror is
                                      // the main one): the sensitivity to that choice
  double barrier_top = 0;             // max V along the band between its outermost minima (ε); for an
                                      // NEB band (ends at minima) the max along the band
  bool levels_below_barrier = false;  // e1 < barrier_top (both of the two lowest levels under the top)
  int n_grid = 0;                     // grid points used (the finest of the three grids)
  double s_lo = 0, s_hi = 0;          // the solve interval (σ√m)
  double error_estimate = 0;          // estimated discretisation error of e_qs (ε): the last Romberg change
  double omega_a = 0, omega_b = 0;    // ω of the harmonic continuation used at each end (0: mirrored)
};

// The two lowest levels of the path potential v (band from v.front() to v.back(), ends at or near
// minima) continued past its ends. omega_a/b: path frequencies at the ends ((ε/σ²m)^½; ≤ 0 or NaN:
// unknown). hbar: ħ* (hbar_reduced(units)). Serial, deterministic. Throws Error on hbar ≤ 0 or a
// non-finite V.
PathLevels path_levels(const PathPotential& v, double omega_a, double omega_b, double hbar,
                       PathContinuation continuation = PathContinuation::harmonic, const PathGridOptions& grid = {},
                       const PathOuter& outer = {});

}  // namespace tlsmap
