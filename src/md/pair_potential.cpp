#include "tlsmap/md/pair_potential.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>

namespace tlsmap {

LennardJones::Params LennardJones::Params::make(double epsilon, double sigma, double rc) {
  Params p;
  p.epsilon = epsilon;
  p.sigma = sigma;
  p.rc = rc;
  p.sigma2 = sigma * sigma;
  p.rc2 = rc * rc;
  p.shift = 0.0;
  p.shift = LennardJones::evaluate(p.rc2, p).energy;
  return p;
}

LJTable kob_andersen() {
  LJTable t(2);
  t.set(0, 0, LennardJones::Params::make(1.0, 1.0, 2.5 * 1.0));
  t.set(0, 1, LennardJones::Params::make(1.5, 0.8, 2.5 * 0.8));
  t.set(1, 1, LennardJones::Params::make(0.5, 0.88, 2.5 * 0.88));
  return t;
}

LJTable polar_dimer_table() {
  LJTable t(2);
  t.set(0, 0, LennardJones::Params::make(1.0, 1.0, 2.5 * 1.0));
  t.set(0, 1, LennardJones::Params::make(1.0, 0.95, 2.5 * 0.95));
  t.set(1, 1, LennardJones::Params::make(1.0, 0.9, 2.5 * 0.9));
  return t;
}

LJTable lennard_jones(double rc) {
  LJTable t(1);
  t.set(0, 0, LennardJones::Params::make(1.0, 1.0, rc));
  return t;
}

namespace {

constexpr const char* kKnownModels = "kob-andersen, lennard-jones, polydisperse-soft-sphere, polar-dimers";

[[noreturn]] void unknown_model(const std::string& name) {
  throw Error("unknown model '" + name + "' (known: " + kKnownModels + ")");
}

bool is_polydisperse(const std::string& name) { return name == Model::kPolydisperseName; }

}  // namespace

PolydisperseSoftSphere PolydisperseSoftSphere::for_diameters_up_to(double max_diameter) {
  if (!(max_diameter > 0.0 && max_diameter < kDiameterLimit))
    throw Error("polydisperse soft spheres: largest diameter " + std::to_string(max_diameter) +
                " outside (0, 2.5): the neighbour-list range assumes that sigma_ij grows with both diameters, "
                "which the mixing rule guarantees below 2.5 only");
  PolydisperseSoftSphere p;
  p.sigma_max = std::max(kSigmaMax, max_diameter);
  return p;
}

Model model_by_name(const std::string& name) {
  if (is_polydisperse(name)) return Model(PolydisperseSoftSphere{});
  if (name == "kob-andersen") return Model(kob_andersen(), name);
  if (name == "lennard-jones") return Model(lennard_jones(), name);
  if (name == Model::kPolarDimersName) {
    Model m(polar_dimer_table(), name);
    m.bond = HarmonicBond{.k = kPolarDimerBondK, .r0 = kPolarDimerBondLength};
    return m;
  }
  unknown_model(name);
}

Model model_for_sample(const std::string& name, const std::vector<double>& diameter, const std::string& where) {
  Model m = model_by_name(name);
  if (!m.has_diameters()) return m;
  if (diameter.empty())
    throw Error(where + ": model '" + name +
                "' needs per-bead diameters (/particles/all/diameter), and there are none");
  return Model(PolydisperseSoftSphere::for_diameters_up_to(*std::max_element(diameter.begin(), diameter.end())));
}

bool model_has_diameters(const std::string& name) { return model_by_name(name).has_diameters(); }

LJTable make_model(const std::string& name) {
  Model m = model_by_name(name);
  if (m.has_diameters())
    throw Error("model '" + name +
                "' has per-bead diameters, not a species table; this part of tlsmap "
                "supports kob-andersen and lennard-jones only so far");
  if (m.has_bonds())
    throw Error("model '" + name +
                "' has bonds, which a bare species table would drop; this part of tlsmap "
                "supports kob-andersen and lennard-jones only so far");
  return std::move(m.table);
}

std::vector<double> model_composition(const std::string& name) {
  if (name == "kob-andersen") return {0.8, 0.2};
  if (name == "lennard-jones" || is_polydisperse(name)) return {1.0};
  if (name == Model::kPolarDimersName) return {0.5, 0.5};
  unknown_model(name);
}

}  // namespace tlsmap
