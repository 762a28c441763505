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

}  // namespace

MinimizeResult minimize_lbfgs(System& sys, const LbfgsParams& p,
                              const std::function<void(long, double, double)>& observer, long every) {
  Beads& b = sys.beads();
  const MPI_Comm comm = sys.comm();
  const int m = std::max(1, p.memory), n_slots = m + 1;  // one spare slot for a candidate pair
  // Our columns of Beads::extra, after any already in use: d (search direction), f0 (force at the
  // line-search start), then n_slots (s, y) pairs.
  const int base = b.n_extra, col_d = base, col_f0 = base + 3;
  auto col_s = [&](int k) { return base + 6 + 6 * k; };
  auto col_y = [&](int k) { return base + 9 + 6 * k; };
  restride(b, base + 6 + 6 * n_slots);
  // Beads move between ranks in positions_changed(), so never keep a pointer across it.
  auto v = [&](int i, int col) {
    return Eigen::Map<Vec3>(b.extra.data() + static_cast<std::size_t>(i) * b.n_extra + col);
  };

  MinimizeResult res;
  const long calls0 = sys.n_force_calls();
  for (int i = 0; i < b.n_owned; ++i) b.vel[i].setZero();
  compute_forces_holding(sys, p.held);
  double energy = sys.potential_energy(), fmax = sys.max_force();

  // Replicated on every rank: the slots of the stored pairs (oldest first), rho = 1/(s·y), and the
  // dot products the two-loop recursion needs — F·s_k, F·y_k, F·F, s_k·y_j, y_k·y_j.
  std::vector<int> hist;
  std::vector<double> rho(n_slots), fs(n_slots), fy(n_slots), sy(n_slots * n_slots), yy(n_slots * n_slots);
  double ff = 0.0, gamma = 1.0;  // H0 = gamma I, gamma = s·y / y·y of the newest pair
  std::vector<std::vector<double>> terms;
  auto sums = [&](int k, auto&& fill) {  // reproducible sums of k per-bead terms, one call
    terms.resize(k);
    for (auto& t : terms) t.resize(b.n_owned);
    for (int i = 0; i < b.n_owned; ++i) fill(i);
    return reproducible_sums(comm, std::vector<std::span<const double>>(terms.begin(), terms.end()));
  };
  // After a step: with the candidate pair in slot c, every product involving the new force or the
  // new pair, against `slots` (the stored pairs and c). Returns s_c·s_c.
  auto update_products = [&](const std::vector<int>& slots, int c) {
    const int h = static_cast<int>(slots.size());
    auto r = sums(5 * h + 2, [&](int i) {
      const Vec3& f = b.force[i];
      const Vec3 sc = v(i, col_s(c)), yc = v(i, col_y(c));
      for (int a = 0; a < h; ++a) {
        const Vec3 s = v(i, col_s(slots[a])), y = v(i, col_y(slots[a]));
        terms[5 * a][i] = f.dot(s), terms[5 * a + 1][i] = f.dot(y);
        terms[5 * a + 2][i] = sc.dot(y), terms[5 * a + 3][i] = s.dot(yc), terms[5 * a + 4][i] = yc.dot(y);
      }
      terms[5 * h][i] = f.squaredNorm();
      terms[5 * h + 1][i] = sc.squaredNorm();
    });
    for (int a = 0; a < h; ++a) {
      const int j = slots[a];
      fs[j] = r[5 * a], fy[j] = r[5 * a + 1];
      sy[c * n_slots + j] = r[5 * a + 2], sy[j * n_slots + c] = r[5 * a + 3];
      yy[c * n_slots + j] = yy[j * n_slots + c] = r[5 * a + 4];
    }
    ff = r[5 * h];
    return r[5 * h + 1];
  };

  long it = 0;
  std::vector<double> cs(n_slots), cy(n_slots), alpha(n_slots);
  while (it < p.max_iter && fmax > p.f_tol) {
    // Two-loop recursion on coefficients, d = H F = cf F + Σ_k (cs_k s_k + cy_k y_k): each dot
    // product of the running vector is a combination of the stored ones, so computing the
    // direction needs no communication (the "vector-free" form of Chen et al., NeurIPS 2014).
    double cf = 1.0;
    std::fill(cs.begin(), cs.end(), 0.0);
    std::fill(cy.begin(), cy.end(), 0.0);
    for (auto k = hist.rbegin(); k != hist.rend(); ++k) {  // newest first: alpha_k = rho_k s_k·q
      double sq = cf * fs[*k];
      for (int j : hist) sq += cy[j] * sy[*k * n_slots + j];
      alpha[*k] = rho[*k] * sq;
      cy[*k] -= alpha[*k];
    }
    cf *= gamma;
    for (int j : hist) cy[j] *= gamma;
    for (int k : hist) {  // oldest first: q += (alpha_k - rho_k y_k·q) s_k
      double yq = cf * fy[k];
      for (int j : hist) yq += cy[j] * yy[k * n_slots + j] + cs[j] * sy[j * n_slots + k];
      cs[k] += alpha[k] - rho[k] * yq;
    }
    const int n = b.n_owned;
    for (int i = 0; i < n; ++i) {
      Vec3 d = cf * b.force[i];
      for (int j : hist) d += cs[j] * v(i, col_s(j)) + cy[j] * v(i, col_y(j));
      v(i, col_d) = d;
    }
    auto fd_dd =
        sums(2, [&](int i) { terms[0][i] = b.force[i].dot(v(i, col_d)), terms[1][i] = v(i, col_d).squaredNorm(); });
    double fd = fd_dd[0];
    // Not clearly downhill (or not finite): forget the history and follow the force.
    if (!hist.empty() && !(fd > 1e-12 * std::sqrt(fd_dd[1] * ff))) {
      hist.clear();
      for (int i = 0; i < n; ++i) v(i, col_d) = gamma * b.force[i];
      fd = gamma * ff;
    }
    double dmax = 0.0;
    for (int i = 0; i < n; ++i) dmax = std::max(dmax, v(i, col_d).squaredNorm());
    dmax = std::sqrt(global_max(comm, dmax));
    const double scale = dmax > p.max_step ? p.max_step / dmax : 1.0;
    for (int i = 0; i < n; ++i) {
      v(i, col_d) *= scale;
      v(i, col_f0) = b.force[i];
    }
    const double e0 = energy, slope0 = -scale * fd;  // dE/da at a = 0, < 0
    const double e_noise = 1e-14 * std::abs(e0);

    // Backtracking line search along d: trial points x + a d, reached by moving the difference.
    double a = 1.0, a_now = 0.0;
    bool accepted = false;
    for (int ls = 0; ls < p.max_backtrack && !accepted; ++ls) {
      for (int i = 0; i < b.n_owned; ++i) b.pos[i] += (a - a_now) * v(i, col_d);
      a_now = a;
      sys.positions_changed();
      compute_forces_holding(sys, p.held);
      energy = sys.potential_energy();
      const double slope = -sums(1, [&](int i) { terms[0][i] = b.force[i].dot(v(i, col_d)); })[0];
      accepted =
          energy <= e0 + p.c1 * a * slope0 || (energy <= e0 + e_noise && slope <= (2.0 * p.delta - 1.0) * slope0);
      if (!accepted) {
        const double secant = slope > 0.0 ? a * slope0 / (slope0 - slope) : 0.5 * a;
        a = std::clamp(secant, 0.1 * a, 0.5 * a);
      }
    }
    if (!accepted) {
      // Back to the line-search start; give up only if this already was steepest descent.
      for (int i = 0; i < b.n_owned; ++i) b.pos[i] -= a_now * v(i, col_d);
      sys.positions_changed();
      compute_forces_holding(sys, p.held);
      energy = sys.potential_energy();
      fmax = sys.max_force();
      if (hist.empty()) break;
      hist.clear();
      continue;
    }
    // Candidate pair s = a d, y = F(x) - F(x + s) = g(x + s) - g(x) in the free slot; kept only
    // if s·y > 0 (clearly), evicting the oldest pair when the memory is full.
    int c = 0;
    while (std::find(hist.begin(), hist.end(), c) != hist.end()) ++c;
    for (int i = 0; i < b.n_owned; ++i) {
      v(i, col_s(c)) = a * v(i, col_d);
      v(i, col_y(c)) = v(i, col_f0) - b.force[i];
    }
    std::vector<int> slots = hist;
    slots.push_back(c);
    const double ss = update_products(slots, c), sy_c = sy[c * n_slots + c], yy_c = yy[c * n_slots + c];
    if (sy_c > 1e-12 * std::sqrt(ss * yy_c)) {
      if (static_cast<int>(hist.size()) == m) hist.erase(hist.begin());
      hist.push_back(c);
      rho[c] = 1.0 / sy_c;
      gamma = sy_c / yy_c;
    }
    ++it;
    fmax = sys.max_force();
    if (observer && every > 0 && it % every == 0) observer(it, energy, fmax);
  }
  restride(b, base);
  res.converged = fmax <= p.f_tol;
  res.iterations = it;
  res.force_calls = sys.n_force_calls() - calls0;
  res.energy = energy;
  res.max_force = fmax;
  return res;
}

}  // namespace tlsmap
