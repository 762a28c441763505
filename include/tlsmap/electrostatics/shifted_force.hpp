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
#include "tlsmap/core/binade_table.hpp"

#include <array>
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

  // Per unit charge product q_i q_j at r² (callers use r² < cutoff²): tabulated in r²
  // (core/binade_table.hpp) to 1e-13 of the magnitude of the terms of each (they cancel at the
  // cutoff); below R_c/16 and beyond R_c the formulas.
  Terms evaluate(double r2) const {
    if (!table_.covers(r2)) return exact(r2);
    BinadeTable<3>::Values v;
    table_.evaluate(r2, v);
    return {v[0], v[1], v[2]};
  }

  // u and f/r only (the energy and gradient of a pair; the Hessian needs evaluate()).
  struct EnergyForce {
    double energy, f_over_r;
  };
  EnergyForce energy_force(double r2) const {
    if (!table_.covers(r2)) {
      const Terms t = exact(r2);
      return {t.energy, t.f_over_r};
    }
    std::array<double, 2> v;
    table_.evaluate_first<2>(r2, v);
    return {v[0], v[1]};
  }

  // The formulas above (libm).
  Terms exact(double r2) const { return terms(r2).value; }

  bool tabulated() const { return table_.usable(); }
  double max_table_error() const { return table_.max_error(); }  // relative to the terms' magnitudes
  static constexpr double table_tolerance = 1e-13;

 private:
  struct Evaluated {
    Terms value, scale;  // scale: the sum of the magnitudes of each quantity's terms
  };
  Evaluated terms(double r2) const;

  BinadeTable<3> table_;
  double cutoff_ = 0.0, alpha_ = 0.0, epsilon_ = 1.0;
  double inv_eps_ = 1.0, two_alpha_pi_ = 0.0, u_cut_ = 0.0, c_ = 0.0;  // 1/ε, 2α/√π, erfc(αR_c)/R_c, C
};

}  // namespace tlsmap
