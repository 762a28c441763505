#include "tlsmap/io/config_file.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/lammps_data.hpp"
#include "tlsmap/io/validate.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace tlsmap {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Collective: true for HDF5, false for a LAMMPS data file. Rank 0 looks at the file once (one
// metadata hit on a parallel file system) and tells the others.
bool is_hdf5(const std::string& path, MPI_Comm comm) {
  int hdf5 = 0, rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string error;
  if (rank == 0) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      error = path + ": no such file";
    } else if (!std::filesystem::is_regular_file(path, ec)) {
      error = path + ": not a regular file";
    } else {
      std::ifstream in(path, std::ios::binary);
      char sig[8] = {};
      in.read(sig, sizeof sig);
      hdf5 = ends_with(path, ".h5") || ends_with(path, ".hdf5") || !std::memcmp(sig, "\x89HDF\r\n\x1a\n", 8);
    }
  }
  root_verdict(comm, error);
  MPI_Bcast(&hdf5, 1, MPI_INT, 0, comm);
  return hdf5 != 0;
}

// Rank 0 holds every bead of a LAMMPS file: its charge column becomes the diameters, checked there.
void charges_to_diameters(const std::string& path, const LammpsData& d, Beads& b, MPI_Comm comm) {
  if (d.atom_style != "charge")
    throw Error(path + ": atom style " + d.atom_style +
                " has no charge column; a model with per-bead diameters "
                "reads them from the charge column (atom style charge)");
  std::string error;
  b.enable_diameter();
  for (int i = 0; i < b.n_owned && error.empty(); ++i) {
    if (!(std::isfinite(b.charge[i]) && b.charge[i] > 0.0))
      error = path + ": atom id " + std::to_string(b.id[i]) + ": diameter (charge column) " +
              std::to_string(b.charge[i]) + " is not positive";
    b.diameter[i] = b.charge[i];
    b.charge[i] = 0.0;
  }
  root_verdict(comm, error);
}

}  // namespace

void root_verdict(MPI_Comm comm, std::string error) {
  unsigned long n = error.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG, 0, comm);
  error.resize(n);
  MPI_Bcast(error.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  if (n) throw Error(error);
}

void require_species_in_model(const LoadedConfiguration& c, const std::string& path, int n_species,
                              const std::string& model, MPI_Comm comm) {
  const Beads& b = c.beads;
  std::int64_t first = kNoProblem;  // the smallest offending bead id: the same message at any rank count
  int species = 0;
  for (int i = 0; i < b.n_owned; ++i)
    if ((b.species[i] < 0 || b.species[i] >= n_species) && b.id[i] < first) first = b.id[i], species = b.species[i];
  const bool lammps = c.format == "lammps-data";
  const std::string where =
      lammps ? "atom " + std::to_string(first) + " has type " + std::to_string(species + 1)
             : "/particles/all/species: bead id " + std::to_string(first) + " has species " + std::to_string(species);
  const std::string allowed =
      lammps ? "types 1.." + std::to_string(n_species) : "species 0.." + std::to_string(n_species - 1);
  agree_first(comm, first, path + ": " + where + "; the model " + model + " has " + allowed);
}

LoadedConfiguration load_configuration(const std::string& path, MPI_Comm comm, bool with_diameters) {
  LoadedConfiguration c;
  if (is_hdf5(path, comm)) {
    c.format = "h5md";
    Configuration h = read_configuration(path, comm);
    c.box = h.box;
    c.beads = std::move(h.beads);
    if (with_diameters && !c.beads.has_diameter)
      throw Error(path + ": no /particles/all/diameter; the model needs a diameter for every bead");
  } else {
    c.format = "lammps-data";
    LammpsData d = read_lammps_data(path, comm);
    c.box = d.box;
    c.beads = std::move(d.beads);
    c.masses = d.masses;
    if (with_diameters) charges_to_diameters(path, d, c.beads, comm);
  }
  if (c.beads.has_diameter)
    for (int i = 0; i < c.beads.n_owned; ++i) c.max_diameter = std::max(c.max_diameter, c.beads.diameter[i]);
  MPI_Allreduce(MPI_IN_PLACE, &c.max_diameter, 1, MPI_DOUBLE, MPI_MAX, comm);
  return c;
}

}  // namespace tlsmap
