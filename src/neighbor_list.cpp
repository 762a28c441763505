#include "tlsmap/neighbor_list.hpp"

#include <algorithm>
#include <cmath>

namespace tlsmap {

void NeighborList::build(const Beads& b, const Vec3& region_lo, const Vec3& region_hi) {
  const double t_start = MPI_Wtime();
  const double r = range(), r2 = r * r;
  Vec3 lo = region_lo.array() - r, extent = (region_hi - region_lo).array() + 2.0 * r;
  Int3 nc;
  Vec3 inv_cell;
  for (int d = 0; d < 3; ++d) {
    nc[d] = std::max(1, static_cast<int>(std::floor(extent[d] / r)));
    inv_cell[d] = nc[d] / extent[d];
  }
  const int n_cells = nc[0] * nc[1] * nc[2];
  const int n = b.n_local();
  auto cell_of = [&](const Vec3& x) {
    int c[3];
    for (int d = 0; d < 3; ++d) c[d] = std::clamp(static_cast<int>((x[d] - lo[d]) * inv_cell[d]), 0, nc[d] - 1);
    return (c[2] * nc[1] + c[1]) * nc[0] + c[0];
  };
  // Counting sort of beads into cells.
  std::vector<int> cell(n);
  cell_start_.assign(n_cells + 1, 0);
  for (int i = 0; i < n; ++i) ++cell_start_[(cell[i] = cell_of(b.pos[i])) + 1];
  for (int c = 0; c < n_cells; ++c) cell_start_[c + 1] += cell_start_[c];
  cell_bead_.resize(n);
  {
    std::vector<int> fill(cell_start_.begin(), cell_start_.end() - 1);
    for (int i = 0; i < n; ++i) cell_bead_[fill[cell[i]]++] = i;
  }
  offset_.assign(1, 0);
  index_.clear();
  std::vector<std::pair<std::int64_t, int>> row;
  for (int i = 0; i < b.n_owned; ++i) {
    row.clear();
    const Vec3& xi = b.pos[i];
    int ci = cell[i];
    int cx = ci % nc[0], cy = (ci / nc[0]) % nc[1], cz = ci / (nc[0] * nc[1]);
    for (int z = std::max(cz - 1, 0); z <= std::min(cz + 1, nc[2] - 1); ++z)
      for (int y = std::max(cy - 1, 0); y <= std::min(cy + 1, nc[1] - 1); ++y)
        for (int x = std::max(cx - 1, 0); x <= std::min(cx + 1, nc[0] - 1); ++x) {
          int c = (z * nc[1] + y) * nc[0] + x;
          for (int k = cell_start_[c]; k < cell_start_[c + 1]; ++k) {
            int j = cell_bead_[k];
            if (j != i && (b.pos[j] - xi).squaredNorm() < r2) row.emplace_back(b.id[j], j);
          }
        }
    std::sort(row.begin(), row.end());
    for (const auto& [id, j] : row) index_.push_back(j);
    offset_.push_back(static_cast<int>(index_.size()));
  }
  pos_at_build_.assign(b.pos.begin(), b.pos.begin() + b.n_owned);
  ++n_builds_;
  build_seconds_ += MPI_Wtime() - t_start;
}

bool NeighborList::needs_rebuild(const Beads& b, MPI_Comm comm) const {
  const double limit2 = 0.25 * skin_ * skin_;
  int local = static_cast<int>(pos_at_build_.size()) != b.n_owned;
  for (int i = 0; i < b.n_owned && !local; ++i) local = (b.pos[i] - pos_at_build_[i]).squaredNorm() > limit2;
  int any = 0;
  MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, comm);
  return any != 0;
}

}  // namespace tlsmap
