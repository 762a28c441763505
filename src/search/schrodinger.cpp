// The two lowest levels along a TLS path (see schrodinger.hpp; docs/tunnelling.md for the numbers).
//
// Steps: scan the band (its minimum, its barrier, the slope and curvature at its ends); continue V
// past the ends; choose the interval (outer turning points at a level above E1, plus a decay
// margin) and a uniform grid from the shortest quantum length; on three nested grids assemble the
// linear-element pencil with exact potential integrals and bisect its Sturm count for E0 and E1;
// extrapolate (Romberg). Energies are shifted by the band's minimum inside, so the absolute scale
// of V (domain energies of −10³ ε) costs no digits beyond those V itself carries.
#include "tlsmap/search/schrodinger.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace tlsmap {
namespace {

// What the continuation needs of the band.
struct BandScan {
  double s_a = 0, s_b = 0;      // ends
  double v_a = 0, v_b = 0;      // V at the ends
  double v_min = 0;             // lowest sampled V along the band
  double v_top = 0, s_top = 0;  // the barrier: max V between the outermost minima (for an NEB band,
                                // whose ends are minima, the max along the band), and where
  bool barrier = false;         // there are two minima; else v_top is the highest end (a single well)
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
  b.barrier = first < last;
  if (!b.barrier) {
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

// V' (outward) and V'' of the interpolant at an end: the end segment is one cubic, and the
// derivatives at the end of the cubic through four equally spaced points of it are exact.
struct EndDerivatives {
  double outward = 0, curvature = 0;
};

EndDerivatives end_derivatives(const PathPotential& v, bool front) {
  const auto& s = v.nodes();
  const double e = front ? s.front() : s.back();
  const double d = (front ? s[1] - s[0] : s[s.size() - 2] - s.back()) / 3.0;  // signed, inward
  const double f0 = v(e), f1 = v(e + d), f2 = v(e + 2 * d), f3 = v(e + 3 * d);
  // dV/ds by the one-sided 4-point formula (d signed: the plain derivative at either end); outward is
  // away from the band: −dV/ds at the front, +dV/ds at the back.
  const double dvds = (-11 * f0 + 18 * f1 - 9 * f2 + 2 * f3) / (6 * d);
  return {front ? -dvds : dvds, (2 * f0 - 5 * f1 + 4 * f2 - f3) / (d * d)};
}

// One end of the continued potential.
struct EndModel {
  bool mirror = false;
  double omega = 0;                      // harmonic: ω_end; mirror: the wall's ω_w
  double slope = 0;                      // harmonic: the band's outward V' at the end (0 at an exact minimum)
  double reach = 0;                      // mirror: distance from the end to the band's top
  const PathPotential* outer = nullptr;  // extended: the caller's V past this end
  double far_v = 0, far_slope = 0;       // extended: V and its outward slope at the outer end
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
  // Where the polynomial pieces of V join (sorted): the band's nodes, their mirror images and the
  // start of each mirror's wall. Between two of them V is one polynomial of degree ≤ 3.
  std::vector<double> breakpoints() const {
    std::vector<double> p = v_.nodes();
    for (double n : v_.nodes()) {
      if (a_.mirror && n - b_.s_a < a_.reach) p.push_back(2 * b_.s_a - n);
      if (z_.mirror && b_.s_b - n < z_.reach) p.push_back(2 * b_.s_b - n);
    }
    if (a_.mirror) p.push_back(b_.s_a - a_.reach);
    if (z_.mirror) p.push_back(b_.s_b + z_.reach);
    for (const EndModel* m : {&a_, &z_})
      if (m->outer) p.insert(p.end(), m->outer->nodes().begin(), m->outer->nodes().end());
    std::sort(p.begin(), p.end());
    return p;
  }
  // The lowest V (relative): the band's minimum, a caller's outer node below it, or a harmonic
  // continuation's dip when the band's end is not quite a minimum (an outward slope g < 0 dips to
  // V_end − g²/2ω²). A start for the level search, which does not rely on it (lowest_two).
  double minimum() const {
    double lo = b_.v_min - ref_;
    for (const auto& [m, v_end] : {std::pair{a_, b_.v_a}, std::pair{z_, b_.v_b}}) {
      if (m.outer)
        for (double v : m.outer->values()) lo = std::min(lo, v - ref_);
      else if (!m.mirror && m.slope < 0) lo = std::min(lo, v_end - ref_ - m.slope * m.slope / (2 * m.omega * m.omega));
    }
    return lo;
  }

 private:
  // x > 0 past the end s_end; inward = +1 (front end) or −1 (back end).
  double beyond(const EndModel& m, double x, double s_end, double v_end, double inward) const {
    if (m.outer) {
      const double s = s_end - inward * x;
      if (s >= m.outer->front() && s <= m.outer->back()) return (*m.outer)(s)-ref_;
      const double y = inward > 0 ? m.outer->front() - s : s - m.outer->back();
      return m.far_v - ref_ + (m.far_slope + 0.5 * m.omega * m.omega * y) * y;
    }
    if (!m.mirror) return v_end - ref_ + (m.slope + 0.5 * m.omega * m.omega * x) * x;
    if (x <= m.reach) return v_(s_end + inward * x) - ref_;
    const double y = x - m.reach;
    return b_.v_top - ref_ + 0.5 * m.omega * m.omega * y * y;
  }
  const PathPotential& v_;
  BandScan b_;
  EndModel a_, z_;
  double ref_;
};

// The discretisation: linear finite elements on a uniform grid x_k = s_lo + k h, ψ = 0 at both
// ends, with the potential integrals ∫ V φ_i φ_j exact (V is a cubic or a parabola between its
// breakpoints; 3-point Gauss–Legendre on every piece between breakpoints is exact to degree 5).
// The pencil K − E M (K: kinetic + potential, M: consistent mass) is tridiagonal and its eigenvalues
// are variational upper bounds converging as h² with a regular expansion even where V'' jumps (the
// Hermite interpolant's nodes, the joins of a continuation): only integrals of V enter, never its
// derivatives at grid points. That makes the Richardson step and its error estimate trustworthy on
// noisy bands, where a pointwise 4th-order scheme (Numerov) converges irregularly.
struct Assembled {
  double h = 0;
  std::vector<double> diag, off;  // ∫ V φ_k², ∫ V φ_k φ_{k+1} (k = 0..n; the ends are boundaries)
};

Assembled assemble(const ContinuedPotential& v, const std::vector<double>& breaks, double s_lo, double h, long n) {
  static const double xg[3] = {-0.7745966692414834, 0.0, 0.7745966692414834};
  static const double wg[3] = {5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0};
  Assembled m;
  m.h = h;
  m.diag.assign(n + 1, 0.0);
  m.off.assign(n, 0.0);
  auto bp = std::upper_bound(breaks.begin(), breaks.end(), s_lo);
  for (long k = 0; k < n; ++k) {
    const double x0 = s_lo + k * h, x1 = s_lo + (k + 1) * h;
    double left = 0, cross = 0, right = 0;
    auto piece = [&](double lo, double hi) {
      const double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
      for (int g = 0; g < 3; ++g) {
        const double x = mid + half * xg[g], t = (x - x0) / h, w = half * wg[g] * v(x);
        left += w * (1 - t) * (1 - t);
        cross += w * t * (1 - t);
        right += w * t * t;
      }
    };
    double from = x0;
    for (; bp != breaks.end() && *bp < x1; ++bp) {
      piece(from, *bp);
      from = *bp;
    }
    piece(from, x1);
    m.diag[k] += left;
    m.diag[k + 1] += right;
    m.off[k] = cross;
  }
  return m;
}

// Sylvester's law of inertia: the number of negative pivots of K − eM is the number of levels
// below e (the Sturm sequence of a pencil with M positive definite). Scaled by 2h/ħ², K − eM has
// diagonal 2 + α_i and off-diagonal −1 + β_i with α, β small; the pivots are carried as r = d − 1,
// r_i = α_i + (r_{i−1} + 2β_{i−1} − β_{i−1}²)/(1 + r_{i−1}), so every term is small and exact to
// relative rounding (d = 2 + α − (1 − β)²/d would bury α ~ 1e-3 under the rounding of 2 and cost
// three digits of every level). kTrials energies share one sweep: their recurrences are
// independent, so the divisions overlap in the pipeline and a sweep costs about what one trial does.
constexpr int kTrials = 4;

struct Pencil {
  std::vector<double> pd, po;  // scaled potential integrals of the interior points
  double md = 0, mo = 0;       // scaled mass-matrix entries
};

Pencil scaled(const Assembled& a, double hbar) {
  const double sigma = 2.0 * a.h / (hbar * hbar);
  Pencil p;
  const std::size_t n = a.diag.size() - 1;
  p.pd.reserve(n);
  p.po.reserve(n);
  for (std::size_t i = 1; i < n; ++i) {
    p.pd.push_back(sigma * a.diag[i]);
    p.po.push_back(sigma * a.off[i]);
  }
  p.md = sigma * 2.0 * a.h / 3.0;
  p.mo = sigma * a.h / 6.0;
  return p;
}

// counts[t] = number of levels below e[t], capped at 2.
void count_below(const Pencil& p, const double (&e)[kTrials], int (&counts)[kTrials]) {
  double q[kTrials], emd[kTrials], emo[kTrials];
  for (int t = 0; t < kTrials; ++t) {
    q[t] = 1.0;  // before the first point: the boundary, r = ∞
    emd[t] = e[t] * p.md;
    emo[t] = e[t] * p.mo;
    counts[t] = 0;
  }
  const std::size_t n = p.pd.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (int t = 0; t < kTrials; ++t) {
      const double r = p.pd[i] - emd[t] + q[t];
      double d = 1.0 + r;
      if (d == 0.0) d = std::numeric_limits<double>::min();  // a zero pivot: perturb, count as positive
      counts[t] += d < 0.0;
      const double beta = p.po[i] - emo[t];
      q[t] = (r + beta * (2.0 - beta)) / d;
    }
    if ((i & 63) == 63 && *std::min_element(counts, counts + kTrials) >= 2) break;  // only 0, 1, 2+ matter
  }
  for (int t = 0; t < kTrials; ++t) counts[t] = std::min(counts[t], 2);
}

struct LevelPair {
  double e0 = 0, e1 = 0;
};

// E0 and E1 by multisection of the Sturm count to the last bit: lo is below every level, hi a guess.
// Each sweep places kTrials energies in the brackets still open (all in one if the other is closed
// or both are still the same), and every count narrows both brackets.
LevelPair lowest_two(const Pencil& p, double lo, double hi) {
  int counts[kTrials];
  double e[kTrials];
  // Make sure lo is below E0 (it is, unless V dips below its stated minimum between nodes). The
  // step grows from the scale of the bracket, never from hi − lo alone: a guess hi at or below lo
  // (levels below the stated minimum on a coarser grid) must not move lo upwards.
  double step = std::max({hi - lo, std::abs(lo), std::abs(hi), 1e-300});
  for (int k = 0;; ++k) {
    for (int t = 0; t < kTrials; ++t) e[t] = lo;
    count_below(p, e, counts);
    if (counts[0] == 0) break;
    if (k > 60) throw Error("path_levels: no lower bound of the levels found");
    lo -= step;
    step *= 2;
  }
  if (!(hi > lo)) hi = lo + step;
  double lo0 = lo, hi0 = hi, lo1 = lo, hi1 = hi;
  for (int k = 0;; ++k) {  // raise hi until two levels lie below it
    for (int t = 0; t < kTrials; ++t) e[t] = lo + (hi - lo) * (1 << t);
    count_below(p, e, counts);
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
  auto open = [](double a, double b) {
    return a < b && a + (b - a) / (kTrials + 1) > a && b - (b - a) / (kTrials + 1) < b;
  };
  auto place = [&](double a, double b, int first, int n) {
    for (int t = 0; t < n; ++t) e[first + t] = a + (b - a) * (t + 1) / (n + 1);
  };
  for (int sweep = 0; sweep < 400; ++sweep) {
    const bool open0 = open(lo0, hi0), open1 = open(lo1, hi1);
    if (!open0 && !open1) break;
    if (open0 && open1 && (lo0 != lo1 || hi0 != hi1)) {  // two brackets: half the trials in each
      place(lo0, hi0, 0, kTrials / 2);
      place(lo1, hi1, kTrials / 2, kTrials - kTrials / 2);
    } else if (open0) {
      place(lo0, hi0, 0, kTrials);
    } else {
      place(lo1, hi1, 0, kTrials);
    }
    count_below(p, e, counts);
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

// The continuations past the two ends (A's, then B's).
std::pair<EndModel, EndModel> end_models(const PathPotential& v, const BandScan& b, double omega_a, double omega_b,
                                         double hbar, PathContinuation how, const PathOuter& outer) {
  // End frequencies: the caller's, else the interpolant's curvature, else none (→ mirror).
  const EndDerivatives da = end_derivatives(v, true), dz = end_derivatives(v, false);
  const double wa = usable(omega_a) ? omega_a : (da.curvature > 0 ? std::sqrt(da.curvature) : 0.0);
  const double wz = usable(omega_b) ? omega_b : (dz.curvature > 0 ? std::sqrt(dz.curvature) : 0.0);
  const double length = b.s_b - b.s_a;
  const double dv = b.v_top - b.v_min;
  const double w_fallback = std::max(std::sqrt(32.0 * dv) / length, hbar * M_PI * M_PI / (length * length));
  auto end_model = [&](double w_own, double w_other, double slope, double reach) {
    EndModel m;
    m.mirror = how == PathContinuation::mirror || w_own <= 0.0;
    m.omega = w_own > 0 ? w_own : (w_other > 0 ? w_other : w_fallback);
    m.slope = slope;
    m.reach = std::max(0.0, reach);
    return m;
  };
  EndModel ea = end_model(wa, wz, da.outward, b.s_top - b.s_a);
  EndModel ez = end_model(wz, wa, dz.outward, b.s_b - b.s_top);
  if (how == PathContinuation::extended) {  // the caller's V past the ends, then harmonic
    auto attach = [](EndModel& m, const PathPotential* o, bool front) {
      if (!o) return;
      m.mirror = false;
      m.outer = o;
      m.far_v = (*o)(front ? o->front() : o->back());
      // The tail rises from the caller's last node even where V was still falling there (a line
      // past a wall): a falling tail would open a well of its own that captures the levels.
      m.far_slope = std::max(0.0, end_derivatives(*o, front).outward);
    };
    attach(ea, outer.before, true);
    attach(ez, outer.after, false);
  }
  return {ea, ez};
}

Solve solve(const PathPotential& v, const BandScan& b, double omega_a, double omega_b, double hbar,
            PathContinuation how, const PathGridOptions& opt, const PathOuter& outer) {
  const double v_ref = b.v_min;
  const auto [ea, ez] = end_models(v, b, omega_a, omega_b, hbar, how, outer);
  const double dv = b.v_top - b.v_min;
  const ContinuedPotential cont(v, b, ea, ez, v_ref);

  Solve out;
  out.omega_a = ea.mirror ? 0.0 : ea.omega;
  out.omega_b = ez.mirror ? 0.0 : ez.omega;
  const double top = dv, va = b.v_a - v_ref, vz = b.v_b - v_ref;
  // A level above e1 for the turning points: the barrier top (a single well: none) or two quanta of
  // the stiffer end, raised to the found e1 and repeated if e1 came out higher (an over-barrier pair).
  const double quantum = hbar * std::max(ea.omega, ez.omega);
  double probe = std::max(b.barrier ? top : 0.0, 2.0 * quantum);
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto extent = [&](const EndModel& m, double v_end) {
      const double ell = std::sqrt(hbar / m.omega);
      if (!m.mirror) return std::sqrt(2.0 * std::max(0.0, probe - v_end)) / m.omega + opt.decay_lengths * ell;
      return m.reach + std::sqrt(2.0 * std::max(0.0, probe - top)) / m.omega + opt.decay_lengths * ell;
    };
    out.s_lo = b.s_a - extent(ea, va);
    out.s_hi = b.s_b + extent(ez, vz);
    // Shortest quantum length: the harmonic lengths of the ends, and ħ/sqrt(2U), the decay length
    // under the barrier from the bottom and the wavelength at the probe level above it (U: the
    // higher of the two). A single well's rising side is resolved only up to U = probe: ψ is nil
    // where V is far above it.
    const double u = std::max({b.barrier ? top : 0.0, probe, 1e-300});
    const double lambda = std::min({std::sqrt(hbar / ea.omega), std::sqrt(hbar / ez.omega), hbar / std::sqrt(2.0 * u)});
    const double span = out.s_hi - out.s_lo;
    long cells = static_cast<long>(std::ceil(span * opt.points_per_length / lambda));
    cells = std::clamp<long>(cells, 32, std::max<long>(32, opt.max_points / 4));
    const long fine = 4 * cells;
    const std::vector<double> breaks = cont.breakpoints();
    // The two lowest levels on three nested grids h, h/2, h/4 (each bracketed by the last).
    LevelPair lv[3];
    double guess = probe;
    for (int g = 0; g < 3; ++g) {
      const long n = cells << g;
      lv[g] = lowest_two(scaled(assemble(cont, breaks, out.s_lo, span / n, n), hbar), cont.minimum(), guess);
      guess = lv[g].e1;
    }
    // Romberg on the h², h⁴ expansion: R1 = (4A1 − A0)/3 and R2 = (4A2 − A1)/3 from the two grid
    // pairs, then (16 R2 − R1)/15. The estimate is |R2 − R1|, the last change: where V'' jumps
    // (every Hermite node) the expansion carries small irregular terms beyond h⁴, so |R2 − R1|/15
    // alone can fall short (docs/tunnelling.md measures both). Plus the rounding floor of the counts.
    auto romberg = [&](double a0, double a1, double a2) {
      const double r1 = (4 * a1 - a0) / 3, r2 = (4 * a2 - a1) / 3;
      return std::pair{(16 * r2 - r1) / 15, std::abs(r2 - r1)};
    };
    out.e0 = romberg(lv[0].e0, lv[1].e0, lv[2].e0).first;
    out.e1 = romberg(lv[0].e1, lv[1].e1, lv[2].e1).first;
    const auto [q, dq] = romberg(lv[0].e1 - lv[0].e0, lv[1].e1 - lv[1].e0, lv[2].e1 - lv[2].e0);
    out.e_qs = q;
    const double eps = std::numeric_limits<double>::epsilon();
    out.error = dq + 8.0 * eps * (std::abs(out.e1) + quantum);
    out.n_grid = static_cast<int>(fine + 1);
    if (out.e1 <= probe) break;
    probe = out.e1 + quantum;
  }
  return out;
}

}  // namespace

PathLevels path_levels(const PathPotential& v, double omega_a, double omega_b, double hbar,
                       PathContinuation continuation, const PathGridOptions& grid, const PathOuter& outer) {
  if (!(hbar > 0.0) || !std::isfinite(hbar)) throw Error("path_levels: hbar must be positive");
  if (!(grid.points_per_length > 0.0) || !(grid.decay_lengths > 0.0))
    throw Error("path_levels: grid options must be positive");
  const BandScan b = scan_band(v);
  const Solve main = solve(v, b, omega_a, omega_b, hbar, continuation, grid, outer);
  const PathContinuation other =
      continuation == PathContinuation::mirror ? PathContinuation::harmonic : PathContinuation::mirror;
  const Solve alt = solve(v, b, omega_a, omega_b, hbar, other, grid, outer);
  return PathLevels{.e0 = main.e0 + b.v_min,
                    .e1 = main.e1 + b.v_min,
                    .e_qs = main.e_qs,
                    .e_qs_other = alt.e_qs,
                    .barrier_top = b.v_top,
                    .levels_below_barrier = main.e1 < b.v_top - b.v_min,
                    .n_grid = main.n_grid,
                    .s_lo = main.s_lo,
                    .s_hi = main.s_hi,
                    .error_estimate = main.error,
                    .omega_a = main.omega_a,
                    .omega_b = main.omega_b};
}

}  // namespace tlsmap
