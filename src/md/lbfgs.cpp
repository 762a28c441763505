#include "tlsmap/md/lbfgs.hpp"

#include "tlsmap/core/reduction.hpp"

#include <algorithm>
#include <cmath>

namespace tlsmap {
namespace {

// Change the number of extra doubles per owned bead, keeping the first min(old, new) columns.
void restride(Beads& b, int n_extra) {
  const int old = b.n_extra, keep = std::min(old, n_extra);
  std::vector<double> e(static_cast<std::size_t>(b.n_owned) * n_extra, 0.0);
  for (int i = 0; i < b.n_owned; ++i)
    std::copy_n(b.extra.begin() + static_cast<std::size_t>(i) * old, keep,
                e.begin() + static_cast<std::size_t>(i) * n_extra);
  b.extra = std::move(e);
  b.n_extra = n_extra;
}

double global_max(MPI_Comm comm, double x) {
  MPI_Allreduce(MPI_IN_PLACE, &x, 1, MPI_DOUBLE, MPI_MAX, comm);
  return x;
}

// One minimisation's history. The recursion works in preconditioned coordinates z, x = T z (T = 1
// without bonds; bond_precondition in lbfgs.hpp): its gradient is g = T F, its direction d, and a
// step moves the beads by T d. Our columns of Beads::extra, after any already in use: d, T d, f0 (g
// at the line-search start), g, the bond axis n, then n_slots (s, y) pairs. Replicated on every
// rank: the slots of the stored pairs (oldest first), rho = 1/(s·y), and the dot products the
// two-loop recursion needs: g·s_k, g·y_k, g·g, s_k·y_j, y_k·y_j.
class History {
 public:
  History(System& sys, const LbfgsParams& p)
      : sys_(sys),
        b_(sys.beads()),
        p_(p),
        comm_(sys.comm()),
        m_(std::max(1, p.memory)),
        n_slots_(m_ + 1),  // one spare slot for a candidate pair
        base_(b_.n_extra),
        col_d_(base_),
        col_dx_(base_ + 3),
        col_f0_(base_ + 6),
        col_g_(base_ + 9),
        col_n_(base_ + 12),
        bond_scale_(bond_mode_scale(sys, p)),
        rho_(n_slots_),
        fs_(n_slots_),
        fy_(n_slots_),
        sy_(n_slots_ * n_slots_),
        yy_(n_slots_ * n_slots_),
        cs_(n_slots_),
        cy_(n_slots_),
        alpha_(n_slots_) {
    restride(b_, kColsBeforeSlots + 6 * n_slots_ + base_);
  }
  // Gives the columns back.
  void release() { restride(b_, base_); }

  bool empty() const { return hist_.empty(); }
  bool preconditioned() const { return bond_scale_ < 1.0; }
  void forget() { hist_.clear(); }

  // g = T F at the beads' current forces (collective).
  void update_gradient() { transform_force(); }

  // The step direction d = H g (two-loop recursion), its step T d capped at max_step per bead, and
  // g kept as f0. Without history (the start, or after forget()) the bond axes of T are taken
  // afresh from the current positions, and g with them. Returns dE/da at a = 0 along T d (< 0).
  double direction() {
    if (hist_.empty()) {
      refresh_axes();
      transform_force();
    }
    two_loop();
    const int n = b_.n_owned;
    auto fd_dd = sums(
        2, [&](int i) { terms_[0][i] = v(i, col_g_).dot(v(i, col_d_)), terms_[1][i] = v(i, col_d_).squaredNorm(); });
    double fd = fd_dd[0];
    // Not clearly downhill (or not finite): forget the history and follow the gradient.
    if (!hist_.empty() && !(fd > 1e-12 * std::sqrt(fd_dd[1] * ff_))) {
      hist_.clear();
      for (int i = 0; i < n; ++i) v(i, col_d_) = gamma_ * v(i, col_g_);
      fd = gamma_ * ff_;
    }
    transform(col_d_, col_dx_);
    double dmax = 0.0;
    for (int i = 0; i < n; ++i) dmax = std::max(dmax, v(i, col_dx_).squaredNorm());
    dmax = std::sqrt(global_max(comm_, dmax));
    const double scale = dmax > p_.max_step ? p_.max_step / dmax : 1.0;
    for (int i = 0; i < n; ++i) {
      v(i, col_d_) *= scale;
      v(i, col_dx_) *= scale;
      v(i, col_f0_) = v(i, col_g_);
    }
    return -scale * fd;  // g·d = F·T d: T is symmetric
  }

  // Backtracking line search along d from energy e0 with slope slope0: trial points x + a d, reached
  // by moving the difference. Leaves the beads at x + a_now d with its energy; true if accepted.
  // slopes_only: accept on the slope test alone (the energy is too noisy to judge a step; see
  // minimize_lbfgs).
  bool line_search(double e0, double slope0, double& energy, double& a, double& a_now, bool slopes_only) {
    const double e_noise = 1e-14 * std::abs(e0);
    bool accepted = false;
    for (int ls = 0; ls < p_.max_backtrack && !accepted; ++ls) {
      for (int i = 0; i < b_.n_owned; ++i) b_.pos[i] += (a - a_now) * v(i, col_dx_);
      a_now = a;
      sys_.positions_changed();
      compute_forces_holding(sys_, p_.held);
      energy = sys_.potential_energy();
      const double slope = -sums(1, [&](int i) { terms_[0][i] = b_.force[i].dot(v(i, col_dx_)); })[0];
      const bool slope_ok = slope <= (2.0 * p_.delta - 1.0) * slope0;
      accepted = slopes_only ? slope_ok : energy <= e0 + p_.c1 * a * slope0 || (energy <= e0 + e_noise && slope_ok);
      if (!accepted) {
        const double secant = slope > 0.0 ? a * slope0 / (slope0 - slope) : 0.5 * a;
        a = std::clamp(secant, 0.1 * a, 0.5 * a);
      }
    }
    return accepted;
  }

  // Back to the line-search start (x + a_now d → x).
  void step_back(double a_now) {
    for (int i = 0; i < b_.n_owned; ++i) b_.pos[i] -= a_now * v(i, col_dx_);
    sys_.positions_changed();
    compute_forces_holding(sys_, p_.held);
  }

  // Candidate pair s = a d, y = g(x) − g(x + s) in the free slot (g = T F is minus the gradient in z,
  // already updated at x + s); kept only if s·y > 0 (clearly), evicting the oldest pair when the
  // memory is full.
  void store_pair(double a) {
    int c = 0;
    while (std::find(hist_.begin(), hist_.end(), c) != hist_.end()) ++c;
    for (int i = 0; i < b_.n_owned; ++i) {
      v(i, col_s(c)) = a * v(i, col_d_);
      v(i, col_y(c)) = v(i, col_f0_) - v(i, col_g_);
    }
    std::vector<int> slots = hist_;
    slots.push_back(c);
    const double ss = update_products(slots, c), sy_c = sy_[c * n_slots_ + c], yy_c = yy_[c * n_slots_ + c];
    if (sy_c > 1e-12 * std::sqrt(ss * yy_c)) {
      if (static_cast<int>(hist_.size()) == m_) hist_.erase(hist_.begin());
      hist_.push_back(c);
      rho_[c] = 1.0 / sy_c;
      gamma_ = sy_c / yy_c;
    }
  }

 private:
  static constexpr int kColsBeforeSlots = 15;
  int col_s(int k) const { return base_ + kColsBeforeSlots + 6 * k; }
  int col_y(int k) const { return base_ + kColsBeforeSlots + 3 + 6 * k; }

  // The factor T applies to each molecule's bond-stretch component (1: no preconditioning).
  static double bond_mode_scale(const System& sys, const LbfgsParams& p) {
    if (!sys.model().has_bonds() || p.bond_precondition <= 0.0) return 1.0;
    return 1.0 / std::sqrt(1.0 + 2.0 * sys.model().bond->k / p.bond_precondition);
  }

  // n_i: the unit vector from the partner to bead i, zero without a partner or when either bead is
  // held (T is the identity there, so held beads stay put).
  void refresh_axes() {
    if (!preconditioned()) return;
    const std::vector<int>& partner = sys_.bond_partner();
    const auto held = [&](int i) { return p_.held && p_.held->count(b_.id[i]) > 0; };
    for (int i = 0; i < b_.n_owned; ++i) {
      const int j = partner[i];
      v(i, col_n_) = j < 0 || held(i) || held(j) ? Vec3::Zero() : Vec3((b_.pos[i] - b_.pos[j]).normalized());
    }
  }
  // out = T in, per molecule: T = 1 − (1 − t) P_stretch, P_stretch the projector on the relative
  // motion along n, (x_i − x_j)·n n/2 on bead i. T is symmetric, so x = T z makes the recursion's H0
  // γ T² = γ (1 + 2(k/α) P_stretch)⁻¹ (t² = 1/(1 + 2k/α)): the bond-stretch mode, 2k stiffer than
  // the surroundings' α, is scaled back to their stiffness. Needs the partner's value: one ghost
  // exchange.
  void transform(int in, int out) {
    transform_from([&](int i) { return Vec3(v(i, in)); }, out);
  }
  void transform_force() {
    transform_from([&](int i) { return b_.force[i]; }, col_g_);
  }
  template <class Source>
  void transform_from(Source value, int out) {
    const int n = b_.n_owned;
    if (!preconditioned()) {
      for (int i = 0; i < n; ++i) v(i, out) = value(i);
      return;
    }
    buffer_.resize(b_.n_local());
    for (int i = 0; i < n; ++i) buffer_[i] = value(i);
    sys_.forward_to_ghosts(buffer_);
    const std::vector<int>& partner = sys_.bond_partner();
    for (int i = 0; i < n; ++i) {
      const Vec3 axis = v(i, col_n_);
      Vec3 t = buffer_[i];
      if (partner[i] >= 0) t -= (0.5 * (1.0 - bond_scale_) * axis.dot(buffer_[i] - buffer_[partner[i]])) * axis;
      v(i, out) = t;
    }
  }
  // Beads move between ranks in positions_changed(), so never keep a pointer across it.
  Eigen::Map<Vec3> v(int i, int col) {
    return Eigen::Map<Vec3>(b_.extra.data() + static_cast<std::size_t>(i) * b_.n_extra + col);
  }
  // Reproducible sums of k per-bead terms, one call.
  template <class Fill>
  std::vector<double> sums(int k, Fill&& fill) {
    terms_.resize(k);
    for (auto& t : terms_) t.resize(b_.n_owned);
    for (int i = 0; i < b_.n_owned; ++i) fill(i);
    return reproducible_sums(comm_, std::vector<std::span<const double>>(terms_.begin(), terms_.end()));
  }

  // Two-loop recursion on coefficients, d = H g = cf g + Σ_k (cs_k s_k + cy_k y_k): each dot
  // product of the running vector is a combination of the stored ones, so computing the
  // direction needs no communication (the "vector-free" form of Chen et al., NeurIPS 2014).
  void two_loop() {
    double cf = 1.0;
    std::fill(cs_.begin(), cs_.end(), 0.0);
    std::fill(cy_.begin(), cy_.end(), 0.0);
    for (auto k = hist_.rbegin(); k != hist_.rend(); ++k) {  // newest first: alpha_k = rho_k s_k·q
      double sq = cf * fs_[*k];
      for (int j : hist_) sq += cy_[j] * sy_[*k * n_slots_ + j];
      alpha_[*k] = rho_[*k] * sq;
      cy_[*k] -= alpha_[*k];
    }
    cf *= gamma_;
    for (int j : hist_) cy_[j] *= gamma_;
    for (int k : hist_) {  // oldest first: q += (alpha_k - rho_k y_k·q) s_k
      double yq = cf * fy_[k];
      for (int j : hist_) yq += cy_[j] * yy_[k * n_slots_ + j] + cs_[j] * sy_[j * n_slots_ + k];
      cs_[k] += alpha_[k] - rho_[k] * yq;
    }
    for (int i = 0; i < b_.n_owned; ++i) {
      Vec3 d = cf * v(i, col_g_);
      for (int j : hist_) d += cs_[j] * v(i, col_s(j)) + cy_[j] * v(i, col_y(j));
      v(i, col_d_) = d;
    }
  }

  // After a step: with the candidate pair in slot c, every product involving the new gradient or the
  // new pair, against `slots` (the stored pairs and c). Returns s_c·s_c.
  double update_products(const std::vector<int>& slots, int c) {
    const int h = static_cast<int>(slots.size());
    auto r = sums(5 * h + 2, [&](int i) {
      const Vec3 f = v(i, col_g_);
      const Vec3 sc = v(i, col_s(c)), yc = v(i, col_y(c));
      for (int a = 0; a < h; ++a) {
        const Vec3 s = v(i, col_s(slots[a])), y = v(i, col_y(slots[a]));
        terms_[5 * a][i] = f.dot(s), terms_[5 * a + 1][i] = f.dot(y);
        terms_[5 * a + 2][i] = sc.dot(y), terms_[5 * a + 3][i] = s.dot(yc), terms_[5 * a + 4][i] = yc.dot(y);
      }
      terms_[5 * h][i] = f.squaredNorm();
      terms_[5 * h + 1][i] = sc.squaredNorm();
    });
    for (int a = 0; a < h; ++a) {
      const int j = slots[a];
      fs_[j] = r[5 * a], fy_[j] = r[5 * a + 1];
      sy_[c * n_slots_ + j] = r[5 * a + 2], sy_[j * n_slots_ + c] = r[5 * a + 3];
      yy_[c * n_slots_ + j] = yy_[j * n_slots_ + c] = r[5 * a + 4];
    }
    ff_ = r[5 * h];
    return r[5 * h + 1];
  }

  System& sys_;
  Beads& b_;
  const LbfgsParams& p_;
  MPI_Comm comm_;
  int m_, n_slots_, base_, col_d_, col_dx_, col_f0_, col_g_, col_n_;
  double bond_scale_;
  std::vector<int> hist_;
  std::vector<double> rho_, fs_, fy_, sy_, yy_;
  double ff_ = 0.0, gamma_ = 1.0;  // H0 = gamma I, gamma = s·y / y·y of the newest pair
  std::vector<double> cs_, cy_, alpha_;
  std::vector<std::vector<double>> terms_;
  std::vector<Vec3> buffer_;  // transform_from: owned values, then the ghosts' copies
};

}  // namespace

MinimizeResult minimize_lbfgs(System& sys, const LbfgsParams& p,
                              const std::function<void(long, double, double)>& observer, long every) {
  Beads& b = sys.beads();
  History history(sys, p);
  MinimizeResult res;
  const long calls0 = sys.n_force_calls();
  for (int i = 0; i < b.n_owned; ++i) b.vel[i].setZero();
  compute_forces_holding(sys, p.held);
  double energy = sys.potential_energy(), fmax = sys.max_force();

  long it = 0;
  bool slopes_only = false;
  while (it < p.max_iter && fmax > p.f_tol) {
    const double e0 = energy, slope0 = history.direction();
    double a = 1.0, a_now = 0.0;
    if (!history.line_search(e0, slope0, energy, a, a_now, slopes_only)) {
      // Back to the line-search start and retry along the force. If even that fails, the energy
      // disagrees with the forces on the scale of the step (e.g. a truncated Coulomb sum jumps as
      // pairs cross its cut-off): from then on steps are judged by their slopes alone, which for a
      // smooth energy along the line still means downhill. Give up only if that fails too.
      history.step_back(a_now);
      energy = sys.potential_energy();
      fmax = sys.max_force();
      if (history.empty()) {
        if (slopes_only) break;
        slopes_only = true;
        res.slopes_only_from = it;
      }
      history.forget();
      continue;
    }
    history.update_gradient();
    history.store_pair(a);
    ++it;
    if (history.preconditioned() && p.bond_axis_refresh > 0 && it % p.bond_axis_refresh == 0) history.forget();
    fmax = sys.max_force();
    if (observer && every > 0 && it % every == 0) observer(it, energy, fmax);
  }
  history.release();
  res.converged = fmax <= p.f_tol;
  res.iterations = it;
  res.force_calls = sys.n_force_calls() - calls0;
  res.energy = energy;
  res.max_force = fmax;
  return res;
}

}  // namespace tlsmap
