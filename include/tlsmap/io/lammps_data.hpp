#pragma once
// LAMMPS data files (text), orthorhombic boxes, atom styles "atomic" (id type x y z [ix iy iz]),
// "charge" (id type q x y z [ix iy iz]) and "full" (id molecule type q x y z [ix iy iz]), with
// optional Masses and Velocities sections, and Bonds (one bond per atom: Beads::partner).
//
// Text I/O is serial by nature, so rank 0 does it: reading parses on rank 0 and leaves every bead
// owned by rank 0 (the engine's migration distributes them); writing gathers to rank 0, sorts by
// id and writes "<path>.tmp", renamed to <path> when complete. Errors reach all ranks as one
// tlsmap::Error naming the file and line. LAMMPS type = species + 1.
//
// Models with per-bead diameters read them from the charge column (config_file.hpp) and write them
// there (LammpsWriteOptions::diameter_as_charge), as published data for the polydisperse soft
// spheres do; the file format itself knows nothing of diameters.
#include "tlsmap/core/box.hpp"
#include "tlsmap/parallel/beads.hpp"

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tlsmap {

struct LammpsData {
  Box box;
  Beads beads;               // rank 0: all beads, wrapped into the box (images adjusted)
  std::int64_t n_atoms = 0;  // on every rank
  int n_types = 0;
  std::vector<double> masses;  // masses[type - 1]; empty if the file has no Masses section
  std::string atom_style;      // "atomic", "charge" or "full"
  bool has_velocity = false;
  std::int64_t n_bonds = 0;  // the Bonds section's lines; beads.has_partner when > 0
  int n_bond_types = 0;
};

// Collective. Ids must be exactly 1..n_atoms (tlsmap's permanent ids). Atom style comes from the
// "Atoms # style" comment, else from the number of fields of the first Atoms line. A Bonds section
// sets each bonded atom's partner (an atom in two bonds is an error naming the line); molecule ids
// and bond types are not kept, Bond Coeffs are skipped. Tilt factors, other atom styles and other
// topology sections (Angles, ...) are rejected.
LammpsData read_lammps_data(const std::string& path, MPI_Comm comm);

// Throws Error naming the file and type unless every mass of the Masses section is 1 (or there is
// none): tlsmap's beads all have the unit mass m (reduced units), which its MD and its tunnelling
// (mass-weighted paths, Δ0) use. `use` says what reads the file. The same on every rank.
void require_unit_masses(const std::vector<double>& masses, const std::string& path, const std::string& use);

struct LammpsWriteOptions {
  std::string atom_style = "charge";  // "atomic" drops charges
  int n_types = 0;                    // 0: max species + 1 over all ranks
  std::vector<double> masses;         // per type; empty: 1.0 for every type
  bool with_velocity = false;
  std::string title = "tlsmap configuration";
  // Atom style charge with the charge column holding each bead's diameter instead of its charge:
  // the convention of published polydisperse soft-sphere data (the beads must have diameters).
  bool diameter_as_charge = false;
};

// Collective. Writes the owned beads of all ranks, sorted by id (must be exactly 1..N), with
// doubles in their shortest exact form, so reading the file back gives the same doubles. Beads
// with bond partners are written in atom style full (molecule id = the bond's number) with a Bonds
// section of one bond type, whatever options.atom_style says.
void write_lammps_data(const std::string& path, const Box& box, const Beads& beads, MPI_Comm comm,
                       const LammpsWriteOptions& options = {});

}  // namespace tlsmap
