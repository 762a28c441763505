// Serial L-BFGS + Newton polish, Hessian spectrum, eigenvector-following saddle converger
// (see local_optimize.hpp for the methods and references).
#include "tlsmap/search/local_optimize.hpp"

#include "tlsmap/core/heartbeat.hpp"
#include "tlsmap/search/lbfgs_direction.hpp"

#include <algorithm>
#include <cmath>

namespace tlsmap {

using Vector = LocalModel::Vector;
using Matrix = LocalModel::Matrix;

int Spectrum::n_negative(double tol) const { return static_cast<int>((values.array() < -tol).count()); }

bool Spectrum::nondegenerate(double tol) const { return (values.array().abs() <= tol).count() == 0; }

Spectrum spectrum(const LocalModel& model, const Vector& x, bool with_vectors) {
  const Matrix h = model.hessian(x);
  Spectrum s;
  if (model.free_cluster()) {
    const Matrix q = model.rigid_body_complement(x);
    const Matrix hq = q.transpose() * h * q;
    Eigen::SelfAdjointEigenSolver<Matrix> es(hq, with_vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
    s.values = es.eigenvalues();
    if (with_vectors) s.vectors = q * es.eigenvectors();
  } else {
    Eigen::SelfAdjointEigenSolver<Matrix> es(h, with_vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
    s.values = es.eigenvalues();
    if (with_vectors) s.vectors = es.eigenvectors();
  }
  return s;
}

double lowest_eigenpair(const Matrix& h, const Vector& start, Vector& vec, double* second) {
  const int n = static_cast<int>(h.rows());
  const int m = std::min(n, 60);
  const double scale = std::max(1.0, h.cwiseAbs().maxCoeff());
  Vector q0 = start;
  if (q0.size() != n || !(q0.norm() > 0.0)) {
    q0.resize(n);
    for (int i = 0; i < n; ++i) q0[i] = 1.0 + 0.5 * std::sin(1.7 * i + 0.3);  // deterministic, generic
  }
  double lam = 0.0, lam2 = HUGE_VAL;
  for (int restart = 0; restart < 10; ++restart) {
    Matrix q(n, m), w(n, m);
    q.col(0) = q0.normalized();
    int k = 0;
    while (k < m) {
      w.col(k) = h * q.col(k);
      ++k;
      if (k == m) break;
      Vector r = w.col(k - 1);
      for (int pass = 0; pass < 2; ++pass) r -= q.leftCols(k) * (q.leftCols(k).transpose() * r);
      const double b = r.norm();
      if (b < 1e-12 * scale) break;  // invariant subspace
      q.col(k) = r / b;
    }
    Matrix t = q.leftCols(k).transpose() * w.leftCols(k);
    t = 0.5 * (t + t.transpose()).eval();
    Eigen::SelfAdjointEigenSolver<Matrix> es(t);
    lam = es.eigenvalues()[0];
    lam2 = k > 1 ? es.eigenvalues()[1] : HUGE_VAL;
    vec = (q.leftCols(k) * es.eigenvectors().col(0)).normalized();
    const double resid = (h * vec - lam * vec).norm();
    if (resid <= 1e-6 * scale || k < m) break;
    q0 = vec;
  }
  if (second) *second = lam2;
  return lam;
}

namespace {

// Scale a step so that no bead moves more than cap.
Vector capped(Vector d, double cap) {
  const double m = LocalModel::max_bead_norm(d);
  if (m > cap) d *= cap / m;
  return d;
}

// One Newton step towards a minimum, or false if the Hessian (internal part) is not positive
// definite. Cholesky on the dense Hessian: O(n³/3), cheaper than an eigen-decomposition.
bool newton_min_step(const LocalModel& model, const Vector& x, const Vector& g, Vector& step) {
  const Matrix h = model.hessian(x);
  if (model.free_cluster()) {
    const Matrix q = model.rigid_body_complement(x);
    Eigen::LLT<Matrix> llt(q.transpose() * h * q);
    if (llt.info() != Eigen::Success) return false;
    step = -(q * llt.solve(q.transpose() * g));
  } else {
    Eigen::LLT<Matrix> llt(h);
    if (llt.info() != Eigen::Success) return false;
    step = -llt.solve(g);
  }
  return step.allFinite();
}

// Up to 8 Newton steps near the minimum (x, g, e, fmax updated while each lowers max|F|); false
// if one failed (no positive-definite Hessian, a step over 0.1 σ, or no lower max|F|).
bool newton_polish(const LocalModel& model, Vector& x, Vector& g, double& e, double& fmax, double f_tol) {
  for (int k = 0; k < 8 && fmax > f_tol; ++k) {
    Vector step;
    if (!newton_min_step(model, x, g, step)) return false;
    if (LocalModel::max_bead_norm(step) > 0.1) return false;
    Vector xn = x + step, gn;
    const double en = model.energy_gradient(xn, gn);
    const double fn = LocalModel::max_force(gn);
    if (!(fn < fmax)) return false;
    x = xn;
    g = gn;
    e = en;
    fmax = fn;
  }
  return true;
}

// Backtracking line search from (x, e, g) along d; accept on Armijo, or on "no rise beyond
// round-off". The accepted point in (xn, en, gn); false if none.
bool backtrack(const LocalModel& model, const Vector& x, double e, const Vector& g, const Vector& d, Vector& xn,
               double& en, Vector& gn) {
  const double slope = g.dot(d);
  const double round_off = 1e-13 * std::max(1.0, std::abs(e));
  double a = 1.0;
  for (int bt = 0; bt < 30; ++bt) {
    xn = x + a * d;
    en = model.energy_gradient(xn, gn);
    if (en <= e + 1e-4 * a * slope || (en <= e + round_off && std::abs(gn.dot(d)) <= 0.9 * std::abs(slope)))
      return true;
    a *= 0.3;
  }
  return false;
}

}  // namespace

MinimizeOutcome minimize_local(const LocalModel& model, Vector x, const MinimizerParams& p) {
  MinimizeOutcome out;
  Vector g;
  double e = model.energy_gradient(x, g);
  LbfgsPairs hist;
  double polish_failed_at = HUGE_VAL;  // max|F| at the last failed Newton polish
  long it = 0;
  for (; it < p.max_iter; ++it) {
    double fmax = LocalModel::max_force(g);
    heartbeat("minimisation", it, "max|F|", fmax);
    if (fmax <= p.f_tol) break;
    // Newton polish near the minimum.
    if (fmax < p.polish_below && fmax < 0.1 * polish_failed_at) {
      const bool ok = newton_polish(model, x, g, e, fmax, p.f_tol);
      if (fmax <= p.f_tol) break;
      if (!ok) polish_failed_at = fmax;
      hist.clear();
    }
    const Vector d = capped(lbfgs_direction(hist, g, 0.01), p.max_step);
    Vector xn, gn;
    double en = e;
    if (!backtrack(model, x, e, g, d, xn, en, gn)) {
      if (hist.empty()) break;  // steepest descent failed too: give up
      hist.clear();
      continue;
    }
    hist.add(xn - x, gn - g, p.memory);
    x = xn;
    g = gn;
    e = en;
  }
  out.x = x;
  out.energy = e;
  out.max_force = LocalModel::max_force(g);
  out.iterations = it;
  out.converged = out.max_force <= p.f_tol;
  return out;
}

namespace {

// The Lanczos path of converge_saddle for large domains (see local_optimize.hpp).
SaddleOutcome converge_saddle_large(const LocalModel& model, Vector x, const SaddleParams& p, const Vector& follow) {
  SaddleOutcome out;
  Vector g, v = follow;
  int convex = 0;  // consecutive steps with λ₁ >= 0
  for (int step = 0;; ++step) {
    const double e = model.energy_gradient(x, g);
    const double fmax = LocalModel::max_force(g);
    out.x = x;
    out.energy = e;
    out.max_force = fmax;
    out.steps = step;
    heartbeat("saddle convergence", step, "max|F|", fmax);
    if (fmax <= p.f_tol) {  // verify with the full spectrum, once
      const Spectrum sp = spectrum(model, x, p.exact_mode);
      out.lowest_eigenvalue = sp.values[0];
      out.second_eigenvalue = sp.values.size() > 1 ? sp.values[1] : HUGE_VAL;
      out.mode = p.exact_mode ? Vector(sp.vectors.col(0)) : v;
      out.n_negative = sp.n_negative(p.eigenvalue_tol);
      out.converged = out.n_negative == 1 && sp.nondegenerate(p.eigenvalue_tol);
      return out;
    }
    if (step >= p.max_steps || convex > p.max_convex_steps || !x.allFinite()) return out;
    const Matrix h = model.hessian(x);
    double lam2 = HUGE_VAL;
    const double lam = lowest_eigenpair(h, v, v, &lam2);
    convex = lam >= 0.0 ? convex + 1 : 0;
    out.lowest_eigenvalue = lam;
    out.second_eigenvalue = lam2;
    out.mode = v;
    Vector dx;
    bool done = false;
    if (lam < -p.eigenvalue_tol && lam2 > p.eigenvalue_tol && fmax < 1e-2) {  // Newton near the saddle
      Eigen::PartialPivLU<Matrix> lu(h);
      dx = -lu.solve(g);
      done = dx.allFinite();
    }
    if (!done) {
      const double g1 = v.dot(g);
      const Vector gperp = g - g1 * v;
      const double h1 = 2.0 * g1 / (std::abs(lam) + std::sqrt(lam * lam + 4.0 * g1 * g1) + 1e-300);
      Matrix ht = h;
      ht.noalias() += (std::abs(lam) - lam) * v * v.transpose();
      Eigen::LLT<Matrix> llt(ht);
      // More than one negative mode (a push that compressed stiff bonds: their transverse curvature
      // is k(1 − r₀/r) < 0): shift H̃ by μ until it is positive definite, a Levenberg step scaled by
      // each mode's curvature. Steepest descent at a fixed step overshoots the stiff modes and
      // oscillates at the trust radius (400 steps per attempt on polar dimers, none converged).
      // lam2, a Ritz value, is an upper bound of λ₂, so μ may start too small: doubled until H̃ + μI is
      // positive definite.
      double mu = std::max(-2.0 * lam2, 1.0);
      for (int tries = 0; llt.info() != Eigen::Success && tries < 60; ++tries, mu *= 2.0)
        llt.compute(ht + mu * Matrix::Identity(ht.rows(), ht.cols()));
      Vector dperp;
      if (llt.info() == Eigen::Success) dperp = -llt.solve(gperp);
      else dperp = -gperp * std::min(0.02, p.trust_radius / std::max(LocalModel::max_bead_norm(gperp), 1e-300));
      dperp -= v.dot(dperp) * v;
      dx = h1 * v + dperp;
    }
    x += capped(dx, p.trust_radius);
  }
}

}  // namespace

SaddleOutcome converge_saddle(const LocalModel& model, Vector x, const SaddleParams& p, const Vector& follow) {
  if (!model.free_cluster() && model.n_dof() > p.dense_limit) return converge_saddle_large(model, x, p, follow);
  SaddleOutcome out;
  Vector g;
  Vector prev_mode = follow;
  int convex = 0;  // consecutive steps with λ₁ >= 0
  int step = 0;
  for (;; ++step) {
    const double e = model.energy_gradient(x, g);
    const Spectrum sp = spectrum(model, x);
    const double fmax = LocalModel::max_force(g);
    // The followed mode: the lowest, unless another overlaps much more with the previous one
    // (avoids jumping between modes when the two lowest eigenvalues cross while climbing); with
    // track_always, the one overlapping most, even once the lowest has turned negative.
    int k = 0;
    if (prev_mode.size() == x.size() && sp.values.size() > 1 && (sp.values[0] > 0.0 || p.track_always)) {
      const int n_look = std::min<int>(p.track_modes, static_cast<int>(sp.values.size()));
      double best = -1.0;
      for (int i = 0; i < n_look; ++i) {
        const double o = std::abs(sp.vectors.col(i).dot(prev_mode));
        if (o > best) {
          best = o;
          k = i;
        }
      }
    }
    out.x = x;
    out.energy = e;
    out.max_force = fmax;
    out.lowest_eigenvalue = sp.values[0];
    out.second_eigenvalue = sp.values.size() > 1 ? sp.values[1] : HUGE_VAL;
    out.mode = sp.vectors.col(0);
    out.n_negative = sp.n_negative(p.eigenvalue_tol);
    out.steps = step;
    heartbeat("saddle convergence", step, "max|F|", fmax);
    if (fmax <= p.f_tol) {
      out.converged = out.n_negative == 1 && sp.nondegenerate(p.eigenvalue_tol);
      return out;
    }
    convex = sp.values[0] >= 0.0 ? convex + 1 : 0;
    if (step >= p.max_steps || convex > p.max_convex_steps || !x.allFinite()) return out;
    // Eigenvector-following step: uphill along mode k, downhill along the others.
    const Eigen::VectorXd gm = sp.vectors.transpose() * g;
    Eigen::VectorXd hm(gm.size());
    for (Eigen::Index i = 0; i < gm.size(); ++i) {
      const double b = sp.values[i], gi = gm[i];
      const double h = 2.0 * gi / (std::abs(b) + std::sqrt(b * b + 4.0 * gi * gi) + 1e-300);
      hm[i] = (i == k) ? h : -h;
    }
    Vector dx = capped(sp.vectors * hm, p.trust_radius);
    prev_mode = sp.vectors.col(k);
    x += dx;
  }
}

}  // namespace tlsmap
