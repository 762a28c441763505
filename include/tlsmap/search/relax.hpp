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
// the same minimum (bitwise equal energy on the checked case).
//
// Region mode (radius > 0, `search.relax_radius`): at N ~ 1e4–1e5 the whole-sample relaxation
// costs far more than the search (its iterations grow with the box edge, each costs O(N)). Then
// only the beads within `radius` of the row's mobile beads (at their packing positions) are free;
// the beads within a further r_c + 1 σ are held in place (fire.hpp HeldIds) and the rest left
// out. Held and left-out beads keep their packing positions in both states, so
//   E_relaxed = E_sample + E_sub(relaxed) − E_sub(packing)
// is the whole-sample energy exactly, as long as no free bead comes within r_c of a left-out one:
// checked after the minimisation (a free bead at distance d from the mobile beads may move by at
// most radius + 1 σ − d; else the state counts as not converged). The subsystem is translated so
// that the mobile beads sit at the box centre, which splits it evenly over a spatial
// decomposition. What the frozen far field costs in energy is measured in docs/search.md. The
// sample is replicated on every rank (as the search has it); the minimisation itself is
// distributed and rank-count independent, so the relaxed energies are bitwise the same on any
// number of ranks.
#include "tlsmap/core/box.hpp"
#include "tlsmap/io/catalogue.hpp"
#include "tlsmap/md/force_term.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/decomposition.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <mpi.h>

#include <functional>
#include <memory>

namespace tlsmap {

struct WholeSample {
  MPI_Comm comm;
  Box box;
  const GlobalBeads* beads;  // the packing, by id − 1 (with diameters when the model has them)
  Model model;
  double skin = 0.3;
  Int3 proc_grid = {0, 0, 0};
  double radius = 0.0;    // > 0: region mode (above), free beads within this distance (σ); 0: every bead free
  double e_sample = 0.0;  // the packing's whole-sample energy (region mode adds its changes to it)
  // Active charges (the packing's own, with bonds when the model has them): the reach of the Coulomb
  // list and the force term added to every whole-sample System (the stage builds it, e.g. with
  // couplings/active_coulomb); 0 and empty: none. The whole-sample mode only, since the region
  // mode's left-out beads would take their charges' field with them.
  double coulomb_cutoff = 0.0;
  std::function<std::shared_ptr<ForceTerm>(const System&)> coulomb_term = nullptr;
};

// Collective: the packing with beads `ids` moved to `pos`, minimised by FIRE then L-BFGS with every bead free
// (or those of the region, w.radius > 0) to max|F| <= f_tol. Returns the whole-sample potential
// energy; *relaxed gets every bead's position (by id − 1), *converged the minimiser's verdict.
double relax_state(const WholeSample& w, const std::vector<std::int64_t>& ids, const std::vector<Vec3>& pos,
                   double f_tol, std::vector<Vec3>* relaxed, bool* converged);

// Collective: the whole sample's forces (pair model, bonds, w.coulomb_term) with every bead at pos
// (by id − 1), by id − 1: what a local model's far-field term is cut from (local_model.hpp).
std::vector<Vec3> whole_sample_forces(const WholeSample& w, const std::vector<Vec3>& pos);

// Collective: fills the row's energy_a_relaxed, energy_b_relaxed, asymmetry_relaxed and
// relaxed_adjacent. relaxed_adjacent = 1 when both minimisations converged, the relaxed states are
// distinct (some bead differs by more than dedup_distance) and no bead's displacement
// d_i = x_i^B − x_i^A changed on relaxation by more than half the largest frozen-shell displacement:
// a geometric test that each state stayed in its basin (the saddle is not searched again).
void relax_row(const WholeSample& w, double f_tol, double dedup_distance, TlsRow& row);

}  // namespace tlsmap
