#pragma once
// Plain Ewald summation: the test reference for the grid electrostatics (docs/electrostatics.md §1).
//
// Point charges q_i in a periodic orthorhombic box, Gaussian reduced units (pair energy
// q_i q_j /(ε r), as LAMMPS `units lj`), conducting ("tin-foil") boundary, so no surface term:
//
//   E = 1/(2ε) Σ_i Σ_j Σ'_n q_i q_j erfc(α|r_ij + nL|)/|r_ij + nL|         (real space, n=0 skips i=j)
//     + 2π/(Vε) Σ_{k≠0} exp(−k²/4α²)/k² |S(k)|²,   S(k) = Σ_j q_j exp(i k·r_j) (reciprocal space)
//     − α/(ε√π) Σ_i q_i²                                                     (self term)
//
// The system must be neutral (the k = 0 term is dropped, i.e. a uniform neutralising background).
// Parameters from a requested accuracy δ: s = √(−ln δ), real-space cutoff r_c = s/α and reciprocal
// cutoff k_c = 2αs, so both leading error terms, erfc(α r_c) ~ exp(−s²) and exp(−k_c²/4α²) =
// exp(−s²), are ~δ (relative to the typical pair energy). The default α = 2s/L_min puts r_c at half
// the shortest edge; the real-space sum still includes every image within r_c, so any α is valid.
//
// O(N² · images + N · n_k): a reference for tests and small systems, run serially (every rank may
// call it on gathered data; it does no communication). Separable phase factors make the k sum cheap.
#include "tlsmap/core/box.hpp"

#include <span>
#include <vector>

namespace tlsmap {

struct EwaldParams {
  double alpha = 0.0;    // splitting parameter (1/length)
  double r_cut = 0.0;    // real-space cutoff, images included
  Int3 k_max{0, 0, 0};   // |n_d| ≤ k_max[d] for k = 2π n / L, plus the spherical cutoff k_c
  double k_cut = 0.0;    // reciprocal cutoff |k| ≤ k_c
  double epsilon = 1.0;  // uniform dielectric constant
};

// alpha = 0 chooses the default α = 2s/L_min. Throws Error for accuracy outside (0, 1).
EwaldParams ewald_params(const Box& box, double accuracy, double alpha = 0.0, double epsilon = 1.0);

struct EwaldResult {
  double energy = 0.0;
  double real = 0.0, reciprocal = 0.0, self = 0.0;  // the three parts
  std::vector<Vec3> force;                          // F_i = −∂E/∂r_i
};

// Throws Error if the charges do not sum to zero (|Σq| > 1e-12 Σ|q|).
EwaldResult ewald(std::span<const Vec3> pos, std::span<const double> q, const Box& box, const EwaldParams& p);

// Electrostatic potential at arbitrary points (same zero: the mean potential over the box is 0).
// A point closer than 1e-12 to a charge skips that charge's n = 0 real-space term.
std::vector<double> ewald_potential(std::span<const Vec3> points, std::span<const Vec3> pos, std::span<const double> q,
                                    const Box& box, const EwaldParams& p);

// Total energy of neutral Gaussian charges ρ_i(r) = q_i (2πσ²)^(−3/2) exp(−|r − r_i|²/2σ²), self
// energies q²/(2√π σ ε) included: E = 2π/(Vε) Σ_{k≠0} exp(−k²σ²)/k² |S(k)|², summed until the
// Gaussian factor falls below `accuracy`. The reference for the grid solver's energy.
double gaussian_energy(std::span<const Vec3> pos, std::span<const double> q, const Box& box, double sigma,
                       double accuracy = 1e-14, double epsilon = 1.0);

}  // namespace tlsmap
