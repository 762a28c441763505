#include "tlsmap/neighbor_list.hpp"

#include <algorithm>
#include <cmath>

namespace tlsmap {

void NeighborList::build(const Beads& b, const Vec3& region_lo, const Vec3& region_hi) {
  const double t_start = MPI_Wtime();
  const double r = range(), r2 = r * r;
  // Global grid: cells of width w slightly above r/2 (the margin keeps a neighbour within two
  // cells despite rounding in x / w), anchored at 0 so that a bead's cell depends on its position
  // only. The local part covers the region, its ghost layer (< 2 cells) and a spare cell.
  const double w = 0.5 * r * (1.0 + 1e-9), inv_w = 1.0 / w;
  constexpr int kMargin = 3;
  int first[3], nc[3];
  for (int d = 0; d < 3; ++d) {
    first[d] = static_cast<int>(std::floor(region_lo[d] * inv_w)) - kMargin;
    nc[d] = static_cast<int>(std::floor(region_hi[d] * inv_w)) + kMargin - first[d] + 1;
  }
  const int n_cells = nc[0] * nc[1] * nc[2];
  const int n = b.n_local(), n_owned = b.n_owned;
  auto cell_of = [&](const Vec3& x) {
    int c[3];
    for (int d = 0; d < 3; ++d)
      c[d] = std::clamp(static_cast<int>(std::floor(x[d] * inv_w)) - first[d], 0, nc[d] - 1);
    return (c[2] * nc[1] + c[1]) * nc[0] + c[0];
  };
  // Distance from coordinate x (in global cell g) to the near face of cell g + d along one axis,
  // less a pad that covers rounding in x / w; 0 for d = 0.
  const double pad = 1e-9 * r;
  auto face_gap = [&](double x, int g, int d) {
    if (d == 0) return 0.0;
    const double face = d > 0 ? (g + d) * w : (g + d + 1) * w;
    return std::max(0.0, std::abs(face - x) - pad);
  };

  // Slots: counting sort of beads into cells, then by id within each cell (a few beads: insertion
  // sort).
  bead_cell_.resize(n);
  cell_start_.assign(n_cells + 1, 0);
  for (int i = 0; i < n; ++i) ++cell_start_[(bead_cell_[i] = cell_of(b.pos[i])) + 1];
  for (int c = 0; c < n_cells; ++c) cell_start_[c + 1] += cell_start_[c];
  slot_bead_.resize(n);
  {
    std::vector<int> fill(cell_start_.begin(), cell_start_.end() - 1);
    for (int i = 0; i < n; ++i) slot_bead_[fill[bead_cell_[i]]++] = i;
  }
  const std::int64_t* id = b.id.data();
  for (int c = 0; c < n_cells; ++c)
    for (int k = cell_start_[c] + 1; k < cell_start_[c + 1]; ++k) {
      const int j = slot_bead_[k];
      int m = k;
      for (; m > cell_start_[c] && id[slot_bead_[m - 1]] > id[j]; --m) slot_bead_[m] = slot_bead_[m - 1];
      slot_bead_[m] = j;
    }
  // Positions and species in slot order.
  x_.resize(n);
  y_.resize(n);
  z_.resize(n);
  species_.resize(n);
  int n_species = 1;
  for (int k = 0; k < n; ++k) {
    const int j = slot_bead_[k];
    x_[k] = b.pos[j][0];
    y_[k] = b.pos[j][1];
    z_[k] = b.pos[j][2];
    species_[k] = b.species[j];
    n_species = std::max(n_species, b.species[j] + 1);
  }
  n_species_ = n_species;

  // Rows, one per owned bead in slot order. Hits come out ordered by (cell, id) and are then split
  // by species.
  row_bead_.clear();
  row_slot_.clear();
  offset_.assign(1, 0);
  offset_.reserve(static_cast<std::size_t>(n_owned) * n_species + 1);
  const std::size_t previous = index_.size();
  index_.clear();
  index_.reserve(previous + previous / 8);
  hits_.resize(n + 1);
  int* hits = hits_.data();
  const double *xs = x_.data(), *ys = y_.data(), *zs = z_.data();
  const int* ss = species_.data();
  std::vector<int> start(n_species + 1);
  owned_slot_.resize(n_owned);
  for (int k = 0; k < n; ++k)
    if (slot_bead_[k] < n_owned) owned_slot_[slot_bead_[k]] = k;
  for (int i = 0; i < n_owned; ++i) {
    const int self = owned_slot_[i];
    row_bead_.push_back(i);
    row_slot_.push_back(self);
    const double xi = xs[self], yi = ys[self], zi = zs[self];
    const int c = bead_cell_[i];
    const int ix = c % nc[0], iy = (c / nc[0]) % nc[1], iz = c / (nc[0] * nc[1]);
    // Each (y, z) column of the stencil is scanned only over the x cells that the sphere of
    // radius r around bead i can reach, given the y-z distance from the bead to the column. The
    // bounds are padded, so a bead within r is never skipped; skipping drops non-neighbours only,
    // so the order is unchanged.
    int n_hits = 0;
    for (int dz = -2; dz <= 2; ++dz) {
      const double gz = face_gap(zi, first[2] + iz, dz);
      for (int dy = -2; dy <= 2; ++dy) {
        const double gy = face_gap(yi, first[1] + iy, dy);
        const double rest = r2 - gy * gy - gz * gz;
        if (rest <= 0.0) continue;
        const double rx = std::sqrt(rest) + pad;
        const int x_lo = std::max(ix - 2, static_cast<int>(std::floor((xi - rx) * inv_w)) - first[0]);
        const int x_hi = std::min(ix + 2, static_cast<int>(std::floor((xi + rx) * inv_w)) - first[0]);
        const int col = ((iz + dz) * nc[1] + iy + dy) * nc[0];
        const int k0 = cell_start_[col + x_lo], k1 = cell_start_[col + x_hi + 1];
        for (int k = k0; k < k1; ++k) {
          const double ex = xs[k] - xi, ey = ys[k] - yi, ez = zs[k] - zi;
          hits[n_hits] = k;  // branch-free append: keep the slot only on a hit
          n_hits += (ex * ex + ey * ey + ez * ez < r2) & (k != self);
        }
      }
    }
    // Split by species, keeping the (cell, id) order within each: a counting sort, no branches.
    std::fill(start.begin(), start.end(), 0);
    for (int h = 0; h < n_hits; ++h) ++start[ss[hits[h]] + 1];
    const int base = static_cast<int>(index_.size());
    for (int s = 0; s < n_species; ++s) {
      start[s + 1] += start[s];
      offset_.push_back(base + start[s + 1]);
      start[s] += base;
    }
    index_.resize(base + n_hits);
    int* out = index_.data();
    for (int h = 0; h < n_hits; ++h) out[start[ss[hits[h]]]++] = hits[h];
  }
  pos_at_build_.assign(b.pos.begin(), b.pos.begin() + n_owned);
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
