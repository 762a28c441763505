#pragma once
// Voigt notation for the elastic constants and their strain derivatives: index I = 0..5 stands for
// the tensor pairs 11, 22, 33, 23, 31, 12, and the unit strain of column I has engineering shears
// (ε_kl = ε_lk = ½), so that C_44 = C_2323 and r·ε_I r = r_k r_l for every I.
#include "tlsmap/core/vec3.hpp"

namespace tlsmap {

using Mat6 = Eigen::Matrix<double, 6, 6>;

// Voigt index → tensor index pair.
constexpr int kVoigt[6][2] = {{0, 0}, {1, 1}, {2, 2}, {1, 2}, {2, 0}, {0, 1}};

// The symmetric unit strain of Voigt column I.
inline Mat3 voigt_unit_strain(int i) {
  Mat3 e = Mat3::Zero();
  const int k = kVoigt[i][0], l = kVoigt[i][1];
  if (k == l) e(k, k) = 1.0;
  else e(k, l) = e(l, k) = 0.5;
  return e;
}

}  // namespace tlsmap
