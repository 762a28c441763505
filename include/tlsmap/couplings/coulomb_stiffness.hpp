#pragma once
// The Coulomb share of the stiffness: the paper's ζ² (Eq. 12; "the elastic modulus can be represented
// as ρc_s²(1 + ζ²), where ζ² is the contribution of the ionic forces to the overall material
// stiffness"). docs/elastic.md §"Coulomb share" has the derivation.
//
// The charges are passive: the sample is a minimum of the pair energy U only, and the charges ride on
// it. Switching the Coulomb energy E_c on with a strength λ, the relaxed energy at strain η is
// W(η, λ) = min_x [U(x, η) + λ E_c(x, η)], and by the envelope theorem ∂W/∂λ at λ = 0 is
// E_c(x*(η), η), with x*(η) the pair-relaxed configuration. So the first-order Coulomb contribution to
// the elastic constants, Born and non-affine terms together, is the strain curvature of E_c along the
// pair-relaxed path:
//   V C^c = ∂²/∂η² E_c(x*(η), η),        and V C^pair = ∂²/∂η² U(x*(η), η),
// exact to first order in the Coulomb energy (∝ ζ²). Both come from one set of relaxations by central
// differences in the box's diagonal stretches, F = diag(1 + e). With the Lagrangian strain
// η_aa = e_a + e_a²/2 and E = E₀ + V σ:η + ½ V η:C:η,
//   uniaxial  e = ±h u_a:          E'' = V (C_aa + σ_aa),  E' = V σ_aa,
//   biaxial   e = ±h (u_a + u_b):  E'' = V (C_aa + C_bb + 2 C_ab + σ_aa + σ_bb),
// which gives the orthorhombic block C_ab (a, b = x, y, z) and the diagonal stress of each part; the
// stress–strain coefficients B (material.hpp) then give K and the mean tetragonal shear G, both linear
// in the energy, so K = K^pair + K^c and G = G^pair + G^c. The shares are K^c/K, G^c/G and that of
// ρc_s² = (ρc_l² + 2ρc_t²)/3 = (K + 10G/3)/3, the combination the report's Eq. 22 row uses.
//
// Active charges (CoulombStiffnessParams::active, charge.mode = "active"): the sample is a minimum of
// U + E_c, and every strained state is relaxed with the charges acting (the engine's Coulomb split).
// Then U and E_c are two parts of the minimised energy along one path, and
//   V C = ∂²/∂η² [U + E_c](x*(η), η) = V C^pair + V C^c
// splits the full elastic constants exactly (not only to first order); the share is C^c/C as above.
// U is then the pair and bond energy, E_c the Coulomb energy as the engine defines it (the bonded
// pairs' q_i q_j/(ε r) left out).
//
// Stress check (both modes): the differences' stress of the energy that was minimised (U passive,
// U + E_c active) against its virial, −tr W/V, which is exact for it; a plastic event within ±h
// breaks the agreement. stress_check = |tr σ(differences) + tr W/V| / max |C block|.
//
// The Born shares (affine_share_*): the same differences of U and E_c along the affine map of the
// relaxed reference, without relaxing. They leave out the non-affine relaxation, which moves stiffness
// between the pair and Coulomb energies from one glass to the next (docs/polar.md), and so are a
// lower-noise, path-free measure of how much the charges stiffen the configuration as it stands.
//
// E_c is the plain Ewald sum (ewald.hpp) of the charges by id on every rank (O(N²) per state: samples
// up to a few 1e4 beads). The pair part is the same finite difference of U and is returned beside the
// Hessian-route tensor as a check of the differences (a plastic event within ±h shows up there).
// Thirteen relaxations (L-BFGS to f_tol): the reference and twelve strained states. The reference and
// the three states stretched by +h along one axis start from the affine map; the other nine from the
// affine map plus the non-affine response those three measured (O(h²) from their minimum: about half
// the iterations at f_tol 1e-10, and the minimum the linear response leads to). The result is the
// same at any rank count (the relaxations are; the Ewald sum runs on data gathered by id).
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/md/material.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/parallel/beads.hpp"

#include <mpi.h>

#include <optional>
#include <span>
#include <string>

namespace tlsmap {

struct CoulombStiffnessParams {
  double strain = 1e-4;           // h of the central differences
  double f_tol = 1e-10;           // force tolerance of the relaxations (ε/σ)
  double ewald_accuracy = 1e-13;  // of the Coulomb energy of every state
  double epsilon = 1.0;           // uniform dielectric constant of the Coulomb energy
  // Charges acting: the engine's split with which every strained state is relaxed (its epsilon must
  // equal `epsilon`); nullopt for passive charges.
  std::optional<CoulombParams> active;
};

struct StiffnessPart {
  Mat3 c = Mat3::Zero();       // orthorhombic block C_ab of the Lagrangian tensor (ε/σ³)
  Vec3 stress = Vec3::Zero();  // σ_aa along the path (for the Coulomb part: NOT its virial, see above)
  double bulk = 0.0;           // Voigt K of the B block
  double shear = 0.0;          // mean tetragonal shear (B_aa + B_bb − B_ab − B_ba)/4 over xy, yz, zx
};

struct CoulombStiffness {
  StiffnessPart coulomb, pair;
  double energy_coulomb = 0.0;                                    // E_c of the reference state
  double share_bulk = 0.0, share_shear = 0.0, share_sound = 0.0;  // Coulomb / (pair + Coulomb)
  // The Born (affine) path: the relaxed reference strained affinely by the same twelve strains,
  // without relaxation. No non-affine term, so no path to choose: C^c_affine is a property of the
  // configuration alone (E_c is homogeneous of degree −1, so K^c_affine = (4/9) E_c / V exactly).
  StiffnessPart coulomb_affine, pair_affine;
  double affine_share_bulk = 0.0, affine_share_shear = 0.0, affine_share_sound = 0.0;
  double strain = 0.0;
  double stress_check = 0.0;  // see above
  // L-BFGS iterations: the reference and the three +h stretches (affine starts), and the other nine
  // (started from the linear response those three give; coulomb_stiffness.cpp, StrainedStarts).
  long iterations_full = 0, iterations_predicted = 0;
};

// The log line of the relaxations' L-BFGS iterations (full and predicted starts).
std::string relaxation_summary(const CoulombStiffness& c);

// ρc_s² = (K + 10G/3)/3: the isotropic average (c_l² + 2c_t²)/3 times ρ.
double sound_modulus(double bulk, double shear);

// Collective. `beads`: a minimum of the pair energy (passive) or of the whole energy (active) in any
// distribution; `charge_by_id[id − 1]`, neutral (active: the beads' own charges, the same values).
// Throws Error if a strained state does not relax to f_tol.
CoulombStiffness coulomb_stiffness(MPI_Comm comm, const Box& box, const Beads& beads,
                                   std::span<const double> charge_by_id, const Model& model, double skin,
                                   Int3 proc_grid, const CoulombStiffnessParams& p);

}  // namespace tlsmap
