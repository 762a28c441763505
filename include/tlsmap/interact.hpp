#pragma once
// Stage 5, interact: TLS–TLS couplings for every pair (i < j) of /tls within a cutoff (DESIGN.md §5).
//
// Electric, exact on the grid:  J_el_ij = ∫ Δρ_i Δφ_j dV, with Δφ_j from one solve per TLS j
// (∇·(ε∇Δφ_j) = −4πΔρ_j, uniform ε = dipole.epsilon, periodic, tin-foil). Because the grid charge
// of a bead is spread with exactly the weights that interpolate φ back, Σ_cells Q_i φ_j =
// Σ_{charges of Δρ_i} q φ_j(r): the pair product costs one interpolation per charge, not a grid sweep.
// J_el is the cross term E(BB) − E(BA) − E(AB) + E(AA) of the Coulomb energy; symmetric up to the
// solver tolerance (both orders are written).
//
// Point dipoles:  J_dd_ij = [μ_i·μ_j − 3(μ_i·n)(μ_j·n)]/(ε r³), μ = μ_direct, n = r/|r|, r the
// minimum-image vector from centre i to centre j; j_dd_periodic adds every periodic image
// (−μ_i·∇∇ψ(r)·μ_j/ε, tin-foil Ewald), the quantity J_el tends to at separations ≫ domain size.
//
// Elastic, linear response:  J_mech_ij = −f_j · u_i,  H u_i = f_i.
//   f_i (the force dipole of TLS i): the change of the forces on every bead outside TLS i's mobile
//   set when its mobile beads go from state A to state B, all other beads at /particles/all:
//   f_i = F(X_B^i) − F(X_A^i) on beads ∉ M_i, 0 on M_i.
//   H: the Hessian at /particles/all (hessian.hpp). mech_response = "whole": the whole sample
//   responds (translations projected out with the null space); "source": M_i held (rows/columns of
//   M_i replaced by the identity); "pair": M_i and M_j held — what the four-state relaxation holds
//   fixed, so that J_mech is exactly its second-order term (one solve per pair instead of per TLS).
//   The modes differ by how the mobile beads themselves respond; that is not small: the force dipole
//   acts on M_j's nearest neighbours, so whether M_j may move changes −f_j·u_i at O(1) (measured in
//   tests/test_interact.cpp and docs/dipole.md).
// Sign: with E(X) expanded to second order in the environment's displacement u,
// E = E₀ − (s_i f_i + s_j f_j)·u + ½ uᵀHu, relaxing u gives the cross term −f_iᵀH⁻¹f_j, i.e.
// J_mech ≈ E(BB) − E(BA) − E(AB) + E(AA) (the same convention as J_el and J_dd): J < 0 favours the
// TLS flipping together. Validated against that four-state relaxation (four_state_coupling).
#include "tlsmap/dipole.hpp"
#include "tlsmap/system.hpp"

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tlsmap {

class Input;
class PoissonGrid;
class Decomposition;

struct TlsPairs {
  std::vector<std::int64_t> i, j;  // i < j
  std::vector<Vec3> r;             // minimum-image centre_j − centre_i
  std::size_t size() const { return i.size(); }
};
// Every pair i < j with |r| < cutoff, in (i, j) order.
TlsPairs tls_pairs(const TlsSet& tls, const Box& box, double cutoff);

double dipole_dipole(const Vec3& mu_i, const Vec3& mu_j, const Vec3& r, double eps);
double dipole_dipole_periodic(const Vec3& mu_i, const Vec3& mu_j, const Vec3& r, const Box& box, double eps);

// Collective. J_el for every pair (φ_j sampled at Δρ_i) and, in *transpose, the other order.
std::vector<double> electric_couplings(PoissonGrid& grid, const Decomposition& decomp, const TlsSet& tls,
                                       std::span<const double> charge, const TlsPairs& pairs,
                                       std::vector<double>* transpose = nullptr);

struct MechResult {
  std::vector<double> j, j_transpose;  // −f_j·u_i and −f_i·u_j per pair
  std::vector<int> iterations;         // KSP iterations per TLS
};
// Which beads stay fixed in the linear response (see the head comment).
enum class MechResponse {
  whole,   // nothing clamped: translational null space; one solve per TLS
  source,  // the source TLS's mobile beads clamped; one solve per TLS
  pair,    // both TLS's mobile beads clamped: exactly the second-order term of the four-state
           // relaxation; one solve per pair (j_transpose = j)
};
// Collective. sys must hold the reference configuration (/particles/all); it is left unchanged.
MechResult mechanical_couplings(System& sys, const TlsSet& tls, const TlsPairs& pairs, MechResponse mode);

// Collective. E(BB) − E(BA) − E(AB) + E(AA): for each state pair, a fresh System from `beads`
// (the reference configuration) with the mobile beads of i and j held at their state positions and
// the rest relaxed by Newton iterations with the exact Hessian until max |F| ≤ f_tol.
double four_state_coupling(MPI_Comm comm, const Box& box, const Beads& beads, const LJTable& table, double skin,
                           Int3 proc_grid, const TlsSet& tls, std::size_t i, std::size_t j, double f_tol);

// Collective: relax every bead but `held` (ids) to max |F| ≤ f_tol by Newton steps (each capped at
// 0.1 σ per bead); returns the number of steps. Throws Error if 50 steps do not converge.
int relax_holding(System& sys, const std::vector<std::int64_t>& held, double f_tol);

// The `tlsmap interact` stage: reads /particles and /tls from [run] output, writes /interactions.
void run_interact(const Input& in, MPI_Comm comm);

}  // namespace tlsmap
