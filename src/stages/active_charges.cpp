// Active charges from the input (see active_charges.hpp).
#include "tlsmap/stages/active_charges.hpp"

namespace tlsmap {

std::optional<CoulombParams> active_coulomb_from_input(const Input& in, const Box& box, double skin) {
  if (in.get_string("charge.mode") != "active") return std::nullopt;
  return coulomb_params(box, in.get_double("coulomb.accuracy"), in.get_double("coulomb.cutoff"),
                        in.get_double("coulomb.epsilon"), 0.5 * box.len.minCoeff() - skin, 16,
                        coulomb_solver_by_name(in.get_string("coulomb.solver")));
}

}  // namespace tlsmap
