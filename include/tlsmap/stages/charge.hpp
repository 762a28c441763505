#pragma once
// Stage 2, charge: partial charges ±ζq on bead pairs ("bonds", the paper's Fig. 1).
//
// Beads are paired by a maximum-cardinality matching of the graph "distance < cutoff" (minimum
// image): greedy by increasing distance first (so bonds are nearest neighbours where possible),
// then Edmonds' blossom augmenting paths for the beads greedy leaves alone, until no augmenting
// path exists. The result covers every bead, or all but one when N is odd; if the graph at the
// cutoff has no such matching, the cutoff is enlarged (×1.1 steps) up to a limit. Species play no
// role: any two beads may pair, so a species imbalance never leaves beads unpaired.
//
// Bonds cross subdomain boundaries freely: the pairing sees all beads at once.
// Why on one rank: a matching is a global object (augmenting paths can run anywhere), and doing it
// on rank 0 from the positions ordered by id makes it deterministic and trivially independent of
// the rank count. Memory is O(N) on rank 0 (about 250 bytes per bead at the default cutoff, with
// the edge list; 10⁶ beads pair in ~9 s) — fine up to ~10⁷ beads; the result is broadcast to
// every rank (24 bytes per bond).
#include "tlsmap/core/box.hpp"
#include "tlsmap/parallel/beads.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <mpi.h>

#include <array>
#include <cstdint>
#include <vector>

namespace tlsmap {

class Input;

struct BondSet {
  std::vector<std::array<std::int64_t, 2>> bonds;  // bead ids, smaller first; sorted by first id
  std::vector<double> length;                      // minimum-image length of each bond
  std::vector<std::int64_t> unpaired;              // ids of beads without a partner (ascending)
  double cutoff = 0.0;                             // cutoff the matching was made with (after any enlargement)
  int enlargements = 0;                            // how many times the requested cutoff was enlarged
};

// Not collective. pos[k] is the position of bead id k + 1. Maximum matching on pairs closer than
// `cutoff`; if it leaves more than N mod 2 beads unpaired, the cutoff grows by 10 % per try up
// to max_cutoff (capped at half the shortest box edge; max_cutoff ≤ cutoff: no enlargement).
// Throws Error if even that leaves more than N mod 2 beads unpaired, or if cutoff exceeds half
// the shortest box edge.
BondSet pair_beads(const std::vector<Vec3>& pos, const Box& box, double cutoff, double max_cutoff);
inline BondSet pair_beads(const GlobalBeads& g, const Box& box, double cutoff, double max_cutoff) {
  return pair_beads(g.pos, box, cutoff, max_cutoff);
}
// Not collective: the maximum matching at exactly this cutoff, however many beads stay unpaired.
BondSet max_matching(const std::vector<Vec3>& pos, const Box& box, double cutoff);

// Collective. The owned beads of all ranks (ids exactly 1..N) are gathered to rank 0, paired
// there, and the same BondSet is returned on every rank. Errors are thrown on all ranks.
BondSet pair_beads(const Beads& owned, const Box& box, double cutoff, double max_cutoff, MPI_Comm comm);

// Charge of every bead, by id − 1: each bond gets +q and −q, the smaller id taking +q when
// uniform4(seed, Stream::charge_sign, smaller id, 0)[0] < 0.5; unpaired beads get 0. The charges
// sum to exactly zero (they are ±q in equal numbers).
std::vector<double> bond_charges(const BondSet& bonds, std::int64_t n_beads, double q, std::uint64_t seed);
// Sets the charge of every local bead (owned and ghosts) of `beads` from bond_charges.
void assign_charges(const BondSet& bonds, std::int64_t n_beads, double q, std::uint64_t seed, Beads& beads);

struct BondStats {
  double mean = 0.0, std = 0.0, min = 0.0, max = 0.0;  // of the bond lengths (std: population)
  double bin_width = 0.02;                             // histogram over [0, n_bins · bin_width)
  std::vector<std::int64_t> histogram;                 // covers [0, cutoff]
};
BondStats bond_stats(const BondSet& bonds);

// The `tlsmap charge` stage: reads the configuration from [run] output, pairs and charges the
// beads, and writes /particles/all/charge and /charge back into the same file (atomically).
void run_charge(const Input& in, MPI_Comm comm);

// The stage's input checks alone (Input::fail on a bad key), for `tlsmap run` before its first stage.
void check_charge_input(const Input& in);

}  // namespace tlsmap
