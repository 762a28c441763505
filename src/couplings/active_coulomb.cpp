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
  last_ = coulomb_.compute(beads, *coulomb_list, force_, virial_tensor_);
  for (int i = 0; i < beads.n_owned; ++i) beads.force[i] += force_[i];
  Mat3 excluded = Mat3::Zero();  // the bonded pairs' virial, taken out with them
  if (!bond_partner.empty()) {
    // The bonded pair's q_i q_j/(ε r) out again: −½ of it per bead, and its force on i.
    const double inv_eps = 1.0 / coulomb_.params().epsilon;
    std::vector<double> e(beads.n_owned, 0.0);
    std::vector<double> w[6];  // −½ d_a f_b per bead: xx, yy, zz, xy, xz, yz
    if (virial_tensor_)
      for (auto& c : w) c.assign(beads.n_owned, 0.0);
    for (int i = 0; i < beads.n_owned; ++i) {
      const int j = bond_partner[i];
      if (j < 0) continue;
      const Vec3 d = beads.pos[i] - beads.pos[j];
      const double r2 = d.squaredNorm(), r = std::sqrt(r2), qq = beads.charge[i] * beads.charge[j] * inv_eps;
      e[i] = -0.5 * qq / r;
      const Vec3 f = (qq / (r2 * r)) * d;
      beads.force[i] -= f;
      if (virial_tensor_) {
        w[0][i] = -0.5 * d[0] * f[0], w[1][i] = -0.5 * d[1] * f[1], w[2][i] = -0.5 * d[2] * f[2];
        w[3][i] = -0.5 * d[0] * f[1], w[4][i] = -0.5 * d[0] * f[2], w[5][i] = -0.5 * d[1] * f[2];
      }
    }
    last_.total += reproducible_sum(comm_, e);
    if (virial_tensor_) {
      const auto t = reproducible_sums(comm_, {w[0], w[1], w[2], w[3], w[4], w[5]});
      excluded << t[0], t[3], t[4], t[3], t[1], t[5], t[4], t[5], t[2];
    }
  }
  ForceTermTotals t;
  t.energy = last_.total;
  // The trace is E_c exactly (homogeneity); the tensor's formulas give the traceless part (and a
  // trace that differs from E_c by the mesh error), so the pressure does not depend on the tensor.
  const Mat3 iso = (last_.total / 3.0) * Mat3::Identity();
  if (last_.virial) {
    const Mat3 w = *last_.virial + excluded;
    t.virial = w - (w.trace() / 3.0) * Mat3::Identity() + iso;
  } else {
    t.virial = iso;
  }
  return t;
}

void ActiveCoulomb::set_virial_tensor(bool on) {
  if (on && coulomb_.params().solver != CoulombSolver::fft)
    throw Error("active Coulomb: the virial tensor needs coulomb.solver = \"fft\" (the multigrid part has none)");
  virial_tensor_ = on;
}

std::shared_ptr<HessianPart> ActiveCoulomb::hessian_part(const System& sys, const BeadNumbering& num) {
  return coulomb_hessian_part(coulomb_, sys, num);
}

std::optional<ElasticPart> ActiveCoulomb::elastic_part(const System& sys) {
  return coulomb_elastic_part(coulomb_, sys);
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
