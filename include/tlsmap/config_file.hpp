#pragma once
// Read a configuration from either of the formats tlsmap understands, chosen by content:
// our H5MD files (HDF5 signature or .h5/.hdf5 name) or LAMMPS data files (atomic or charge style).
// Used by `tlsmap energy` and by `pack` when [pack] from names a glass made elsewhere.
#include "tlsmap/beads.hpp"
#include "tlsmap/box.hpp"

#include <mpi.h>

#include <string>

namespace tlsmap {

struct LoadedConfiguration {
  Box box;
  Beads beads;         // some distribution over ranks; migrate before use (System::set_beads does)
  std::string format;  // "h5md" or "lammps-data"
};

// Collective. Throws Error naming the path if it is missing, unreadable or malformed.
LoadedConfiguration load_configuration(const std::string& path, MPI_Comm comm);

// Collective: rank 0's error message (empty: none) becomes the same Error on every rank.
void root_verdict(MPI_Comm comm, std::string error);

}  // namespace tlsmap
