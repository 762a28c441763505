#include "tlsmap/couplings/active_coulomb.hpp"

#include "tlsmap/couplings/coulomb_hessian.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/reduction.hpp"

#include <cmath>

#include <sstream>

namespace tlsmap {

namespace {
CoulombParams with_drift(const System& sys, CoulombParams p, double skin) {
  const NeighborList* list = sys.coulomb_list();
  if (!list || list->cutoff() < p.cutoff) {
    std::ostringstream msg;
    msg << "active Coulomb: the System needs a Coulomb neighbour list of cutoff ≥ " << p.cutoff
        << " (built with coulomb_cutoff)";
    throw Error(msg.str());
  }
  if (!(skin >= 0.0)) throw Error("active Coulomb: the list skin must be ≥ 0");
  p.drift = 0.5 * skin;
  return p;
}
}  // namespace

ActiveCoulomb::ActiveCoulomb(const System& sys, CoulombParams params, double skin)
    : comm_(sys.comm()), coulomb_(sys.decomp(), with_drift(sys, params, skin)) {}

ForceTermTotals ActiveCoulomb::add(Beads& beads, const NeighborList* coulomb_list, std::span<const int> bond_partner) {
  if (!coulomb_list) throw Error("active Coulomb: no Coulomb neighbour list");
  last_ = coulomb_.compute(beads, *coulomb_list, force_);
  for (int i = 0; i < beads.n_owned; ++i) beads.force[i] += force_[i];
  if (!bond_partner.empty()) {
    // The bonded pair's q_i q_j/(ε r) out again: −½ of it per bead, and its force on i.
    const double inv_eps = 1.0 / coulomb_.params().epsilon;
    std::vector<double> e(beads.n_owned, 0.0);
    for (int i = 0; i < beads.n_owned; ++i) {
      const int j = bond_partner[i];
      if (j < 0) continue;
      const Vec3 d = beads.pos[i] - beads.pos[j];
      const double r2 = d.squaredNorm(), r = std::sqrt(r2), qq = beads.charge[i] * beads.charge[j] * inv_eps;
      e[i] = -0.5 * qq / r;
      beads.force[i] -= (qq / (r2 * r)) * d;
    }
    last_.total += reproducible_sum(comm_, e);
  }
  ForceTermTotals t;
  t.energy = last_.total;
  t.virial = (last_.total / 3.0) * Mat3::Identity();
  return t;
}

std::shared_ptr<HessianPart> ActiveCoulomb::hessian_part(const System& sys, const BeadNumbering& num) {
  return coulomb_hessian_part(coulomb_, sys, num);
}

std::shared_ptr<ActiveCoulomb> activate_coulomb(System& sys, const CoulombParams& params, double skin) {
  auto term = std::make_shared<ActiveCoulomb>(sys, params, skin);
  sys.add_force_term(term);
  return term;
}

std::unique_ptr<System> sample_system(MPI_Comm comm, const Box& box, Model model, double skin, Int3 proc_grid,
                                      Beads beads, const std::optional<CoulombParams>& coulomb) {
  auto sys = std::make_unique<System>(comm, box, std::move(model), skin, proc_grid, coulomb ? coulomb->cutoff : 0.0);
  sys->set_beads(std::move(beads));
  if (coulomb) activate_coulomb(*sys, *coulomb, skin);
  return sys;
}

}  // namespace tlsmap
