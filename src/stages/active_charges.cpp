// Active charges from the input (see active_charges.hpp).
#include "tlsmap/stages/active_charges.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/md/pair_potential.hpp"

namespace tlsmap {

std::optional<CoulombParams> active_coulomb_from_input(const Input& in, const Box& box, double skin) {
  if (in.get_string("charge.mode") != "active") return std::nullopt;
  return coulomb_params(box, in.get_double("coulomb.accuracy"), in.get_double("coulomb.cutoff"),
                        in.get_double("coulomb.epsilon"), 0.5 * box.len.minCoeff() - skin, 16,
                        coulomb_solver_by_name(in.get_string("coulomb.solver")));
}

bool charges_act(const Input& in) {
  const std::string model = in.get_string("system.model");
  const bool bonded = model_by_name(model).has_bonds(), active = in.get_string("charge.mode") == "active";
  if (bonded && !active)
    in.fail("charge.mode", "model \"" + model + "\" carries its charges: set charge.mode = \"active\"");
  if (!bonded && active)
    in.fail("charge.mode",
            "active charges need a model whose charges exist while the liquid forms "
            "(system.model = \"polar-dimers\")");
  return active;
}

void check_bonds_match_model(const Model& model, const std::string& setting, bool has_bonds, const std::string& where) {
  if (model.has_bonds() == has_bonds) return;
  throw Error(where + (has_bonds ? ": has bonds, which " + setting + " does not have"
                                 : ": has no bonds, which " + setting + " needs"));
}

std::string input_model_setting(const std::string& model_name) { return "system.model = \"" + model_name + "\""; }

}  // namespace tlsmap
