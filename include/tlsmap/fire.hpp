#pragma once
// FIRE 2.0 energy minimiser (Guénolé et al., Comput. Mater. Sci. 175, 109584 (2020), Algorithm 2):
// damped dynamics with semi-implicit Euler steps, velocity mixed towards the force direction,
// adaptive time step, and a half step back whenever the power F·v turns negative. Converged when
// max_i |F_i| ≤ f_tol. The global quantities that steer it (F·v, |v|, |F|) are reproducible sums,
// so the path and the minimum are the same at any rank count.
#include "tlsmap/system.hpp"

#include <cstdint>
#include <functional>
#include <unordered_set>

namespace tlsmap {

// Beads (by id) a minimiser keeps where they are, like LAMMPS's `fix setforce 0 0 0` on a group:
// their forces are zeroed after every evaluation, so they never move and max|F| is over the others.
using HeldIds = std::unordered_set<std::int64_t>;

// Collective: system.compute_forces(), then the forces of the held beads (if any) set to zero.
void compute_forces_holding(System& system, const HeldIds* held);

struct FireParams {
  double f_tol = 1e-10;     // on max_i |F_i| (reduced force units ε/σ)
  long max_iter = 100000;
  double dt_start = 0.005;
  double dt_max = 0.05;
  double dt_min = 1e-4;
  int n_delay = 5;
  double f_inc = 1.1, f_dec = 0.5;
  double alpha_start = 0.25, f_alpha = 0.99;
  long max_uphill = 2000;   // consecutive P <= 0 steps before giving up
  const HeldIds* held = nullptr;  // beads kept in place (not owned; must outlive the call)
};

struct MinimizeResult {
  bool converged = false;
  long iterations = 0;
  long force_calls = 0;
  double energy = 0.0;
  double max_force = 0.0;
};

// Collective. Minimises the system in place (uses and then zeroes the bead velocities).
// observer(iteration, energy, max_force) is called every `every` iterations.
MinimizeResult minimize_fire(System& system, const FireParams& p,
                             const std::function<void(long, double, double)>& observer = {}, long every = 0);

}  // namespace tlsmap
