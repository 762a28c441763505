#pragma once
// Stage 5, interact: TLS–TLS couplings for every pair (i < j) of /tls within a cutoff
// (docs/dipole.md, §2 "Couplings"; the stage's place in the pipeline: docs/architecture.md, "The pipeline").
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
// Elastic, linear response. f_i (the force dipole of TLS i): the change of the forces on every bead
// outside TLS i's mobile set M_i when its mobile beads go from state A to state B, all other beads at
// /particles/all: f_i = F(X_B^i) − F(X_A^i) on beads ∉ M_i, 0 on M_i. H: the Hessian at
// /particles/all (hessian.hpp). The four-state relaxation holds M_i and M_j at their state positions
// and relaxes the rest; to second order in the environment's displacement its cross term is
//   J_pair = −f_jᵀ H_E⁻¹ f_i,   H_E = H with M_i ∪ M_j clamped     (mech_response = "pair").
// That needs one solve per pair. "held" (the default) gets it from one solve per TLS: with
// u_k = H_k⁻¹ f_k (only M_k clamped), block elimination of M_j from H_i gives exactly
//   J_pair = −f_j·u_i − u_jᵀ H_{E,M_j} u_i|M_j − c_ij,
// where c_ij is the response to the reaction of M_i to TLS j, reflected at M_i and evaluated at M_j:
// a second scattering, smaller than the first two terms by (size/r)³ (strain ∝ 1/r³ twice more)
// PROVIDED both states of each TLS are force- and torque-free (minima of the domain with the rest at
// /particles/all, as the catalogue's are). Otherwise u_i translates and rotates M_j at O(1/r²) and the
// neglected reflection is as large as the answer (measured: 10× off); MechResult::net_force flags it.
// Dropping it (and the M_i rows next to M_j, which exist only when the mobile sets are closer than
// the potential's cutoff) leaves
//   J_held = −u_iᵀ H u_j = −g_j·u_i,   g_j = H u_j = f_j outside M_j, the reaction forces on M_j,
// exactly symmetric. Measured against "pair" and the four-state relaxation in tests/test_interact.cpp.
// The other modes answer different questions and differ from the four-state value at O(1) (f_j acts
// on M_j's nearest neighbours, so whether M_j may move matters): "source" (M_i clamped, M_j free:
// J = −f_j·u_i) and "whole" (nothing clamped, translational null space).
// Sign: with E(X) expanded to second order in the environment's displacement u,
// E = E₀ − (s_i f_i + s_j f_j)·u + ½ uᵀHu, relaxing u gives the cross term −f_iᵀH⁻¹f_j, i.e.
// J_mech ≈ E(BB) − E(BA) − E(AB) + E(AA) (the same convention as J_el and J_dd): J < 0 favours the
// TLS flipping together. Validated against that four-state relaxation (four_state_coupling).
#include "tlsmap/couplings/dipole.hpp"
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/md/system.hpp"

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <optional>
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

// Called after each solve with (solves done, solves in all, solver iterations of this one).
using SolveProgress = std::function<void(std::size_t, std::size_t, int)>;

// Collective. J_el for every pair (φ_j sampled at Δρ_i) and, in *transpose, the other order.
std::vector<double> electric_couplings(PoissonGrid& grid, const Decomposition& decomp, const TlsSet& tls,
                                       std::span<const double> charge, const TlsPairs& pairs,
                                       std::vector<double>* transpose = nullptr, const SolveProgress& progress = {});

struct MechResult {
  std::vector<double> j, j_transpose;  // J_ij and J_ji (computed from the other TLS's solve)
  std::vector<int> iterations;         // KSP iterations per TLS (per pair for `pair`)
  std::vector<double> net_force;       // per TLS: |Σ f| / Σ|f| of its force dipole (0 if force-free)
  // Per TLS: the elastic dipole tensor P_αβ = Σ_b F_b,α (x_b − c)_β of the forces that drive the
  // response — for `held` the dressed forces g = H u (f outside M plus the reactions on M), so that
  // J_held = −g_iᵀ H⁺ g_j and, far apart, J → the continuum coupling of P_i and P_j; else f.
  std::vector<Mat3> elastic_dipole;
  // `held` only, per TLS: the deformation potential γ_αβ = ∂ε/∂e_αβ (ε = E_B − E_A with M held and the
  // rest relaxed, e a homogeneous strain of the whole sample, the TLS's states strained with it). A
  // relaxed state's energy changes under strain by −W:e, W = Σ_pairs r ⊗ f the pair virial (the
  // relaxation is second order), so γ = −(W(B') − W(A)), B' = state B with the rest displaced by its
  // linear response u (ε). Tested against finite strains (tests/test_interact.cpp). Not −P: the
  // dressed dipole is linear in the TLS's displacement, γ is not (measured 24× apart on a
  // breathing TLS in fcc).
  std::vector<Mat3> gamma;
};
// Which beads stay fixed in the linear response (see the head comment).
enum class MechResponse {
  held,    // both mobile sets held, to leading order in (size/r)³: one solve per TLS (default)
  whole,   // nothing clamped: translational null space; one solve per TLS
  source,  // the source TLS's mobile beads clamped; one solve per TLS
  pair,    // both TLS's mobile beads clamped: exactly the second-order term of the four-state
           // relaxation; one solve per pair (j_transpose = j)
};
// Collective. sys must hold the reference configuration (/particles/all); it is left unchanged.
MechResult mechanical_couplings(System& sys, const TlsSet& tls, const TlsPairs& pairs, MechResponse mode,
                                const SolveProgress& progress = {});
MechResponse parse_mech_response(const std::string& name);

// Orientation averages of a deformation potential γ (MechResult::gamma) over unit directions n (the experimental literature's γ_l, γ_t):
// γ_l² = ⟨(n·γ·n)²⟩ = (2 tr γ² + (tr γ)²)/15, γ_t² = ½⟨|γ·n|² − (n·γ·n)²⟩ = (3 tr γ² − (tr γ)²)/30.
double gamma_longitudinal(const Mat3& gamma);
double gamma_transverse(const Mat3& gamma);

// Collective. E(BB) − E(BA) − E(AB) + E(AA): for each state pair, a fresh System from `beads`
// (the reference configuration; the charges acting when `coulomb` is given) with the mobile beads of
// i and j held at their state positions and the rest relaxed by Newton iterations with the
// Hessian (HessianOperator) until max |F| ≤ f_tol. The energies are the System's, so the value does
// not depend on the Hessian's accuracy, only the number of Newton steps does. *direct (if given):
// the same cross term of the four states before relaxing, i.e. the direct interaction of the two
// mobile sets (with charges acting, nonzero at any distance; J_mech is the rest). With charges the
// engine's energies jump by ~δ q_i q_j/r_c where a pair crosses the real-space cut while the
// environment relaxes: noise of that size on the value.
double four_state_coupling(MPI_Comm comm, const Box& box, const Beads& beads, const Model& model, double skin,
                           Int3 proc_grid, const TlsSet& tls, std::size_t i, std::size_t j, double f_tol,
                           const std::optional<CoulombParams>& coulomb = std::nullopt, double* direct = nullptr);

// Collective: relax every bead but `held` (ids) to max |F| ≤ f_tol by Newton steps (each capped at
// 0.1 σ per bead); returns the number of steps. Throws Error if 50 steps do not converge.
int relax_holding(System& sys, const std::vector<std::int64_t>& held, double f_tol);

}  // namespace tlsmap
