#pragma once
// The Hessian of the active Coulomb split (couplings/active_coulomb.hpp) as a part of the System's
// Hessian (md/hessian.hpp: HessianPart), so that J_mech and the Newton relaxations of `interact`
// see the charges acting.
//
// Real space, explicit blocks: the pair term u(r) = q_i q_j erfc(αr)/(ε r) over the Coulomb list
// (r < r_c), with
//   u'/r = −(q_i q_j/ε) [erfc(αr)/r³ + (2α/√π) e^{−α²r²}/r²],
//   u''  =  (q_i q_j/ε) [2 erfc(αr)/r³ + (4α/√π) e^{−α²r²}/r² + (4α³/√π) e^{−α²r²}],
// minus the bonded pair's whole q_i q_j/(ε r) (its exclusion: u'/r = q_i q_j/(ε r³), u'' =
// −2 q_i q_j/(ε r³)). As for the pair model, the force jump at r_c (of the order of the split's
// accuracy) is left out: central differences of the forces would see it as a spike wherever a
// pair sits within the step of r_c, which is why the real part is not differenced.
//
// Grid part, matrix-free: H_g x = −[F_g(X + s x) − F_g(X − s x)]/(2s), F_g the grid (P3M or
// multigrid) forces alone (Coulomb::reciprocal) at the owned beads of the numbering, s such that
// the largest bead displacement s |x_b| is kStep. The grid forces are smooth in the positions (no
// cutoff; P3M's B-splines of order ≥ 3 are C¹), so the truncation error is O(kStep²/σ_g²) and the
// rounding error O(ε_mach |F_g|/kStep), both below 1e-8 of the product. With ik differentiation the
// P3M forces are the energy's gradient only to the mesh accuracy, so the product is symmetric to
// that accuracy (hence GMRES in make_hessian_ksp).
//
// Elastic part (coulomb_elastic_part, for the Hessian-route elastic constants of md/material.hpp):
// the real-space pairs and the bonded pairs' exclusion enter as pair terms do there (Born
// ½ Σ (r²u'' − r u') n⁴, stress ½ Σ u' r nn, Ξ_i = −Σ_j K_ij ε r_ij); the P3M part by its strain
// derivatives at fixed mesh (FftCoulomb::strain_derivatives), its Ξ_i,J = q_i ∂E_i/∂η_J − ε_J F_i.
// The self term does not depend on the strain. fft only (Error for the multigrid part).
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/md/hessian.hpp"
#include "tlsmap/md/material.hpp"

#include <memory>

namespace tlsmap {

// Collective. The part for `coulomb` (the System's active term's split, which must outlive it) at
// sys's current positions, numbered by num (the System's owned beads in their current order).
std::shared_ptr<HessianPart> coulomb_hessian_part(Coulomb& coulomb, const System& sys, const BeadNumbering& num);

// Collective. The split's part of the elastic constants at sys's current positions (its Coulomb
// list current), the bonded pairs' q_i q_j/(ε r) excluded.
ElasticPart coulomb_elastic_part(Coulomb& coulomb, const System& sys);

// The largest bead displacement of the central differences, σ.
constexpr double kCoulombHessianStep = 1e-4;

}  // namespace tlsmap
