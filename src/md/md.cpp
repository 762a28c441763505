#include "tlsmap/md/md.hpp"

#include "tlsmap/core/random.hpp"
#include "tlsmap/core/reduction.hpp"

#include <cmath>

namespace tlsmap {

MolecularDynamics::MolecularDynamics(System& system, MDParams params) : system_(system), p_(params) {
  system_.compute_forces();
}

void MolecularDynamics::run(long n_steps, const std::function<double(long)>& target_temperature,
                            const std::function<void(long)>& observer, long every) {
  Beads& b = system_.beads();
  const double dt = p_.dt, half = 0.5 * dt;
  const bool thermostat = p_.langevin && p_.friction > 0.0;
  const double c1 = std::exp(-p_.friction * dt), c2 = std::sqrt(1.0 - c1 * c1);
  for (long n = 0; n < n_steps; ++n) {
    ++step_;
    const int n_owned = b.n_owned;
    if (thermostat) {
      const double sigma = c2 * std::sqrt(target_temperature(step_));
      for (int i = 0; i < n_owned; ++i) {
        b.vel[i] += half * b.force[i];
        b.pos[i] += half * b.vel[i];
        b.vel[i] = c1 * b.vel[i] + sigma * gaussian3(p_.seed, Stream::langevin, b.id[i], step_);
        b.pos[i] += half * b.vel[i];
      }
    } else {
      for (int i = 0; i < n_owned; ++i) {
        b.vel[i] += half * b.force[i];
        b.pos[i] += dt * b.vel[i];
      }
    }
    system_.positions_changed();  // may migrate: bead order changes, so index afresh below
    system_.compute_forces();
    for (int i = 0; i < b.n_owned; ++i) b.vel[i] += half * b.force[i];
    if (observer && every > 0 && step_ % every == 0) observer(step_);
  }
}

void assign_velocities(System& system, double temperature, std::uint64_t seed) {
  Beads& b = system.beads();
  const int n = b.n_owned;
  for (int i = 0; i < n; ++i) b.vel[i] = gaussian3(seed, Stream::initial_velocity, b.id[i], 0);
  std::vector<double> px(n), py(n), pz(n);
  for (int i = 0; i < n; ++i) {
    px[i] = b.vel[i][0];
    py[i] = b.vel[i][1];
    pz[i] = b.vel[i][2];
  }
  auto p = reproducible_sums(system.comm(), {px, py, pz});
  const double inv_n = 1.0 / static_cast<double>(system.n_global());
  const Vec3 v_cm(p[0] * inv_n, p[1] * inv_n, p[2] * inv_n);
  std::vector<double> v2(n);
  for (int i = 0; i < n; ++i) {
    b.vel[i] -= v_cm;
    v2[i] = b.vel[i].squaredNorm();
  }
  const double dof = 3.0 * static_cast<double>(system.n_global()) - 3.0;
  const double t_now = reproducible_sum(system.comm(), v2) / dof;
  const double scale = t_now > 0.0 ? std::sqrt(temperature / t_now) : 0.0;
  for (int i = 0; i < n; ++i) b.vel[i] *= scale;
}

}  // namespace tlsmap
