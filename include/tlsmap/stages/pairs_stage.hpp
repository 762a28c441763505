#pragma once
// `tlsmap pairs`: catalogue rows (/tls, method "given") from pairs of states that another code made
// — inherent structures of an MD run in LAMMPS, say — instead of from the domain search.
//
// Input. [pairs] list names a text file with one pair per line, "stateA stateB", each a LAMMPS data
// file or an h5md file holding one configuration of the same sample (docs/pairs.md). Why a list file
// and not a TOML array: the input schema holds scalars and 3-vectors only, and a list of hundreds of
// pairs is what a script writes anyway; paths in it are relative to the list file's directory, so a
// directory of states and its list can be moved together.
//
// Order of work, so that bad input costs nothing:
//   1. read every distinct state once (collective I/O, then replicated on every rank like the
//      search's packing) and check that all hold the same beads (count, ids 1..N, species, charges,
//      diameters, bonds) in the same box — Error naming the file otherwise;
//   2. minimise every distinct state with every bead free (relax.hpp: the parallel L-BFGS, so the
//      minima are bitwise the same at any rank count — up to the last bits of the mesh sums with
//      active charges, docs/pairs.md);
//   3. per pair: the beads that moved (|d_i| > moving_threshold) and the region around them; a pair
//      whose states minimised to one structure (no bead displaced by more than dedup_distance), or
//      whose moving beads span the sample, is refused here, before any NEB;
//   4. the pairs go through the work queue (work_queue.hpp): each is analysed serially on a local
//      copy (domains.hpp) — the region mobile, a frozen shell of search.shell around it at state A —
//      by the search's own analyse_pair (event_search.hpp): CI-NEB, saddle refinement, WKB Δ0, E_qs,
//      ΔZPE and class. State B is re-minimised in that frozen shell first (it is a whole-sample
//      minimum, the shell sits at A). With [pairs] check_whole each pair's NEB is run a second time
//      on the whole sample (every bead mobile but one pinned far away), and the two barriers and
//      asymmetries go to /pairs: the measured error of the shell (docs/pairs.md has numbers);
//   5. the file ([run] output, written as <output>.tmp and renamed): /particles/all = state A of the
//      first pair, minimised; /tls via write_tls (catalogue.hpp); /pairs (the state files per row and
//      the shell checks).
// The rows' semantics (whole-sample energies, which beads are listed as mobile and why) are in
// docs/pairs.md; in short, rebuilding a row's states from /particles/all plus its mobile beads gives
// state A exactly and B with the region relaxed at A's surroundings (the NEB's end point).
// Polar molecules with active charges: the bonds and the Coulomb split in the minimisations, the
// domain search's local model (with state A's far field) in the regions (docs/pairs.md).
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/vec3.hpp"
#include "tlsmap/io/catalogue.hpp"

#include <mpi.h>

#include <string>
#include <utility>
#include <vector>

namespace tlsmap {

class Input;
class Progress;

// One line of the list: the two state files (resolved against the list's directory) and the line.
struct StatePair {
  std::string a, b;
  int line = 0;
};

// Not collective: the pairs in the text of a list file read from `list_path`. Blank lines and text
// after '#' are ignored; every other line holds exactly two paths (no spaces inside a path).
// Relative paths are taken from the directory of list_path; paths are lexically normalised.
// Throws Error "list_path:line: ..." on a line with other than two paths, on a pair of one file
// with itself, and on a list without pairs.
std::vector<StatePair> parse_pair_list(const std::string& text, const std::string& list_path);

// The `tlsmap pairs` stage (collective).
void run_pairs(const Input& in, MPI_Comm comm);

// [pairs] and the pair analysis's [search] keys checked alone (Input::fail on a bad key); with_list:
// as `tlsmap pairs` (pairs.list required), else as another sampler's analysis (md-pairs).
void check_pairs_input(const Input& in, bool with_list);

// Steps 3–4 for another sampler's pairs (search.method = "md-pairs", md_pairs_stage.hpp): whole-sample
// minima already in memory, every rank holding the same. Reads the keys `tlsmap pairs` reads except
// [pairs] list.
struct MinimaSample {
  Box box;
  std::vector<int> species;
  std::vector<double> charge, diameter;   // diameter: models with diameters, else empty
  std::vector<std::vector<Vec3>> minima;  // whole-sample minima (max|F| <= minimize.f_tol), by id − 1
  std::vector<double> energy;             // their whole-sample energies (ε)
  std::vector<std::int64_t> partner;      // bond partner ids (bonded models), else empty
};

struct AnalysedPair {
  bool analysed = false;  // false: skipped (not one local rearrangement; `why` says what)
  std::string why;
  TlsRow row;  // as `tlsmap pairs` makes it (method "given", the region's beads listed)
};

// Collective. pairs: (A, B) indices into m.minima. Unlike `tlsmap pairs`, a pair that is not one
// local rearrangement (the same structure, a region over [pairs] max_mobile, B unstable in any
// region that fits) is skipped with its reason rather than stopping the stage. `label` names the
// pairs in messages ("label:k: ...").
std::vector<AnalysedPair> analyse_minima_pairs(const Input& in, const MinimaSample& m,
                                               const std::vector<std::pair<int, int>>& pairs, const std::string& label,
                                               Progress& progress, MPI_Comm comm);

}  // namespace tlsmap
