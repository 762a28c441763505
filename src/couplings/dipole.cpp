// Transition dipoles: Δρ as point charges, the Ewald image tensors and the bond-dipole
// statistics (see include/tlsmap/couplings/dipole.hpp for the physics). The stage driver is src/stages/dipole_stage.cpp.
#include "tlsmap/couplings/dipole.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"
#include "tlsmap/io/validate.hpp"
#include "tlsmap/parallel/decomposition.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_map>

namespace tlsmap {

namespace {

constexpr double pi = std::numbers::pi;

// ∇∇ of erfc(αr)/r at the vector r: g''(r) r̂r̂ + g'(r)/r (I − r̂r̂).
Mat3 real_space_term(const Vec3& r, double alpha) {
  const double d = r.norm(), e = std::erfc(alpha * d);
  const double g = 2.0 * alpha / std::sqrt(pi) * std::exp(-alpha * alpha * d * d);
  const double g1 = -e / (d * d) - g / d;
  const double g2 = 2.0 * e / (d * d * d) + g * (2.0 / (d * d) + 2.0 * alpha * alpha);
  const Vec3 u = r / d;
  const Mat3 uu = u * u.transpose();
  return g2 * uu + (g1 / d) * (Mat3::Identity() - uu);
}

// The tin-foil Ewald lattice of the box: α = 3/L_min, so erfc(α r_c) = erfc(6) at r_c = 2 L_min and
// exp(−k_c²/4α²) = e⁻³⁶ at k_c = 12α. Visits the real-space images within r_c and the k vectors.
struct EwaldLattice {
  const Box& box;
  double alpha, rc, kc;
  int nr[3], nk[3];

  explicit EwaldLattice(const Box& b) : box(b) {
    alpha = 3.0 / box.len.minCoeff();
    rc = 6.0 / alpha;
    kc = 12.0 * alpha;
    for (int d = 0; d < 3; ++d) {
      nr[d] = static_cast<int>(std::ceil(rc / box.len[d])) + 1;
      nk[d] = static_cast<int>(std::ceil(kc * box.len[d] / (2 * pi)));
    }
  }
  // f(x + n L, n == 0) for every lattice vector n L with |x + n L| < r_c (and always for n = 0).
  template <class F>
  void each_image(const Vec3& x, F f) const {
    for (int a = -nr[0]; a <= nr[0]; ++a)
      for (int b = -nr[1]; b <= nr[1]; ++b)
        for (int c = -nr[2]; c <= nr[2]; ++c) {
          const bool origin = a == 0 && b == 0 && c == 0;
          const Vec3 y = x + Vec3(a * box.len[0], b * box.len[1], c * box.len[2]);
          if (origin || y.norm() < rc) f(y, origin);
        }
  }
  // f(k, w) for every k ≠ 0 with |k| ≤ k_c, w = (4π/V) exp(−k²/4α²)/k².
  template <class F>
  void each_k(F f) const {
    const double v = box.volume();
    for (int a = -nk[0]; a <= nk[0]; ++a)
      for (int b = -nk[1]; b <= nk[1]; ++b)
        for (int c = -nk[2]; c <= nk[2]; ++c) {
          if (a == 0 && b == 0 && c == 0) continue;
          const Vec3 k(2 * pi * a / box.len[0], 2 * pi * b / box.len[1], 2 * pi * c / box.len[2]);
          const double k2 = k.squaredNorm();
          if (k2 <= kc * kc) f(k, (4 * pi / v) * std::exp(-k2 / (4 * alpha * alpha)) / k2);
        }
  }
};

// ∇∇ψ at r over the tin-foil lattice, the n = 0 real-space image of r = 0 excluded when self.
Mat3 lattice_hessian(const Box& box, const Vec3& r, bool self) {
  const EwaldLattice lat(box);
  const double alpha = lat.alpha;
  Mat3 t = Mat3::Zero();
  lat.each_image(r, [&](const Vec3& x, bool origin) {
    if (!(self && origin) && x.norm() < lat.rc) t += real_space_term(x, alpha);
  });
  // The n = 0 term of erfc(αr)/r − 1/r = −erf(αr)/r: its Hessian at 0 is (4α³/3√π) I.
  if (self) t += 4.0 * alpha * alpha * alpha / (3.0 * std::sqrt(pi)) * Mat3::Identity();
  lat.each_k([&](const Vec3& k, double w) { t -= w * std::cos(k.dot(r)) * (k * k.transpose()); });
  return t;
}

// −∇ψ_img(x) per unit charge (see image_field): real space over every image, the n = 0 term as
// −erf(α r)/r (the erfc part minus the bare 1/r), and the k-space sum.
Vec3 image_field_unit(const Box& box, const Vec3& x0) {
  const EwaldLattice lat(box);
  const double alpha = lat.alpha, c = 2.0 * alpha / std::sqrt(pi);
  const Vec3 x = box.minimum_image(x0);
  Vec3 grad = Vec3::Zero();
  lat.each_image(x, [&](const Vec3& y, bool origin) {
    const double r = y.norm();
    if (origin) {
      if (r < 1e-12) return;  // −erf(αr)/r is smooth with zero gradient at 0
      grad += (-c * std::exp(-alpha * alpha * r * r) / r + std::erf(alpha * r) / (r * r)) * (y / r);
    } else {
      grad += (-std::erfc(alpha * r) / (r * r) - c * std::exp(-alpha * alpha * r * r) / r) * (y / r);
    }
  });
  lat.each_k([&](const Vec3& k, double w) { grad -= w * std::sin(k.dot(x)) * k; });
  return -grad;
}

}  // namespace

Vec3 image_field(const Box& box, const PointCharges& charges, const Vec3& x) {
  Vec3 e = Vec3::Zero();
  for (std::size_t p = 0; p < charges.q.size(); ++p) e += charges.q[p] * image_field_unit(box, x - charges.pos[p]);
  return e;
}

PointCharges transition_charges(const TlsSet& t, std::size_t k, std::span<const double> charge, const Box& box) {
  PointCharges pc;
  for (std::int64_t r = t.begin(k); r < t.end(k); ++r) {
    const double q = charge[t.id[r] - 1];
    if (q == 0.0 || t.pos_a[r] == t.pos_b[r]) continue;
    Vec3 a = t.pos_a[r], b = t.pos_b[r];
    box.wrap(a), box.wrap(b);
    pc.pos.insert(pc.pos.end(), {b, a});
    pc.q.insert(pc.q.end(), {q, -q});
    pc.id.insert(pc.id.end(), {t.id[r], t.id[r]});
  }
  return pc;
}

double gaussian_cut_moment(double a, double radius, double sigma) {
  const double lo = std::max(radius, a - 10.0 * sigma), hi = a + 10.0 * sigma;
  if (hi <= lo || a < 1e-9 * sigma) return 0.0;  // wholly inside; or centred: no dipole by symmetry
  const double s2 = sigma * sigma, norm = 2.0 * pi / std::pow(2.0 * pi * s2, 1.5);
  // ∫ dΩ cosθ of the Gaussian on the shell of radius r: 2π/κ² [(κ − 1) e^{−(r−a)²/2σ²} + (κ + 1) e^{−(r+a)²/2σ²}],
  // κ = r a/σ² (the prefactor e^{−(r²+a²)/2σ²} folded into the exponentials).
  const auto f = [&](double r) {
    const double k = r * a / s2, w = 1.0 - std::pow(radius / r, 3);
    const double shell =
        ((k - 1.0) * std::exp(-0.5 * (r - a) * (r - a) / s2) + (k + 1.0) * std::exp(-0.5 * (r + a) * (r + a) / s2)) /
        (k * k);
    return norm * shell * w * r * r * r;  // y·â = r cosθ, volume r² dr dΩ
  };
  const int n = 2000;  // even; the integrand is smooth on [lo, hi] (w rises from 0 at R)
  const double h = (hi - lo) / n;
  double sum = f(lo) + f(hi);
  for (int i = 1; i < n; ++i) sum += (i % 2 ? 4.0 : 2.0) * f(lo + i * h);
  return sum * h / 3.0;
}

Vec3 cut_dipole(const PointCharges& dq, const Vec3& centre, double radius, double sigma, const Box& box) {
  Vec3 cut = Vec3::Zero();
  for (std::size_t p = 0; p < dq.pos.size(); ++p) {
    const Vec3 x = box.minimum_image(dq.pos[p] - centre);
    const double a = x.norm();
    if (a > 0.0) cut += dq.q[p] * gaussian_cut_moment(a, radius, sigma) / a * x;
  }
  return cut;
}

Vec3 direct_dipole(const TlsSet& t, std::size_t k, std::span<const double> charge, const Box& box) {
  Vec3 mu = Vec3::Zero();
  for (std::int64_t r = t.begin(k); r < t.end(k); ++r)
    mu += charge[t.id[r] - 1] * box.minimum_image(t.pos_b[r] - t.pos_a[r]);
  return mu;
}

Mat3 image_field_tensor(const Box& box) { return lattice_hessian(box, Vec3::Zero(), true); }

Mat3 dipole_lattice_tensor(const Box& box, const Vec3& r) { return lattice_hessian(box, box.minimum_image(r), false); }

Vec3 image_sphere_integral(const Mat3& T, const Vec3& p, double R, double eps_in, double eps_ext) {
  const double a3 = R * R * R, v_sph = 4.0 * pi / 3.0 * a3;
  const double beta = (eps_in - eps_ext) / (eps_in + 2.0 * eps_ext);
  const Vec3 m0 = 3.0 * eps_ext / (2.0 * eps_ext + eps_in) * p;
  const Vec3 m = (Mat3::Identity() - a3 * beta * T).inverse() * m0;
  return v_sph * 3.0 / (eps_in + 2.0 * eps_ext) * (T * m);
}

BondDipoleChanges bond_dipole_changes(const TlsSet& t, std::size_t k, std::span<const double> charge,
                                      std::span<const std::int64_t> partner, const Box& box) {
  BondDipoleChanges out;
  std::unordered_map<std::int64_t, Vec3> moved;
  double sum2 = 0.0;
  const std::int64_t n_rows = t.end(k) - t.begin(k);
  for (std::int64_t r = t.begin(k); r < t.end(k); ++r) {
    const Vec3 d = box.minimum_image(t.pos_b[r] - t.pos_a[r]);
    sum2 += d.squaredNorm();
    moved[t.id[r]] = d;
  }
  out.d_l = n_rows > 0 ? std::sqrt(sum2 / static_cast<double>(n_rows)) : 0.0;
  auto displacement = [&](std::int64_t id) {
    const auto it = moved.find(id);
    return it == moved.end() ? Vec3(Vec3::Zero()) : it->second;
  };
  for (std::int64_t r = t.begin(k); r < t.end(k); ++r) {
    const std::int64_t a = t.id[r], b = partner.empty() ? 0 : partner[a - 1];
    if (b == 0) continue;
    if (moved.count(b) && b < a) continue;  // a bond with both beads mobile is counted once
    const Vec3 da = displacement(a), db = displacement(b);
    if (da.isZero(0.0) && db.isZero(0.0)) continue;
    const Vec3 dmu = charge[a - 1] * da + charge[b - 1] * db;
    ++out.n_bonds;
    out.sum_dmu2 += dmu.squaredNorm();
    out.sum_dmu += dmu;
  }
  return out;
}

std::unique_ptr<PoissonGrid> make_eq13_grid(const Decomposition& dec, const Eq13Options& s, const Vec3& centre,
                                            double radius) {
  PoissonGridOptions o;
  o.spacing = s.spacing;
  o.sigma = s.sigma();
  o.kernel_cutoff = s.kernel_cutoff;
  o.rtol = s.rtol;
  Dielectric eps(s.eps_ext);
  if (!s.uniform()) eps.add_sphere(centre, radius, s.eps_in);
  return std::make_unique<PoissonGrid>(dec, o, eps);
}

std::vector<Eq13Dipole> eq13_dipoles(PoissonGrid& grid, const Decomposition& dec, const Eq13Options& s, const Mat3& T,
                                     const PointCharges& dq, const Vec3& mu_direct, const Vec3& centre,
                                     std::span<const double> radii) {
  const Box& box = dec.box();
  const std::vector<Vec3> ints = transition_field_integrals(grid, dec, dq, centre, radii);
  // Uniform ε: the images' field is harmonic in the sphere, so its integral is V_sph E_img(centre)/ε.
  const Vec3 e_img = s.uniform() ? image_field(box, dq, centre) : Vec3(Vec3::Zero());
  std::vector<Eq13Dipole> out(radii.size());
  for (std::size_t r = 0; r < radii.size(); ++r) {
    const double R = radii[r];
    const Vec3 images = s.uniform() ? Vec3(4.0 * pi / 3.0 * R * R * R * e_img / s.eps_ext)
                                    : image_sphere_integral(T, mu_direct, R, s.eps_in, s.eps_ext);
    out[r].uncorrected = s.eps_in / (4 * pi) * ints[r];
    out[r].corrected = s.eps_in / (4 * pi) * (ints[r] - images);
  }
  return out;
}

std::vector<Vec3> transition_field_integrals(PoissonGrid& grid, const Decomposition& decomp, const PointCharges& dq,
                                             const Vec3& centre, std::span<const double> radii) {
  std::vector<Vec3> mine;
  std::vector<double> qm;
  for (std::size_t i = 0; i < dq.pos.size(); ++i)
    if (decomp.owns(dq.pos[i])) mine.push_back(dq.pos[i]), qm.push_back(dq.q[i]);
  grid.spread(mine, qm);
  grid.solve();
  std::vector<Vec3> out;
  for (double r : radii) out.push_back(grid.sphere_field_integral(centre, r));
  return out;
}

}  // namespace tlsmap
