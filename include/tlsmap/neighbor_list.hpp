#pragma once
// Verlet neighbour lists built through cell lists.
//
// Beads (owned and ghost) are binned into cells at least `cutoff + skin` wide covering the
// subdomain plus its ghost layer; each owned bead's list holds every other bead within
// cutoff + skin found in the 27 surrounding cells. Lists are *full* (a pair appears in both rows)
// and each row is ordered by the neighbours' permanent ids, so a force sum visits its terms in the
// same order whatever the decomposition — the root of rank-count-independent results.
// The list stays valid until some bead has moved more than skin/2 since the build.
#include "tlsmap/beads.hpp"

#include <mpi.h>

#include <vector>

namespace tlsmap {

class NeighborList {
 public:
  NeighborList(double cutoff, double skin) : cutoff_(cutoff), skin_(skin) {}

  // region_lo/hi: the subdomain; the ghost layer of width cutoff + skin is added around it.
  void build(const Beads& beads, const Vec3& region_lo, const Vec3& region_hi);
  // Collective: true on every rank if any owned bead moved more than skin/2 since build().
  bool needs_rebuild(const Beads& beads, MPI_Comm comm) const;

  double cutoff() const { return cutoff_; }
  double skin() const { return skin_; }
  double range() const { return cutoff_ + skin_; }
  int n_rows() const { return static_cast<int>(offset_.size()) - 1; }
  const int* row_begin(int i) const { return index_.data() + offset_[i]; }
  const int* row_end(int i) const { return index_.data() + offset_[i + 1]; }
  std::size_t n_pairs() const { return index_.size(); }
  long n_builds() const { return n_builds_; }
  // Wall time spent in build() since construction (seconds, this rank): for benchmarks.
  double build_seconds() const { return build_seconds_; }

 private:
  double cutoff_, skin_;
  std::vector<int> offset_{0}, index_;
  std::vector<Vec3> pos_at_build_;
  std::vector<int> cell_start_, cell_bead_;
  long n_builds_ = 0;
  double build_seconds_ = 0.0;
};

}  // namespace tlsmap
