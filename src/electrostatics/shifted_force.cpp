// Damped shifted-force Coulomb: the constants of the cut-off (see shifted_force.hpp).
#include "tlsmap/electrostatics/shifted_force.hpp"

#include "tlsmap/core/error.hpp"

#include <string>

namespace tlsmap {

ShiftedForceCoulomb::ShiftedForceCoulomb(double cutoff, double alpha, double epsilon)
    : cutoff_(cutoff), alpha_(alpha), epsilon_(epsilon) {
  if (!(cutoff > 0.0) || !(alpha >= 0.0) || !(epsilon > 0.0))
    throw Error("shifted-force Coulomb: needs cutoff > 0, alpha >= 0 and epsilon > 0 (got " + std::to_string(cutoff) +
                ", " + std::to_string(alpha) + ", " + std::to_string(epsilon) + ")");
  inv_eps_ = 1.0 / epsilon;
  two_alpha_pi_ = 2.0 * alpha / std::sqrt(M_PI);
  u_cut_ = std::erfc(alpha * cutoff) / cutoff;
  c_ = u_cut_ / cutoff + two_alpha_pi_ * std::exp(-alpha * alpha * cutoff * cutoff) / cutoff;
}

}  // namespace tlsmap
