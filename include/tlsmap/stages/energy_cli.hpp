#pragma once
// `tlsmap energy FILE [--json] [--forces OUT] [--lammps OUT] [--model NAME] [--accuracy A]
//  [--cutoff R] [--epsilon E]`: the energy of one configuration, as a check against other codes
// (bench/lammps_crosscheck.sh, bench/lammps_coulomb_crosscheck.sh) and for scripts.
//
// FILE is an h5md file of ours (name ending .h5/.hdf5, or starting with the HDF5 signature) or a
// LAMMPS data file (anything else). The model is --model NAME; without it, the polydisperse soft
// spheres for an h5md file with /particles/all/diameter, otherwise Kob–Andersen. With a per-bead
// diameter model (polydisperse-soft-sphere) a LAMMPS data file must be atom style charge, and its
// charge column holds the diameters (the convention of published data for this model). If any
// bead is charged, the Coulomb energy q_i q_j/(ε r) (periodic, conducting boundary: the Ewald sum)
// is computed by the split of coulomb.hpp at relative RMS force accuracy A (default 1e-5), real-
// space cutoff R (default: chosen from A, at most half the shortest edge minus the skin) and
// dielectric constant E (default 1). The pressure is the pair-potential virial pressure only
// (velocities in the file are ignored). Rank 0 prints the breakdown (or one JSON object with keys
// file, format, model, n_beads, pair, lj (both the pair-potential energy; `lj` named when the LJ
// models were the only ones), coulomb, coulomb_real, coulomb_reciprocal, coulomb_self, total,
// per_bead, pressure, max_force, accuracy, accuracy_estimate, coulomb_rms_force, coulomb_cutoff,
// coulomb_sigma, grid, solver_iterations, note). --forces writes "id fx fy fz" per bead (total
// force, pair + Coulomb), sorted by id, %.17g; --lammps writes the configuration as a
// LAMMPS data file (atom style charge, one type per model species; with per-bead diameters the
// charge column holds the diameters), for running it in LAMMPS or reading it back.
#include "tlsmap/core/vec3.hpp"

#include <mpi.h>

#include <string>
#include <vector>

namespace tlsmap {

struct EnergyReport {
  std::string file, format, model;  // format: "h5md" or "lammps-data"
  long long n_beads = 0;
  double lj = 0.0, coulomb = 0.0, total = 0.0, pressure = 0.0, max_force = 0.0;  // lj: the pair energy (+ bonds)
  double bond = 0.0;            // bonded models: Σ ½ k (r − r0)² (part of lj)
  double coulomb_bonded = 0.0;  // bonded models: −Σ_bonds q_i q_j/(ε r) (part of coulomb)
  double coulomb_real = 0.0, coulomb_reciprocal = 0.0, coulomb_self = 0.0;
  double accuracy = 0.0, accuracy_estimate = 0.0;  // requested, and the a-priori estimate achieved
  // Σ r_a f_b of the potential the pressure includes (the note says which); with active charges and
  // the fft solver the charges' whole tensor, with mg their isotropic (E_c/3) 1.
  Mat3 virial = Mat3::Zero();
};

// Collective. args are the words after "energy". Throws Error (on every rank) for bad arguments
// and missing or malformed files.
EnergyReport run_energy(const std::vector<std::string>& args, MPI_Comm comm);

}  // namespace tlsmap
