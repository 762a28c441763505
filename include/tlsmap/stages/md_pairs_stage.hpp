#pragma once
// `tlsmap search` with search.method = "md-pairs": the inherent-structure pair sampler
// (inherent_structures.hpp) on the packed glass of [run] output, its candidate pairs analysed as
// `tlsmap pairs` analyses given pairs (pairs_stage.hpp: region, frozen-shell NEB, WKB Δ0, E_qs,
// class), into /tls with method "md-pairs" and the quench record in /search (docs/search.md,
// docs/file-format.md).
//
// Parallel layout: the replicas are shared out over min(replicas, ranks) groups of ranks
// (MPI_Comm_split); each group runs its replicas one after another, each on the whole group
// (domain decomposition); the quench record goes to every rank; the candidates go through the work
// queue of all ranks. Every number is independent of the rank count and of the grouping (the MD
// noise is keyed by replica seed, bead id and step; minimisation is reproducible).
//
// Rows. The two states differ everywhere a little (the MD moved every bead), so every bead is
// listed in a row (mobile_id 1..N): position_a and position_b are the two whole-sample inherent
// structures, and /particles/all plus the row rebuilds both exactly, with energy_a and energy_b
// their energies; mu_direct = Σ q_i (x_i^B − x_i^A) over every bead. The geometry columns (d_l,
// n_moving, participation, distance) and the path are the region analysis's (the NEB's end points).
#include <mpi.h>

namespace tlsmap {

class Input;

// Collective.
void run_md_pairs(const Input& in, MPI_Comm comm);

// The method's input checks alone (Input::fail on a bad key), for `tlsmap run` before its first stage.
void check_md_pairs_input(const Input& in);

}  // namespace tlsmap
