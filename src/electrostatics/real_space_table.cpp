// The tabulated Ewald real-space kernel: construction and the libm reference (see real_space_table.hpp).
#include "tlsmap/electrostatics/real_space_table.hpp"

#include "tlsmap/core/error.hpp"

#include <cmath>
#include <numbers>
#include <string>

namespace tlsmap {

RealSpaceTable::RealSpaceTable(double alpha, double cutoff)
    : alpha_(alpha), two_a_rpi_(2.0 * alpha / std::sqrt(std::numbers::pi)) {
  if (!(alpha > 0.0) || !(cutoff > 0.0) || !std::isfinite(alpha) || !std::isfinite(cutoff))
    throw Error("real-space table: needs alpha > 0 and cutoff > 0 (got " + std::to_string(alpha) + ", " +
                std::to_string(cutoff) + ")");
  auto kernel = [this](double s, BinadeTable<2>::Values& v, BinadeTable<2>::Values& scale) {
    exact(s, v[0], v[1]);
    scale = {std::abs(v[0]), std::abs(v[1])};
  };
  const double rc2 = cutoff * cutoff;
  table_ = BinadeTable<2>(kernel, rc2 / 256.0, rc2, tolerance);
}

void RealSpaceTable::exact(double s, double& e, double& f) const {
  const double r = std::sqrt(s);
  e = std::erfc(alpha_ * r) / r;
  f = (e + two_a_rpi_ * std::exp(-alpha_ * alpha_ * s)) / s;
}

}  // namespace tlsmap
