#pragma once
// Swap Monte Carlo for models with per-bead diameters (Ninarello, Berthier & Coslovich, PRX 7,
// 021039 (2017)), hybridised with MD as in Berthier et al., J. Stat. Mech. (2019) 064004: between
// blocks of MD steps, a sweep of attempts to exchange the diameters of two beads, each accepted with
// the Metropolis rule at the bath temperature. Positions and velocities are not touched.
//
// A sweep, designed so that its outcome does not depend on the rank count (docs/pack.md):
//  - every rank takes a copy of all positions and diameters (O(N) memory per rank, one allgather);
//  - a global grid of cells, fixed in space for the sweep, with edges >= the model's largest pair
//    range and an even number of cells per edge (or one), shifted by a random offset keyed by the
//    sweep number (so that diameters can cross cell walls even in a frozen glass);
//  - each bead i, in id order within its cell, attempts one exchange with a partner drawn uniformly
//    among the other beads of the same cell, from the counter-based stream keyed by (sweep, id_i);
//  - the cells are processed in 8 colours (cell-index parities); two cells of one colour are at
//    least one cell edge apart, so no pair of beads interacts across them and their attempts are
//    independent: a colour's cells are dealt to the ranks round-robin, and the accepted exchanges of
//    a colour are allgathered before the next. The result equals a serial sweep bit for bit.
// Each attempt (i ↔ j within a cell of m beads, j uniform among m − 1) is its own proposal in
// reverse, so every attempt satisfies detailed balance with respect to exp(−E/T); a sweep is their
// composition, and the random grid offset a mixture of such sweeps: both keep the Boltzmann
// distribution of diameter assignments (tested exactly on a tiny system, tests/test_swap.cpp).
#include "tlsmap/md/system.hpp"

#include <cstdint>
#include <vector>

namespace tlsmap {

struct SwapStats {
  std::int64_t attempted = 0, accepted = 0;
  double energy_change = 0.0;                // Σ ΔE of the accepted exchanges (a reproducible sum)
  std::vector<double> local_energy_changes;  // internal
  double acceptance() const { return attempted > 0 ? static_cast<double>(accepted) / attempted : 0.0; }
  SwapStats& operator+=(const SwapStats& o) {
    attempted += o.attempted;
    accepted += o.accepted;
    energy_change += o.energy_change;
    return *this;
  }
};

// Collective. One sweep at temperature T; `sweep` numbers the sweep in the random streams (use a new
// number for every sweep of a run). Updates the owned beads' diameters and rebuilds the ghosts; the
// caller recomputes forces. Throws Error for a model without diameters.
SwapStats swap_sweep(System& system, double temperature, std::uint64_t seed, std::uint64_t sweep);

// Every bead's id, position (wrapped into the box) and diameter, sorted by id.
struct SwapCopy {
  std::vector<std::int64_t> id;
  std::vector<Vec3> pos;
  std::vector<double> diameter;
};
// The same sweep on one process, on a copy (no communication): what swap_sweep computes, bit for
// bit, with range the model's largest pair range (PolydisperseSoftSphere::max_cutoff()).
SwapStats swap_sweep_copy(SwapCopy& copy, const Box& box, double range, double temperature, std::uint64_t seed,
                          std::uint64_t sweep);

}  // namespace tlsmap
