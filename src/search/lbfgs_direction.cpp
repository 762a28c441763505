#include "tlsmap/search/lbfgs_direction.hpp"

#include "tlsmap/search/local_model.hpp"

#include <algorithm>
#include <vector>

namespace tlsmap {

void LbfgsPairs::clear() {
  s.clear();
  y.clear();
  rho.clear();
}

void LbfgsPairs::add(const Eigen::VectorXd& sv, const Eigen::VectorXd& yv, int memory) {
  const double sy = sv.dot(yv);
  if (!(sy > 1e-300)) return;
  s.push_back(sv);
  y.push_back(yv);
  rho.push_back(1.0 / sy);
  if (static_cast<int>(s.size()) > memory) {
    s.pop_front();
    y.pop_front();
    rho.pop_front();
  }
}

Eigen::VectorXd lbfgs_direction(LbfgsPairs& h, const Eigen::VectorXd& g, double first_step) {
  const auto steepest = [&] {
    const double gmax = LocalModel::max_force(g);
    return Eigen::VectorXd(-g * std::min(1.0, first_step / std::max(gmax, 1e-300)));
  };
  if (h.empty()) return steepest();
  Eigen::VectorXd q = g;
  std::vector<double> alpha(h.s.size());
  for (int k = static_cast<int>(h.s.size()) - 1; k >= 0; --k) {
    alpha[k] = h.rho[k] * h.s[k].dot(q);
    q -= alpha[k] * h.y[k];
  }
  q *= h.s.back().dot(h.y.back()) / h.y.back().squaredNorm();
  for (std::size_t k = 0; k < h.s.size(); ++k) {
    const double beta = h.rho[k] * h.y[k].dot(q);
    q += (alpha[k] - beta) * h.s[k];
  }
  Eigen::VectorXd d = -q;
  if (!(g.dot(d) < 0.0) || !d.allFinite()) {
    h.clear();
    return steepest();
  }
  return d;
}

}  // namespace tlsmap
