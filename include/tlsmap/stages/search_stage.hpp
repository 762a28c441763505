#pragma once
// Stage 3, search: the TLS catalogue of a glass, domain by domain, in parallel.
//
// The driver around the serial search kernel (event_search.hpp, local_model.hpp):
//   1. read the packing (/particles/all of [run] output; charges as the charge stage left them)
//      and replicate it on every rank once (domains.hpp says why that is fine);
//   2. E_sample: the potential energy of the whole sample, computed by the parallel engine;
//   3. tile the box with domains (DomainGrid) and hand them out one at a time (work_queue.hpp);
//      each rank cuts the domain's local copy and runs the kernel on it, seeded by (run.seed,
//      domain index) — so a domain's result is a function of (seed, index, configuration) alone;
//   4. every `checkpoint_every` domains, gather the results to rank 0 and broadcast them; merge
//      the rows that two overlapping domains found for one rearrangement (catalogue.hpp); relax
//      both states of every new row with the whole sample free (the parallel L-BFGS, all ranks);
//      rewrite /tls (the catalogue) and /search (per domain: done flag, counts, the landscape of
//      minima and saddles, its rows) in the file, atomically.
// A rerun reads /search and skips the domains already done, so an interrupted job continues where
// its last checkpoint left it and a finished one does nothing. The file layout: docs/file-format.md.
//
// Whole-sample energies: the kernel's energy counts only pairs with a mobile bead, E(x) =
// E_total(x) − const, so E_total(state) = E_sample + E(state) − E(start), with E(start) the
// kernel's energy of the domain as handed over (the packing's inherent structure).
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/vec3.hpp"
#include "tlsmap/io/catalogue.hpp"
#include "tlsmap/search/local_model.hpp"
#include "tlsmap/search/neb.hpp"

#include <mpi.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace tlsmap {

class Input;

// Everything the driver keeps of one domain's search; energies are whole-sample totals (ε).
struct DomainOutcome {
  std::int64_t domain = -1;
  int status = 0;     // 0 not searched, 1 done, 2 failed (on_error = "skip")
  std::string error;  // the failure's message (status 2)
  Vec3 center = Vec3::Zero();
  std::int64_t n_mobile = 0, n_frozen = 0;
  std::int64_t n_attempts = 0;  // activation attempts made
  std::int64_t n_events = 0;    // attempts that reached a verified saddle
  // The other attempts: no climb (the push never left the basin) or a climb that did not converge;
  // n_attempts = n_events + n_failed_exits + n_failed_climbs. −1: not recorded (an older file).
  std::int64_t n_failed_exits = 0, n_failed_climbs = 0;
  std::int64_t n_singletons = 0;  // minima in search.target_window reached by exactly one attempt
  double missing = std::numeric_limits<double>::quiet_NaN();  // Good–Turing n_singletons / n_attempts
  double seconds = 0.0;                     // wall time of the search (machine-dependent; not compared)
  std::vector<double> minima_energy;        // every distinct minimum found, total energy
  std::vector<int> minima_verified;         // max|F| <= f_tol and positive-definite Hessian
  std::vector<double> saddle_energy;        // every distinct saddle found, total energy
  std::vector<int> saddle_verified;         // max|F| <= f_tol and exactly one negative eigenvalue
  std::vector<std::int64_t> saddle_minima;  // per saddle: the two minima it joins (−1: unknown)
  std::vector<TlsRow> pairs;                // the domain's catalogue rows, before merging across domains
  // Wall time summed over the pairs: NEB, 1D levels, ΔZPE, saddle connectivity (s; for the log only).
  std::vector<double> pair_seconds = std::vector<double>(4, 0.0);
};

// Byte form of an outcome (for the work queue and the broadcast of results); exact round trip.
std::vector<char> serialize(const DomainOutcome& o);
DomainOutcome deserialize_outcome(const char* data, std::size_t size);

struct LocalCopy;
struct SearchParams;

// What the local models of a sample add to its pair table (docs/polar.md): the bond of bonded
// models (used when the copy has partners), and active charges' shifted-force Coulomb with the
// whole sample's forces for the far-field term.
struct LocalPhysics {
  HarmonicBond bond;
  ShiftedForceCoulomb coulomb;                      // off: charges do not act in the local model
  const std::vector<Vec3>* sample_force = nullptr;  // by id − 1; required with coulomb on
};

// The local model's configuration of a domain copy: the pair table (empty with diameters) and
// what `physics` adds.
LocalConfig local_config(const LocalCopy& copy, const LJTable& table, const LocalPhysics& physics = {});

// Not collective: the kernel on one domain's local copy, seeded by (seed, domain); energies shifted
// to whole-sample totals with e_sample (the sample's energy in the configuration the copy was cut from).
DomainOutcome search_one_domain(const LocalCopy& copy, const LJTable& table, const LocalPhysics& physics,
                                const SearchParams& params, std::uint64_t seed, std::int64_t domain, double e_sample);

// The class-tls threshold on E_qs in ε: tls.max_splitting (K, through units.epsilon_kelvin), or
// tls.max_splitting_epsilon when given (one of the two; Input::fail otherwise).
double max_splitting_from(const Input& in);

// The band's settings from search.neb_images, neb_spring, neb_tol, neb_max_iter and neb_optimizer
// (read by `tlsmap search`, `tlsmap pairs` and md-pairs alike).
NebParams neb_params_from(const Input& in);

// The `tlsmap search` stage (collective).
void run_search(const Input& in, MPI_Comm comm);

// The stage's input checks alone (Input::fail on a bad key), for `tlsmap run` before its first stage;
// with the box the sample will have, also those that need it (domains that fit, the local model's
// Coulomb cut-off within half the box). Both methods (domain, md-pairs).
void check_search_input(const Input& in, const std::optional<Box>& box);

}  // namespace tlsmap
