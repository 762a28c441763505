#pragma once
// Checks on what tlsmap reads, made before any work is done.
//
// The README promises that bad input gets one clear error naming what and where, exit status 1,
// and no output written. The schema (input.cpp) covers the input file's keys; this module covers
// the rest of what a run reads:
//
//  * the input file itself, before toml11 sees it: it must be a regular file (a FIFO would block
//    the open forever, a device would be read forever), and its arrays and inline tables may not
//    nest deeper than kMaxTomlNesting (toml11 parses them recursively: a few thousand '[' overflow
//    the stack). And `run.output` may not name the input file itself: the stage would replace
//    the input it was given by an HDF5 file.
//  * configurations (H5MD /particles/all, LAMMPS data files): finite coordinates, charges and
//    velocities; coordinates within kMaxBoxPeriods box lengths of the box (wrapping 1e300 into a
//    box of 6 σ overflows the image count); species in range; a finite, positive box; and no two
//    beads closer than kMinBeadDistance (minimum image). The readers call these on the data as
//    read, before the beads are wrapped or handed to anyone, and never modify or reorder them:
//    a valid file reads exactly as before.
//
// Why kMinBeadDistance is 0.01 σ and not more: a real glass never has two beads within 0.5 σ
// (the Lennard-Jones energy there is 4·2¹² ε), so any threshold below that is safe for physical
// input; coincident beads (the failure seen: r = 0 gives infinite forces and NaN results) and
// near-coincident ones are what the check must catch. The I/O tests round-trip uniformly random
// beads, whose closest pairs come within 0.025 σ; 0.01 σ leaves them valid files.
//
// The close-pair search sorts the beads by cell (cells at least kMinBeadDistance wide, only the
// occupied ones stored), then compares each bead with the beads of its 27 neighbour cells: O(N log N)
// time and O(N) memory whatever the box size, ~20 ms for 32000 beads. A cell of that width holds
// only a handful of beads that are all farther apart than min_distance, and the scan stops at the
// first pair closer than that, so no input makes it quadratic (not even every bead at one point).
//
// Collective verdicts: agree_first() lets the rank with the smallest offending key (a row index)
// speak for all, so the message is the same whatever the number of ranks.
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/vec3.hpp"

#include <mpi.h>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace tlsmap {

class Input;
class Schema;

inline constexpr double kMinBeadDistance = 0.01;     // σ; see the head comment
inline constexpr double kMaxBoxPeriods = 1048576.0;  // 2^20: coordinates this many box lengths away are refused
inline constexpr int kMaxSpecies = 1024;             // species index bound when the file records no count
inline constexpr int kMaxTomlNesting = 32;           // arrays / inline tables inside each other
inline constexpr std::int64_t kNoProblem = std::numeric_limits<std::int64_t>::max();

// ---- collective verdicts ---------------------------------------------------------------------

// Collective. `key` is this rank's first problem (e.g. a global row index), kNoProblem if none.
// If any rank has one, every rank throws Error(message of the rank with the smallest key), without
// a rank prefix: the message does not depend on the number of ranks.
void agree_first(MPI_Comm comm, std::int64_t key, const std::string& message);

// ---- configurations (not collective: pure checks on data one rank holds) ----------------------

// "" if the box is usable: lo finite, edges finite and > 0; else what is wrong ("box edge y = -1 ...").
std::string box_problem(const Box& box);

// "" if x is finite and within kMaxBoxPeriods box lengths of the box; else what is wrong, naming the
// coordinate ("coordinate y = nan is not finite"). The box must have passed box_problem().
std::string coordinate_problem(const Vec3& x, const Box& box);

// A pair (i < j) of positions closer than min_distance under minimum image, or nothing: the first
// the cell scan meets, a function of the positions and the box alone (not of the rank count).
// Positions need not be wrapped, but must have passed coordinate_problem().
std::optional<std::array<std::size_t, 2>> close_pair(const std::vector<Vec3>& pos, const Box& box,
                                                     double min_distance = kMinBeadDistance);

// Text for a close pair: "beads with ids 3 and 4 are 0 sigma apart (minimum image), closer than 0.01 sigma".
std::string close_pair_message(std::int64_t id_a, std::int64_t id_b, double distance);

// For readers of other datasets (e.g. /tls/position_b in the dipole stage): throws Error
// "<file>: <dataset>: row k has a value that is not finite (nan)" for the first NaN or inf, rows of
// `row_width` values. Not collective, but safe on data every rank holds alike (read_dataset's).
void require_finite(const std::string& file, const std::string& dataset, const std::vector<double>& values,
                    std::size_t row_width = 1);

// ---- the input file ----------------------------------------------------------------------------

// Not collective. "" if `path` names a regular file whose arrays and inline tables nest at most
// kMaxTomlNesting deep; else the message ("in.toml: not a regular file (a FIFO)", "in.toml:3: ...").
// A file that cannot be read is left for Input::parse to report.
std::string input_file_problem(const std::string& path);

// The depth check alone, on text (file:line in the message). Brackets and braces inside strings and
// comments do not count. "" if fine.
std::string toml_nesting_problem(const std::string& text, const std::string& path);

// Collective: Input::parse with the checks above first (rank 0 looks, every rank throws the same
// Error), and afterwards the refusal of a run.output that is the input file itself.
Input read_input_file(MPI_Comm comm, const std::string& path, const Schema& schema);

// Not collective. Whether a and b name the same file (existing: same inode; otherwise the same
// canonical path).
bool same_file(const std::string& a, const std::string& b);

}  // namespace tlsmap
