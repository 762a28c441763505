// WKB tunnelling splitting along a 1D path potential (see tunnelling.hpp).
#include "tlsmap/search/tunnelling.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>
#include <cmath>

namespace tlsmap {
namespace {
constexpr double kHbar = 1.054571817e-34;          // J s (CODATA 2018, exact)
constexpr double kBoltzmann = 1.380649e-23;        // J/K (exact)
constexpr double kAtomicMass = 1.66053906660e-27;  // kg (CODATA 2018)
}  // namespace

double hbar_reduced(const PhysicalUnits& u) {
  const double sigma = u.sigma_angstrom * 1e-10;
  const double mass = u.mass_amu * kAtomicMass;
  const double eps = u.epsilon_kelvin * kBoltzmann;
  return kHbar / (sigma * std::sqrt(mass * eps));
}

PathPotential::PathPotential(std::vector<double> s, std::vector<double> v, std::vector<double> dv)
    : s_(std::move(s)), v_(std::move(v)), dv_(std::move(dv)) {
  if (s_.size() < 2 || v_.size() != s_.size() || dv_.size() != s_.size())
    throw Error("PathPotential: need >= 2 nodes with one value and one slope each");
  for (std::size_t k = 1; k < s_.size(); ++k)
    if (!(s_[k] > s_[k - 1])) throw Error("PathPotential: nodes must increase");
}

double PathPotential::operator()(double s) const {
  s = std::clamp(s, s_.front(), s_.back());
  std::size_t k = std::upper_bound(s_.begin(), s_.end(), s) - s_.begin();
  k = std::clamp<std::size_t>(k, 1, s_.size() - 1) - 1;
  const double h = s_[k + 1] - s_[k];
  const double t = (s - s_[k]) / h;
  const double t2 = t * t, t3 = t2 * t;
  return (2 * t3 - 3 * t2 + 1) * v_[k] + (t3 - 2 * t2 + t) * h * dv_[k] + (-2 * t3 + 3 * t2) * v_[k + 1] +
         (t3 - t2) * h * dv_[k + 1];
}

namespace {

// The ground level of the well at one end of the band and the classical frequency of motion at that
// level (see tunnelling.hpp). The quartic Taylor expansion V0 + V0'x + ½ω²x² + c3 x³ + c4 x⁴ (x inwards
// from the end) is fixed by the Hessian's ω and the value and slope at the next node; then, with
// g_k = c_k ℓ^k / ħω and ℓ² = ħ/ω, E0 − V0 = ħω (½ + ¾ g4 − 11/8 g3²) and
// Ω/ω = 1 + (3 g4 − 7.5 g3²)(E0 − V0)/ħω.
struct WellLevel {
  double level, omega;
};

WellLevel ground_level(const PathPotential& v, bool front, double omega, double hbar) {
  const std::vector<double>& s = v.nodes();
  const std::vector<double>& e = v.values();
  const std::vector<double>& d = v.slopes();
  const std::size_t n = s.size(), end = front ? 0 : n - 1, next = front ? 1 : n - 2;
  const std::size_t top = std::max_element(e.begin(), e.end()) - e.begin();
  WellLevel w{e[end] + 0.5 * hbar * omega, omega};
  // The next node must be an interior node on this well's side of the band's highest node.
  const bool inner = n >= 3 && (front ? next <= top : next >= top) && e[next] > e[end];
  if (!(omega > 0.0 && std::isfinite(omega)) || !inner) return w;
  const double sign = front ? 1.0 : -1.0;  // d/dx with x inwards
  const double x = std::abs(s[next] - s[end]), d0 = sign * d[end];
  const double r = e[next] - e[end] - d0 * x - 0.5 * omega * omega * x * x;  // c3 x³ + c4 x⁴
  const double rd = sign * d[next] - d0 - omega * omega * x;                 // 3 c3 x² + 4 c4 x³
  const double c3 = (4.0 * r - rd * x) / (x * x * x), c4 = (rd * x - 3.0 * r) / (x * x * x * x);
  const double hw = hbar * omega, ell = std::sqrt(hbar / omega);
  const double g3 = c3 * ell * ell * ell / hw, g4 = c4 * ell * ell * ell * ell / hw;
  const double shift = std::clamp(0.75 * g4 - 11.0 / 8.0 * g3 * g3, -0.1, 0.1);  // (E0 − V0)/ħω − ½
  w.level = e[end] + hw * (0.5 + shift);
  w.omega = omega * std::clamp(1.0 + (3.0 * g4 - 7.5 * g3 * g3) * (0.5 + shift), 0.8, 1.2);
  return w;
}

}  // namespace

Splitting wkb_splitting(const PathPotential& v, double omega_a, double omega_b, const PhysicalUnits& units) {
  Splitting w;
  w.hbar = hbar_reduced(units);
  w.omega_a = omega_a;
  w.omega_b = omega_b;
  const WellLevel la = ground_level(v, true, omega_a, w.hbar), lb = ground_level(v, false, omega_b, w.hbar);
  w.level_a = la.level;
  w.level_b = lb.level;
  w.omega_level_a = la.omega;
  w.omega_level_b = lb.omega;
  w.omega0 = std::sqrt(la.omega * lb.omega);
  w.level = std::max(la.level, lb.level);
  // Sample V finely: the turning points are the first and last crossings of E*.
  const int n = 20000;
  const double s0 = v.front(), len = v.back() - v.front();
  auto at = [&](int i) { return s0 + len * i / n; };
  int first = -1, last = -1;
  for (int i = 0; i <= n; ++i)
    if (v(at(i)) > w.level) {
      if (first < 0) first = i;
      last = i;
    }
  if (first < 0) {
    w.over_barrier = true;
    w.s1 = w.s2 = 0.0;
    w.action = 0.0;
  } else {
    auto bisect = [&](double lo, double hi) {  // V(lo) <= E* < V(hi) or reverse
      const bool rising = v(hi) > w.level;
      for (int k = 0; k < 100; ++k) {
        const double mid = 0.5 * (lo + hi);
        if ((v(mid) > w.level) == rising) hi = mid;
        else lo = mid;
      }
      return 0.5 * (lo + hi);
    };
    w.s1 = first > 0 ? bisect(at(first - 1), at(first)) : s0;
    w.s2 = last < n ? bisect(at(last + 1), at(last)) : v.back();
    // Composite 5-point Gauss–Legendre of sqrt(2 max(0, V − E*)); the sqrt endpoint behaviour
    // costs O(h^1.5) with h = (s2 − s1)/4000: relative error < 1e-5.
    static const double xg[5] = {-0.9061798459386640, -0.5384693101056831, 0.0, 0.5384693101056831, 0.9061798459386640};
    static const double wg[5] = {0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665,
                                 0.2369268850561891};
    const int m = 4000;
    const double h = (w.s2 - w.s1) / m;
    double sum = 0.0;
    for (int i = 0; i < m; ++i) {
      const double c = w.s1 + (i + 0.5) * h;
      for (int q = 0; q < 5; ++q) sum += wg[q] * std::sqrt(2.0 * std::max(0.0, v(c + 0.5 * h * xg[q]) - w.level));
    }
    w.action = 0.5 * h * sum;
  }
  // Garg (2000): the prefactor ħω/√(eπ), not Landau–Lifshitz's ħω/π.
  w.delta0 = w.hbar * w.omega0 / std::sqrt(M_E * M_PI) * std::exp(-w.action / w.hbar);
  w.delta0_kelvin = w.delta0 * units.epsilon_kelvin;
  return w;
}

}  // namespace tlsmap
