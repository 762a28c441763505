#pragma once
// Pair potentials (HOOMD's evaluator pattern): a parameter struct per species pair and an
// evaluate(r², params) that returns f/r and the energy. One templated pair loop (forces.hpp) does
// neighbours, cut-off test and virial for every potential.
//
// Units: reduced Lennard-Jones units (σ_AA, ε_AA, m, τ = σ sqrt(m/ε)), as LAMMPS `units lj`.
#include <string>
#include <vector>

namespace tlsmap {

// Lennard-Jones, truncated at rc and shifted so that u(rc) = 0:
//   u(r) = 4ε[(σ/r)^12 − (σ/r)^6] − u_LJ(rc),   f/r = 24ε[2(σ/r)^12 − (σ/r)^6] / r².
struct LennardJones {
  struct Params {
    double epsilon = 0.0, sigma = 1.0, rc = 0.0;
    double sigma2 = 1.0, rc2 = 0.0, shift = 0.0;  // derived by make()
    static Params make(double epsilon, double sigma, double rc);
  };
  struct Result {
    double f_over_r, energy;
  };
  static Result evaluate(double r2, const Params& p) {
    const double s2 = p.sigma2 / r2;
    const double s6 = s2 * s2 * s2;
    return {24.0 * p.epsilon * s6 * (2.0 * s6 - 1.0) / r2, 4.0 * p.epsilon * s6 * (s6 - 1.0) - p.shift};
  }
};

// Parameters for every species pair, symmetric, n_species² entries.
template <class Potential>
class PairTable {
 public:
  using Params = typename Potential::Params;
  PairTable() = default;
  explicit PairTable(int n_species) : n_(n_species), p_(static_cast<std::size_t>(n_species) * n_species) {}
  int n_species() const { return n_; }
  const Params& operator()(int a, int b) const { return p_[a * n_ + b]; }
  void set(int a, int b, const Params& p) {
    p_[a * n_ + b] = p;
    p_[b * n_ + a] = p;
  }
  double max_cutoff() const {
    double m = 0.0;
    for (const auto& p : p_) m = p.rc > m ? p.rc : m;
    return m;
  }

 private:
  int n_ = 0;
  std::vector<Params> p_;
};

using LJTable = PairTable<LennardJones>;

// Kob–Andersen 80:20 binary mixture (Phys. Rev. E 51, 4626 (1995)): ε_AA=1, σ_AA=1, ε_AB=1.5,
// σ_AB=0.8, ε_BB=0.5, σ_BB=0.88, rc = 2.5 σ_αβ, shifted. Species 0 = A, 1 = B.
LJTable kob_andersen();
// Single-species Lennard-Jones, ε = σ = 1, rc = 2.5 (shifted).
LJTable lennard_jones(double rc = 2.5);
// Registry by input name: "kob-andersen", "lennard-jones". Throws Error for an unknown name.
LJTable make_model(const std::string& name);
// Number fraction of each species the model's packings use (KA: 0.8, 0.2).
std::vector<double> model_composition(const std::string& name);

}  // namespace tlsmap
