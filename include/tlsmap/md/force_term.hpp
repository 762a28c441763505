#pragma once
// A force term beyond the pair model that the System adds in every compute_forces(): the active
// Coulomb split (couplings/active_coulomb.hpp) is one. The md layer does not know electrostatics,
// so the term comes in through this interface; MD, the minimisers and relax then see it without
// change (docs/architecture.md).
//
// A term is collective: compute_forces() calls add() on every rank in the same order, so a System
// with terms must have compute_forces() called on every rank (MD and the minimisers do).
#include "tlsmap/core/vec3.hpp"
#include "tlsmap/parallel/beads.hpp"
#include "tlsmap/parallel/neighbor_list.hpp"

#include <memory>
#include <span>

namespace tlsmap {

class BeadNumbering;
class HessianPart;
class System;

// The global energy and virial of one term (the same on every rank).
struct ForceTermTotals {
  double energy = 0.0;
  Mat3 virial = Mat3::Zero();  // Σ r_a f_b, as Thermo::virial
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
};

}  // namespace tlsmap
