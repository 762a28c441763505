#pragma once
// N smooth functions of s > 0 as piecewise polynomials, for pair kernels evaluated in s = r²: a pair
// then costs one table lookup and N interleaved Horner chains instead of sqrt, erfc, exp and divisions.
//
// Intervals come from the bits of s: each binade [2^m, 2^{m+1}) is split into 2^k equal intervals, so
// an interval is at most 2^{−k} of s wide, fine where a kernel varies on the scale of s itself (r → 0)
// and where it varies on a fixed scale (a Gaussian at the cutoff). On each interval a degree-7
// polynomial interpolates the functions at 8 Chebyshev nodes. k starts at 5 and grows until the
// largest error measured against the functions themselves, on 17 points per interval, is ≤ the
// tolerance times each value's scale (the function's magnitude, or the magnitude of the terms that
// cancel in it); if k = 9 does not reach that, the table is unusable and the caller keeps its direct
// path. The range is [lower(), s_hi], lower() the largest power of two ≤ s_lo.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

namespace tlsmap {

template <int N>
class BinadeTable {
 public:
  using Values = std::array<double, N>;
  static constexpr int degree = 7;

  BinadeTable() = default;
  // f(s, value, scale): the functions at s and the magnitude each one's error is measured against.
  template <class F>
  BinadeTable(F&& f, double s_lo, double s_hi, double tolerance) {
    int exponent = 0;
    std::frexp(s_lo, &exponent);
    lo_ = std::ldexp(1.0, exponent - 1);
    hi_ = s_hi;
    for (int k = 5; k <= 9; ++k) {
      error_ = build(f, k);
      if (error_ <= tolerance) return;
    }
    intervals_.clear();
  }

  bool usable() const { return !intervals_.empty(); }
  // s lies in the table (usable and lower() ≤ s ≤ upper()); elsewhere callers use their direct path.
  bool covers(double s) const { return s >= lo_ && s <= hi_ && usable(); }
  double lower() const { return lo_; }
  double upper() const { return hi_; }
  double max_error() const { return error_; }  // the largest measured error over scale
  int intervals_per_binade() const { return 1 << (52 - shift_); }

  // The functions at lower() ≤ s ≤ upper() (not checked).
  void evaluate(double s, Values& out) const { evaluate_first<N>(s, out); }

  // The first M of the functions only (callers that need fewer skip the others' polynomials).
  template <int M>
  void evaluate_first(double s, std::array<double, M>& out) const {
    static_assert(M >= 1 && M <= N);
    const Interval& c = intervals_[(std::bit_cast<std::uint64_t>(s) >> shift_) - base_];
    const double t = (s - c.mid) * c.inv_half;
    for (int i = 0; i < M; ++i) out[i] = c.coef[degree][i];
    for (int d = degree - 1; d >= 0; --d)
      for (int i = 0; i < M; ++i) out[i] = out[i] * t + c.coef[d][i];
  }

 private:
  struct Interval {
    double mid = 0.0, inv_half = 0.0;
    std::array<Values, degree + 1> coef{};  // coef[d][i]: function i's coefficient of t^d, t = (s − mid)/half
  };

  template <class F>
  double build(F& f, int k) {
    // Monomial coefficients of the Chebyshev polynomials T_0..T_7 (row m: T_m = Σ_p row[p] t^p).
    static constexpr double cheb[8][8] = {{1, 0, 0, 0, 0, 0, 0, 0},      {0, 1, 0, 0, 0, 0, 0, 0},
                                          {-1, 0, 2, 0, 0, 0, 0, 0},     {0, -3, 0, 4, 0, 0, 0, 0},
                                          {1, 0, -8, 0, 8, 0, 0, 0},     {0, 5, 0, -20, 0, 16, 0, 0},
                                          {-1, 0, 18, 0, -48, 0, 32, 0}, {0, -7, 0, 56, 0, -112, 0, 64}};
    static_assert(degree == 7, "the Chebyshev table above is for degree 7");
    constexpr int n = degree + 1;
    // The Chebyshev nodes t_j and T_m(t_j), the same on every interval.
    std::array<double, n> node{};
    std::array<std::array<double, n>, n> tm{};
    for (int j = 0; j < n; ++j) {
      node[j] = std::cos(std::numbers::pi * (j + 0.5) / n);
      for (int m = 0; m < n; ++m) tm[m][j] = std::cos(m * std::numbers::pi * (j + 0.5) / n);
    }
    shift_ = 52 - k;
    base_ = std::bit_cast<std::uint64_t>(lo_) >> shift_;
    intervals_.assign((std::bit_cast<std::uint64_t>(hi_) >> shift_) - base_ + 1, Interval{});
    double worst = 0.0;
    for (std::uint64_t iv = 0; iv < intervals_.size(); ++iv) {
      const double a = std::bit_cast<double>((base_ + iv) << shift_);
      const double b = std::bit_cast<double>((base_ + iv + 1) << shift_);
      Interval& c = intervals_[iv];
      const double half = 0.5 * (b - a);
      c.mid = 0.5 * (a + b), c.inv_half = 1.0 / half;
      std::array<Values, n> y{};
      Values scale{};
      for (int j = 0; j < n; ++j) f(c.mid + half * node[j], y[j], scale);
      for (int m = 0; m < n; ++m) {
        Values cm{};
        for (int j = 0; j < n; ++j)
          for (int i = 0; i < N; ++i) cm[i] += y[j][i] * tm[m][j];
        for (int p = 0; p < n; ++p)
          for (int i = 0; i < N; ++i) c.coef[p][i] += (m == 0 ? 1.0 : 2.0) / n * cm[i] * cheb[m][p];
      }
      for (int j = 0; j <= 16; ++j) {
        const double s = std::min(a + (b - a) * j / 16.0, std::nextafter(b, a));
        Values want{}, got{};
        f(s, want, scale);
        evaluate(s, got);
        for (int i = 0; i < N; ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / scale[i]);
      }
    }
    return worst;
  }

  double lo_ = 0.0, hi_ = 0.0, error_ = 0.0;
  int shift_ = 52;
  std::uint64_t base_ = 0;
  std::vector<Interval> intervals_;
};

}  // namespace tlsmap
