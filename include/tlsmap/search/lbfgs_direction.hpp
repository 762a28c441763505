#pragma once
// The serial L-BFGS pieces shared by the local minimiser (local_optimize.hpp) and the NEB's band
// optimiser (neb.hpp): the history of correction pairs and the two-loop recursion (Nocedal &
// Wright, Alg. 7.4) on one Eigen vector. What a step does with the direction (line search, caps)
// is the caller's.
#include <Eigen/Dense>

#include <deque>

namespace tlsmap {

// The correction pairs s = x_{k+1} − x_k, y = g_{k+1} − g_k, oldest first.
struct LbfgsPairs {
  std::deque<Eigen::VectorXd> s, y;
  std::deque<double> rho;  // 1 / (s · y)
  bool empty() const { return s.empty(); }
  void clear();
  // Keeps the pair only if s·y > 0 (the curvature condition), dropping the oldest beyond `memory`.
  void add(const Eigen::VectorXd& sv, const Eigen::VectorXd& yv, int memory);
};

// d = −H g by the two-loop recursion, H₀ = (s·y / y·y) of the newest pair. With no history, or if
// the result is not a descent direction (g·d ≥ 0, or not finite; the history is then cleared),
// steepest descent scaled so that its largest bead component is at most first_step:
// d = −g min(1, first_step / max_bead), max_bead = max|g_i| over beads. g is per bead (3 per bead).
Eigen::VectorXd lbfgs_direction(LbfgsPairs& h, const Eigen::VectorXd& g, double first_step);

}  // namespace tlsmap
