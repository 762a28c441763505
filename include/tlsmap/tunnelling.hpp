#pragma once
// Tunnelling splitting Δ0 of a two-level system from its 1D path potential, by WKB.
//
// The path coordinate s is the mass-weighted arc length along the NEB band (all beads have mass m,
// so s is in σ√m). Along it the system is a particle of unit mass in V(s). In reduced LJ units the
// only quantum parameter is ħ* = ħ / (σ √(m ε)) (de Boer's Λ*/2π; 0.0296 for argon).
//
// Formula (WKB for a double well, Landau & Lifshitz QM §50, with the ground-level turning points):
//     Δ0 = (ħ ω0 / π) · exp(−S/ħ),   S = ∫_{s1}^{s2} sqrt(2 (V(s) − E*)) ds,
// where ω_A, ω_B are the harmonic frequencies along the path at the two minima
// (ω² = t·H·t, H the Hessian, t the unit tangent of the band at that end), ω0 = sqrt(ω_A ω_B),
// E* = max(E_A + ħω_A/2, E_B + ħω_B/2) is the higher of the two zero-point levels (so that for an
// asymmetric pair the tunnelling happens at the energy where both wells have a state), and s1 < s2
// are the innermost turning points V(s) = E* around the barrier top. For a symmetric well this is
// the textbook formula; Δ0 is the tunnelling matrix element, independent of the asymmetry (the
// level gap is sqrt(Δ0² + ε_TLS²)). If E* is at or above the barrier top, S = 0, Δ0 = ħω0/π and
// `over_barrier` is set: the pair is not a tunnelling system at zero temperature.
// Accuracy: for a smooth symmetric double well this formula overestimates the exact 1D splitting
// by a few per cent (Garg, Am. J. Phys. 68, 430 (2000); tests/test_search_kernel.cpp finds 4.7% at
// S/ħ = 5.5 against a finite-difference Schrödinger solve); it neglects the other 3n − 1 modes (their zero-point change along the
// path), as do the TLS studies it follows (Heuer & Silbey, PRL 70, 3911 (1993); Khomenko et al.,
// PRL 124, 225901 (2020)).
#include "tlsmap/units.hpp"

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

 private:
  std::vector<double> s_, v_, dv_;
};

struct Splitting {
  double hbar = 0.0;          // ħ* used
  double omega_a = 0.0;       // path frequency at A, B (1/τ)
  double omega_b = 0.0;
  double omega0 = 0.0;        // sqrt(ω_A ω_B)
  double level = 0.0;         // E* (ε)
  double s1 = 0.0, s2 = 0.0;  // turning points (σ√m)
  double action = 0.0;        // S (ε^½ σ m^½)
  double delta0 = 0.0;        // Δ0 (ε)
  double delta0_kelvin = 0.0; // Δ0 (K): Δ0 · ε[K]
  bool over_barrier = false;  // E* >= barrier top: no tunnelling barrier at the zero-point level
};

// WKB splitting for the path potential V between its end minima (V at front() is E_A, at back()
// E_B); omega_a/b from the Hessian along the path at the ends (ε/σ²m)^½.
Splitting wkb_splitting(const PathPotential& v, double omega_a, double omega_b, const PhysicalUnits& units);

}  // namespace tlsmap
