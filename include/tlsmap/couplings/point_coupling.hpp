#pragma once
// J_el of the point-charge model, exact: the four-state cross term E(BB) − E(BA) − E(AB) + E(AA) of the
// Coulomb energy of TLS i's and TLS j's transition charges (+q at position_b, −q at position_a of each
// moving bead) as point charges, periodic, tin-foil, uniform ε, by an Ewald sum converged to ~1e-13 of
// its terms. The grid's j_el (interact.hpp) smears each charge into a Gaussian of width σ and carries
// the grid's O(h²/σ²) error; this is the quantity it approximates, without either (docs/dipole.md §2).
// The pairs of a bead with itself (a bead that moves in both TLS: overlapping domains) are left out:
// such a bead has no four-state energy of its own, and its point self term would be infinite.
//
// Cost: k-space ∝ (transition charges + pairs) × (k-vectors ∝ volume / r_c³), split over the ranks of
// `comm` by k-vector; real space ∝ the charge pairs of the TLS pairs whose charges come within r_c,
// split by pair. r_c (≤ L/2, minimum image) is chosen by an estimate of that work, the same on every
// rank; the result does not depend on it beyond ~1e-13 of the terms (docs/dipole.md §2).
#include "tlsmap/core/box.hpp"
#include "tlsmap/couplings/interact.hpp"

#include <mpi.h>

#include <span>
#include <vector>

namespace tlsmap {

struct PointCouplingSplit {
  double real_cut = 0.0;  // r_c (σ); α = 5.3/r_c, k_c = 58.3/r_c
  long k_vectors = 0;     // half-space k-vectors summed (over all ranks)
};

// Collective over comm (every rank passes the same arguments and gets the same answer).
// real_cut > 0 fixes r_c (capped at L/2) instead of the cheapest; info, if given, receives the split.
std::vector<double> point_charge_couplings(MPI_Comm comm, const Box& box, const TlsSet& tls,
                                           std::span<const double> charge, const TlsPairs& pairs, double eps,
                                           double real_cut = 0.0, PointCouplingSplit* info = nullptr);

}  // namespace tlsmap
