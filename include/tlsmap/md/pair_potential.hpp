#pragma once
// Pair potentials (HOOMD's evaluator pattern): a parameter struct per species pair and an
// evaluate(r², params) that returns f/r and the energy. One templated pair loop (forces.hpp) does
// neighbours, cut-off test and virial for every potential.
//
// Two kinds of model:
//  - species models (Kob–Andersen, Lennard-Jones): parameters per species pair, in a PairTable;
//  - the continuously polydisperse soft spheres: parameters per pair from the two beads' diameters
//    (Beads::diameter) by a mixing rule, evaluated inside the pair loop: no table.
// `Model` holds either; `model_by_name` is the registry of input names.
//
// Units: reduced Lennard-Jones units (σ_AA, ε_AA, m, τ = σ sqrt(m/ε)), as LAMMPS `units lj`; for
// the soft spheres the length unit is the mean diameter and the energy unit their ε.
#include <cmath>
#include <optional>
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

// Continuously polydisperse soft spheres: Ninarello, Berthier & Coslovich, PRX 7, 021039 (2017),
// as used by Khomenko et al., PRL 124, 225901 (2020) and Ciarella et al., Nat. Commun. 14, 4229
// (2023). With y = r / σ_ij,
//   v(r) = ε [y^-12 + c0 + c2 y² + c4 y⁴]  for y < 1.25, 0 beyond,
// where c0, c2, c4 make v, v' and v'' vanish at y_c = 1.25: from v'(y_c) = v''(y_c) = 0,
// c4 = −21 y_c^-16 and c2 = 48 y_c^-14; then v(y_c) = 0 gives c0 = −28 y_c^-12. Non-additive
// mixing: σ_ij = ½ (σ_i + σ_j)(1 − 0.2 |σ_i − σ_j|). ε = 1 (the energy unit), masses 1.
//
// Diameters follow P(σ) ∝ σ^-3 on [σ_min, σ_max] = [0.73, 1.62] (ratio 2.219), the bounds of the
// papers and of their published configurations, whose diameters are exactly the quantiles σ(k/N);
// the law's mean 2 σ_min σ_max / (σ_min + σ_max) = 1.00647 is the papers' nominal "mean 1" (the
// 0.2 of the mixing rule has a length unit, so [0.73, 1.62] cannot be rescaled to mean 1 without
// changing the model; docs/input.md). For diameters below 2.5,
// σ_ij grows with either diameter (∂σ_ij/∂σ_j = ½ (1 ± 0.4 σ_j) > 0), so the largest σ_ij is σ_max
// itself and the neighbour-list cutoff is 1.25 σ_max.
namespace detail {
constexpr double power(double x, int n) { return n == 0 ? 1.0 : x * power(x, n - 1); }
}  // namespace detail

struct PolydisperseSoftSphere {
  static constexpr double kCutRatio = 1.25;     // y_c: r_c = 1.25 σ_ij
  static constexpr double kCutRatio2 = 1.5625;  // y_c², exact in binary
  static constexpr double kNonAdditivity = 0.2;
  static constexpr double kSigmaMin = 0.73;  // σ_max / σ_min = 2.219
  static constexpr double kSigmaMax = 1.62;
  static constexpr double kDiameterLimit = 2.5;  // where σ_ij stops growing with the diameters
  // y_c^n = 5^n / 4^n are exact doubles for n <= 22, so each coefficient is one rounding.
  static constexpr double c0 = -28.0 / detail::power(kCutRatio, 12);
  static constexpr double c2 = 48.0 / detail::power(kCutRatio, 14);
  static constexpr double c4 = -21.0 / detail::power(kCutRatio, 16);

  // Largest diameter the engine accepts: sets the neighbour-list cutoff 1.25 sigma_max.
  double sigma_max = kSigmaMax;

  // The model for configurations whose diameters reach max_diameter (published data slightly exceed
  // kSigmaMax): sigma_max = max(kSigmaMax, max_diameter). Throws Error for diameters that are not
  // positive or reach kDiameterLimit.
  static PolydisperseSoftSphere for_diameters_up_to(double max_diameter);
  double max_cutoff() const { return kCutRatio * sigma_max; }

  static double mix(double sigma_i, double sigma_j) {
    return 0.5 * (sigma_i + sigma_j) * (1.0 - kNonAdditivity * std::abs(sigma_i - sigma_j));
  }
  struct Result {
    double f_over_r, energy;
  };
  // Pair at squared distance r2 with mixed diameter sigma_ij, inside the cutoff (the caller tests
  // r2 < kCutRatio2 sigma_ij²): f/r = (12 y^-14 − 2 c2 − 4 c4 y²) / σ_ij².
  static Result evaluate(double r2, double sigma_ij) {
    const double inv_s2 = 1.0 / (sigma_ij * sigma_ij);
    const double y2 = r2 * inv_s2, inv_y2 = (sigma_ij * sigma_ij) / r2;
    const double inv_y6 = inv_y2 * inv_y2 * inv_y2, inv_y12 = inv_y6 * inv_y6;
    return {inv_s2 * (12.0 * inv_y12 * inv_y2 - 2.0 * c2 - 4.0 * c4 * y2), inv_y12 + c0 + y2 * (c2 + c4 * y2)};
  }
  // The diameter at quantile u in [0, 1] of P(σ) ∝ σ^-3 on [kSigmaMin, kSigmaMax] (inverse CDF:
  // F(σ) = (σ_min^-2 − σ^-2) / (σ_min^-2 − σ_max^-2)).
  static double diameter_at(double u) {
    const double a = 1.0 / (kSigmaMin * kSigmaMin), b = 1.0 / (kSigmaMax * kSigmaMax);
    return 1.0 / std::sqrt(a - u * (a - b));
  }
};

// Kob–Andersen 80:20 binary mixture (Phys. Rev. E 51, 4626 (1995)): ε_AA=1, σ_AA=1, ε_AB=1.5,
// σ_AB=0.8, ε_BB=0.5, σ_BB=0.88, rc = 2.5 σ_αβ, shifted. Species 0 = A, 1 = B.
LJTable kob_andersen();
// Single-species Lennard-Jones, ε = σ = 1, rc = 2.5 (shifted).
LJTable lennard_jones(double rc = 2.5);

// The interaction model of a System: a species table, or per-bead diameters (then `table` is
// empty and every bead needs Beads::diameter). Implicit from an LJTable, so code written for
// species models passes its table as before.
// A harmonic bond u(r) = ½ k (r − r0)² between a bead and its partner (md/bonds.hpp).
struct HarmonicBond {
  double k = 0.0, r0 = 1.0;
};

struct Model {
  std::string name;                                    // input name; empty for a bare table
  LJTable table;                                       // species models
  std::optional<PolydisperseSoftSphere> polydisperse;  // per-bead diameters
  std::optional<HarmonicBond> bond;                    // bonded models: every bead has one partner
  Model(LJTable t, std::string name_ = {}) : name(std::move(name_)), table(std::move(t)) {}  // NOLINT: implicit
  explicit Model(const PolydisperseSoftSphere& p) : name(kPolydisperseName), polydisperse(p) {}
  bool has_diameters() const { return polydisperse.has_value(); }
  bool has_bonds() const { return bond.has_value(); }
  double max_cutoff() const { return polydisperse ? polydisperse->max_cutoff() : table.max_cutoff(); }
  static constexpr const char* kPolydisperseName = "polydisperse-soft-sphere";
  static constexpr const char* kPolarDimersName = "polar-dimers";
};

// Polar dimers (tlsmap's own model, docs/polar.md): molecules of one A and one B bead joined by a
// harmonic bond, charges +ζ on A and −ζ on B. Lennard-Jones with ε = 1 for every pair, σ_AA = 1,
// σ_AB = 0.95, σ_BB = 0.9, each cut at 2.5 σ_ab and shifted; bond k = 2000 ε/σ², r0 = 0.8 σ; the
// bonded pair does not interact otherwise (md/bonds.hpp). Masses 1.
LJTable polar_dimer_table();
constexpr double kPolarDimerBondK = 2000.0, kPolarDimerBondLength = 0.8;

// Registry by input name: "kob-andersen", "lennard-jones", "polydisperse-soft-sphere" (with the
// default diameter range), "polar-dimers" (with its bond). Throws Error for an unknown name.
Model model_by_name(const std::string& name);
// The model of a sample read from a file: the named model; for per-bead diameters the polydisperse
// soft spheres with the list range of the sample's largest diameter (published configurations
// slightly exceed kSigmaMax). Throws Error naming `where` when the model needs diameters and the
// sample has none.
Model model_for_sample(const std::string& name, const std::vector<double>& diameter, const std::string& where);
// Whether the named model has per-bead diameters (throws Error for an unknown name).
bool model_has_diameters(const std::string& name);
// The species table of a species model. Throws Error for an unknown name, and for the
// polydisperse model (no table: the code asking does not support per-bead diameters yet).
LJTable make_model(const std::string& name);
// Number fraction of each species the model's packings use (KA: 0.8, 0.2; one species otherwise).
std::vector<double> model_composition(const std::string& name);

}  // namespace tlsmap
