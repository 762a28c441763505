#pragma once
// The Ewald real-space pair kernel tabulated in s = r² (core/binade_table.hpp), so that a pair costs a
// table lookup and two Horner chains instead of sqrt, erfc, exp and two divisions (docs/electrostatics.md §6):
//
//   e(s) = erfc(α r)/r                                  the pair energy per unit q_i q_j/ε
//   f(s) = [erfc(α r)/r + (2α/√π) e^{−α² r²}] / r²      the force per unit q_i q_j/ε along r_ij
//
// Both to 1e-13 relative (measured at construction against libm); below r_c/16 the libm path. Every
// pair of every rank goes through the same function, so rank-independent bits are unaffected.
#include "tlsmap/core/binade_table.hpp"

namespace tlsmap {

class RealSpaceTable {
 public:
  RealSpaceTable() = default;
  // Throws Error unless alpha > 0 and cutoff > 0.
  RealSpaceTable(double alpha, double cutoff);

  // The kernel at s > 0 (outside the table's range, the libm path).
  void evaluate(double s, double& e, double& f) const {
    if (!table_.covers(s)) return exact(s, e, f);
    BinadeTable<2>::Values v;
    table_.evaluate(s, v);
    e = v[0], f = v[1];
  }

  // The libm path: the definition above.
  void exact(double s, double& e, double& f) const;

  bool tabulated() const { return table_.usable(); }
  double max_relative_error() const { return table_.max_error(); }  // measured at construction
  double lower_limit() const { return table_.lower(); }             // s below this takes the libm path
  int intervals_per_binade() const { return table_.intervals_per_binade(); }

  static constexpr double tolerance = 1e-13;

 private:
  double alpha_ = 0.0, two_a_rpi_ = 0.0;
  BinadeTable<2> table_;
};

}  // namespace tlsmap
