#include "tlsmap/md/fire.hpp"

#include "tlsmap/core/reduction.hpp"

#include <cmath>

namespace tlsmap {

void compute_forces_holding(System& system, const HeldIds* held) {
  system.compute_forces();
  if (!held || held->empty()) return;
  Beads& b = system.beads();
  for (int i = 0; i < b.n_owned; ++i)
    if (held->count(b.id[i])) b.force[i].setZero();
}

double stable_dt_max(const Model& model, double dt_max) {
  if (!model.has_bonds() || !(model.bond->k > 0.0)) return dt_max;
  return std::min(dt_max, 1.0 / std::sqrt(2.0 * model.bond->k));
}

MinimizeResult minimize_fire(System& system, const FireParams& p,
                             const std::function<void(long, double, double)>& observer, long every) {
  Beads& b = system.beads();
  MinimizeResult res;
  const long calls0 = system.n_force_calls();
  for (int i = 0; i < b.n_owned; ++i) b.vel[i].setZero();
  compute_forces_holding(system, p.held);
  FireParams capped = p;
  capped.dt_max = stable_dt_max(system.model(), p.dt_max);
  capped.dt_start = std::min(p.dt_start, capped.dt_max);
  FireControl fire(capped);
  const bool fire1 = p.variant == FireVariant::fire1;
  std::vector<double> fv, vv, ff;
  double fmax = system.max_force();
  long it = 0;
  for (; it < p.max_iter && fmax > p.f_tol; ++it) {
    const int n = b.n_owned;
    fv.resize(n);
    ff.resize(n);
    vv.resize(n);
    for (int i = 0; i < n; ++i) {
      fv[i] = b.force[i].dot(b.vel[i]);
      ff[i] = b.force[i].squaredNorm();
      if (fire1) vv[i] = b.vel[i].squaredNorm();
    }
    const double power = reproducible_sum(system.comm(), fv);
    if (fire1 && power > 0.0) {  // FIRE 1.0: mix first, with |v| and α from before the step
      const auto norms = reproducible_sums(system.comm(), {vv, ff});
      const double mix = fire.mixing(norms[0], norms[1]);
      for (int i = 0; i < n; ++i) fire_mix(b.vel[i], b.force[i], fire.alpha(), mix);
    }
    const FireControl::Step step = fire.adapt(power, it);
    if (step == FireControl::Step::give_up) break;
    const double dt = fire.dt();
    if (step == FireControl::Step::uphill) {
      for (int i = 0; i < n; ++i) {
        if (!fire1) b.pos[i] -= 0.5 * dt * b.vel[i];
        b.vel[i].setZero();
      }
    }
    // Semi-implicit Euler (FIRE 2.0: with velocity mixing after the velocity update).
    for (int i = 0; i < n; ++i) {
      b.vel[i] += dt * b.force[i];
      vv[i] = b.vel[i].squaredNorm();
    }
    if (!fire1) {
      const auto norms = reproducible_sums(system.comm(), {vv, ff});
      const double mix = fire.mixing(norms[0], norms[1]);
      for (int i = 0; i < n; ++i) fire_mix(b.vel[i], b.force[i], fire.alpha(), mix);
    }
    for (int i = 0; i < n; ++i) b.pos[i] += dt * b.vel[i];
    system.positions_changed();
    compute_forces_holding(system, p.held);
    fmax = system.max_force();
    if (observer && every > 0 && (it + 1) % every == 0) observer(it + 1, system.potential_energy(), fmax);
  }
  for (int i = 0; i < b.n_owned; ++i) b.vel[i].setZero();
  res.converged = fmax <= p.f_tol;
  res.iterations = it;
  res.force_calls = system.n_force_calls() - calls0;
  res.energy = system.potential_energy();
  res.max_force = fmax;
  return res;
}

}  // namespace tlsmap
