#pragma once
// The reciprocal-space machinery shared by the Ewald sums (ewald.cpp, couplings/point_coupling.cpp):
// per-charge phase factors and the half-space k loop. Header-only: the loop body is a template.
#include "tlsmap/core/box.hpp"

#include <cmath>
#include <complex>
#include <cstddef>
#include <numbers>
#include <span>
#include <vector>

namespace tlsmap {

// exp(i 2π n (x_d − lo_d)/L_d) for n = −k_d..k_d of every charge, built by repeated multiplication per
// dimension (cheaper than 3 (2k+1) N calls to sincos, and accurate to ~k ulp). The product over the
// three dimensions is exp(i k·(x − lo)); the constant phase of `lo` cancels in every |S(k)|² and
// S_i(k) S_j(k)*.
class EwaldPhases {
 public:
  using Complex = std::complex<double>;
  EwaldPhases(std::span<const Vec3> pos, const Box& box, const Int3& k) : k_(k) {
    for (int d = 0; d < 3; ++d) {
      const std::size_t w = static_cast<std::size_t>(2 * k[d] + 1);
      e_[d].resize(pos.size() * w);
      for (std::size_t i = 0; i < pos.size(); ++i) {
        Complex* row = &e_[d][i * w + static_cast<std::size_t>(k[d])];
        const double t = 2.0 * std::numbers::pi * (pos[i][d] - box.lo[d]) / box.len[d];
        const Complex base(std::cos(t), std::sin(t));
        row[0] = 1.0;
        for (int n = 1; n <= k[d]; ++n) {
          row[n] = row[n - 1] * base;
          row[-n] = std::conj(row[n]);
        }
      }
    }
  }
  // The phase of charge i at k = 2π (nx/L_x, ny/L_y, nz/L_z); |n_d| ≤ k_d.
  Complex operator()(std::size_t i, int nx, int ny, int nz) const { return at(0, i, nx) * at(1, i, ny) * at(2, i, nz); }

 private:
  Complex at(int d, std::size_t i, int n) const {
    return e_[d][i * static_cast<std::size_t>(2 * k_[d] + 1) + static_cast<std::size_t>(k_[d] + n)];
  }
  Int3 k_;
  std::vector<Complex> e_[3];
};

// Calls f(k, nx, ny, nz) for one k out of every ±k pair with 0 < |k| ≤ k_cut and |n_d| ≤ k_max[d]
// (the half space nx > 0, or nx = 0 and ny > 0, or nx = ny = 0 and nz > 0), in a fixed order.
template <class F>
void for_half_k(const Box& box, const Int3& k_max, double k_cut, F&& f) {
  const double tp = 2.0 * std::numbers::pi;
  const Vec3 b(tp / box.len[0], tp / box.len[1], tp / box.len[2]);
  for (int nx = 0; nx <= k_max[0]; ++nx)
    for (int ny = (nx == 0 ? 0 : -k_max[1]); ny <= k_max[1]; ++ny)
      for (int nz = (nx == 0 && ny == 0 ? 1 : -k_max[2]); nz <= k_max[2]; ++nz) {
        const Vec3 k(nx * b[0], ny * b[1], nz * b[2]);
        if (k.squaredNorm() <= k_cut * k_cut) f(k, nx, ny, nz);
      }
}

}  // namespace tlsmap
