#pragma once
// Small dense algebra comes from Eigen; a bead position is a plain 3-vector of doubles.
#include <Eigen/Dense>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace tlsmap {
using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;
using Int3 = std::array<int, 3>;

// x0 y0 z0 x1 y1 z1 ...: a list of 3-vectors as one flat array (rows of an n × 3 table).
inline std::vector<double> flatten(std::span<const Vec3> v) {
  std::vector<double> f(3 * v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    for (int d = 0; d < 3; ++d) f[3 * i + d] = v[i][d];
  return f;
}

// Row k of such a flat array.
inline Vec3 row3(std::span<const double> flat, std::size_t k) {
  return Vec3(flat[3 * k], flat[3 * k + 1], flat[3 * k + 2]);
}
}  // namespace tlsmap
