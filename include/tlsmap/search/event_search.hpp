#pragma once
// The serial TLS search kernel on one domain (a LocalModel): explore the local energy landscape by
// activation–relaxation events, keep every minimum and saddle found, and characterise the pair of
// the two lowest minima. The parallel driver calls search_domain() once per domain; everything here
// is deterministic given (model, params, seed, domain_key), so any rank reproduces any domain.
//
// One attempt (ARTn-style: Barkema & Mousseau, PRL 77, 4358 (1996); Malek & Mousseau, PRE 62, 7723
// (2000)):
//   1. Start minimum: attempts cycle over the known minima within `explore_window` of the lowest
//      one, lowest first (attempt k uses the (k mod n_window)-th), so the search keeps exploring
//      around the low minima that the pair is made of, including ones found on the way.
//   2. Push: a random mobile bead c and every mobile bead within `push_radius` of it get Gaussian
//      displacements (Philox, Stream::event_search, keyed by (seed, domain_key, attempt)), scaled
//      so the push has norm `push_size`. Leave the basin: steps of `push_step` along the push
//      direction u, each followed by three steepest-descent steps across u, until the lowest
//      Hessian eigenvalue drops below `leave_basin_eigenvalue`.
//   3. Climb and converge: eigenvector following uphill along the lowest mode (local_optimize.hpp;
//      Lanczos + Newton for domains above saddle.dense_limit dof) to a first-order saddle with
//      max|F| <= saddle.f_tol (default 1e-9).
//   2'–3'. With `follow_modes` = n > 0, the first 2n attempts from each minimum replace 2–3:
//      eigenvector following from the minimum along ± one of its n softest modes, tracked by
//      overlap throughout (dense path), to a first-order saddle — deterministic, and it reaches
//      saddles along higher modes that random pushes rarely find (Tsai & Jordan's eigenmode method).
//   4. Push over: from the saddle, step ±`push_over` (largest bead displacement, σ) along the
//      negative mode and minimise both sides (max|F| <= 1e-10).
//   5. Bookkeeping: a minimum is new unless some known minimum lies within `dedup_distance`
//      (largest single-bead displacement; after rigid overlay for a free cluster); saddles
//      likewise. Identity is geometric only: with a truncated (energy-shifted, not force-shifted)
//      potential the force jumps where a pair crosses r_c, and such kinks create micro-minima a few
//      1e-4 σ apart whose energies differ by ~1e-5 ε (seen in KA glass domains) — one state.
//      Each saddle records the minima on its two sides.
// The search stops after `max_attempts` attempts, after `stop_after_stale` consecutive attempts
// that found no new minimum, or (target_missing > 0) once the Good–Turing estimate of the chance
// that one more attempt finds a new minimum near O in energy is at most target_missing.
//
// The pairs (PairRule). `occupied` (what the search stage uses): the domain's starting minimum O is
// the sample's inherent structure restricted to the domain, the state the glass occupies. Every
// verified minimum B that a verified first-order saddle joins to O directly (the saddle's two
// push-over minimisations ended in O and in B) gives one pair (A = O, B), its NEB seeded through
// that saddle (the lowest one when several join the same B); B must be a different structure from
// O. With `start_from_occupied` every attempt starts from O, so the budget goes into O's neighbours.
// `lowest` (the kernel's default, used by the cluster tests): the pair of the two lowest verified
// minima A (lower) and B, where B must be a different structure
// from A — not A with identical beads relabelled (permutational copies are distinct points of
// configuration space and are kept as distinct minima, but a "pair" of copies is no TLS). Of the
// copies of A and of B, the closest pair of copies is used. They are joined with a CI-NEB
// (neb.hpp), seeded through the saddles and minima of the shortest chain of recorded events from A
// to B when there is one; the climbing image is then converged to a saddle by eigenvector following
// and verified (exactly one negative eigenvalue). barrier = E(refined saddle) − E_A when that saddle
// is verified and stayed near the band's top, else max E over the band − E_A.
// Per pair: displacement field d_i = x_i^B − x_i^A (minimum image; rigid overlay for a cluster);
// a bead is "moving" when |d_i| > moving_threshold (default 0.02 σ, a fifth of the paper's typical
// d_L ≈ 0.1 a, and far above the 1e-8 σ noise of converged minima); d_L = sqrt(mean over moving
// beads of |d_i|²); participation number N_p = (Σ|d_i|²)² / Σ|d_i|⁴ over all mobile beads
// (participation ratio = N_p / n_mobile); path length = mass-weighted arc length of the band;
// tunnelling splitting Δ0 by WKB along the band (tunnelling.hpp); the two lowest levels of the 1D
// Schrödinger equation along the band, E_qs = E1 − E0 (schrodinger.hpp); ΔZPE = (ħ/2) Σ (ω_B − ω_A)
// over the normal modes of the mobile beads (dense Hessian spectra at both ends); adjacent = the
// refined top of the band is a verified first-order saddle, it connects A and B (a step of
// push_over each way along its unstable mode, minimised, lands on A one way and on B the other),
// and the band has no interior minimum; class = classify(adjacent, E_qs, ...) (catalogue.hpp).
#include "tlsmap/io/units.hpp"
#include "tlsmap/search/local_model.hpp"
#include "tlsmap/search/local_optimize.hpp"
#include "tlsmap/search/neb.hpp"
#include "tlsmap/search/schrodinger.hpp"
#include "tlsmap/search/tunnelling.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace tlsmap {

struct SearchParams {
  MinimizerParams minimizer;  // f_tol = 1e-10 by default
  SaddleParams saddle;        // f_tol = 1e-9, trust radius 0.1 σ
  NebParams neb;              // 16 images, spring 5, f_tol 1e-3, climbing image

  // Budget.
  int max_attempts = 60;        // activation attempts per domain
  int stop_after_stale = 25;    // stop after this many consecutive attempts without a new minimum
  double explore_window = 1.0;  // attempts start from minima within this of the lowest (ε)
  // Convergence (Good–Turing; missing_probability below). target_missing > 0: stop once
  // n >= 1/target_missing attempts were made and the estimate n1/n <= target_missing (the floor on
  // n keeps "nothing found by the first attempt" from stopping a search). 0: no such rule.
  double target_missing = 0.0;
  double target_window = 1.0;  // the minima counted: |E − E_O| <= this (ε), O the starting minimum

  // Push and basin exit.
  double push_radius = 1.3;               // cluster radius around the random central bead (σ)
  double push_size = 0.3;                 // norm of the initial push (σ)
  double push_step = 0.02;                // largest bead displacement per basin-exit step (σ)
  int max_push_steps = 200;               // basin-exit steps before the attempt is abandoned
  double leave_basin_eigenvalue = -0.05;  // lowest eigenvalue that counts as "out of the basin" (ε/σ²)
  int follow_modes = 0;                   // first 2·n attempts from each minimum: eigenvector following
                                          // uphill along ± each of its n softest modes from the minimum
                                          // (dense Hessian every step), then random pushes

  // Push over the saddle.
  double push_over = 0.05;  // largest bead displacement of the step off the saddle (σ)

  // Deduplication.
  double dedup_distance = 0.05;  // largest single-bead displacement for "the same" state (σ)
  double dedup_energy = 1e-3;    // permutational copies of one structure (relabelled identical
                                 // beads) must also agree in energy within this (ε): a cheap
                                 // pre-filter, loose because copies differ by ~1e-5 ε (cut-off kinks)

  // Pair analysis.
  enum class PairRule { lowest, occupied };
  PairRule pairs = PairRule::lowest;   // which pairs are analysed (see the head comment)
  bool start_from_occupied = false;    // every attempt starts from the starting minimum O
  bool analyse_pair = true;            // NEB + characterisation of the pairs
  double moving_threshold = 0.02;      // |d_i| above which a bead counts as moving (σ)
  PhysicalUnits units;                 // σ, ε, m for the tunnelling splitting (default: argon)
  double max_splitting = 1.0 / 120.0;  // class tls: E_qs at most this (ε; default 1 K for ε = 120 K)
};

struct Minimum {
  LocalModel::Vector x;  // mobile coordinates
  double energy = 0.0;   // domain energy (local_model.hpp convention, ε)
  double max_force = 0.0;
  double lowest_eigenvalue = 0.0;  // rigid modes removed for a free cluster
  bool verified = false;           // max|F| <= minimizer.f_tol and lowest eigenvalue > eigenvalue_tol
  int attempt = -1;                // attempt that found it (-1: the start)
  int hits = 0;                    // attempts whose saddle led to it (not counting their start minimum)
};

struct Saddle {
  LocalModel::Vector x;
  double energy = 0.0;
  double max_force = 0.0;
  double negative_eigenvalue = 0.0;  // curvature of the unstable mode
  double second_eigenvalue = 0.0;    // next one (> 0 for a first-order saddle)
  int n_negative = -1;
  bool verified = false;      // max|F| <= saddle.f_tol and exactly one negative eigenvalue
  int minus = -1, plus = -1;  // indices into minima of the two sides (-1: side not converged)
  int from = -1;              // minimum the attempt started from
  int attempt = -1;
};

struct TlsPair {
  int a = -1, b = -1;                     // indices into DomainSearch::minima, E_A <= E_B
  double energy_a = 0.0, energy_b = 0.0;  // domain energies (ε)
  double asymmetry = 0.0;                 // E_B − E_A (ε; signed for the occupied rule)
  bool involves_occupied = false;         // A is the domain's starting minimum O
  bool adjacent = false;                  // saddle verified, connects A and B, no interior minimum on the band
  bool saddle_connects = false;           // the verified saddle falls into A one way and B the other
  double barrier = 0.0;                   // E(top of the path) − E_A: refined saddle, else band max (ε)
  bool intermediate_minima = false;       // the band has interior minima (A and B not directly connected)
  NebResult path;                         // images, energy profile, arc length
  Saddle saddle;                          // climbing image converged by eigenvector following
  LocalModel::Vector displacement;        // d_i = x_B − x_A (3 n_mobile, σ)
  double d_l = 0.0;                       // rms |d_i| over moving beads (σ)
  int n_moving = 0;                       // beads with |d_i| > moving_threshold
  double participation = 0.0;             // N_p = (Σ|d|²)² / Σ|d|⁴ (beads)
  double distance = 0.0;                  // |x_B − x_A| (mass-weighted, σ√m)
  double path_length = 0.0;               // arc length of the band (σ√m)
  Splitting splitting;                    // Δ0 by WKB along the band
  PathLevels levels;                      // the two lowest 1D levels along the band (E_qs)
  double delta_zpe = 0.0;                 // (ħ/2) Σ (ω_B − ω_A) over the mobile-bead normal modes (ε)
  std::string cls;                        // "tls", "double_well" or "single_well"
  struct {
    double neb = 0, levels = 0, zpe = 0;  // wall time of the NEB (with the saddle refinement: not
    double connect = 0;                   // counted), the 1D levels, ΔZPE, the saddle's two side
  } seconds;                              // minimisations (connectivity) (s; machine-dependent)
};

struct DomainSearch {
  std::vector<Minimum> minima;  // index 0 = the domain's starting minimum
  std::vector<Saddle> saddles;
  std::vector<TlsPair> pairs;  // by the PairRule; `lowest` gives at most one
  // Statistics.
  int attempts = 0;       // attempts made
  int events = 0;         // attempts that converged to a verified saddle
  int failed_exits = 0;   // attempts with no climb: the push never left the basin (or no soft mode was left)
  int failed_climbs = 0;  // climbs that did not converge to a first-order saddle
                          // (attempts = events + failed_exits + failed_climbs)
  long energy_calls = 0, hessian_calls = 0;  // including the NEB's images
  int singletons = 0;                        // minima in the target window reached by exactly one attempt
  double missing = std::numeric_limits<double>::quiet_NaN();  // Good–Turing estimate at the end
  double seconds = 0.0;                                       // wall time of search_domain
};

// Good–Turing estimate (Good, Biometrika 40, 237 (1953)) of the probability that the next attempt
// reaches a minimum not found yet within `window` of minima[0] (|E − E_0| <= window): n1 / n, with
// n the attempts made and n1 the minima in the window (minima[0] excepted) that exactly one attempt
// reached (Minimum::hits == 1). Each attempt is one draw that yields at most one or two minima, so
// n1/n is the unseen mass per attempt. NaN when n = 0. *singletons (if given) gets n1.
double missing_probability(const std::vector<Minimum>& minima, int attempts, double window, int* singletons = nullptr);

// The whole kernel for one domain. The starting configuration is the model's initial coordinates,
// first minimised. seed: the run's seed; domain_key: the domain's permanent number (random keys).
DomainSearch search_domain(const LocalModel& model, const SearchParams& p, std::uint64_t seed,
                           std::uint64_t domain_key);

// Whether two minima are the same structure up to a relabelling of identical beads (same species,
// and the same diameter and charge where the model has them): for a free cluster the sorted pair
// distances agree within dedup_distance, listed separately for each kind of pair (which classes of
// identical beads its two ends belong to: rotation and relabelling invariant, and an exchange of
// two different beads changes them); for a domain every mobile bead of a has an identical mobile bead in b within
// dedup_distance (frozen beads fix the frame). Energies must agree within dedup_energy first.
bool same_structure(const LocalModel& model, const Minimum& a, const Minimum& b, const SearchParams& p);

// The two minimisations from a first-order saddle, a step of p.push_over (largest bead
// displacement) back and forth along its unstable mode: [0] from x − step, [1] from x + step. The
// mode is s.mode, or the exact lowest eigenvector when s has none (a saddle converged before its
// first Lanczos step).
std::array<MinimizeOutcome, 2> fall_off_saddle(const LocalModel& model, const SearchParams& p, const SaddleOutcome& s);

// The pair analysis on its own (NEB, saddle, displacement statistics, splitting, levels, ΔZPE,
// class) between two minima a and b of the model; minima indices are copied into the result as
// given. zpe_a: the zero-point energy (ħ/2) Σ ω of a if known (NaN: computed here).
// `via`: waypoints from a to b (search_domain passes the saddles and intermediate minima of the
// shortest chain of recorded events joining the two minima, if any); they only seed the NEB band.
TlsPair analyse_pair(const LocalModel& model, const Minimum& a, const Minimum& b, const SearchParams& p,
                     int index_a = -1, int index_b = -1, const std::vector<LocalModel::Vector>& via = {},
                     double zpe_a = std::numeric_limits<double>::quiet_NaN());

// (ħ/2) Σ ω over the normal modes of the mobile beads at x (dense spectrum; non-positive
// eigenvalues, the rigid-body modes of a free cluster, count zero).
double zero_point_energy(const LocalModel& model, const LocalModel::Vector& x, double hbar);

}  // namespace tlsmap
