// Far-field couplings from per-TLS dipoles (include/tlsmap/couplings/far_field.hpp).
#include "tlsmap/couplings/far_field.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/md/material.hpp"

#include <fftw3.h>

#include <cmath>
#include <complex>
#include <memory>
#include <string>

namespace tlsmap {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Smallest n' ≥ n, even, with no prime factor above 7 (fast FFTW sizes).
int fft_size(int n) {
  for (int m = std::max(2, n + (n % 2));; m += 2) {
    int r = m;
    for (int p : {2, 3, 5, 7})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

// Signed frequency of FFT index i on n points.
int frequency(int i, int n) { return i <= n / 2 ? i : i - n; }

// The 6 unordered index pairs (α ≤ γ) and the ordered pairs each stands for.
constexpr int kPairs[6][2] = {{0, 0}, {1, 1}, {2, 2}, {1, 2}, {0, 2}, {0, 1}};

struct FftwDeleter {
  void operator()(void* p) const { fftw_free(p); }
};

}  // namespace

Vec3 transition_center(const TlsSet& tls, std::size_t k, const Box& box) {
  Vec3 sum = Vec3::Zero();
  double weight = 0.0;
  for (std::int64_t r = tls.begin(k); r < tls.end(k); ++r) {
    const Vec3 d = box.minimum_image(tls.pos_b[r] - tls.pos_a[r]);
    const double w = d.squaredNorm();
    sum += w * box.minimum_image(tls.pos_a[r] + 0.5 * d - tls.center[k]);
    weight += w;
  }
  return weight > 0.0 ? Vec3(tls.center[k] + sum / weight) : tls.center[k];
}

StressStrain stress_strain_tensor(const ElasticTensor& t) {
  const int voigt[3][3] = {{0, 5, 4}, {5, 1, 3}, {4, 3, 2}};
  StressStrain a{};
  for (int al = 0; al < 3; ++al)
    for (int be = 0; be < 3; ++be)
      for (int ga = 0; ga < 3; ++ga)
        for (int de = 0; de < 3; ++de)
          a[((al * 3 + be) * 3 + ga) * 3 + de] =
              t.relaxed(voigt[al][be], voigt[ga][de]) + (al == ga ? t.stress(be, de) : 0.0);
  return a;
}

ElasticFarField::ElasticFarField(const Box& box, const StressStrain& a, double width)
    : box_(box), a_(a), width_(width) {
  if (!(width > 0.0))
    throw Error("far-field elastic kernel: the Gaussian width must be > 0 (got " + std::to_string(width) + ")");
  for (int d = 0; d < 3; ++d) n_[d] = fft_size(static_cast<int>(std::ceil(box.len[d] / (0.5 * width))));
}

namespace {

// K(k)⁻¹ e^{−k²w²}/V at every k of the half grid (k = 0 left out), and the k vectors.
struct KernelSpectrum {
  std::vector<Mat3> g;
  std::vector<Vec3> kvec;
};

KernelSpectrum kernel_spectrum(const Box& box, const StressStrain& a, double width, const Int3& n) {
  const int n0 = n[0], n1 = n[1], nh = n[2] / 2 + 1;
  const std::size_t n_half = static_cast<std::size_t>(n0) * n1 * nh;
  KernelSpectrum ks{std::vector<Mat3>(n_half, Mat3::Zero()), std::vector<Vec3>(n_half, Vec3::Zero())};
  const double inv_v = 1.0 / box.volume(), w2 = width * width;
  for (int x = 0; x < n0; ++x)
    for (int y = 0; y < n1; ++y)
      for (int z = 0; z < nh; ++z) {
        const std::size_t at = (static_cast<std::size_t>(x) * n1 + y) * nh + z;
        const Vec3 k(2.0 * kPi * frequency(x, n0) / box.len[0], 2.0 * kPi * frequency(y, n1) / box.len[1],
                     2.0 * kPi * z / box.len[2]);
        ks.kvec[at] = k;
        if (at == 0) continue;
        Mat3 kk = Mat3::Zero();
        for (int al = 0; al < 3; ++al)
          for (int ga = 0; ga < 3; ++ga)
            for (int be = 0; be < 3; ++be)
              for (int de = 0; de < 3; ++de) kk(al, ga) += a[((al * 3 + be) * 3 + ga) * 3 + de] * k[be] * k[de];
        const Eigen::FullPivLU<Mat3> lu(kk);
        if (!lu.isInvertible())
          throw Error("far-field elastic kernel: the acoustic tensor K(k) is singular at k = (" + std::to_string(k[0]) +
                      ", " + std::to_string(k[1]) + ", " + std::to_string(k[2]) + "): the medium is not stable");
        ks.g[at] = lu.inverse() * (std::exp(-k.squaredNorm() * w2) * inv_v);
      }
  return ks;
}

// J = −Σ_{αβγδ ordered} P_j,αβ P_i,γδ M_αβγδ; M is symmetric in α↔γ and β↔δ, so the component
// (al ga)(be de) collects the ordered index sets it stands for: its coefficient per pair.
void component_coefficients(std::span<const Mat3> p_i, std::span<const Mat3> p_j, int al, int ga, int be, int de,
                            std::vector<double>& coef) {
  for (std::size_t p = 0; p < coef.size(); ++p) {
    double c = 0.0;
    for (int s = 0; s < (al == ga ? 1 : 2); ++s)
      for (int t = 0; t < (be == de ? 1 : 2); ++t) {
        const int a1 = s ? ga : al, g1 = s ? al : ga, b1 = t ? de : be, d1 = t ? be : de;
        c += p_j[p](a1, b1) * p_i[p](g1, d1);
      }
    coef[p] = -c;
  }
}

// Cubic Lagrange interpolation of the periodic table m (n[0] x n[1] x n[2]) at r (4 points per
// dimension, error O(h⁴)).
double interpolate(const double* m, const Vec3& r, const Box& box, const Int3& n) {
  std::size_t i0[3];
  double wt[3][4];
  for (int d = 0; d < 3; ++d) {
    double u = r[d] / box.len[d];
    u -= std::floor(u);
    const double s = u * n[d];
    const int lo = std::min(static_cast<int>(s), n[d] - 1);
    const double t = s - lo;
    i0[d] = static_cast<std::size_t>(lo + n[d] - 1);  // the first of the 4 points, kept non-negative
    wt[d][0] = -t * (t - 1.0) * (t - 2.0) / 6.0;
    wt[d][1] = (t + 1.0) * (t - 1.0) * (t - 2.0) / 2.0;
    wt[d][2] = -(t + 1.0) * t * (t - 2.0) / 2.0;
    wt[d][3] = (t + 1.0) * t * (t - 1.0) / 6.0;
  }
  const std::size_t n0 = n[0], n1 = n[1], n2 = n[2];
  double v = 0.0;
  for (int cx = 0; cx < 4; ++cx)
    for (int cy = 0; cy < 4; ++cy)
      for (int cz = 0; cz < 4; ++cz) {
        const std::size_t x = (i0[0] + cx) % n0, y = (i0[1] + cy) % n1, z = (i0[2] + cz) % n2;
        v += wt[0][cx] * wt[1][cy] * wt[2][cz] * m[(x * n1 + y) * n2 + z];
      }
  return v;
}

}  // namespace

std::vector<double> ElasticFarField::couplings(std::span<const Mat3> p_i, std::span<const Mat3> p_j,
                                               std::span<const Vec3> r) const {
  const std::size_t n_pairs = r.size();
  if (p_i.size() != n_pairs || p_j.size() != n_pairs) throw Error("far-field elastic kernel: mismatched pair lists");
  const int n0 = n_[0], n1 = n_[1], n2 = n_[2], nh = n2 / 2 + 1;
  const std::size_t n_real = static_cast<std::size_t>(n0) * n1 * n2, n_half = static_cast<std::size_t>(n0) * n1 * nh;
  const KernelSpectrum ks = kernel_spectrum(box_, a_, width_, n_);

  // One component M_(αγ)(βδ) at a time: fill its spectrum k_β k_δ G_αγ (symmetrised over β↔δ, which
  // is what the sum over ordered pairs needs), transform, interpolate at every pair.
  std::unique_ptr<fftw_complex, FftwDeleter> spec(fftw_alloc_complex(n_half));
  std::unique_ptr<double, FftwDeleter> field(fftw_alloc_real(n_real));
  if (!spec || !field)
    throw Error("far-field elastic kernel: out of memory for a " + std::to_string(n0) + "x" + std::to_string(n1) + "x" +
                std::to_string(n2) + " grid");
  fftw_plan plan = fftw_plan_dft_c2r_3d(n0, n1, n2, spec.get(), field.get(), FFTW_ESTIMATE);
  std::vector<double> j(n_pairs, 0.0);
  std::vector<double> coef(n_pairs);
  for (const auto& ag : kPairs)
    for (const auto& bd : kPairs) {
      const int al = ag[0], ga = ag[1], be = bd[0], de = bd[1];
      component_coefficients(p_i, p_j, al, ga, be, de, coef);
      for (std::size_t at = 0; at < n_half; ++at) {
        spec.get()[at][0] = ks.kvec[at][be] * ks.kvec[at][de] * ks.g[at](al, ga);
        spec.get()[at][1] = 0.0;
      }
      fftw_execute(plan);
      for (std::size_t p = 0; p < n_pairs; ++p) j[p] += coef[p] * interpolate(field.get(), r[p], box_, n_);
    }
  fftw_destroy_plan(plan);
  return j;
}

}  // namespace tlsmap
