#pragma once
// The periodic orthorhombic simulation box: [lo, lo + len) in each direction.
// wrap() maps a position into the box; minimum_image() maps a displacement into (-len/2, len/2].
#include "tlsmap/core/vec3.hpp"

#include <cmath>

namespace tlsmap {

struct Box {
  Vec3 lo = Vec3::Zero();
  Vec3 len = Vec3::Ones();

  double volume() const { return len.prod(); }

  // Wrap x into [lo, lo + len); returns the number of periods removed in each direction so that
  // image flags (unwrapped = wrapped + image * len) stay exact.
  Int3 wrap(Vec3& x) const {
    Int3 n{0, 0, 0};
    for (int d = 0; d < 3; ++d) {
      double s = x[d] - lo[d];
      if (s >= 0.0 && s < len[d]) continue;  // the common case, and exact
      double k = std::floor(s / len[d]);
      x[d] -= k * len[d];
      // Rounding can leave x exactly at lo + len (or a hair below lo); fold it back.
      if (x[d] >= lo[d] + len[d]) {
        x[d] -= len[d];
        k += 1.0;
      }
      if (x[d] < lo[d]) {
        x[d] += len[d];
        k -= 1.0;
      }
      n[d] = static_cast<int>(k);
    }
    return n;
  }

  Vec3 minimum_image(Vec3 d) const {
    for (int k = 0; k < 3; ++k) d[k] -= len[k] * std::round(d[k] / len[k]);
    return d;
  }
};

}  // namespace tlsmap
