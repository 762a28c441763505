// The two lowest levels along a TLS path (see schrodinger.hpp; docs/tunnelling.md for the numbers).
//
// Steps: scan the band (its minimum, its top, the curvature at its ends); continue V past the ends;
// choose the interval (turning points at a level above e1, plus a decay margin) and a uniform grid
// from the shortest quantum length; bisect the Numerov Sturm count for E0 and E1 on the grid and on
// the grid halved; extrapolate. Energies are shifted by the band's minimum inside, so the absolute
// scale of V (domain energies of −10³ ε) costs no digits beyond those V itself carries.
#include "tlsmap/schrodinger.hpp"

#include "tlsmap/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace tlsmap {
namespace {

// What the continuation needs of the band.
struct BandScan {
  double s_a = 0, s_b = 0;  // ends
  double v_a = 0, v_b = 0;  // V at the ends
  double v_min = 0;         // lowest sampled V along the band
  double v_top = 0, s_top = 0;  // the barrier: max V between the outermost minima (for an NEB band,
                                // whose ends are minima, the max along the band), and where
};

BandScan scan_band(const PathPotential& v) {
  BandScan b;
  b.s_a = v.front();
  b.s_b = v.back();
  b.v_a = v(b.s_a);
  b.v_b = v(b.s_b);
  // 32 samples per Hermite segment locate the minima and the top to a sample spacing.
  const auto& nodes = v.nodes();
  const int per = 32;
  std::vector<double> x, y;
  for (std::size_t k = 0; k + 1 < nodes.size(); ++k)
    for (int j = 0; j < per; ++j) x.push_back(nodes[k] + (nodes[k + 1] - nodes[k]) * j / per);
  x.push_back(nodes.back());
  for (double s : x) {
    y.push_back(v(s));
    if (!std::isfinite(y.back())) throw Error("path_levels: V is not finite at s = " + std::to_string(s));
  }
  const std::size_t n = x.size();
  b.v_min = *std::min_element(y.begin(), y.end());
  // The outermost minima: where V first stops falling from each end. A band that rises (or falls)
  // all the way has no barrier between minima; its top is its highest end.
  std::size_t first = 0, last = n - 1;
  while (first + 1 < n && y[first + 1] <= y[first]) ++first;
  while (last > 0 && y[last - 1] <= y[last]) --last;
  if (first >= last) {
    first = 0;
    last = n - 1;
  }
  const std::size_t top = std::max_element(y.begin() + first, y.begin() + last + 1) - y.begin();
  b.v_top = y[top];
  b.s_top = x[top];
  // A golden-section search between the neighbouring samples finds the top to rounding (one
  // cubic maximum there), unless the top is at an end.
  double lo = x[top == 0 ? 0 : top - 1], hi = x[top + 1 == n ? n - 1 : top + 1];
  const double r = 0.5 * (std::sqrt(5.0) - 1.0);
  for (int it = 0; it < 100 && hi - lo > 1e-15 * (std::abs(lo) + std::abs(hi) + 1e-300); ++it) {
    const double x1 = hi - r * (hi - lo), x2 = lo + r * (hi - lo);
    if (v(x1) >= v(x2)) hi = x2;
    else lo = x1;
  }
  const double mid = 0.5 * (lo + hi);
  if (v(mid) > b.v_top) {
    b.v_top = v(mid);
    b.s_top = mid;
  }
  return b;
}

// V'' of the interpolant at an end: the end segment is one cubic, and the second derivative at the
// end of the cubic through four equally spaced points of it is exact.
double end_curvature(const PathPotential& v, bool front) {
  const auto& s = v.nodes();
  const double e = front ? s.front() : s.back();
  const double d = (front ? s[1] - s[0] : s[s.size() - 2] - s.back()) / 3.0;  // signed, inward
  return (2 * v(e) - 5 * v(e + d) + 4 * v(e + 2 * d) - v(e + 3 * d)) / (d * d);
}

// One end of the continued potential.
struct EndModel {
  bool mirror = false;
  double omega = 0;  // harmonic: ω_end; mirror: the wall's ω_w
  double reach = 0;  // mirror: distance from the end to the band's top
};

// V past the band's ends, relative to v_ref.
class ContinuedPotential {
 public:
  ContinuedPotential(const PathPotential& v, const BandScan& b, EndModel a, EndModel z, double v_ref)
      : v_(v), b_(b), a_(a), z_(z), ref_(v_ref) {}
  double operator()(double s) const {
    if (s < b_.s_a) return beyond(a_, b_.s_a - s, b_.s_a, b_.v_a, +1.0);
    if (s > b_.s_b) return beyond(z_, s - b_.s_b, b_.s_b, b_.v_b, -1.0);
    return v_(s) - ref_;
  }

 private:
  // x > 0 past the end s_end; inward = +1 (front end) or −1 (back end).
  double beyond(const EndModel& m, double x, double s_end, double v_end, double inward) const {
    if (!m.mirror) return v_end - ref_ + 0.5 * m.omega * m.omega * x * x;
    if (x <= m.reach) return v_(s_end + inward * x) - ref_;
    const double y = x - m.reach;
    return b_.v_top - ref_ + 0.5 * m.omega * m.omega * y * y;
  }
  const PathPotential& v_;
  BandScan b_;
  EndModel a_, z_;
  double ref_;
};

// Numerov's scheme with F = 2(V − e)/ħ², g = 1 − h²F/12 and w = gψ (ψ = 0 at the first and last grid
// point) is w_{i+1} − (2 + b_i) w_i + w_{i−1} = 0, b = h²F/g: a symmetric tridiagonal T(e) that
// decreases with e while g > 0, so the number of its negative pivots d_i is the number of levels
// below e (Sylvester's law of inertia; the Sturm sequence). The pivots are carried as r = d − 1,
// r_i = b_i + r_{i−1}/(1 + r_{i−1}), where d = 2 + b − 1/d would bury b (~1e-3) under the rounding
// of 2 and cost three digits of every level. With a = h²F, m = 12 − a > 0 and q = r/(1 + r) this
// is one division per point: q_i = n/(n + m), n = 12a + q_{i−1} m, and the pivot has the sign of
// n + m. kTrials energies share one sweep: their recurrences are independent, so the divisions
// overlap in the pipeline and a sweep costs little more than one trial alone.
constexpr int kTrials = 4;

// counts[t] = number of levels below e[t] (capped at 2) on the grid vg[0], vg[stride], ..., spacing h.
void count_below(const std::vector<double>& vg, int stride, double h, double hbar, const double (&e)[kTrials],
                 int (&counts)[kTrials]) {
  const double c = 2.0 * h * h / (hbar * hbar);
  const std::size_t last = vg.size() - 1;
  double q[kTrials], ce[kTrials];
  for (int t = 0; t < kTrials; ++t) {
    q[t] = 1.0;  // before the first point: the boundary, r = ∞
    ce[t] = c * e[t];
    counts[t] = 0;
  }
  std::size_t checked = stride;
  for (std::size_t i = stride; i < last; i += stride) {
    const double cv = c * vg[i];
    for (int t = 0; t < kTrials; ++t) {
      const double a = cv - ce[t];
      const double m = 12.0 - a;
      const double n = 12.0 * a + q[t] * m;
      double den = n + m;
      if (den == 0.0) den = std::numeric_limits<double>::min();  // a zero pivot: perturb, count as positive
      counts[t] += den < 0.0;
      q[t] = n / den;
    }
    if (i >= checked + 64 * stride) {  // only 0, 1 or "2 or more" matter: stop when all are there
      checked = i;
      if (*std::min_element(counts, counts + kTrials) >= 2) break;
    }
  }
  for (int t = 0; t < kTrials; ++t) counts[t] = std::min(counts[t], 2);
}

struct LevelPair {
  double e0 = 0, e1 = 0;
};

// E0 and E1 by multisection of the Sturm count to the last bit: lo is below every level, hi a guess.
// Each sweep places kTrials energies in the brackets still open (all in one if the other is closed
// or both are still the same), and every count narrows both brackets.
LevelPair lowest_two(const std::vector<double>& vg, int stride, double h, double hbar, double lo, double hi) {
  double lo0 = lo, hi0 = hi, lo1 = lo, hi1 = hi;
  int counts[kTrials];
  double e[kTrials];
  for (int k = 0;; ++k) {  // raise hi until two levels lie below it
    for (int t = 0; t < kTrials; ++t) e[t] = lo + (hi - lo) * (1 << t);
    count_below(vg, stride, h, hbar, e, counts);
    int t = 0;
    while (t < kTrials && counts[t] < 2) ++t;
    if (t < kTrials) {
      hi0 = hi1 = e[t];
      if (t > 0) lo1 = e[t - 1];
      if (t > 0 && counts[t - 1] == 1) hi0 = e[t - 1];
      break;
    }
    if (k > 15) throw Error("path_levels: no two levels found below V = " + std::to_string(e[kTrials - 1]));
    hi = e[kTrials - 1];
  }
  auto open = [](double a, double b) { return a < b && a + (b - a) / (kTrials + 1) > a && b - (b - a) / (kTrials + 1) < b; };
  for (int sweep = 0; sweep < 200; ++sweep) {
    const bool open0 = open(lo0, hi0), open1 = open(lo1, hi1);
    if (!open0 && !open1) break;
    // Trial energies: equally spaced inside one bracket, or half in each.
    auto place = [&](double a, double b, int first, int n) {
      for (int t = 0; t < n; ++t) e[first + t] = a + (b - a) * (t + 1) / (n + 1);
    };
    if (open0 && open1 && (lo0 != lo1 || hi0 != hi1)) {
      place(lo0, hi0, 0, kTrials / 2);
      place(lo1, hi1, kTrials / 2, kTrials - kTrials / 2);
    } else if (open0) {
      place(lo0, hi0, 0, kTrials);
    } else {
      place(lo1, hi1, 0, kTrials);
    }
    count_below(vg, stride, h, hbar, e, counts);
    for (int t = 0; t < kTrials; ++t) {
      if (counts[t] >= 1) hi0 = std::min(hi0, e[t]);
      else lo0 = std::max(lo0, e[t]);
      if (counts[t] >= 2) hi1 = std::min(hi1, e[t]);
      else lo1 = std::max(lo1, e[t]);
    }
  }
  return {0.5 * (lo0 + hi0), 0.5 * (lo1 + hi1)};
}

struct Solve {
  double e0 = 0, e1 = 0, e_qs = 0, error = 0;  // e0, e1 relative to v_ref
  int n_grid = 0;
  double s_lo = 0, s_hi = 0;
  double omega_a = 0, omega_b = 0;  // harmonic ω used (0: mirrored)
};

bool usable(double omega) { return std::isfinite(omega) && omega > 0.0; }

Solve solve(const PathPotential& v, const BandScan& b, double omega_a, double omega_b, double hbar,
            PathContinuation how, const PathGridOptions& opt) {
  const double v_ref = b.v_min;
  // End frequencies: the caller's, else the interpolant's curvature, else none (→ mirror).
  const double ca = end_curvature(v, true), cz = end_curvature(v, false);
  const double wa = usable(omega_a) ? omega_a : (ca > 0 ? std::sqrt(ca) : 0.0);
  const double wz = usable(omega_b) ? omega_b : (cz > 0 ? std::sqrt(cz) : 0.0);
  const double length = b.s_b - b.s_a;
  const double dv = b.v_top - b.v_min;
  const double w_fallback = std::max(std::sqrt(32.0 * dv) / length, hbar * M_PI * M_PI / (length * length));
  auto end_model = [&](double w_own, double w_other, double reach) {
    EndModel m;
    m.mirror = how == PathContinuation::mirror || w_own <= 0.0;
    m.omega = w_own > 0 ? w_own : (w_other > 0 ? w_other : w_fallback);
    m.reach = std::max(0.0, reach);
    return m;
  };
  const EndModel ea = end_model(wa, wz, b.s_top - b.s_a), ez = end_model(wz, wa, b.s_b - b.s_top);
  const ContinuedPotential cont(v, b, ea, ez, v_ref);

  Solve out;
  out.omega_a = ea.mirror ? 0.0 : ea.omega;
  out.omega_b = ez.mirror ? 0.0 : ez.omega;
  const double top = dv, va = b.v_a - v_ref, vz = b.v_b - v_ref;
  // A level above e1 for the turning points: the barrier top or two quanta of the stiffer end,
  // raised to the found e1 and repeated if e1 came out higher (an over-barrier pair).
  double probe = std::max(top, 2.0 * hbar * std::max(ea.omega, ez.omega));
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto extent = [&](const EndModel& m, double v_end) {
      const double ell = std::sqrt(hbar / m.omega);
      if (!m.mirror) return std::sqrt(2.0 * std::max(0.0, probe - v_end)) / m.omega + opt.decay_lengths * ell;
      return m.reach + std::sqrt(2.0 * std::max(0.0, probe - top)) / m.omega + opt.decay_lengths * ell;
    };
    out.s_lo = b.s_a - extent(ea, va);
    out.s_hi = b.s_b + extent(ez, vz);
    // Shortest quantum length: the harmonic lengths of the ends, the decay length under the barrier
    // from the bottom, and the wavelength at the probe level above the bottom.
    const double lambda = std::min({std::sqrt(hbar / ea.omega), std::sqrt(hbar / ez.omega),
                                    hbar / std::sqrt(2.0 * std::max({top, probe, 1e-300}))});
    const double span = out.s_hi - out.s_lo;
    long cells = static_cast<long>(std::ceil(span * opt.points_per_length / lambda));
    cells = std::clamp<long>(cells, 64, std::max<long>(64, opt.max_points / 2));
    const long fine = 2 * cells;
    const double h = span / fine;
    // V on the fine grid, capped where Numerov's g = 1 − h²F/12 would approach 0: 4ħ²/h² is over
    // 10³ times every level considered, reached only far out in a continuation where ψ is nil.
    const double cap = 4.0 * hbar * hbar / (h * h);
    std::vector<double> vg(fine + 1);
    double lowest = HUGE_VAL;
    for (long i = 0; i <= fine; ++i) {
      vg[i] = std::min(cap, cont(out.s_lo + i * h));
      lowest = std::min(lowest, vg[i]);
    }
    const double lo = std::min(lowest, 0.0);
    const LevelPair c = lowest_two(vg, 2, 2 * h, hbar, lo, probe);
    const LevelPair f = lowest_two(vg, 1, h, hbar, lo, c.e1);
    // Richardson for a 4th-order scheme. The estimate is the Richardson correction itself (the
    // error of the fine-grid value), which bounds that of the extrapolated value by a wide margin
    // on smooth bands (docs/tunnelling.md), plus the rounding floor of the Sturm counts.
    const double qc = c.e1 - c.e0, qf = f.e1 - f.e0;
    out.e0 = f.e0 + (f.e0 - c.e0) / 15.0;
    out.e1 = f.e1 + (f.e1 - c.e1) / 15.0;
    out.e_qs = qf + (qf - qc) / 15.0;
    const double eps = std::numeric_limits<double>::epsilon();
    out.error = std::abs(qf - qc) / 15.0 + 32.0 * eps * (std::abs(out.e1) + hbar * std::max(ea.omega, ez.omega));
    out.n_grid = static_cast<int>(fine + 1);
    if (out.e1 <= probe) break;
    probe = out.e1 + hbar * std::max(ea.omega, ez.omega);
  }
  return out;
}

}  // namespace

PathLevels path_levels(const PathPotential& v, double omega_a, double omega_b, double hbar,
                       PathContinuation continuation, const PathGridOptions& grid) {
  if (!(hbar > 0.0) || !std::isfinite(hbar)) throw Error("path_levels: hbar must be positive");
  if (!(grid.points_per_length > 0.0) || !(grid.decay_lengths > 0.0))
    throw Error("path_levels: grid options must be positive");
  const BandScan b = scan_band(v);
  const Solve main = solve(v, b, omega_a, omega_b, hbar, continuation, grid);
  const PathContinuation other =
      continuation == PathContinuation::harmonic ? PathContinuation::mirror : PathContinuation::harmonic;
  const Solve alt = solve(v, b, omega_a, omega_b, hbar, other, grid);
  PathLevels r;
  r.e0 = main.e0 + b.v_min;
  r.e1 = main.e1 + b.v_min;
  r.e_qs = main.e_qs;
  r.e_qs_other = alt.e_qs;
  r.barrier_top = b.v_top;
  r.levels_below_barrier = main.e1 < b.v_top - b.v_min;
  r.n_grid = main.n_grid;
  r.s_lo = main.s_lo;
  r.s_hi = main.s_hi;
  r.error_estimate = main.error;
  r.omega_a = main.omega_a;
  r.omega_b = main.omega_b;
  return r;
}

}  // namespace tlsmap
