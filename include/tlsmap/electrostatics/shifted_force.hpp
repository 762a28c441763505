#pragma once
// Damped shifted-force Coulomb (DSF; Fennell & Gezelter, J. Chem. Phys. 124, 234104 (2006)): a
// pairwise, short-ranged stand-in for the Ewald sum where a whole-sample sum cannot be afforded, i.e.
// in the serial local model of one search domain (search/local_model.hpp). For a pair at r < R_c,
//   u(r)   = (q_i q_j / ε) [erfc(αr)/r − erfc(αR_c)/R_c + C (r − R_c)],
//   f(r)   = −u′(r) = (q_i q_j / ε) [erfc(αr)/r² + (2α/√π) e^{−α²r²}/r − C],
//   C      = erfc(αR_c)/R_c² + (2α/√π) e^{−α²R_c²}/R_c,
// so that u and f both vanish at R_c (no impulse when a pair crosses it) and u = 0 beyond. The
// neglected long-range part is small when the charges are locally neutral (molecules, ionic
// glasses): what the test of each use measures. The self term −(erfc(αR_c)/(2R_c) + α/√π) Σq²/ε is a
// constant for fixed charges and is left out (only energy differences are used).
#include <cmath>

namespace tlsmap {

class ShiftedForceCoulomb {
 public:
  ShiftedForceCoulomb() = default;  // switched off (cutoff 0)
  // Throws Error unless cutoff > 0, alpha >= 0 and epsilon > 0.
  ShiftedForceCoulomb(double cutoff, double alpha, double epsilon);

  bool on() const { return cutoff_ > 0.0; }
  double cutoff() const { return cutoff_; }
  double alpha() const { return alpha_; }
  double epsilon() const { return epsilon_; }

  struct Terms {
    double energy, f_over_r, dfr_dr2;  // u, f/r and d(f/r)/d(r²), per unit q_i q_j
  };

  // Per unit charge product q_i q_j at r² (< cutoff², not checked).
  Terms evaluate(double r2) const {
    const double r = std::sqrt(r2), inv_r = 1.0 / r, inv_r2 = inv_r * inv_r;
    const double erfc_r = std::erfc(alpha_ * r), gauss_r = two_alpha_pi_ * std::exp(-alpha_ * alpha_ * r2);
    const double energy = (erfc_r * inv_r - u_cut_ + c_ * (r - cutoff_)) * inv_eps_;
    const double f_over_r = (erfc_r * inv_r2 + gauss_r * inv_r - c_) * inv_r * inv_eps_;
    // d(f/r)/dr = −3 erfc/r⁴ − 3 g/r³ − 2α² g/r + C/r², with g = (2α/√π) e^{−α²r²}; over 2r.
    const double dfr_dr = -3.0 * erfc_r * inv_r2 * inv_r2 - 3.0 * gauss_r * inv_r2 * inv_r -
                          2.0 * alpha_ * alpha_ * gauss_r * inv_r + c_ * inv_r2;
    return {energy, f_over_r, 0.5 * dfr_dr * inv_r * inv_eps_};
  }

 private:
  double cutoff_ = 0.0, alpha_ = 0.0, epsilon_ = 1.0;
  double inv_eps_ = 1.0, two_alpha_pi_ = 0.0, u_cut_ = 0.0, c_ = 0.0;  // 1/ε, 2α/√π, erfc(αR_c)/R_c, C
};

}  // namespace tlsmap
