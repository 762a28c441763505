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
// in the same cell, at every rank count. Cells are visited in a fixed order relative to the
// bead's own cell (z, then y, then x), and beads within a cell by id. This order comes out of the
// cell scan at no cost; the previous order (each row sorted by id) cost a sort per row, a third
// of the build.
//
// Build, LAMMPS-style binning with a twist for the order: beads are counting-sorted into bins
// (species, cell) — their *slots* — and their positions copied into slot order. Then, cell by
// cell, the beads of the 5×5×5 surrounding cells (~ 3.9 candidates per neighbour) are copied once
// into candidate buffers, species by species, which puts them in canonical order; every owned bead
// of the cell makes one long pass over the buffers for the squared distances (vectorised) and a
// branch-free compaction of the hits (AVX-512 compress in the x86-64-v4 variant of
// core/kernel_isa.hpp, bitwise the same rows), writing its row directly
// in canonical order. Rows are finally moved into the order of the owned beads, so that the force
// loop reads the list and writes its outputs sequentially.
#include "tlsmap/parallel/beads.hpp"

#include <mpi.h>

#include <vector>

namespace tlsmap {

class NeighborList {
 public:
  NeighborList(double cutoff, double skin) : cutoff_(cutoff), skin_(skin) {}

  // Optional: per species pair cutoffs (n_species² entries, row-major, each <= cutoff()). Row
  // segments of species pair (a, b) then keep only beads within cutoffs[a n + b] + skin, which
  // for Kob–Andersen (r_c = 2.5, 2.0, 2.2) shortens the lists by 16% and the force loop by
  // 10–13%. Without it (or for species beyond n_species) every pair uses cutoff() + skin. Takes
  // effect at the next build.
  void set_pair_cutoffs(int n_species, std::vector<double> cutoffs);

  // region_lo/hi: the subdomain; ghosts are expected within cutoff + skin of it.
  void build(const Beads& beads, const Vec3& region_lo, const Vec3& region_hi);
  // Collective: true on every rank if any owned bead moved more than skin/2 since build().
  bool needs_rebuild(const Beads& beads, MPI_Comm comm) const;

  double cutoff() const { return cutoff_; }
  double skin() const { return skin_; }
  double range() const { return cutoff_ + skin_; }

  // Rows: one per owned bead, row i for owned bead i.
  int n_rows() const { return static_cast<int>(offset_.size() / (n_species_ + 1)); }
  // Neighbours of row i (local indices) in canonical order, as n_species() segments (max species
  // index on this rank + 1); segment s holds the neighbours of species s.
  int n_species() const { return n_species_; }
  const int* segment_begin(int i, int s) const { return index_.data() + offset_[row_base(i) + s]; }
  const int* segment_end(int i, int s) const { return index_.data() + offset_[row_base(i) + s + 1]; }
  const int* row_begin(int i) const { return segment_begin(i, 0); }
  const int* row_end(int i) const { return segment_end(i, n_species_ - 1); }
  std::size_t n_pairs() const { return n_index_; }

  long n_builds() const { return n_builds_; }
  // Wall time spent in build() since construction (seconds, this rank): for benchmarks.
  double build_seconds() const { return build_seconds_; }

 private:
  double cutoff_, skin_;
  int n_species_ = 1;
  std::size_t row_base(int i) const { return static_cast<std::size_t>(i) * (n_species_ + 1); }
  // Row i: segment s is index_[offset_[row_base(i) + s], offset_[row_base(i) + s + 1]).
  std::vector<int> offset_;
  std::vector<int> index_;  // entries [0, n_index_); the vector only grows
  std::size_t n_index_ = 0;
  std::vector<Vec3> pos_at_build_;
  int n_pair_species_ = 0;
  std::vector<double> pair_range2_;  // (cutoff_ab + skin)², n_pair_species_² entries
  // Build scratch, kept to avoid reallocation. A bead's *slot* is its place in (species, cell, id)
  // order; candidates are the per-cell copies of the stencil's slots.
  std::vector<int> bin_start_, bead_bin_, slot_bead_, cand_j_, sorted_;
  std::vector<double> x_, y_, z_, cand_x_, cand_y_, cand_z_, cand_d2_;
  std::vector<double> row_limit_;  // cell_rows: the squared range to each species of the row's species
  long n_builds_ = 0;
  double build_seconds_ = 0.0;

  // The steps of build(): the slots of the beads binned in bead_bin_ (n_bins bins), with their
  // positions; the candidates of the cell at (ix, iy, iz) of the local grid (nc cells a side) into
  // the cand_ buffers, segment starts per species in seg (returns their number); the rows of the
  // owned beads of cell c; the rows moved into local order.
  void sort_slots(const Beads& b, int n_bins);
  std::size_t gather_candidates(int ix, int iy, int iz, const int (&nc)[3], int n_cells, std::vector<int>& seg);
  void cell_rows(int c, int n_cells, int n_owned, std::size_t m, const std::vector<int>& seg, double r2);
  void rows_into_local_order(int n_owned);
};

}  // namespace tlsmap
