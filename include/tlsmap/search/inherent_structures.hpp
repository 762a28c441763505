#pragma once
// Inherent structures (IS) of an MD run, the raw material of search.method = "md-pairs": the
// protocol of Khomenko et al. (PRL 124, 225901, 2020) and Ciarella et al. (Nat. Commun. 14, 4229,
// 2023). MD on the whole sample at T_MD, a copy quenched every k steps; two consecutive quenches
// that land in distinct structures are a candidate pair (a transition the MD made between them).
//
// Physics only; the replicas' distribution over ranks is md_pairs_stage.cpp's business. Every
// result is independent of the rank count: the MD noise is keyed by (seed, bead id, step) and the
// quench is the parallel relaxation of relax.hpp, both bitwise reproducible (docs/verification.md).
#include "tlsmap/core/box.hpp"
#include "tlsmap/md/force_term.hpp"
#include "tlsmap/md/md.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace tlsmap {

struct ReplicaParams {
  double temperature = 0.0;      // T_MD (ε/k_B)
  long md_steps = 0;             // per replica
  long quench_every = 0;         // MD steps between quenches
  MDParams md;                   // dt, thermostat, friction; seed: see replica_seed
  double f_tol = 1e-10;          // quench: max|F| (ε/σ)
  double dedup_distance = 0.05;  // σ: two structures are one if no bead differs by more
  double skin = 0.3;
  // Active charges, as relax.hpp's WholeSample has them: the Coulomb list's reach and the force term
  // added to the MD's System and every quench's; 0 and empty: none.
  double coulomb_cutoff = 0.0;
  std::function<std::shared_ptr<ForceTerm>(const System&)> coulomb_term = nullptr;
};

// One quench: the step it was taken at, the IS energy (whole sample, ε), whether the minimiser
// converged, and the IS (by id − 1, aligned to the glass: align_to) when it differs from the
// replica's previous IS (else empty: the replica stayed in its basin).
struct Quench {
  long step = 0;
  double energy = 0.0;
  bool converged = false;
  std::vector<Vec3> pos;
};

// The seed of replica r: the thermostat noise and initial velocities of different replicas are
// independent Philox streams (random.hpp), the same for a replica whatever else runs.
std::uint64_t replica_seed(std::uint64_t run_seed, int replica);

// Not collective: translate x (wrapped into the box) so that the median of the minimum-image
// displacements x_i − ref_i is zero in each direction. A Langevin thermostat does not conserve
// momentum, so the sample drifts; the median ignores the few beads that rearranged.
void align_to(const Box& box, const std::vector<Vec3>& ref, std::vector<Vec3>& x);

// Not collective: max_i |x_i − y_i| (minimum image).
double max_displacement(const Box& box, const std::vector<Vec3>& x, const std::vector<Vec3>& y);

// Collective on comm: one replica from the glass (positions by id − 1, a minimum): velocities at
// T_MD from the replica's seed, md_steps of Langevin MD, a quench every quench_every steps (from a
// copy: the MD goes on from where it was). on_quench is called (on every rank) after each quench.
std::vector<Quench> run_replica(const Box& box, const GlobalBeads& glass, const Model& model, const ReplicaParams& p,
                                MPI_Comm comm, const std::function<void(const Quench&)>& on_quench = {});

// The distinct structures of a set of replicas and the candidate pairs between them.
struct IsCatalogue {
  std::vector<std::vector<int>> state;  // per replica, per quench: index of its structure
  std::vector<std::pair<int, int>>
      first_seen;  // per structure: (replica, quench) that reached it first; (−1, −1): the glass
  std::vector<std::pair<int, int>> pairs;  // (A, B), each unordered pair once, in order of discovery
};

// Not collective. Structure 0 is the glass; the others are the replicas' distinct IS in order of
// discovery (replica-major, then step), identified by max_displacement <= dedup_distance against
// every structure before them. A pair is two consecutive quenches of a replica (the glass before
// the first) in distinct structures; A is the glass when the pair involves it, else the earlier one.
// Appends the new structures' positions to *structures (which must hold the glass on entry).
// The same, one replica at a time (replica index = c->state.size()): a catalogue read back from a
// checkpoint goes on exactly as if it had never stopped.
void add_replica(const Box& box, const std::vector<Quench>& quenches, double dedup_distance, IsCatalogue* c,
                 std::vector<std::vector<Vec3>>* structures);
IsCatalogue identify_structures(const Box& box, const std::vector<std::vector<Quench>>& replicas, double dedup_distance,
                                std::vector<std::vector<Vec3>>* structures);

}  // namespace tlsmap
