#pragma once
// A force term beyond the pair model that the System adds in every compute_forces(): the active
// Coulomb split (couplings/active_coulomb.hpp) is one. The md layer does not know electrostatics,
// so the term comes in through this interface; MD, the minimisers and relax then see it without
// change (docs/architecture.md).
//
// A term is collective: compute_forces() calls add() on every rank in the same order, so a System
// with terms must have compute_forces() called on every rank (MD and the minimisers do).
#include "tlsmap/core/voigt.hpp"
#include "tlsmap/parallel/beads.hpp"
#include "tlsmap/parallel/neighbor_list.hpp"

#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace tlsmap {

class BeadNumbering;
class HessianPart;
class System;

// The global energy and virial of one term (the same on every rank).
struct ForceTermTotals {
  double energy = 0.0;
  Mat3 virial = Mat3::Zero();  // Σ r_a f_b, as Thermo::virial
};

// A term's part of the Hessian-route elastic constants (md/material.hpp) at the current positions:
// derivatives with respect to the Lagrangian strain η (Voigt, unit strains of core/voigt.hpp) of a
// homogeneous deformation of the box and every bead.
struct ElasticPart {
  Mat6 born = Mat6::Zero();           // ∂²U/∂η_I∂η_J at fixed reduced coordinates (not divided by V)
  Mat3 stress_volume = Mat3::Zero();  // ∂U/∂η (= V σ of the term; = −W, its virial)
  // Per owned bead, 6 per bead (index 6 i + J): the affine force field −∂²U/∂x_i∂η_J − ε_J F_i, the
  // convention of the pair terms (−Σ_j K_ij ε_J r_ij), which at a minimum of the whole energy sums
  // to its Ξ (the ε_J F_i terms then cancel).
  std::vector<Vec3> xi;
};

class ForceTerm {
 public:
  virtual ~ForceTerm() = default;
  // Collective. Adds the term's forces on the owned beads to beads.force[0, n_owned). coulomb_list:
  // the System's Coulomb neighbour list (nullptr without one), current for the positions;
  // bond_partner: the local index of each owned bead's bond partner (−1: none; empty for models
  // without bonds), for terms that exclude the bonded pair.
  virtual ForceTermTotals add(Beads& beads, const NeighborList* coulomb_list, std::span<const int> bond_partner) = 0;
  // Collective. The term's part of the Hessian at sys's current positions, in num's layout
  // (md/hessian.hpp: HessianOperator); nullptr: the term has none, and HessianOperator refuses the
  // System. The part may refer to the term, which must outlive it.
  virtual std::shared_ptr<HessianPart> hessian_part(const System& /*sys*/, const BeadNumbering& /*num*/) {
    return nullptr;
  }
  // Collective. The term's part of the elastic constants at sys's current positions (sums over
  // ranks in born and stress_volume); nullopt: the term has none, and the Hessian route refuses the
  // System. Throws Error if the term has one only in some configurations (it names why).
  virtual std::optional<ElasticPart> elastic_part(const System& /*sys*/) { return std::nullopt; }
};

}  // namespace tlsmap
