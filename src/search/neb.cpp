// Climbing-image NEB relaxed with FIRE or global L-BFGS (see neb.hpp).
#include "tlsmap/search/neb.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/heartbeat.hpp"
#include "tlsmap/md/fire.hpp"
#include "tlsmap/search/lbfgs_direction.hpp"

#include <algorithm>
#include <cmath>

namespace tlsmap {

using Vector = LocalModel::Vector;

Vector align_to(const LocalModel& model, const Vector& a, const Vector& b) {
  if (!model.free_cluster()) return b;
  const int n = model.n_mobile();
  Vec3 ca = Vec3::Zero(), cb = Vec3::Zero();
  for (int i = 0; i < n; ++i) {
    ca += a.segment<3>(3 * i);
    cb += b.segment<3>(3 * i);
  }
  ca /= n;
  cb /= n;
  // Kabsch: rotation R minimising Σ |R (b_i − cb) − (a_i − ca)|².
  Mat3 c = Mat3::Zero();
  for (int i = 0; i < n; ++i) c += (b.segment<3>(3 * i) - cb) * (a.segment<3>(3 * i) - ca).transpose();
  Eigen::JacobiSVD<Mat3> svd(c, Eigen::ComputeFullU | Eigen::ComputeFullV);
  Mat3 d = Mat3::Identity();
  if ((svd.matrixV() * svd.matrixU().transpose()).determinant() < 0.0) d(2, 2) = -1.0;
  const Mat3 r = svd.matrixV() * d * svd.matrixU().transpose();
  Vector out(b.size());
  for (int i = 0; i < n; ++i) out.segment<3>(3 * i) = r * (b.segment<3>(3 * i) - cb) + ca;
  return out;
}

namespace {

// Improved tangent (Henkelman & Jónsson 2000, Eqs. 8–11), unit norm.
Vector tangent(const Vector& xm, const Vector& x, const Vector& xp, double em, double e, double ep) {
  const Vector tp = xp - x, tm = x - xm;
  Vector t;
  if (ep > e && e > em) t = tp;
  else if (ep < e && e < em) t = tm;
  else {
    const double dmax = std::max(std::abs(ep - e), std::abs(em - e));
    const double dmin = std::min(std::abs(ep - e), std::abs(em - e));
    t = (ep > em) ? Vector(tp * dmax + tm * dmin) : Vector(tp * dmin + tm * dmax);
  }
  const double n = t.norm();
  return n > 0.0 ? Vector(t / n) : tp.normalized();
}

// w moved onto a's frame: the rigid overlay (free clusters), then the minimum-image displacement.
Vector onto(const LocalModel& model, const Vector& a, const Vector& w) {
  return Vector(a + model.displacement(a, align_to(model, a, w)));
}

// m images evenly spaced in arc length along a → waypoints (those of a's size)... → b.
std::vector<Vector> initial_band(const LocalModel& model, const Vector& a, const Vector& b,
                                 const std::vector<Vector>& ways, int m) {
  std::vector<Vector> pts{a};
  for (const Vector& w : ways)
    if (w.size() == a.size()) pts.push_back(onto(model, a, w));
  pts.push_back(b);
  std::vector<double> cum{0.0};
  for (std::size_t k = 1; k < pts.size(); ++k) cum.push_back(cum.back() + (pts[k] - pts[k - 1]).norm());
  std::vector<Vector> y(m);
  for (int k = 0; k < m; ++k) {
    const double s = cum.back() * k / (m - 1);
    std::size_t seg = 1;
    while (seg + 1 < pts.size() && cum[seg] < s) ++seg;
    const double len = cum[seg] - cum[seg - 1];
    const double f = len > 0.0 ? std::clamp((s - cum[seg - 1]) / len, 0.0, 1.0) : 0.0;
    y[k] = pts[seg - 1] + f * (pts[seg] - pts[seg - 1]);
  }
  y[0] = a;
  y[m - 1] = b;
  return y;
}

// The band: positions, gradients, velocities, tangents, NEB forces and energies of the m images.
struct Band {
  std::vector<Vector> x, g, v, t, f;
  std::vector<double> e;
  int size() const { return static_cast<int>(x.size()); }
};

// The NEB forces of the interior images (the climber's: the gradient with its tangent part
// reversed); returns the largest bead force, and the highest interior image in *hi.
double neb_forces(Band& band, const NebParams& p, int climber, int* hi) {
  const int m = band.size();
  auto& x = band.x;
  auto& e = band.e;
  *hi = 1;
  for (int k = 1; k < m - 1; ++k)
    if (e[k] > e[*hi]) *hi = k;
  double fmax = 0.0;
  for (int k = 1; k < m - 1; ++k) {
    band.t[k] = tangent(x[k - 1], x[k], x[k + 1], e[k - 1], e[k], e[k + 1]);
    const double gt = band.g[k].dot(band.t[k]);
    if (k == climber) {
      band.f[k] = -band.g[k] + 2.0 * gt * band.t[k];
    } else {
      const double spring = p.spring * ((x[k + 1] - x[k]).norm() - (x[k] - x[k - 1]).norm());
      band.f[k] = -band.g[k] + gt * band.t[k] + spring * band.t[k];
    }
    fmax = std::max(fmax, LocalModel::max_force(band.f[k]));
  }
  return fmax;
}

// The climber's step with its part along the tangent bounded: it may go at most halfway to either
// neighbour's projection on the tangent. Both neighbours lie lower, so the maximum it climbs to lies
// between them; past a neighbour the tangent (set by the neighbours alone once the climber is far
// above both) no longer crosses the barrier, and the climber rises along it into a bead overlap
// without end (docs/minimizers.md, "The bounded climber"). The clamped velocity component goes too.
void bound_climber_step(Band& band, int k, Vector& dx) {
  const Vector& t = band.t[k];
  const double back = 0.5 * (band.x[k - 1] - band.x[k]).dot(t), ahead = 0.5 * (band.x[k + 1] - band.x[k]).dot(t);
  const double along = dx.dot(t), bounded = std::clamp(along, std::min(back, 0.0), std::max(ahead, 0.0));
  if (bounded == along) return;
  dx += (bounded - along) * t;
  band.v[k] -= band.v[k].dot(t) * t;
}

// One FIRE step over all interior images as one vector (steps capped at max_step per bead, the
// climber's also bounded by its neighbours).
void fire_step(Band& band, FireControl& fire, const NebParams& p, long it, int climber,
               std::vector<LocalModel>& models) {
  const int m = band.size();
  double pw = 0.0, vv = 0.0, ff = 0.0;
  for (int k = 1; k < m - 1; ++k) {
    pw += band.f[k].dot(band.v[k]);
    vv += band.v[k].squaredNorm();
    ff += band.f[k].squaredNorm();
  }
  if (pw > 0.0) {
    const double mix = fire.mixing(vv, ff);
    for (int k = 1; k < m - 1; ++k) fire_mix(band.v[k], band.f[k], fire.alpha(), mix);
  }
  if (fire.adapt(pw, it) == FireControl::Step::uphill)
    for (int k = 1; k < m - 1; ++k) band.v[k].setZero();
  const double dt = fire.dt();
  for (int k = 1; k < m - 1; ++k) {
    band.v[k] += dt * band.f[k];
    Vector dx = dt * band.v[k];
    const double mx = LocalModel::max_bead_norm(dx);
    if (mx > p.max_step) dx *= p.max_step / mx;
    if (k == climber) bound_climber_step(band, k, dx);
    band.x[k] += dx;
    band.e[k] = models[k].energy_gradient(band.x[k], band.g[k]);
  }
}

// Global L-BFGS on the band (see neb.hpp): the interior images' coordinates and NEB forces as one
// vector each, the correction pairs (Δx, −ΔF) between consecutive steps.
class BandLbfgs {
 public:
  void reset() {
    pairs_.clear();
    have_previous_ = false;
  }
  // One step from the band's current forces: d = H F (steepest descent, largest bead step 0.01 σ,
  // when there is no history or H F is not along F), capped at max_step per bead, the climber's part
  // bounded as in FIRE.
  void step(Band& band, const NebParams& p, int climber, std::vector<LocalModel>& models) {
    const int m = band.size(), n = static_cast<int>(band.x[0].size());
    Vector x(n * (m - 2)), f(n * (m - 2));
    for (int k = 1; k < m - 1; ++k) {
      x.segment(n * (k - 1), n) = band.x[k];
      f.segment(n * (k - 1), n) = band.f[k];
    }
    if (have_previous_) pairs_.add(x - x_previous_, f_previous_ - f, p.memory);
    Vector d = lbfgs_direction(pairs_, -f, 0.01);
    const double mx = LocalModel::max_bead_norm(d);
    if (mx > p.max_step) d *= p.max_step / mx;
    for (int k = 1; k < m - 1; ++k) {
      Vector dx = d.segment(n * (k - 1), n);
      if (k == climber) bound_climber_step(band, k, dx);
      band.x[k] += dx;
      band.e[k] = models[k].energy_gradient(band.x[k], band.g[k]);
    }
    x_previous_ = std::move(x);
    f_previous_ = std::move(f);
    have_previous_ = true;
  }

 private:
  LbfgsPairs pairs_;
  Vector x_previous_, f_previous_;
  bool have_previous_ = false;
};

// The arc length at each image and the highest image (the first of equals), from images and energies.
void set_arc_and_highest(NebResult& r) {
  const int m = static_cast<int>(r.images.size());
  r.arc.assign(m, 0.0);
  for (int k = 1; k < m; ++k) r.arc[k] = r.arc[k - 1] + (r.images[k] - r.images[k - 1]).norm();
  r.highest = static_cast<int>(std::max_element(r.energy.begin(), r.energy.end()) - r.energy.begin());
}

// The relaxed band as a result: images, energies, arc length, slopes, highest image, intermediate minima.
void describe_band(const Band& band, NebResult& r) {
  const int m = band.size();
  const auto& e = band.e;
  r.images = band.x;
  r.energy = e;
  set_arc_and_highest(r);
  r.slope.assign(m, 0.0);
  for (int k = 1; k < m - 1; ++k) r.slope[k] = band.g[k].dot(band.t[k]);  // t points from A to B
  r.n_intermediate_minima = 0;
  for (int k = 1; k < m - 1; ++k)
    if (e[k] < e[k - 1] - 1e-10 && e[k] < e[k + 1] - 1e-10) ++r.n_intermediate_minima;
}

}  // namespace

NebResult nudged_elastic_band(const LocalModel& model, const Vector& a, const Vector& b_in, const NebParams& p,
                              const std::vector<Vector>& via) {
  if (p.n_images < 3) throw Error("NEB: n_images must be >= 3");
  const int m = p.n_images;
  const Vector b = onto(model, a, b_in);
  Band band{{},
            std::vector<Vector>(m),
            std::vector<Vector>(m),
            std::vector<Vector>(m),
            std::vector<Vector>(m, Vector::Zero(a.size())),
            std::vector<double>(m)};
  std::vector<LocalModel> models(m, model);  // one pair list per image
  auto band_max = [&](const std::vector<Vector>& y) {
    double mx = -HUGE_VAL;
    for (int k = 1; k < m - 1; ++k) mx = std::max(mx, models[k].energy(y[k]));
    return mx;
  };
  band.x = initial_band(model, a, b, {}, m);
  if (!via.empty()) {  // keep whichever start is lower at its highest image
    std::vector<Vector> y = initial_band(model, a, b, via, m);
    if (band_max(y) < band_max(band.x)) band.x = std::move(y);
  }
  for (int k = 0; k < m; ++k) band.v[k] = Vector::Zero(a.size());
  for (int k = 0; k < m; ++k) band.e[k] = models[k].energy_gradient(band.x[k], band.g[k]);

  // FIRE 1.0 on the band (Bitzek et al., PRL 97, 170201 (2006)), all interior images as one vector.
  FireParams fp;
  fp.variant = FireVariant::fire1;
  fp.dt_start = 0.01;
  fp.dt_max = 0.05;
  fp.alpha_start = 0.1;
  FireControl fire(fp);
  BandLbfgs lbfgs;
  int lbfgs_state = p.optimizer == NebOptimizer::lbfgs ? 1 : 0;  // 1: L-BFGS, 2: FIRE after it failed
  double best = HUGE_VAL;  // the lowest max|F| so far, at step best_it, with the band best_x
  long best_it = 0;
  std::vector<Vector> best_x;
  NebResult r;
  long it = 0;
  int climber = -1;
  for (;; ++it) {
    int hi = 1;
    const double fmax = neb_forces(band, p, climber, &hi);
    if (p.climbing && climber < 0 && (it >= p.climb_after || fmax < 10.0 * p.f_tol)) {
      climber = hi;
      lbfgs.reset();
      best = HUGE_VAL;  // another force: the fallback's reference starts again
      continue;         // recompute forces with the climber
    }
    if (p.climbing && climber > 0 && climber != hi) {
      // Another image is highest: it climbs from now on. The velocities were built up under the
      // old climber's force, so FIRE starts again from rest.
      climber = hi;
      for (Vector& v : band.v) v.setZero();
      lbfgs.reset();
      best = HUGE_VAL;
    }
    r.max_force = fmax;
    heartbeat("NEB", it, "max|F|", fmax);
    if ((fmax <= p.f_tol && (!p.climbing || climber > 0)) || it >= p.max_iter) {
      r.converged = fmax <= p.f_tol;
      break;
    }
    // lbfgs: if max|F| rises past lbfgs_blowup x its lowest so far, or has not improved for
    // lbfgs_stall steps, the band goes back to where max|F| was lowest and FIRE takes over for good.
    if (fmax < best) {
      best = fmax, best_it = it;
      if (lbfgs_state == 1) best_x = band.x;
    }
    if (lbfgs_state == 1 && (fmax > p.lbfgs_blowup * best || it - best_it > p.lbfgs_stall)) {
      lbfgs_state = 2;
      r.fell_back = true;
      band.x = best_x;
      for (int k = 1; k < m - 1; ++k) {
        band.v[k].setZero();
        band.e[k] = models[k].energy_gradient(band.x[k], band.g[k]);
      }
      continue;
    }
    if (lbfgs_state == 1) lbfgs.step(band, p, climber, models);
    else fire_step(band, fire, p, it, climber, models);
  }
  r.iterations = it;
  for (const LocalModel& mk : models) r.energy_calls += mk.n_energy_calls() - model.n_energy_calls();
  describe_band(band, r);
  return r;
}

namespace {

// The band turned end for end: images, energies and arc from B; slopes change sign.
void reverse_band(NebResult& r) {
  std::reverse(r.images.begin(), r.images.end());
  std::reverse(r.energy.begin(), r.energy.end());
  std::reverse(r.slope.begin(), r.slope.end());
  for (double& d : r.slope) d = -d;
  std::swap(r.end_levels[0], r.end_levels[1]);
}

// Up to `levels` refinements of the front end (see refine_band_ends); the number done.
int refine_front(const LocalModel& model, NebResult& r, const NebParams& p, int levels) {
  NebParams q = p;
  q.n_images = 5;
  q.climbing = false;
  int done = 0;
  for (; done < levels; ++done) {
    const auto top = std::max_element(r.energy.begin(), r.energy.end()) - r.energy.begin();
    if (r.images.size() < 5 || top < 2) break;
    const NebResult sub = nudged_elastic_band(model, r.images[0], r.images[2], q, {r.images[1]});
    r.energy_calls += sub.energy_calls;
    r.iterations += sub.iterations;
    if (!sub.converged) break;
    // Nodes 0 and 1 give way to the sub-band's 0..3; node 2 (the sub-band's last) stays, with its slope.
    r.images.erase(r.images.begin(), r.images.begin() + 2);
    r.energy.erase(r.energy.begin(), r.energy.begin() + 2);
    r.slope.erase(r.slope.begin(), r.slope.begin() + 2);
    r.images.insert(r.images.begin(), sub.images.begin(), sub.images.begin() + 4);
    r.energy.insert(r.energy.begin(), sub.energy.begin(), sub.energy.begin() + 4);
    r.slope.insert(r.slope.begin(), sub.slope.begin(), sub.slope.begin() + 4);
  }
  return done;
}

}  // namespace

NebResult refine_band_ends(const LocalModel& model, const NebResult& band, const NebParams& p) {
  NebResult r = band;
  r.end_levels[0] = refine_front(model, r, p, p.end_levels);
  reverse_band(r);
  r.end_levels[0] = refine_front(model, r, p, p.end_levels);  // B's end, at the front now
  reverse_band(r);
  set_arc_and_highest(r);
  return r;
}

}  // namespace tlsmap
