#pragma once
// Verlet neighbour lists built through cell lists.
//
// Each owned bead's list holds every other bead (owned or ghost) within cutoff + skin. Lists are
// *full* (a pair appears in both rows), so each rank computes the forces on its own beads without
// reverse communication. The list stays valid until some bead has moved more than skin/2 since
// the build.
//
// Canonical order. A force is a floating-point sum, so its last bits depend on the order of the
// terms; for results that do not depend on the rank count every row must come out in an order
// that is a function of the neighbours alone, never of the decomposition or of local storage.
// Rows are ordered by
//     (species, cell on a fixed global grid, permanent id)
// and split into one segment per species (the force kernel evaluates a segment with constant pair
// parameters, which lets the compiler vectorise it). The grid has cells of width w ≥ range/2
// anchored at the coordinate origin, not at the subdomain, so a bead's cell is a function of its
// position; ghosts carry their periodic shift, so a neighbour sits at the same coordinates, hence
// in the same cell, at every rank count. Within a cell beads are ordered by id. This order costs
// no per-row sort (a cell holds three or four beads); sorting each row by id took a third of the
// build.
//
// Slots. The build sorts the local beads (owned and ghost) into that cell order; a bead's place in
// it is its *slot*. List entries are slots, not local indices, and rows come in slot order too:
// the kernel copies positions into slot order once per call (slot_bead()), after which one row's
// neighbours are a few contiguous runs of memory and consecutive rows share most of them. With
// local indices the same rows were scattered over the whole position array.
//
// Build: counting sort into cells; a bead's candidates are the 5×5×5 surrounding cells, scanned
// as contiguous runs along x and trimmed to the x-range the sphere can reach in each (y, z)
// column: ~ 2.8 candidates per neighbour, against 7.5 with cells one range wide and 27 of them.
#include "tlsmap/beads.hpp"

#include <mpi.h>

#include <vector>

namespace tlsmap {

class NeighborList {
 public:
  NeighborList(double cutoff, double skin) : cutoff_(cutoff), skin_(skin) {}

  // region_lo/hi: the subdomain; ghosts are expected within cutoff + skin of it.
  void build(const Beads& beads, const Vec3& region_lo, const Vec3& region_hi);
  // Collective: true on every rank if any owned bead moved more than skin/2 since build().
  bool needs_rebuild(const Beads& beads, MPI_Comm comm) const;

  double cutoff() const { return cutoff_; }
  double skin() const { return skin_; }
  double range() const { return cutoff_ + skin_; }

  // Slots: n_slots() = local beads at the build; slot_bead(k) is the local index in slot k.
  int n_slots() const { return static_cast<int>(slot_bead_.size()); }
  const int* slot_bead() const { return slot_bead_.data(); }
  // Rows: one per owned bead, in slot order; row_bead(r) is the owned bead's local index and
  // row_slot(r) its slot.
  int n_rows() const { return static_cast<int>(row_bead_.size()); }
  int row_bead(int r) const { return row_bead_[r]; }
  int row_slot(int r) const { return row_slot_[r]; }
  // Neighbours of row r (slots) in canonical order, as n_species() segments (max species index on
  // this rank + 1); segment s holds the neighbours of species s.
  int n_species() const { return n_species_; }
  const int* row_begin(int r) const { return index_.data() + offset_[static_cast<std::size_t>(r) * n_species_]; }
  const int* row_end(int r) const { return index_.data() + offset_[static_cast<std::size_t>(r + 1) * n_species_]; }
  const int* segment_begin(int r, int s) const {
    return index_.data() + offset_[static_cast<std::size_t>(r) * n_species_ + s];
  }
  const int* segment_end(int r, int s) const {
    return index_.data() + offset_[static_cast<std::size_t>(r) * n_species_ + s + 1];
  }
  std::size_t n_pairs() const { return index_.size(); }

  long n_builds() const { return n_builds_; }
  // Wall time spent in build() since construction (seconds, this rank): for benchmarks.
  double build_seconds() const { return build_seconds_; }

 private:
  double cutoff_, skin_;
  int n_species_ = 1;
  std::vector<int> slot_bead_, row_bead_, row_slot_;
  std::vector<int> offset_{0};  // start of segment s of row r at [r * n_species_ + s]; then the end
  std::vector<int> index_;
  std::vector<Vec3> pos_at_build_;
  // Build scratch, kept to avoid reallocation.
  std::vector<int> cell_start_, bead_cell_, hits_, species_, owned_slot_;
  std::vector<double> x_, y_, z_;
  long n_builds_ = 0;
  double build_seconds_ = 0.0;
};

}  // namespace tlsmap
