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
  auto f = [this](double r2, BinadeTable<3>::Values& v, BinadeTable<3>::Values& scale) {
    const Evaluated e = terms(r2);
    v = {e.value.energy, e.value.f_over_r, e.value.dfr_dr2};
    scale = {e.scale.energy, e.scale.f_over_r, e.scale.dfr_dr2};
  };
  table_ = BinadeTable<3>(f, cutoff * cutoff / 256.0, cutoff * cutoff, table_tolerance);
}

ShiftedForceCoulomb::Evaluated ShiftedForceCoulomb::terms(double r2) const {
  const double r = std::sqrt(r2), inv_r = 1.0 / r, inv_r2 = inv_r * inv_r;
  const double erfc_r = std::erfc(alpha_ * r), gauss_r = two_alpha_pi_ * std::exp(-alpha_ * alpha_ * r2);
  const double c_dr = c_ * (r - cutoff_);
  const double energy = (erfc_r * inv_r - u_cut_ + c_dr) * inv_eps_;
  const double f_over_r = (erfc_r * inv_r2 + gauss_r * inv_r - c_) * inv_r * inv_eps_;
  // d(f/r)/dr = −3 erfc/r⁴ − 3 g/r³ − 2α² g/r + C/r², with g = (2α/√π) e^{−α²r²}; over 2r.
  const double t1 = 3.0 * erfc_r * inv_r2 * inv_r2, t2 = 3.0 * gauss_r * inv_r2 * inv_r;
  const double t3 = 2.0 * alpha_ * alpha_ * gauss_r * inv_r, t4 = c_ * inv_r2;
  const double dfr_dr2 = 0.5 * (-t1 - t2 - t3 + t4) * inv_r * inv_eps_;
  return {{energy, f_over_r, dfr_dr2},
          {(erfc_r * inv_r + u_cut_ + std::abs(c_dr)) * inv_eps_,
           (erfc_r * inv_r2 + gauss_r * inv_r + c_) * inv_r * inv_eps_, 0.5 * (t1 + t2 + t3 + t4) * inv_r * inv_eps_}};
}

}  // namespace tlsmap
