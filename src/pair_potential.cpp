#include "tlsmap/pair_potential.hpp"

#include "tlsmap/error.hpp"

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

LJTable lennard_jones(double rc) {
  LJTable t(1);
  t.set(0, 0, LennardJones::Params::make(1.0, 1.0, rc));
  return t;
}

LJTable make_model(const std::string& name) {
  if (name == "kob-andersen") return kob_andersen();
  if (name == "lennard-jones") return lennard_jones();
  throw Error("unknown model '" + name + "' (known: kob-andersen, lennard-jones)");
}

std::vector<double> model_composition(const std::string& name) {
  if (name == "kob-andersen") return {0.8, 0.2};
  if (name == "lennard-jones") return {1.0};
  throw Error("unknown model '" + name + "' (known: kob-andersen, lennard-jones)");
}

}  // namespace tlsmap
