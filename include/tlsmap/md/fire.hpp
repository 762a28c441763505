#pragma once
// FIRE 2.0 energy minimiser (Guénolé et al., Comput. Mater. Sci. 175, 109584 (2020), Algorithm 2):
// damped dynamics with semi-implicit Euler steps, velocity mixed towards the force direction,
// adaptive time step, and a half step back whenever the power F·v turns negative. Converged when
// max_i |F_i| ≤ f_tol. The global quantities that steer it (F·v, |v|, |F|) are reproducible sums,
// so the path and the minimum are the same at any rank count.
#include "tlsmap/md/system.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <unordered_set>

namespace tlsmap {

// Beads (by id) a minimiser keeps where they are, like LAMMPS's `fix setforce 0 0 0` on a group:
// their forces are zeroed after every evaluation, so they never move and max|F| is over the others.
using HeldIds = std::unordered_set<std::int64_t>;

// Collective: system.compute_forces(), then the forces of the held beads (if any) set to zero.
void compute_forces_holding(System& system, const HeldIds* held);

// fire2: FIRE 2.0 as above. fire1: the original FIRE (Bitzek et al., PRL 97, 170201 (2006)): the
// velocity is mixed before the Euler step and only while P > 0 (with |v| from before the step), and
// none of FIRE 2.0's additions: no initial delay, no dt_min, no half step back, no giving up.
enum class FireVariant { fire2, fire1 };

// Defaults: FIRE 2.0 (Guénolé et al. 2020, Table 1: N_delay 5, f_inc 1.1, f_dec 0.5, α_start 0.25,
// f_α 0.99, N_P<0,max 2000); the time steps are in reduced LJ time units.
struct FireParams {
  double f_tol = 1e-10;  // on max_i |F_i| (reduced force units ε/σ)
  long max_iter = 100000;
  double dt_start = 0.005;
  double dt_max = 0.05;
  double dt_min = 1e-4;  // fire2 only
  int n_delay = 5;       // P > 0 steps in a row before dt grows; fire2: also the initial delay
  double f_inc = 1.1, f_dec = 0.5;
  double alpha_start = 0.25, f_alpha = 0.99;
  long max_uphill = 2000;         // fire2 only: consecutive P <= 0 steps before giving up
  const HeldIds* held = nullptr;  // beads kept in place (not owned; must outlive the call)
  FireVariant variant = FireVariant::fire2;
};

// The largest FIRE step a system allows: min(dt_max, 1/ω_bond) for a bonded model (ω_bond = √(2k),
// the bond's frequency with unit masses), dt_max otherwise. 1/ω is half the semi-implicit Euler limit
// 2/ω; the bond's neighbours stiffen the mode further. Above it FIRE keeps overshooting along the
// bonds and crawls: on the polar-dimer test glass (k = 2000, 1458 beads), a quench from 10 MD steps
// off the minimum to max|F| ≤ 1e-4 took 2374 steps at dt_max 0.05 or 0.025, 298 at 0.02 and 349 at
// 0.015 (1/ω = 0.0158). minimize_fire applies it.
double stable_dt_max(const Model& model, double dt_max);

// The FIRE core every FIRE loop in tlsmap shares: the adaptive time step dt and mixing parameter α,
// steered by the sign of the power P = F·v (summed over the whole system).
class FireControl {
 public:
  enum class Step { downhill, uphill, give_up };
  explicit FireControl(const FireParams& p) : p_(p), dt_(p.dt_start), alpha_(p.alpha_start) {}
  double dt() const { return dt_; }
  double alpha() const { return alpha_; }
  // Adapts dt and α to the power of the current state (iteration counts from 0). downhill (P > 0):
  // after more than n_delay such steps in a row dt grows (up to dt_max) and α shrinks. uphill: dt
  // shrinks and α is reset (fire2: not during the first n_delay iterations, dt not below dt_min);
  // the caller then zeroes the velocities (fire2: after the half step back). give_up (fire2): more
  // than max_uphill uphill steps in a row; dt and α unchanged.
  Step adapt(double power, long iteration) {
    if (power > 0.0) {
      n_negative_ = 0;
      if (++n_positive_ > p_.n_delay) {
        dt_ = std::min(dt_ * p_.f_inc, p_.dt_max);
        alpha_ *= p_.f_alpha;
      }
      return Step::downhill;
    }
    n_positive_ = 0;
    const bool fire2 = p_.variant == FireVariant::fire2;
    if (fire2 && ++n_negative_ > p_.max_uphill) return Step::give_up;
    if (!fire2 || iteration >= p_.n_delay) {
      if (!fire2 || dt_ * p_.f_dec >= p_.dt_min) dt_ *= p_.f_dec;
      alpha_ = p_.alpha_start;
    }
    return Step::uphill;
  }
  // The mixing coefficient c = α |v| / |F| from the global sums vv = Σ|v|², ff = Σ|F|² (0 if F = 0);
  // each variant rounds it its own way.
  double mixing(double vv, double ff) const {
    if (p_.variant == FireVariant::fire1) return ff > 0.0 ? alpha_ * std::sqrt(vv / ff) : 0.0;
    const double f_norm = std::sqrt(ff);
    return f_norm > 0.0 ? alpha_ * std::sqrt(vv) / f_norm : 0.0;
  }

 private:
  FireParams p_;
  double dt_, alpha_;
  long n_positive_ = 0, n_negative_ = 0;
};

// The velocity mixing step, v ← (1 − α) v + c F (one bead, or one whole vector).
template <class V>
void fire_mix(V& v, const V& f, double alpha, double c) {
  v = (1.0 - alpha) * v + c * f;
}

struct MinimizeResult {
  bool converged = false;
  long iterations = 0;
  long force_calls = 0;
  double energy = 0.0;
  double max_force = 0.0;
  // L-BFGS: the iteration from which its line search judged steps by their slopes alone, because
  // a step along the force could not lower the energy (−1: never; FIRE: always −1).
  long slopes_only_from = -1;
};

// Collective. Minimises the system in place (uses and then zeroes the bead velocities).
// observer(iteration, energy, max_force) is called every `every` iterations.
MinimizeResult minimize_fire(System& system, const FireParams& p,
                             const std::function<void(long, double, double)>& observer = {}, long every = 0);

}  // namespace tlsmap
