#pragma once
// LocalModel: a serial, self-contained energy model of one TLS-search domain (or of a free cluster).
//
// The parallel driver gathers, for each domain, the beads that may move (the "mobile" beads inside
// the domain sphere) and a shell of frozen beads around them (the paper's boundary state Ω_b), and
// hands them over as a LocalConfig. Everything the event search needs — energy, gradient, dense
// analytic Hessian — is computed here on that copy alone: no communicator, no halo, no System.
//
// Energy convention. E(x) = Σ u(r_ij) over every pair with at least ONE mobile bead (mobile–mobile
// and mobile–frozen). Frozen–frozen pairs are a constant of the domain and are omitted, so E is the
// total potential energy of the sample minus a constant; energy differences (asymmetry, barrier)
// are exact. To report a whole-sample energy, the driver adds E_sample(start) − E(start) once.
//
// Coordinates. A configuration of the domain is a Vector x of 3 n_mobile numbers
// (x_0, y_0, z_0, x_1, ...) for the mobile beads in the order of LocalConfig; frozen beads never
// move. Positions need not be wrapped: every pair distance is the minimum image in the box, so the
// box edges must be at least 2 × (largest cut-off) — checked, Error otherwise. Masses: all beads
// have the reduced mass m = 1 (the Kob–Andersen model and the polydisperse soft spheres have equal
// masses), so mass-weighted and Cartesian coordinates coincide. Models: a species table, or per-bead
// diameters (LocalConfig::diameter; the polydisperse soft spheres).
//
// Molecules and active charges (polar dimers, docs/polar.md). A bead with a bond partner in the
// copy (LocalConfig::partner) interacts with it through the harmonic bond only (no pair potential,
// no Coulomb). Charges (LocalConfig::charge) interact through the damped shifted-force Coulomb
// (electrostatics/shifted_force.hpp) out to its cut-off: mobile charges see each other and the
// frozen charges of the shell. The rest of the whole-sample (Ewald) Coulomb force, what the short
// kernel leaves out, enters as a constant force on each mobile bead, fixed where the copy was cut:
// given the whole sample's forces there (LocalConfig::sample_force), the model adds
//   E_far(x) = −Σ_i f_i · (x_i − x_i⁰),  f_i = F_sample,i − F_local,i(x⁰),
// so that its forces at x⁰ are the sample's (a minimum of the sample is a minimum of the model) and
// the far field's change with the displacement is left out. That is the local model's one
// approximation of the whole-sample energy; docs/polar.md states what it costs, measured. F_sample
// is rounded to multiples of 2⁻²⁴ ε/σ (6e-8): the parallel Ewald sums differ between rank counts in
// the last bits (1e-16 ε/σ measured at a minimum), and rounded they give the same model, and the
// same search, at any rank count.
//
// Speed. A pair list (mobile–mobile and mobile–frozen pairs within rc + skin, each with its
// periodic shift fixed at build time) is cached and rebuilt only when a mobile bead has moved more
// than skin/2 from where it was at the last build (the standard Verlet criterion, exact). The list
// is built by brute force over mobile × all beads: O(n_mobile · n) once per rebuild, negligible
// next to a Hessian diagonalisation for the ~200 mobile / ~3000 bead domains of the default input.
// The cache is `mutable`: a LocalModel is not safe to share between threads; copy it instead
// (copies are cheap and independent — the NEB keeps one per image).
//
// Free clusters (LJ7/LJ13 tests): n_frozen == 0 in a box much larger than the cluster. Then the
// three translations and three rotations are zero modes; rigid_body_complement() gives an
// orthonormal basis of the internal coordinates, which the search uses for eigen-analysis.
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/vec3.hpp"
#include "tlsmap/electrostatics/shifted_force.hpp"
#include "tlsmap/md/pair_potential.hpp"

#include <Eigen/Dense>

#include <cstdint>
#include <vector>

namespace tlsmap {

struct LocalConfig {
  Box box;                       // periodic box used for minimum images (edges >= 2 rc_max)
  LJTable table;                 // per species pair LJ parameters (e.g. kob_andersen())
  std::vector<std::int64_t> id;  // permanent bead ids (1-based), carried into the results
  std::vector<int> species;      // species index into table, per bead
  std::vector<Vec3> pos;         // positions: mobile beads first [0, n_mobile), then frozen
  int n_mobile = 0;              // number of mobile beads (>= 1)
  // Per-bead diameters (same order as pos): when non-empty the model is the polydisperse soft
  // spheres (PolydisperseSoftSphere, σ_ij by its mixing rule) and `table` is not used.
  std::vector<double> diameter;
  // Bonded molecules: partner[k] is the id of bead k's bond partner (0: none); empty: no bonds. A
  // mobile bead's partner must be in the copy.
  std::vector<std::int64_t> partner;
  HarmonicBond bond;
  // Active charges (same order as pos); empty: no Coulomb. Then `coulomb` must be on.
  std::vector<double> charge;
  ShiftedForceCoulomb coulomb;
  // The whole sample's force on each mobile bead at pos (n_mobile), or empty: no far-field term.
  std::vector<Vec3> sample_force;
};

class LocalModel {
 public:
  using Vector = Eigen::VectorXd;  // 3 n_mobile mobile coordinates
  using Matrix = Eigen::MatrixXd;  // 3 n_mobile square

  // Checks the config (sizes agree, ids unique is NOT checked, 1 <= n_mobile <= n, species inside
  // the table, box edges >= 2 rc_max (the Coulomb cut-off included), skin >= 0, every mobile bead's
  // partner in the copy and naming it back) and throws Error naming the problem otherwise.
  // The skin is reduced if needed so that rc_max + skin <= min box edge / 2 (minimum image stays
  // unique for every listed pair).
  explicit LocalModel(LocalConfig config, double skin = 0.5);

  const LocalConfig& config() const { return config_; }
  int n_mobile() const { return config_.n_mobile; }
  int n_frozen() const { return static_cast<int>(config_.pos.size()) - config_.n_mobile; }
  int n_dof() const { return 3 * config_.n_mobile; }
  bool free_cluster() const { return n_frozen() == 0; }
  double skin() const { return skin_; }

  // The mobile coordinates of the config as handed over (the domain's starting configuration).
  Vector initial_coordinates() const;
  // Mobile bead positions of x as 3-vectors (same order as the config).
  std::vector<Vec3> positions(const Vector& x) const;
  // Minimum-image displacement of every mobile bead from a to b (b − a), as a flat vector.
  Vector displacement(const Vector& a, const Vector& b) const;

  // E(x): sum over pairs with at least one mobile bead (see the header comment).
  double energy(const Vector& x) const;
  // E(x), and grad = ∂E/∂x (the force on the mobile beads is −grad).
  double energy_gradient(const Vector& x, Vector& grad) const;
  // Dense analytic Hessian ∂²E/∂x∂x (3 n_mobile square, symmetric). Frozen beads enter through
  // the diagonal blocks only; they pin translations and rotations, so at a minimum of a domain
  // this matrix is positive definite as it stands.
  Matrix hessian(const Vector& x) const;

  // max_i |∂E/∂x_i| over mobile beads, |.| the Euclidean norm of each bead's 3-vector.
  static double max_force(const Vector& grad);
  // Largest Euclidean displacement of any single bead in a flat 3n vector.
  static double max_bead_norm(const Vector& v);

  // Orthonormal basis (columns) of the complement of the rigid-body modes at x: 3n × (3n − 6).
  // Only meaningful for a free cluster (n_mobile >= 3, not collinear); for a domain with frozen
  // beads it returns the identity (nothing to remove).
  Matrix rigid_body_complement(const Vector& x) const;

  // Work counters (for events/s and benchmarks).
  long n_energy_calls() const { return n_energy_calls_; }
  long n_hessian_calls() const { return n_hessian_calls_; }
  long n_list_builds() const { return n_list_builds_; }

 private:
  struct Pair {
    int i, j;         // i mobile; j mobile (j > i) or frozen (j >= n_mobile)
    Vec3 shift;       // periodic shift: d = x_i − x_j + shift is the minimum image
    int type;         // index into table (species pair); unused with diameters
    double sigma_ij;  // mixed diameter (polydisperse soft spheres); 0 for species models
    double qq;        // q_i q_j for the Coulomb term (0: none)
    bool bonded;      // the molecule's bond: the harmonic term only
  };
  // A pair listed beyond its short-range cut-off plus the skin: until the next rebuild only its
  // Coulomb term can act. With the Coulomb cut-off at twice the LJ one these are most of a charged
  // domain's pairs, so they get loops of their own. Frozen j: d = x_i − at (at: j's image);
  // mobile j: d = x_i − x_j + at (at: the shift).
  struct CoulombPair {
    int i, j;
    Vec3 at;
    double qq;
  };
  bool polydisperse() const { return !config_.diameter.empty(); }
  // f/r, energy and d(f/r)/d(r²) of pair q at r², and whether r² is inside its cut-off.
  struct PairTerms {
    bool inside;
    double f_over_r, energy, dfr_dr2;
  };
  PairTerms pair_terms(const Pair& q, double r2, bool with_dfr) const;
  void resolve_partners();
  void ensure_list(const Vector& x) const;
  Vec3 bead(const Vector& x, int k) const {
    return k < config_.n_mobile ? Vec3(x[3 * k], x[3 * k + 1], x[3 * k + 2]) : config_.pos[k];
  }

  LocalConfig config_;
  double skin_ = 0.5;
  double rc_max_ = 0.0;
  std::vector<int> partner_index_;   // index in the copy of each bead's partner, −1: none or not in the copy
  Vector far_force_;                 // f_i of the far-field term (3 n_mobile), empty: none
  mutable std::vector<Pair> pairs_;  // every pair that can take a short-range term
  mutable std::vector<CoulombPair> coulomb_frozen_;  // Coulomb-only pairs, j frozen
  mutable std::vector<CoulombPair> coulomb_mobile_;  // Coulomb-only pairs, j mobile
  mutable Vector list_ref_;                          // mobile coordinates at the last list build (empty: no list yet)
  mutable long n_energy_calls_ = 0, n_hessian_calls_ = 0, n_list_builds_ = 0;
};

// d(f/r)/d(r²) of the Lennard-Jones evaluator in pair_potential.hpp (the only extra derivative the
// Hessian needs): f/r = 24ε[2σ¹²r⁻¹⁴ − σ⁶r⁻⁸] ⇒ d(f/r)/d(r²) = 24ε[−14σ¹²r⁻¹⁶ + 4σ⁶r⁻¹⁰].
double lj_dfr_dr2(double r2, const LennardJones::Params& p);
// The same for the polydisperse soft spheres (pair_potential.hpp), y = r/σ_ij:
// f/r = (12 y⁻¹⁴ − 2 c2 − 4 c4 y²)/σ_ij² ⇒ d(f/r)/d(r²) = (−84 y⁻¹⁶ − 4 c4)/σ_ij⁴.
double poly_dfr_dr2(double r2, double sigma_ij);
// The harmonic bond u = ½k(r − r0)²: f/r = −k(r − r0)/r ⇒ d(f/r)/d(r²) = −k r0/(2r³).
double bond_dfr_dr2(double r2, const HarmonicBond& b);

}  // namespace tlsmap
