#pragma once
// Small dense algebra comes from Eigen; a bead position is a plain 3-vector of doubles.
#include <Eigen/Dense>

#include <array>
#include <cstdint>

namespace tlsmap {
using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;
using Int3 = std::array<int, 3>;
}  // namespace tlsmap
