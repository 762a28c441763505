// LocalModel: pair list, energy, gradient and dense Hessian of one domain (see local_model.hpp).
#include "tlsmap/search/local_model.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

namespace tlsmap {

double lj_dfr_dr2(double r2, const LennardJones::Params& p) {
  const double s2 = p.sigma2 / r2;
  const double s6 = s2 * s2 * s2;
  return 24.0 * p.epsilon * s6 * (4.0 - 14.0 * s6) / (r2 * r2);
}

double poly_dfr_dr2(double r2, double sigma_ij) {
  using P = PolydisperseSoftSphere;
  const double s2 = sigma_ij * sigma_ij, inv_y2 = s2 / r2;
  const double inv_y8 = (inv_y2 * inv_y2) * (inv_y2 * inv_y2);
  return (-84.0 * inv_y8 * inv_y8 - 4.0 * P::c4) / (s2 * s2);
}

double bond_dfr_dr2(double r2, const HarmonicBond& b) { return -0.5 * b.k * b.r0 / (r2 * std::sqrt(r2)); }

LocalModel::LocalModel(LocalConfig config, double skin) : config_(std::move(config)), skin_(skin) {
  const std::size_t n = config_.pos.size();
  if (config_.species.size() != n || config_.id.size() != n)
    throw Error("LocalModel: pos, species and id have different sizes (" + std::to_string(n) + ", " +
                std::to_string(config_.species.size()) + ", " + std::to_string(config_.id.size()) + ")");
  if (config_.n_mobile < 1 || static_cast<std::size_t>(config_.n_mobile) > n)
    throw Error("LocalModel: n_mobile = " + std::to_string(config_.n_mobile) + " outside [1, " + std::to_string(n) +
                "]");
  if (!(skin_ >= 0.0)) throw Error("LocalModel: skin must be >= 0");
  if (polydisperse()) {
    if (config_.diameter.size() != n)
      throw Error("LocalModel: " + std::to_string(config_.diameter.size()) + " diameters for " + std::to_string(n) +
                  " beads");
    double largest = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      if (!(config_.diameter[k] > 0.0))
        throw Error("LocalModel: bead id " + std::to_string(config_.id[k]) + " has diameter " +
                    std::to_string(config_.diameter[k]));
      largest = std::max(largest, config_.diameter[k]);
    }
    rc_max_ = PolydisperseSoftSphere::for_diameters_up_to(largest).max_cutoff();
  } else {
    const int ns = config_.table.n_species();
    for (std::size_t k = 0; k < n; ++k)
      if (config_.species[k] < 0 || config_.species[k] >= ns)
        throw Error("LocalModel: bead id " + std::to_string(config_.id[k]) + " has species " +
                    std::to_string(config_.species[k]) + " outside the pair table (" + std::to_string(ns) +
                    " species)");
    rc_max_ = config_.table.max_cutoff();
  }
  if (!config_.charge.empty()) {
    if (config_.charge.size() != n)
      throw Error("LocalModel: " + std::to_string(config_.charge.size()) + " charges for " + std::to_string(n) +
                  " beads");
    if (!config_.coulomb.on()) throw Error("LocalModel: charges given without a Coulomb cut-off");
    rc_max_ = std::max(rc_max_, config_.coulomb.cutoff());
  }
  resolve_partners();
  const double edge = config_.box.len.minCoeff();
  if (edge < 2.0 * rc_max_)
    throw Error("LocalModel: box edge " + std::to_string(edge) + " is shorter than 2 x cut-off (" +
                std::to_string(2.0 * rc_max_) + "); minimum images would not be unique");
  skin_ = std::min(skin_, 0.5 * edge - rc_max_);
  if (!config_.sample_force.empty()) {
    if (config_.sample_force.size() != static_cast<std::size_t>(config_.n_mobile))
      throw Error("LocalModel: " + std::to_string(config_.sample_force.size()) + " sample forces for " +
                  std::to_string(config_.n_mobile) + " mobile beads");
    Vector grad;
    energy_gradient(initial_coordinates(), grad);  // −F_local(x⁰), before the far-field term exists
    far_force_ = grad;
    // The sample's forces are rounded to multiples of 2⁻²⁴ ε/σ (6e-8, below any glass's force
    // tolerance): they come from the parallel Ewald split, whose sums differ between rank counts
    // in the last bits (1e-16 ε/σ at a minimum), and the search amplifies any difference.
    for (int i = 0; i < config_.n_mobile; ++i)
      for (int a = 0; a < 3; ++a)
        far_force_[3 * i + a] += std::ldexp(std::nearbyint(std::ldexp(config_.sample_force[i][a], 24)), -24);
    n_energy_calls_ = 0;
  }
}

// Each bead's partner by id within the copy; a mobile bead's must be there and name it back.
void LocalModel::resolve_partners() {
  const std::size_t n = config_.pos.size();
  if (config_.partner.empty()) return;
  if (config_.partner.size() != n)
    throw Error("LocalModel: " + std::to_string(config_.partner.size()) + " bond partners for " + std::to_string(n) +
                " beads");
  if (!(config_.bond.k >= 0.0) || !(config_.bond.r0 > 0.0)) throw Error("LocalModel: bond needs k >= 0 and r0 > 0");
  std::unordered_map<std::int64_t, int> index;
  for (std::size_t k = 0; k < n; ++k) index.emplace(config_.id[k], static_cast<int>(k));
  partner_index_.assign(n, -1);
  for (std::size_t k = 0; k < n; ++k) {
    if (config_.partner[k] == 0) continue;
    const auto it = index.find(config_.partner[k]);
    if (it != index.end()) partner_index_[k] = it->second;
  }
  for (int k = 0; k < config_.n_mobile; ++k) {
    if (config_.partner[k] == 0) continue;
    const int p = partner_index_[k];
    if (p < 0)
      throw Error("LocalModel: mobile bead id " + std::to_string(config_.id[k]) + " has its bond partner id " +
                  std::to_string(config_.partner[k]) + " outside the local copy");
    if (config_.partner[p] != config_.id[k])
      throw Error("LocalModel: bead id " + std::to_string(config_.id[k]) + " names partner " +
                  std::to_string(config_.partner[k]) + ", which names " + std::to_string(config_.partner[p]));
  }
}

LocalModel::Vector LocalModel::initial_coordinates() const {
  Vector x(n_dof());
  for (int i = 0; i < n_mobile(); ++i) x.segment<3>(3 * i) = config_.pos[i];
  return x;
}

std::vector<Vec3> LocalModel::positions(const Vector& x) const {
  std::vector<Vec3> p(n_mobile());
  for (int i = 0; i < n_mobile(); ++i) p[i] = x.segment<3>(3 * i);
  return p;
}

LocalModel::Vector LocalModel::displacement(const Vector& a, const Vector& b) const {
  Vector d(n_dof());
  for (int i = 0; i < n_mobile(); ++i)
    d.segment<3>(3 * i) = config_.box.minimum_image(Vec3(b.segment<3>(3 * i) - a.segment<3>(3 * i)));
  return d;
}

double LocalModel::max_bead_norm(const Vector& v) {
  double m = 0.0;
  for (Eigen::Index i = 0; i + 2 < v.size(); i += 3) m = std::max(m, v.segment<3>(i).norm());
  return m;
}

double LocalModel::max_force(const Vector& grad) { return max_bead_norm(grad); }

// Verlet list of pairs with at least one mobile bead within rc(pair) + skin, shifts fixed now.
// Pairs beyond their short-range cut-off + skin go to the Coulomb-only lists (CoulombPair).
void LocalModel::ensure_list(const Vector& x) const {
  if (list_ref_.size() == x.size()) {
    double m2 = 0.0;
    for (int i = 0; i < n_mobile(); ++i)
      m2 = std::max(m2, (x.segment<3>(3 * i) - list_ref_.segment<3>(3 * i)).squaredNorm());
    if (4.0 * m2 <= skin_ * skin_) return;  // nobody moved more than skin/2
  }
  ++n_list_builds_;
  pairs_.clear();
  coulomb_frozen_.clear();
  coulomb_mobile_.clear();
  const int nm = n_mobile();
  const int n = static_cast<int>(config_.pos.size());
  const int ns = polydisperse() ? 1 : config_.table.n_species();
  const bool charged = !config_.charge.empty();
  const double rq = config_.coulomb.cutoff() + skin_;
  for (int i = 0; i < nm; ++i) {
    const Vec3 xi = x.segment<3>(3 * i);
    const int partner = partner_index_.empty() ? -1 : partner_index_[i];
    for (int j = i + 1; j < n; ++j) {
      const Vec3 xj = bead(x, j);
      const Vec3 raw = xi - xj;
      const Vec3 d = config_.box.minimum_image(raw);
      const double r2 = d.squaredNorm();
      if (j == partner) {  // the bond, at any distance; no pair potential, no Coulomb
        pairs_.push_back({i, j, d - raw, 0, 0.0, 0.0, true});
        continue;
      }
      const double qq = charged ? config_.charge[i] * config_.charge[j] : 0.0;
      double sij = 0.0, rs = 0.0;
      int type = 0;
      if (polydisperse()) {
        sij = PolydisperseSoftSphere::mix(config_.diameter[i], config_.diameter[j]);
        rs = PolydisperseSoftSphere::kCutRatio * sij;
      } else {
        type = config_.species[i] * ns + config_.species[j];
        rs = config_.table(config_.species[i], config_.species[j]).rc;
      }
      if (r2 < (rs + skin_) * (rs + skin_)) pairs_.push_back({i, j, d - raw, type, sij, qq, false});
      else if (qq != 0.0 && r2 < rq * rq)
        (j < nm ? coulomb_mobile_ : coulomb_frozen_).push_back({i, j, j < nm ? Vec3(d - raw) : Vec3(xi - d), qq});
    }
  }
  list_ref_ = x;
}

namespace {
const LennardJones::Params& params_of(const LJTable& t, int type) {
  const int ns = t.n_species();
  return t(type / ns, type % ns);
}
}  // namespace

LocalModel::PairTerms LocalModel::pair_terms(const Pair& q, double r2, bool with_dfr) const {
  if (q.bonded) {
    const double r = std::sqrt(r2), stretch = r - config_.bond.r0;
    return {true, -config_.bond.k * stretch / r, 0.5 * config_.bond.k * stretch * stretch,
            with_dfr ? bond_dfr_dr2(r2, config_.bond) : 0.0};
  }
  PairTerms t{false, 0.0, 0.0, 0.0};
  if (q.qq != 0.0 && r2 < config_.coulomb.cutoff() * config_.coulomb.cutoff()) {
    const auto c = config_.coulomb.evaluate(r2);
    t = {true, q.qq * c.f_over_r, q.qq * c.energy, q.qq * c.dfr_dr2};
  }
  const auto add = [&](double f_over_r, double energy, double dfr) {
    t.inside = true, t.f_over_r += f_over_r, t.energy += energy, t.dfr_dr2 += with_dfr ? dfr : 0.0;
  };
  if (polydisperse()) {
    using P = PolydisperseSoftSphere;
    if (r2 < P::kCutRatio2 * q.sigma_ij * q.sigma_ij) {
      const auto r = P::evaluate(r2, q.sigma_ij);
      add(r.f_over_r, r.energy, with_dfr ? poly_dfr_dr2(r2, q.sigma_ij) : 0.0);
    }
    return t;
  }
  const auto& p = params_of(config_.table, q.type);
  if (r2 < p.rc2) {
    const auto r = LennardJones::evaluate(r2, p);
    add(r.f_over_r, r.energy, with_dfr ? lj_dfr_dr2(r2, p) : 0.0);
  }
  return t;
}

double LocalModel::energy(const Vector& x) const {
  Vector g;
  return energy_gradient(x, g);
}

double LocalModel::energy_gradient(const Vector& x, Vector& grad) const {
  ensure_list(x);
  ++n_energy_calls_;
  grad.setZero(n_dof());
  const int nm = n_mobile();
  double e = 0.0;
  for (const Pair& q : pairs_) {
    const Vec3 d = x.segment<3>(3 * q.i) - bead(x, q.j) + q.shift;
    const double r2 = d.squaredNorm();
    const PairTerms r = pair_terms(q, r2, false);
    if (!r.inside) continue;
    e += r.energy;
    const Vec3 f = r.f_over_r * d;  // force on i
    grad.segment<3>(3 * q.i) -= f;
    if (q.j < nm) grad.segment<3>(3 * q.j) += f;
  }
  const double rc2 = config_.coulomb.cutoff() * config_.coulomb.cutoff();
  // Listed in runs of equal i: the force on i is summed in registers and stored once per run.
  int run = -1;
  Vec3 f_run = Vec3::Zero();
  for (const CoulombPair& q : coulomb_frozen_) {
    if (q.i != run) {
      if (run >= 0) grad.segment<3>(3 * run) -= f_run;
      run = q.i, f_run.setZero();
    }
    const Vec3 d = x.segment<3>(3 * q.i) - q.at;
    const double r2 = d.squaredNorm();
    if (r2 >= rc2) continue;
    const auto c = config_.coulomb.energy_force(r2);
    e += q.qq * c.energy;
    f_run += (q.qq * c.f_over_r) * d;
  }
  if (run >= 0) grad.segment<3>(3 * run) -= f_run;
  for (const CoulombPair& q : coulomb_mobile_) {
    const Vec3 d = x.segment<3>(3 * q.i) - x.segment<3>(3 * q.j) + q.at;
    const double r2 = d.squaredNorm();
    if (r2 >= rc2) continue;
    const auto c = config_.coulomb.energy_force(r2);
    e += q.qq * c.energy;
    const Vec3 f = (q.qq * c.f_over_r) * d;
    grad.segment<3>(3 * q.i) -= f;
    grad.segment<3>(3 * q.j) += f;
  }
  if (far_force_.size() > 0) {
    for (int i = 0; i < nm; ++i) {
      const Vec3 f = far_force_.segment<3>(3 * i);
      e -= f.dot(config_.box.minimum_image(Vec3(x.segment<3>(3 * i) - config_.pos[i])));
      grad.segment<3>(3 * i) -= f;
    }
  }
  return e;
}

// ∂²u/∂x_i∂x_i = −(f/r) I − 2 (d(f/r)/dr²) d dᵀ =: K; the (j,j) block is +K and (i,j), (j,i) are −K.
LocalModel::Matrix LocalModel::hessian(const Vector& x) const {
  ensure_list(x);
  ++n_hessian_calls_;
  const int nm = n_mobile();
  Matrix h = Matrix::Zero(n_dof(), n_dof());
  const auto add = [&](int i, int j, const Vec3& d, double f_over_r, double dfr_dr2) {
    const Mat3 k = -f_over_r * Mat3::Identity() - 2.0 * dfr_dr2 * d * d.transpose();
    h.block<3, 3>(3 * i, 3 * i) += k;
    if (j < nm) {
      h.block<3, 3>(3 * j, 3 * j) += k;
      h.block<3, 3>(3 * i, 3 * j) -= k;
      h.block<3, 3>(3 * j, 3 * i) -= k;
    }
  };
  for (const Pair& q : pairs_) {
    const Vec3 d = x.segment<3>(3 * q.i) - bead(x, q.j) + q.shift;
    const PairTerms r = pair_terms(q, d.squaredNorm(), true);
    if (r.inside) add(q.i, q.j, d, r.f_over_r, r.dfr_dr2);
  }
  const double rc2 = config_.coulomb.cutoff() * config_.coulomb.cutoff();
  for (const auto* list : {&coulomb_frozen_, &coulomb_mobile_})
    for (const CoulombPair& q : *list) {
      const Vec3 d = x.segment<3>(3 * q.i) - (q.j < nm ? Vec3(x.segment<3>(3 * q.j) - q.at) : q.at);
      const double r2 = d.squaredNorm();
      if (r2 >= rc2) continue;
      const auto c = config_.coulomb.evaluate(r2);
      add(q.i, q.j, d, q.qq * c.f_over_r, q.qq * c.dfr_dr2);
    }
  return h;
}

LocalModel::Matrix LocalModel::rigid_body_complement(const Vector& x) const {
  const int n = n_dof();
  if (!free_cluster() || n_mobile() < 3) return Matrix::Identity(n, n);
  Vec3 c = Vec3::Zero();
  for (int i = 0; i < n_mobile(); ++i) c += x.segment<3>(3 * i);
  c /= n_mobile();
  Matrix r = Matrix::Zero(n, 6);
  for (int i = 0; i < n_mobile(); ++i) {
    const Vec3 p = x.segment<3>(3 * i) - c;
    for (int a = 0; a < 3; ++a) {
      r(3 * i + a, a) = 1.0;  // translation along a
      Vec3 e = Vec3::Zero();
      e[a] = 1.0;
      r.block<3, 1>(3 * i, 3 + a) = e.cross(p);  // rotation about axis a
    }
  }
  Eigen::HouseholderQR<Matrix> qr(r);
  Matrix q = qr.householderQ() * Matrix::Identity(n, n);
  return q.rightCols(n - 6);
}

}  // namespace tlsmap
