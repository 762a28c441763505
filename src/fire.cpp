#include "tlsmap/fire.hpp"

#include "tlsmap/reduction.hpp"

#include <cmath>

namespace tlsmap {

void compute_forces_holding(System& system, const HeldIds* held) {
  system.compute_forces();
  if (!held || held->empty()) return;
  Beads& b = system.beads();
  for (int i = 0; i < b.n_owned; ++i)
    if (held->count(b.id[i])) b.force[i].setZero();
}

MinimizeResult minimize_fire(System& system, const FireParams& p,
                             const std::function<void(long, double, double)>& observer, long every) {
  Beads& b = system.beads();
  MinimizeResult res;
  const long calls0 = system.n_force_calls();
  for (int i = 0; i < b.n_owned; ++i) b.vel[i].setZero();
  compute_forces_holding(system, p.held);
  double dt = p.dt_start, alpha = p.alpha_start;
  long n_positive = 0, n_negative = 0;
  std::vector<double> fv, vv, ff;
  double fmax = system.max_force();
  long it = 0;
  for (; it < p.max_iter && fmax > p.f_tol; ++it) {
    const int n = b.n_owned;
    fv.resize(n);
    ff.resize(n);
    for (int i = 0; i < n; ++i) {
      fv[i] = b.force[i].dot(b.vel[i]);
      ff[i] = b.force[i].squaredNorm();
    }
    const double power = reproducible_sum(system.comm(), fv);
    if (power > 0.0) {
      n_negative = 0;
      if (++n_positive > p.n_delay) {
        dt = std::min(dt * p.f_inc, p.dt_max);
        alpha *= p.f_alpha;
      }
    } else {
      n_positive = 0;
      if (++n_negative > p.max_uphill) break;
      if (it >= p.n_delay) {  // "initial delay": no slow-down during the first steps
        if (dt * p.f_dec >= p.dt_min) dt *= p.f_dec;
        alpha = p.alpha_start;
      }
      for (int i = 0; i < n; ++i) {
        b.pos[i] -= 0.5 * dt * b.vel[i];
        b.vel[i].setZero();
      }
    }
    // Semi-implicit Euler with velocity mixing.
    vv.resize(n);
    for (int i = 0; i < n; ++i) {
      b.vel[i] += dt * b.force[i];
      vv[i] = b.vel[i].squaredNorm();
    }
    auto norms = reproducible_sums(system.comm(), {vv, ff});
    const double v_norm = std::sqrt(norms[0]), f_norm = std::sqrt(norms[1]);
    const double mix = f_norm > 0.0 ? alpha * v_norm / f_norm : 0.0;
    for (int i = 0; i < n; ++i) {
      b.vel[i] = (1.0 - alpha) * b.vel[i] + mix * b.force[i];
      b.pos[i] += dt * b.vel[i];
    }
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
