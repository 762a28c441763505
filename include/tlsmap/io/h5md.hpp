#pragma once
// Bead configurations in H5MD 1.1 files, written and read collectively with parallel HDF5.
//
// Rows are ordered by bead id (row k holds id k + 1), so a file does not depend on how many ranks
// wrote it. Writing first routes every bead to the rank that owns its row in a block layout
// (rank r holds rows [r N / P, (r + 1) N / P)), so each rank writes one contiguous hyperslab:
// one all-to-all instead of HDF5 gathering scattered point selections, and the same layout
// reading uses. The exact layout is in docs/file-format.md.
//
// Every function here is collective over the file's communicator. HDF5's own error printing is
// silenced; failures become tlsmap::Error on all ranks together, naming the file and the object.
// Files opened with Mode::create are written as "<path>.tmp" and appear as <path> only on
// commit(), so a failed run leaves no partial output. Mode::update edits a copy "<path>.tmp" of an
// existing file and renames it over <path> on commit(), so a failed stage leaves the previous
// file untouched.
#include "tlsmap/core/box.hpp"
#include "tlsmap/parallel/beads.hpp"

#include <hdf5.h>
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tlsmap {

class Input;

// Async-signal-safe: removes the "<path>.tmp" of every create- or update-mode file not yet
// committed on this rank (rank 0 owns them), for a SIGTERM/SIGINT handler, so a run killed by the
// batch system's time limit leaves no temp file behind (the committed <path> is untouched).
void remove_uncommitted_temporaries() noexcept;

// Whether HDF5 cannot be finalized safely on this rank: a writable file was left open after an
// HDF5 call on it failed (a full disk, a file-size limit, a corrupted chunk), or closing one
// failed. Closing a file after a failed write can deadlock inside HDF5 1.10 (its flush has
// collective steps a failing rank skips), and a failed close leaves a dangling file id that
// crashes HDF5's clean-up at MPI_Finalize (SIGSEGV in H5F__close_cb). So such a file is abandoned
// (its temp file removed, the handle never closed) and main ends the run without MPI_Finalize,
// after the usual one message, on every rank alike.
bool hdf5_close_failed() noexcept;

class Hdf5File {
 public:
  enum class Mode { create, read_only, read_write, update };

  // Collective. create: a new "<path>.tmp" (truncated if present); read_only / read_write: an
  // existing file (read_write lets later stages add groups in place, unprotected); update: rank 0
  // copies the existing <path> to "<path>.tmp" (overwriting), which every rank opens read-write.
  // Throws Error naming the path if the file is missing or not HDF5, or the copy fails.
  Hdf5File(const std::string& path, Mode mode, MPI_Comm comm);
  // Collective. A create- or update-mode file that was not committed is closed and its temp file
  // removed (for update: <path> keeps its previous content). A writable file on which an HDF5 call
  // failed is not closed but abandoned (hdf5_close_failed).
  ~Hdf5File();
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;

  // Collective, create and update modes only: close the file and rename "<path>.tmp" to <path>.
  // First the file is grown to its allocated size (fallocate), so a full disk or a file-size limit
  // gives an Error before the collective close, which HDF5 cannot recover from.
  void commit();

  hid_t id() const { return id_; }
  MPI_Comm comm() const { return comm_; }
  const std::string& path() const { return path_; }  // the final name, not the temp one
  Mode mode() const { return mode_; }

 private:
  std::string path_;
  Mode mode_;
  MPI_Comm comm_;
  hid_t id_ = -1;
  bool committed_ = false;
  long failures_at_open_ = 0;  // HDF5 failures agreed on before this file was opened (h5md.cpp)
};

// What a configuration file records besides the beads. Written as attributes of the root group
// (step and time go into the H5MD step/time datasets). Rank 0's copy is the one written.
struct ConfigMeta {
  std::string units = "lj";              // unit system of every number in /particles
  std::string input;                     // text of the input that produced the file
  std::map<std::string, double> values;  // e.g. sigma_angstrom, epsilon_kelvin, mass_amu,
                                         // debye_per_reduced_dipole
  std::string author;                    // /h5md/author name; empty: $USER, else "unknown"
  std::int64_t step = 0;
  double time = 0.0;
};

// The metadata of every configuration a run writes: units "lj", the input's text, and the unit
// mapping of its [units] table (sigma_angstrom, epsilon_kelvin, mass_amu, e_per_reduced_charge,
// debye_per_reduced_dipole, tau_ps; include/tlsmap/io/units.hpp).
ConfigMeta config_meta(const Input& in);

// Collective. Writes /h5md and /particles/all from the owned beads [0, n_owned) of every rank.
// Ids over all ranks must be exactly 1..N; otherwise throws Error (on all ranks).
// Velocities are written only if with_velocity; /particles/all/diameter only if the beads have
// diameters (Beads::has_diameter on any rank: a model with per-bead diameters).
void write_configuration(Hdf5File& file, const Box& box, const Beads& beads, const ConfigMeta& meta,
                         bool with_velocity = false);

// Bonds (Beads::partner): /particles/all/bonds, int64 (n_bonds, 2) of bead ids, each bond once as
// (lower id, higher id), rows sorted. write_configuration writes it when the beads have partners;
// read_configuration reads it when present (one bond per bead; Error naming the row otherwise).
// Collective; both hold the whole table on every rank (two ids per bond).
void write_bonds(Hdf5File& file, const Beads& beads);
void read_bonds(Hdf5File& file, Beads& beads, std::int64_t n_global);

struct Configuration {
  Box box;
  Beads beads;                // rows [r N / P, (r + 1) N / P) of the file, all owned, no ghosts
  std::int64_t n_global = 0;  // N
  bool has_velocity = false;  // velocity read from the file (otherwise beads.vel is zero)
  ConfigMeta meta;
};

// Collective. Reads the last frame of /particles/all. Beads come back in row blocks, not by
// space: the caller migrates them to their owners. image and velocity are optional in the file
// (zero if absent); position, species, charge, id and box/edges are required. diameter is optional:
// if present (positive and finite, else Error) beads.has_diameter is set on every rank.
Configuration read_configuration(Hdf5File& file);
Configuration read_configuration(const std::string& path, MPI_Comm comm);

// Collective. Overwrites, in place, this rank's rows [first_row, first_row + local.size()) of the
// per-bead float64 element `element` ("/particles/all/charge") of n rows: the last frame of an
// H5MD time-dependent element (value of shape (frames, n)) or a plain dataset of shape (n). Throws
// Error ("cannot update <element>: ...") if it is missing, of another shape, or cannot be written.
void overwrite_rows(Hdf5File& file, const std::string& element, const std::vector<double>& local,
                    std::int64_t first_row, std::int64_t n);

// ---- Datasets and attributes of later stages (groups beside /particles) --------------------
// All collective. `path` is absolute ("/tls/center"); missing groups on the way are created.
// T is double, std::int64_t or int (stored as float64, int64, int32). Data are row-major.
// Shapes are Shape (one extent per dimension), so callers need no HDF5 type.
using Shape = std::vector<std::size_t>;

// A dataset of shape dims from data every rank holds alike (rank 0's copy is written).
template <class T>
void write_replicated(Hdf5File& file, const std::string& path, const std::vector<T>& data, const Shape& dims);

// A dataset of shape (n_rows, row_shape...) whose rows are the ranks' local rows concatenated in
// rank order (local.size() must be a multiple of the row size). Returns this rank's first row.
template <class T>
std::int64_t write_distributed(Hdf5File& file, const std::string& path, const std::vector<T>& local,
                               const Shape& row_shape = {});

// The whole dataset on every rank; its shape goes to *dims if given. Throws Error naming the
// dataset if it is missing or of the wrong kind (integer vs floating point).
template <class T>
std::vector<T> read_dataset(Hdf5File& file, const std::string& path, Shape* dims = nullptr);

// A 1-D dataset of fixed-length UTF-8 strings (padded to the longest), from data every rank holds
// alike; and its reading (trailing NULs stripped). Throws Error naming the dataset if it is
// missing or not of a string type.
void write_replicated_strings(Hdf5File& file, const std::string& path, const std::vector<std::string>& data);
std::vector<std::string> read_strings(Hdf5File& file, const std::string& path);

// Whether an object (group or dataset) exists at the absolute path (false if a group on the way is
// missing); deleting it if it does (so a stage can be rerun and replace its groups and datasets).
bool has_object(Hdf5File& file, const std::string& path);
void remove_object(Hdf5File& file, const std::string& path);

// Scalar attributes of a group or dataset (a missing object is created as a group); an existing
// attribute of that name is replaced.
void write_attribute(Hdf5File& file, const std::string& object, const std::string& name, double value);
void write_attribute(Hdf5File& file, const std::string& object, const std::string& name, const std::string& value);
double read_attribute(Hdf5File& file, const std::string& object, const std::string& name);
std::string read_string_attribute(Hdf5File& file, const std::string& object, const std::string& name);

}  // namespace tlsmap
