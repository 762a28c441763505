#pragma once
// Active charges (charge.mode = "active", docs/polar.md) as every stage reads them: the [coulomb]
// settings of the input.
#include <optional>
#include <string>
#include "tlsmap/core/box.hpp"
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/md/pair_potential.hpp"

namespace tlsmap {

// The Coulomb split of a sample in `box` from coulomb.accuracy, cutoff, epsilon and solver, its
// real-space cutoff at most half the box minus the list skin; nullopt unless charge.mode = "active".
std::optional<CoulombParams> active_coulomb_from_input(const Input& in, const Box& box, double skin);

// Whether the charges act (charge.mode = "active"), checked against system.model: a bonded model
// carries its charges and needs them active; the others' charges are assigned after the glass was
// made and cannot act. Input::fail naming charge.mode otherwise.
bool charges_act(const Input& in);

// Error unless a sample read from `where` carries bonds exactly when `model` has them. `setting`
// names how the model was chosen, as the message quotes it: `system.model = "kob-andersen"` for an
// input (input_model_setting), `--model kob-andersen` for a command-line flag.
void check_bonds_match_model(const Model& model, const std::string& setting, bool has_bonds, const std::string& where);
// `system.model = "NAME"`, the setting of an input file.
std::string input_model_setting(const std::string& model_name);

}  // namespace tlsmap
