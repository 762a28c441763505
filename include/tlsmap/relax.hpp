#pragma once
// Relaxing a state of a catalogue row with every bead of the sample free.
//
// The search finds both states of a rearrangement in a domain whose shell is frozen at the
// packing. The shell's own response changes the energies (the asymmetry most), so each state is
// also minimised with the whole sample free, by the parallel FIRE of the engine (fire.hpp) down to
// max|F| = 1e-6 ε/σ and L-BFGS (lbfgs.hpp) from there to the tolerance: the state's mobile beads
// where the row has them, every other bead where the packing has it.
//
// Why FIRE and not the faster L-BFGS: the minimum a relaxation reaches must be the state's own,
// the end of its steepest-descent (damped) flow. On the shifted LJ potential the force jumps at
// r_c, which leaves micro-minima ~1e-4 ε apart along a relaxation path of ~2 ε; L-BFGS's long
// line-search steps cross them and land in a minimum 4e-4 ε below the one LAMMPS's FIRE, CG and
// steepest descent find from the same start (which spread over 1e-4 ε), while FIRE lands in
// LAMMPS FIRE's to 1e-11 ε (bench/lammps_tls_states.sh, docs/search.md). Once max|F| is down to
// 1e-6 the basin is decided and steps are short, so L-BFGS finishes faster than FIRE would, in
// the same minimum (bitwise equal energy on the checked case). The
// sample is replicated on every rank (as the search has it); the minimisation itself is
// distributed and rank-count independent, so the relaxed energies are bitwise the same on any
// number of ranks.
#include "tlsmap/box.hpp"
#include "tlsmap/catalogue.hpp"
#include "tlsmap/decomposition.hpp"
#include "tlsmap/gather.hpp"
#include "tlsmap/pair_potential.hpp"

#include <mpi.h>

namespace tlsmap {

struct WholeSample {
  MPI_Comm comm;
  Box box;
  const GlobalBeads* beads;  // the packing, by id − 1
  LJTable table;
  double skin = 0.3;
  Int3 proc_grid = {0, 0, 0};
};

// Collective: the packing with beads `ids` moved to `pos`, minimised by FIRE then L-BFGS with every bead free to
// max|F| <= f_tol. Returns the potential energy; *relaxed gets every bead's position (by id − 1),
// *converged the minimiser's verdict.
double relax_state(const WholeSample& w, const std::vector<std::int64_t>& ids, const std::vector<Vec3>& pos,
                   double f_tol, std::vector<Vec3>* relaxed, bool* converged);

// Collective: fills the row's energy_a_relaxed, energy_b_relaxed, asymmetry_relaxed and
// relaxed_adjacent. relaxed_adjacent = 1 when both minimisations converged, the relaxed states are
// distinct (some bead differs by more than dedup_distance) and no bead's displacement
// d_i = x_i^B − x_i^A changed on relaxation by more than half the largest frozen-shell displacement:
// a geometric test that each state stayed in its basin (the saddle is not searched again).
void relax_row(const WholeSample& w, double f_tol, double dedup_distance, TlsRow& row);

}  // namespace tlsmap
