#pragma once
// `tlsmap energy FILE [--json] [--forces OUT] [--lammps OUT] [--model NAME]`: the energy of one
// configuration, as a check against other codes (bench/lammps_crosscheck.sh) and for scripts.
//
// FILE is an H5MD file of ours (name ending .h5/.hdf5, or starting with the HDF5 signature) or a
// LAMMPS data file (anything else). The model is Kob–Andersen unless --model says otherwise; only
// the Lennard-Jones part exists so far, so the Coulomb term is reported as 0 with a note. The
// pressure is the virial pressure of the configuration (velocities in the file are ignored).
// Rank 0 prints the breakdown (or one JSON object with keys file, format, model, n_beads, lj,
// coulomb, total, per_bead, pressure, max_force, note). --forces writes "id fx fy fz" per bead,
// sorted by id, %.17g; --lammps writes the configuration as a LAMMPS data file (atom style charge,
// one type per model species), for running the same configuration in LAMMPS.
#include <mpi.h>

#include <string>
#include <vector>

namespace tlsmap {

struct EnergyReport {
  std::string file, format, model;  // format: "h5md" or "lammps-data"
  long long n_beads = 0;
  double lj = 0.0, coulomb = 0.0, total = 0.0, pressure = 0.0, max_force = 0.0;
};

// Collective. args are the words after "energy". Throws Error (on every rank) for bad arguments
// and missing or malformed files.
EnergyReport run_energy(const std::vector<std::string>& args, MPI_Comm comm);

}  // namespace tlsmap
