#pragma once
// Molecular dynamics: velocity Verlet, optionally with a Langevin thermostat in the BAOAB splitting
// (Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34): half kick, half drift, exact
// Ornstein–Uhlenbeck velocity update, half drift, half kick. One force evaluation per step; with
// friction 0 (or thermostat "none") it is plain velocity Verlet (NVE). The thermostat noise of bead
// `id` at step `n` is gaussian3(seed, Stream::langevin, id, n), so trajectories are independent of
// the rank count (bit for bit: see docs/verification.md). Mass 1 for every bead (reduced units).
#include "tlsmap/md/system.hpp"

#include <cstdint>
#include <functional>

namespace tlsmap {

struct MDParams {
  double dt = 0.005;
  bool langevin = true;
  double friction = 1.0;  // γ in 1/τ
  std::uint64_t seed = 1;
};

class MolecularDynamics {
 public:
  // Computes the initial forces (collective).
  MolecularDynamics(System& system, MDParams params);

  // Collective. Runs n_steps; target_temperature(step) gives the bath temperature at each step
  // (ignored without thermostat); observer(step) is called every `every` steps (0 = never).
  void run(long n_steps, const std::function<double(long)>& target_temperature,
           const std::function<void(long)>& observer = {}, long every = 0);

  long step() const { return step_; }
  void set_step(long s) { step_ = s; }

 private:
  System& system_;
  MDParams p_;
  long step_ = 0;
};

// Collective: Maxwell–Boltzmann velocities at temperature T from (seed, bead id), centre-of-mass
// momentum removed and rescaled to exactly T (reproducible sums).
void assign_velocities(System& system, double temperature, std::uint64_t seed);

}  // namespace tlsmap
