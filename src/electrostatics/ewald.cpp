#include "tlsmap/electrostatics/ewald.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/electrostatics/ewald_kspace.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

namespace tlsmap {

namespace {

using Complex = std::complex<double>;
constexpr double pi = std::numbers::pi;

void check_neutral(std::span<const double> q) {
  double sum = 0.0, abs_sum = 0.0;
  for (double v : q) sum += v, abs_sum += std::abs(v);
  if (std::abs(sum) > 1e-12 * std::max(abs_sum, 1e-300))
    throw Error("Ewald sum needs a neutral system; total charge " + std::to_string(sum));
}

// Image counts so that every image within r_cut of a minimum-image displacement is visited.
Int3 image_range(const Box& box, double r_cut) {
  Int3 m;
  for (int d = 0; d < 3; ++d) m[d] = static_cast<int>(std::ceil(r_cut / box.len[d] + 0.5));
  return m;
}

}  // namespace

EwaldParams ewald_params(const Box& box, double accuracy, double alpha, double epsilon) {
  if (!(accuracy > 0.0 && accuracy < 1.0)) throw Error("Ewald accuracy must be in (0, 1)");
  const double s = std::sqrt(-std::log(accuracy));
  EwaldParams p;
  p.alpha = alpha > 0.0 ? alpha : 2.0 * s / box.len.minCoeff();
  p.r_cut = s / p.alpha;
  p.k_cut = 2.0 * p.alpha * s;
  for (int d = 0; d < 3; ++d) p.k_max[d] = static_cast<int>(std::ceil(p.k_cut * box.len[d] / (2 * pi)));
  p.epsilon = epsilon;
  return p;
}

EwaldResult ewald(std::span<const Vec3> pos, std::span<const double> q, const Box& box, const EwaldParams& p) {
  check_neutral(q);
  const std::size_t n = pos.size();
  const double a = p.alpha, rc2 = p.r_cut * p.r_cut, two_a_rpi = 2.0 * a / std::sqrt(pi);
  EwaldResult r;
  r.force.assign(n, Vec3::Zero());
  const Int3 m = image_range(box, p.r_cut);

  // Real space: every pair (and each charge with its own images) once.
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i; j < n; ++j) {
      const Vec3 d0 = box.minimum_image(pos[i] - pos[j]);
      const double qq = q[i] * q[j] * (i == j ? 0.5 : 1.0);
      for (int x = -m[0]; x <= m[0]; ++x)
        for (int y = -m[1]; y <= m[1]; ++y)
          for (int z = -m[2]; z <= m[2]; ++z) {
            if (i == j && x == 0 && y == 0 && z == 0) continue;
            const Vec3 d = d0 + Vec3(x * box.len[0], y * box.len[1], z * box.len[2]);
            const double r2 = d.squaredNorm();
            if (r2 > rc2) continue;
            const double rr = std::sqrt(r2), e = std::erfc(a * rr) / rr;
            r.real += qq * e;
            if (i != j) {
              const Vec3 f = qq * (e + two_a_rpi * std::exp(-a * a * r2)) / r2 * d;
              r.force[i] += f;
              r.force[j] -= f;
            }
          }
    }

  // Reciprocal space, half the k vectors counted twice.
  const EwaldPhases ph(pos, box, p.k_max);
  const double pref = 8.0 * pi / box.volume();  // ±k pair: energy 2 × 2π/V, force 2 × 4π/V
  std::vector<Complex> e(n);
  for_half_k(box, p.k_max, p.k_cut, [&](const Vec3& k, int nx, int ny, int nz) {
    const double k2 = k.squaredNorm(), ak = std::exp(-k2 / (4 * a * a)) / k2;
    Complex s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += q[i] * (e[i] = ph(i, nx, ny, nz));
    r.reciprocal += 0.5 * pref * ak * std::norm(s);
    for (std::size_t i = 0; i < n; ++i) r.force[i] += (pref * ak * q[i] * std::imag(std::conj(s) * e[i])) * k;
  });

  double q2 = 0.0;
  for (double v : q) q2 += v * v;
  r.self = -a / std::sqrt(pi) * q2;

  const double inv_eps = 1.0 / p.epsilon;
  r.real *= inv_eps, r.reciprocal *= inv_eps, r.self *= inv_eps;
  for (auto& f : r.force) f *= inv_eps;
  r.energy = r.real + r.reciprocal + r.self;
  return r;
}

std::vector<double> ewald_potential(std::span<const Vec3> points, std::span<const Vec3> pos, std::span<const double> q,
                                    const Box& box, const EwaldParams& p) {
  check_neutral(q);
  const double a = p.alpha, rc2 = p.r_cut * p.r_cut;
  const Int3 m = image_range(box, p.r_cut);
  std::vector<double> phi(points.size(), 0.0);
  for (std::size_t t = 0; t < points.size(); ++t)
    for (std::size_t j = 0; j < pos.size(); ++j) {
      const Vec3 d0 = box.minimum_image(points[t] - pos[j]);
      for (int x = -m[0]; x <= m[0]; ++x)
        for (int y = -m[1]; y <= m[1]; ++y)
          for (int z = -m[2]; z <= m[2]; ++z) {
            const Vec3 d = d0 + Vec3(x * box.len[0], y * box.len[1], z * box.len[2]);
            const double r2 = d.squaredNorm();
            if (r2 > rc2 || r2 < 1e-24) continue;
            phi[t] += q[j] * std::erfc(a * std::sqrt(r2)) / std::sqrt(r2);
          }
    }
  const EwaldPhases ph(pos, box, p.k_max), pt(points, box, p.k_max);
  const double pref = 8.0 * pi / box.volume();  // 2 × 4π/V for the ±k pair
  for_half_k(box, p.k_max, p.k_cut, [&](const Vec3& k, int nx, int ny, int nz) {
    const double k2 = k.squaredNorm(), ak = pref * std::exp(-k2 / (4 * a * a)) / k2;
    Complex s = 0.0;
    for (std::size_t i = 0; i < pos.size(); ++i) s += q[i] * ph(i, nx, ny, nz);
    for (std::size_t t = 0; t < points.size(); ++t) phi[t] += ak * std::real(std::conj(s) * pt(t, nx, ny, nz));
  });
  for (double& v : phi) v /= p.epsilon;
  return phi;
}

double gaussian_energy(std::span<const Vec3> pos, std::span<const double> q, const Box& box, double sigma,
                       double accuracy, double epsilon) {
  check_neutral(q);
  const double k_cut = std::sqrt(-std::log(accuracy)) / sigma;
  Int3 k_max;
  for (int d = 0; d < 3; ++d) k_max[d] = static_cast<int>(std::ceil(k_cut * box.len[d] / (2 * pi)));
  const EwaldPhases ph(pos, box, k_max);
  double e = 0.0;
  for_half_k(box, k_max, k_cut, [&](const Vec3& k, int nx, int ny, int nz) {
    const double k2 = k.squaredNorm();
    Complex s = 0.0;
    for (std::size_t i = 0; i < pos.size(); ++i) s += q[i] * ph(i, nx, ny, nz);
    e += std::exp(-k2 * sigma * sigma) / k2 * std::norm(s);
  });
  return 4.0 * pi / box.volume() * e / epsilon;
}

}  // namespace tlsmap
