#pragma once
// Tunnelling splitting Δ0 of a two-level system from its 1D path potential, by WKB.
//
// The path coordinate s is the mass-weighted arc length along the NEB band (all beads have mass m,
// so s is in σ√m). Along it the system is a particle of unit mass in V(s). In reduced LJ units the
// only quantum parameter is ħ* = ħ / (σ √(m ε)) (de Boer's Λ*/2π; 0.0296 for argon).
//
// Formula: WKB for a double well (Landau & Lifshitz QM §50) with Garg's prefactor,
//     Δ0 = ħ sqrt(Ω_A Ω_B) / sqrt(e π) · exp(−S/ħ),   S = ∫_{s1}^{s2} sqrt(2 (V(s) − E*)) ds,
// (Garg, Am. J. Phys. 68, 430 (2000): matching the wells' Gaussian ground states to the WKB tails
// gives 1/sqrt(eπ) where Landau–Lifshitz's connection formulas, wrong for n = 0, give 1/π.) E_A0, E_B0
// are the wells' ground levels and Ω_A, Ω_B the classical frequencies of motion in each well at its
// level (LL §50 uses Ω = 2π/T(E0), not the harmonic ω), both to the first order beyond harmonic: with
// the well's Taylor expansion V0 + ½ω²x² + c3 x³ + c4 x⁴ at its minimum, g_k = c_k ℓ^k/ħω, ℓ² = ħ/ω,
//     E0 = V0 + ħω (½ + ¾ g4 − 11/8 g3²)           (LL QM §38, second-order perturbation theory),
//     Ω = ω (1 + (3 g4 − 7.5 g3²)(E0 − V0)/ħω)     (LL Mechanics §28).
// E* = max(E_A0, E_B0) (for an asymmetric pair, the energy at which both wells have a state), and
// s1 < s2 are the innermost turning points V(s) = E* around the barrier top. ω_A, ω_B are the
// harmonic frequencies along the path at the two minima (ω² = u·H·u, H the Hessian, u the caller's
// unit axis of that well; the search's is the band's direction at the zero-point scale, docs/tunnelling.md). The band ends at the minima, so the outer wall of each well is
// not known: the well is continued past its minimum by the Taylor expansion, with c3, c4 fixed by ω
// and by V, V' at the band's node next to the end (exact for a quartic). The mirror image of the inner
// branch would drop the cubic term's shift and add a |x|³ one: Δ0 −33 % at S/ħ = 5.8 for a quartic.
// The corrections are capped at |E0 − V0 − ½ħω| ≤ 0.1 ħω and |Ω/ω − 1| ≤ 0.2 (reached only for S/ħ
// of order 1 or when the band does not resolve the well; at S/ħ = 5.3 a quartic has −0.02 ħω and
// Ω/ω = 0.94); without an interior node on the well's side of the
// barrier top the harmonic values ½ħω, ω are used. Δ0 is the tunnelling matrix element, independent
// of the asymmetry (the level gap is sqrt(Δ0² + ε_TLS²)). If E* is at or above the barrier top, S = 0,
// Δ0 = ħ sqrt(Ω_A Ω_B)/sqrt(eπ) and `over_barrier` is set: the pair is not a tunnelling system at
// zero temperature.
// Accuracy against the exact 1D splitting (tests/test_schrodinger.cpp, 16-image bands, argon):
// quartic wells +1.2 % at S/ħ = 5.3, +0.5 % at 6.9, −0.1 % at 10.9, −0.3 % at 24.8 (tending to exact;
// the Landau–Lifshitz formula ħω/π at E_min + ½ħω used before gave +9.8 % at S/ħ = 5.8, −1.9 % at
// 24.7, tending to sqrt(e/π) = 0.930); asymmetric sextic wells (ω_A/ω_B = 1.11) at resonance +1.9 %
// at S/ħ = 6.0, +0.3 % at 11.3 (before: +31 %, +15 %); the LJ cage of tests/test_search_kernel.cpp
// −4.2 % at S/ħ = 5.6 (before: +4.7 %). It neglects the other 3n − 1 modes (their zero-point change
// along the path), as do the TLS studies it follows (Heuer & Silbey, PRL 70, 3911 (1993); Khomenko
// et al., PRL 124, 225901 (2020)).
#include "tlsmap/io/units.hpp"

#include <vector>

namespace tlsmap {

// ħ in reduced LJ units for the input's physical units: ħ / (σ √(m ε)).
double hbar_reduced(const PhysicalUnits& u);

// A 1D potential given at nodes s_k (increasing) by values V_k and slopes V'_k, cubic Hermite
// between nodes (C¹, exact for cubics).
class PathPotential {
 public:
  PathPotential(std::vector<double> s, std::vector<double> v, std::vector<double> dv);
  double operator()(double s) const;
  double front() const { return s_.front(); }
  double back() const { return s_.back(); }
  const std::vector<double>& nodes() const { return s_; }
  const std::vector<double>& values() const { return v_; }
  const std::vector<double>& slopes() const { return dv_; }

 private:
  std::vector<double> s_, v_, dv_;
};

struct Splitting {
  double hbar = 0.0;     // ħ* used
  double omega_a = 0.0;  // path frequency at A, B (1/τ)
  double omega_b = 0.0;
  double level_a = 0.0;  // ground level of each well, E_A0, E_B0 (ε)
  double level_b = 0.0;
  double omega_level_a = 0.0;  // classical frequency of each well at its ground level, Ω_A, Ω_B (1/τ)
  double omega_level_b = 0.0;
  double omega0 = 0.0;         // sqrt(Ω_A Ω_B)
  double level = 0.0;          // E* = max(E_A0, E_B0) (ε)
  double s1 = 0.0, s2 = 0.0;   // turning points (σ√m)
  double action = 0.0;         // S (ε^½ σ m^½)
  double delta0 = 0.0;         // Δ0 (ε)
  double delta0_kelvin = 0.0;  // Δ0 (K): Δ0 · ε[K]
  bool over_barrier = false;   // E* >= barrier top: no tunnelling barrier at the zero-point level
};

// WKB splitting for the path potential V between its end minima (V at front() is E_A, at back()
// E_B); omega_a/b from the Hessian along the path at the ends (ε/σ²m)^½.
Splitting wkb_splitting(const PathPotential& v, double omega_a, double omega_b, const PhysicalUnits& units);

}  // namespace tlsmap
