#pragma once
// Measured material constants for the paper's Eqs. 17, 21, 22: number and mass density, bulk and
// shear moduli, longitudinal and transverse sound speeds (reduced units: σ, ε, m; moduli in ε/σ³,
// speeds in σ/τ).
//
// Method: finite strain with relaxation (so the non-affine part is included). The orthorhombic box
// and every bead (relative to box.lo) are scaled, the sample is re-minimised (L-BFGS to f_tol), and
// the stress σ = −W/V comes from the pair virial W = Σ_pairs r f (T = 0). Central differences ±e:
//   K = −(P(+e) − P(−e))/(6e)         (uniform scaling, ΔV/V = 3e; P = −tr σ/3),
//   G = Δ(σ_aa − σ_bb)/(8e)            (ε_aa = +e, ε_bb = −e; averaged over the pairs xy, yz, zx),
// which for an isotropic solid is the shear modulus (= (C11 − C12)/2 = C44), for a cubic crystal
// (C11 − C12)/2. c_L = √((K + 4G/3)/ρ_m), c_T = √(G/ρ_m), ρ_m = N m / V (m = 1).
// Only orthorhombic deformations are possible (the engine's box is orthorhombic), hence no direct C44;
// an isotropic sample does not need it. The affine (Born) bulk modulus of pair potentials,
// K_Born = (Σ_pairs r² u'' − 2 r u')/(9V), is also reported: for a Bravais crystal the two agree
// (no relaxation), for a glass K < K_Born (the non-affine softening).
//
// Hessian route (hessian_elastic_constants; docs/elastic.md), T = 0, pair potentials, at a minimum
// (F_i = 0). The System's force terms (active charges) add their ElasticPart (md/force_term.hpp) to
// C^Born, σ and Ξ below, and their Hessian parts to H. Strain η = Lagrangian strain (FᵀF − I)/2 of a homogeneous deformation F of the box
// and of every bead, plus a relaxation u_i. U depends on η only through r² = r₀ᵀ(I + 2η)r₀, so
//   (1/V) ∂U/∂η_αβ = σ_αβ = (1/V) Σ_pairs u' r n_α n_β                     (n = r/|r|; = −W/V above)
//   C^Born_αβκχ = (1/V) ∂²U/∂η_αβ∂η_κχ = (1/V) Σ_pairs (r² u'' − r u') n_α n_β n_κ n_χ,
// the cross derivative is the affine force field (bead forces F_i change by Ξ_i:η under an affine
// strain; K_ij = the pair block of hessian.hpp)
//   Ξ_i,κχ = ∂F_i/∂η_κχ = −Σ_j K_ij ε^κχ r_ij     (ε^κχ: the symmetric unit strain of Voigt column κχ),
// and minimising ½ uᵀHu − uᵀΞη over u (u = H⁺Ξη) gives the relaxed second derivative
//   C_αβκχ = C^Born_αβκχ − (1/V) Ξ_αβᵀ H⁺ Ξ_κχ      (Lutsko 1989, J. Appl. Phys. 65, 2991, at T = 0;
//                                                   Lemaître & Maloney 2006, J. Stat. Phys. 123, 415),
// H⁺ the pseudo-inverse of the whole-sample Hessian (translations projected out; six CG+GAMG solves;
// with a matrix-free force-term part, GMRES with bead 1 clamped instead, the same Ξᵀx as Σ_i Ξ_i = 0).
// C (Voigt 6×6, engineering shears: C_44 = C_2323) is the second strain derivative of the energy
// density, which is NOT the stress–strain slope of a pre-stressed sample. The Cauchy stress of the
// deformed sample changes by dσ_ij = B_ijkl ε_kl for a small symmetric displacement gradient ε, with
// (Wallace, Thermodynamics of Crystals, 1972; Wang, Li, Yip, Phillpot & Wolf, PRB 52, 12627 (1995))
//   B_ijkl = C_ijkl + ½(σ_ik δ_jl + σ_il δ_jk + σ_jk δ_il + σ_jl δ_ik) − σ_ij δ_kl,
// i.e. under a pressure P: B11 = C11 − P, B12 = C12 + P, B44 = C44 − P. B is what the finite-strain
// route measures, governs the sound speeds (ρ c² from B for a hydrostatically pressed solid) and is
// what MaterialConstants reports: c_voigt = B (relaxed), c_voigt_born = B (affine, from C^Born).
// Isotropic averages (Voigt average of B; B symmetrised, exact for K):
//   K = [B11 + B22 + B33 + 2(B12 + B23 + B31)]/9  (= the uniform-scaling K of the finite-strain route),
//   G = [B11 + B22 + B33 − (B12 + B23 + B31) + 3(B44 + B55 + B66)]/15,
// and the three tetragonal shears (B_aa + B_bb − B_ab − B_ba)/4 that the finite-strain route measures.
// The two routes agree to ~1e-8 on a KA glass only for e ≲ 1e-5: small glasses have plastic events
// within strains of 1e-4 (docs/elastic.md), so the finite-strain e must be small for glasses.
#include "tlsmap/core/voigt.hpp"
#include "tlsmap/md/force_term.hpp"
#include "tlsmap/md/hessian.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/md/system.hpp"

#include <mpi.h>

#include <Eigen/Dense>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlsmap {

// Voigt order 11, 22, 33, 23, 31, 12.
struct ElasticTensor {
  Mat6 born = Mat6::Zero();       // C^Born, (1/V) ∂²U/∂η² at fixed reduced coordinates (symmetric)
  Mat6 relaxed = Mat6::Zero();    // C = C^Born − (1/V) Ξᵀ H⁺ Ξ (symmetric)
  Mat6 b_born = Mat6::Zero();     // stress–strain coefficients B from C^Born
  Mat6 b_relaxed = Mat6::Zero();  // stress–strain coefficients B from C
  Mat3 stress = Mat3::Zero();     // σ = −W/V of the configuration (tension positive)
  double volume = 0.0;
  double bulk_modulus = 0.0, shear_modulus = 0.0;  // Voigt averages of b_relaxed
  double bulk_born = 0.0, shear_born = 0.0;        // Voigt averages of b_born
  double shear_tetragonal[3] = {0.0, 0.0, 0.0};    // (B_aa + B_bb − B_ab − B_ba)/4 of b_relaxed: xy, yz, zx
  int ksp_iterations = 0;                          // total over the six solves
};

// The sample with its box and every owned bead (relative to box.lo, wrapped, images reset) scaled by
// 1 + e_d along dimension d: the affinely strained start of a relaxation. Ghosts are dropped.
std::pair<Box, Beads> strained_copy(const Box& box, const Beads& beads, const Vec3& e);

// Collective. The sample strained as by strained_copy, relaxed by L-BFGS to max |F| <= f_tol, forces computed. Throws Error naming the strain
// if it does not converge.
std::unique_ptr<System> relax_strained(MPI_Comm comm, const Box& box, const Beads& beads, const Model& model,
                                       double skin, Int3 proc_grid, const Vec3& e, double f_tol);

// Collective. Relaxes a strained state (sys, strained by 1 + e_d) by L-BFGS to max |F| <= f_tol and
// computes its forces; returns the iterations. Throws Error "<what>: the sample strained by (e) did
// not relax<how> to max |F| <= f_tol (reached …)" if it does not converge.
long relax_strained_state(System& sys, const Vec3& e, double f_tol, std::string_view what, std::string_view how = "");

// Collective. The Hessian-route elastic tensors of the system at its current positions (which
// should be a minimum; ids 1..N). Rank-count independent up to the KSP tolerance rtol (the global
// sums are reproducible_sums).
ElasticTensor hessian_elastic_constants(const System& sys, double rtol = 1e-10);

// Collective. The relaxed orthorhombic block C_ab (a, b = x, y, z) of the same tensor alone: the
// three solves of the stretches, not the six (half the cost where only this block is wanted).
Mat3 hessian_orthorhombic_block(const System& sys, double rtol = 1e-10);

// The per-bead sums of pair terms of the Hessian route: Born ½ (r²u'' − r u') n_α n_β n_κ n_χ, stress
// ½ u' r n_α n_β (each pair seen from both ends) and Ξ_i −= K_ij ε r_ij. The pair model's loop and
// force terms with pair-like parts (the Coulomb split's real space) share it.
class PairElasticSums {
 public:
  explicit PairElasticSums(int n_owned);
  // Local. The pair r = x_i − x_j of owned bead i with its u'/r and u''.
  void add(int i, const Vec3& r, double r2, const PairCurvature& c);
  // Collective, once: the sums over ranks (reproducible_sums; ∂²U/∂η², ∂U/∂η, not divided by V) and Ξ.
  ElasticPart finish(MPI_Comm comm);

 private:
  std::vector<std::vector<double>> terms_;  // 21 Born, 6 stress, per owned bead
  std::vector<Vec3> xi_;                    // 6 per owned bead
  Mat3 eps_[6];
};

// The B tensor (above) of a Lagrangian Voigt tensor C at stress σ; Voigt averages K and G of a B.
Mat6 stress_strain_coefficients(const Mat6& c, const Mat3& stress);
double voigt_bulk(const Mat6& b);
double voigt_shear(const Mat6& b);

struct MaterialConstants {
  double density = 0.0;        // N / V
  double mass_density = 0.0;   // N m / V, m = 1
  double pressure = 0.0;       // of the reference configuration
  double bulk_modulus = 0.0;   // relaxed
  double bulk_born = 0.0;      // affine (Born) value
  double shear_modulus = 0.0;  // relaxed, mean of the three tetragonal shears
  double shear_xy = 0.0, shear_yz = 0.0, shear_zx = 0.0;
  double c_longitudinal = 0.0, c_transverse = 0.0;
  double strain = 0.0;
  // Hessian route (hessian_elastic_constants) on the reference configuration:
  double bulk_modulus_hessian = 0.0;                         // Voigt K of c_voigt (relaxed)
  double shear_modulus_hessian = 0.0;                        // Voigt G of c_voigt (includes B44, B55, B66)
  double bulk_born_hessian = 0.0, shear_born_hessian = 0.0;  // Voigt K, G of c_voigt_born
  double shear_xy_hessian = 0.0, shear_yz_hessian = 0.0, shear_zx_hessian = 0.0;  // tetragonal, as above
  double c_longitudinal_hessian = 0.0, c_transverse_hessian = 0.0;                // from K, G (Hessian, Voigt)
  Mat6 c_voigt = Mat6::Zero();       // B relaxed, Voigt 11 22 33 23 31 12 (ε/σ³)
  Mat6 c_voigt_born = Mat6::Zero();  // B affine
  ElasticTensor tensor;              // the Hessian-route tensors themselves (NaN if the solve failed)
  std::string hessian_failure;       // why the Hessian-route fields are NaN (empty: they are not)
};

// Collective. Fills density, pressure and the Hessian-route fields of `c` (*_hessian, c_voigt,
// c_voigt_born) from the system's current configuration (a minimum, forces computed). A failed solve
// (an indefinite Hessian: not a minimum) leaves the Hessian-route fields NaN.
void add_hessian_route(MaterialConstants& c, const System& sys);

// Collective. `beads`: the reference configuration (a minimum) in any distribution. Fills both the
// finite-strain values and, by add_hessian_route, the Hessian-route ones.

MaterialConstants measure_material(MPI_Comm comm, const Box& box, const Beads& beads, const Model& model, double skin,
                                   Int3 proc_grid, double strain, double f_tol);

}  // namespace tlsmap
