#pragma once
// Read a configuration from either of the formats tlsmap understands, chosen by content:
// our H5MD files (HDF5 signature or .h5/.hdf5 name) or LAMMPS data files (atomic or charge style).
// Used by `tlsmap energy` and by `pack` when [pack] from names a glass made elsewhere.
//
// Models with per-bead diameters (polydisperse soft spheres) read the diameters from the charge
// column of a LAMMPS data file (atom style charge), the convention of published data for that
// model, and from /particles/all/diameter of an H5MD file.
#include "tlsmap/core/box.hpp"
#include "tlsmap/parallel/beads.hpp"

#include <mpi.h>

#include <string>
#include <vector>

namespace tlsmap {

struct LoadedConfiguration {
  Box box;
  Beads beads;                 // some distribution over ranks; migrate before use (System::set_beads does)
  std::string format;          // "h5md" or "lammps-data"
  double max_diameter = 0.0;   // over all beads, on every rank; 0 without diameters
  std::vector<double> masses;  // a LAMMPS file's Masses by type (every rank; empty: none, or H5MD)
};

// Collective. Throws Error naming the path if it is missing, unreadable or malformed.
// with_diameters: the model needs per-bead diameters: a LAMMPS file's charge column holds them (its
// beads then have charge 0), an H5MD file must have /particles/all/diameter; a missing column or
// dataset, or a diameter that is not positive and finite, is an Error naming the file (and atom).
// Without it, diameters an H5MD file holds are read too (beads.has_diameter), and a LAMMPS file's
// charge column is the charge.
LoadedConfiguration load_configuration(const std::string& path, MPI_Comm comm, bool with_diameters = false);

// Collective: every bead's species lies in 0 .. n_species − 1, the species of the model `model`
// (a file of another model, e.g. a 3-species glass read as Kob–Andersen). Otherwise one Error
// naming the file, the dataset (H5MD) or atom type (LAMMPS data), the bead id and the model.
// Models with per-bead diameters have no species to check: call it for species models only.
void require_species_in_model(const LoadedConfiguration& c, const std::string& path, int n_species,
                              const std::string& model, MPI_Comm comm);

// Collective: rank 0's error message (empty: none) becomes the same Error on every rank.
void root_verdict(MPI_Comm comm, std::string error);

}  // namespace tlsmap
