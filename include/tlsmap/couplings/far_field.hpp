#pragma once
// Far-field TLS–TLS couplings from per-TLS dipoles (`interact.far = "dipole"`; docs/interact.md).
//
// Far apart, a TLS acts on another only through its lowest multipoles:
//   electric  J_el   ≈ μ_i·T(r)·μ_j / ε with T the tin-foil periodic dipole tensor (dipole_dipole_periodic);
//   elastic   J_mech ≈ the coupling of the two elastic dipoles P (MechResult::elastic_dipole) in a periodic
//             continuum with the sample's own stress–strain coefficients A_αβγδ = C_αβγδ + σ_βδ δ_αγ
//             (C the relaxed Lagrangian tensor, σ the pre-stress; the long-wave limit of the Hessian):
//     J = −(1/V) Σ_{k≠0} (P_j k)·K(k)⁻¹(P_i k) cos(k·r) exp(−k²w²),   K_αγ(k) = A_αβγδ k_β k_δ,
//   the box fixed (no k = 0 term: zero mean strain), w a Gaussian width standing in for the dipoles'
//   finite extent (its effect is O(w²/r²) at separation r).
// Both are evaluated between transition centres (transition_center), not domain centres: a mobile set
// can sit anywhere in its domain sphere, and at r = 3R that moves 1/r³ by up to 2×.
//
// The elastic k-sum costs O(#k) per pair, too much for every pair of a large sample. ElasticFarField
// tabulates the tensor field M_αβγδ(r) = (1/V) Σ_k k_β k_δ K⁻¹_αγ(k) e^{−k²w²} cos(k·r) once, one
// inverse FFT (FFTW) per independent component (36: symmetric in α↔γ and β↔δ), on a grid of spacing
// ≤ w/2 (so the Gaussian is below 1e-17 at the grid's Nyquist frequency and nothing aliases), and
// interpolates it by cubic Lagrange polynomials (4 points per dimension, error O(h⁴/r⁴)). Memory is one
// grid at a time; every rank computes the same table, so the result is the same at any rank count.
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/vec3.hpp"
#include "tlsmap/couplings/dipole.hpp"

#include <Eigen/Dense>

#include <cstdint>
#include <span>
#include <vector>

namespace tlsmap {

struct ElasticTensor;

// The |d|²-weighted centre of TLS k's mobile beads (d = B − A, at the midpoint of each move, minimum
// image about tls.center[k]); tls.center[k] if nothing moved.
Vec3 transition_center(const TlsSet& tls, std::size_t k, const Box& box);

// Stress–strain coefficients A_αβγδ = C_αβγδ + σ_βδ δ_αγ of a relaxed tensor and its pre-stress.
using StressStrain = std::array<double, 81>;  // index ((α·3 + β)·3 + γ)·3 + δ
StressStrain stress_strain_tensor(const ElasticTensor& t);

class ElasticFarField {
 public:
  // Tabulates M for the box and medium; width w > 0 (σ). Throws Error if K(k) is singular somewhere.
  ElasticFarField(const Box& box, const StressStrain& a, double width);
  // J for every (P_i, P_j, r) triple: r the minimum-image vector from i's transition centre to j's.
  std::vector<double> couplings(std::span<const Mat3> p_i, std::span<const Mat3> p_j, std::span<const Vec3> r) const;
  Int3 grid() const { return n_; }

 private:
  Box box_;
  StressStrain a_;
  double width_;
  Int3 n_;
};

}  // namespace tlsmap
