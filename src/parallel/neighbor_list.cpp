#include "tlsmap/parallel/neighbor_list.hpp"

#include "tlsmap/core/kernel_isa.hpp"
#include "tlsmap/core/kernel_isa_config.hpp"
#include "tlsmap/core/petsc_util.hpp"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tlsmap {
namespace {

// Slack that a compaction may write past its last kept entry.
constexpr std::size_t kCompactSlack = 16;

// Appends j[q] for every q in [q0, q1) with d2[q] < r2 to out[o...], in order; returns the new o.
// With about four candidates per hit this is the build's main cost, and compilers do not
// vectorise a compaction, so a branch-free scalar loop here (an SSE2 variant that visits the set
// bits of a hit mask was slower) and, with AVX-512, compact_avx512 below. Both give the same
// result. May write up to kCompactSlack entries past the returned end.
inline std::size_t compact_scalar(const double* d2, const int* j, int q0, int q1, double r2, int* out, std::size_t o) {
  for (int q = q0; q < q1; ++q) {
    out[o] = j[q];  // keep it only on a hit
    o += d2[q] < r2;
  }
  return o;
}

#if TLSMAP_ISA_VARIANTS || defined(__AVX512F__)
#define TLSMAP_HAVE_COMPACT_AVX512 1
// 16 candidates per step by a compress instruction (a third less build time), the tail scalar.
#if TLSMAP_ISA_VARIANTS
__attribute__((target("arch=x86-64-v4")))
#endif
inline std::size_t
compact_avx512(const double* d2, const int* j, int q0, int q1, double r2, int* out, std::size_t o) {
  int q = q0;
  const __m512d limit = _mm512_set1_pd(r2);
  for (; q + 16 <= q1; q += 16) {
    const __mmask8 lo = _mm512_cmp_pd_mask(_mm512_loadu_pd(d2 + q), limit, _CMP_LT_OQ);
    const __mmask8 hi = _mm512_cmp_pd_mask(_mm512_loadu_pd(d2 + q + 8), limit, _CMP_LT_OQ);
    const __mmask16 keep = static_cast<__mmask16>(lo | (hi << 8));
    const __m512i kept = _mm512_maskz_compress_epi32(keep, _mm512_loadu_si512(j + q));
    _mm512_storeu_si512(out + o, kept);
    o += static_cast<std::size_t>(__builtin_popcount(keep));
  }
  return compact_scalar(d2, j, q, q1, r2, out, o);
}
#endif

// The candidates of one cell (positions and local indices, species segments seg[0..n_species]),
// and the squared distances of the bead being listed.
struct Candidates {
  const double *x, *y, *z;
  const int* j;
  int m;
  const int* seg;
  int n_species;
  double self_d2;  // the distance given to the bead itself: the list's range squared, no hit
  double* d2;
};

// One owned bead's row: the distances to every candidate (a loop the compiler vectorises), then
// the hits of each species segment t within limit[t], in candidate order. `self` is the bead's
// own local index. Writes row_offset[0..n_species]; returns the new end of `out`. Built once per
// instruction-set variant (core/kernel_isa.hpp) below; the variants give the same rows.
template <bool kAvx512>
inline std::size_t list_row(const Candidates& c, int self, double xi, double yi, double zi, const double* limit,
                            int* out, std::size_t o, int* row_offset) {
  const double *cx = c.x, *cy = c.y, *cz = c.z;
  const int* cj = c.j;
  double* d2 = c.d2;
  const double self_d2 = c.self_d2;
  for (int q = 0; q < c.m; ++q) {
    const double ex = cx[q] - xi, ey = cy[q] - yi, ez = cz[q] - zi;
    d2[q] = cj[q] == self ? self_d2 : ex * ex + ey * ey + ez * ez;
  }
  for (int t = 0; t < c.n_species; ++t) {
    row_offset[t] = static_cast<int>(o);
#if defined(TLSMAP_HAVE_COMPACT_AVX512)
    if constexpr (kAvx512) {
      o = compact_avx512(d2, cj, c.seg[t], c.seg[t + 1], limit[t], out, o);
      continue;
    }
#endif
    o = compact_scalar(d2, cj, c.seg[t], c.seg[t + 1], limit[t], out, o);
  }
  row_offset[c.n_species] = static_cast<int>(o);
  return o;
}

using ListRow = std::size_t (*)(const Candidates&, int, double, double, double, const double*, int*, std::size_t, int*);

std::size_t list_row_generic(const Candidates& c, int self, double xi, double yi, double zi, const double* limit,
                             int* out, std::size_t o, int* row_offset) {
#if defined(__AVX512F__)  // a -march=native build on an AVX-512 machine
  return list_row<true>(c, self, xi, yi, zi, limit, out, o, row_offset);
#else
  return list_row<false>(c, self, xi, yi, zi, limit, out, o, row_offset);
#endif
}
#if TLSMAP_ISA_VARIANTS
TLSMAP_TARGET_V3 std::size_t list_row_v3(const Candidates& c, int self, double xi, double yi, double zi,
                                         const double* limit, int* out, std::size_t o, int* row_offset) {
  return list_row<false>(c, self, xi, yi, zi, limit, out, o, row_offset);
}
TLSMAP_TARGET_V4 std::size_t list_row_v4(const Candidates& c, int self, double xi, double yi, double zi,
                                         const double* limit, int* out, std::size_t o, int* row_offset) {
  return list_row<true>(c, self, xi, yi, zi, limit, out, o, row_offset);
}
#endif

ListRow list_row_for(KernelIsa isa) {
#if TLSMAP_ISA_VARIANTS
  if (isa == KernelIsa::x86_64_v4) return list_row_v4;
  if (isa == KernelIsa::x86_64_v3) return list_row_v3;
#endif
  (void)isa;
  return list_row_generic;
}

}  // namespace

void NeighborList::set_pair_cutoffs(int n_species, std::vector<double> cutoffs) {
  n_pair_species_ = n_species;
  pair_range2_.resize(cutoffs.size());
  for (std::size_t k = 0; k < cutoffs.size(); ++k) {
    const double r = std::min(cutoffs[k], cutoff_) + skin_;
    pair_range2_[k] = r * r;
  }
}

void NeighborList::build(const Beads& b, const Vec3& region_lo, const Vec3& region_hi) {
  const ScopedLogEvent event(LogEvent::neighbor_build);
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
    for (int d = 0; d < 3; ++d) c[d] = std::clamp(static_cast<int>(std::floor(x[d] * inv_w)) - first[d], 0, nc[d] - 1);
    return (c[2] * nc[1] + c[1]) * nc[0] + c[0];
  };
  int n_species = 1;
  for (int i = 0; i < n; ++i) n_species = std::max(n_species, b.species[i] + 1);
  n_species_ = n_species;
  const int n_species_local = n_species;  // a local copy the compiler can keep in a register

  // Bins = (species, cell).
  const int n_bins = n_species_local * n_cells;
  bead_bin_.resize(n);
  for (int i = 0; i < n; ++i) bead_bin_[i] = b.species[i] * n_cells + cell_of(b.pos[i]);
  sort_slots(b, n_bins);

  // Rows, cell by cell. The candidates of every bead in cell C are the beads of the 5×5×5 cells
  // around it: they are copied once per cell into buffers, species by species and in slot order,
  // so each buffer is already in canonical (species, cell, id) order. Each owned bead of C then
  // takes one long pass over the buffer for the distances (a loop the compiler vectorises) and a
  // branch-free compaction of the hits, which writes its row in canonical order.
  const std::size_t stride = static_cast<std::size_t>(n_species_local) + 1;
  offset_.assign(static_cast<std::size_t>(n_owned) * stride, 0);
  n_index_ = 0;
  std::vector<int> seg(n_species_local + 1);
  for (int c = 0; c < n_cells; ++c) {
    // Owned beads in cell c (any species).
    bool any_owned = false;
    for (int s = 0; s < n_species_local && !any_owned; ++s)
      for (int k = bin_start_[s * n_cells + c]; k < bin_start_[s * n_cells + c + 1]; ++k)
        any_owned |= slot_bead_[k] < n_owned;
    if (!any_owned) continue;
    const int ix = c % nc[0], iy = (c / nc[0]) % nc[1], iz = c / (nc[0] * nc[1]);
    const std::size_t m = gather_candidates(ix, iy, iz, nc, n_cells, seg);
    cell_rows(c, n_cells, n_owned, m, seg, r2);
  }
  rows_into_local_order(n_owned);
  pos_at_build_.assign(b.pos.begin(), b.pos.begin() + n_owned);
  ++n_builds_;
  build_seconds_ += MPI_Wtime() - t_start;
}

// Slots: beads sorted by bin with a counting sort, then by id within each bin (three or four
// beads: insertion sort). The beads of species s in cells c0..c1 of one x-row are then one
// contiguous run of slots.
void NeighborList::sort_slots(const Beads& b, int n_bins) {
  const int n = b.n_local();
  bin_start_.assign(n_bins + 1, 0);
  for (int i = 0; i < n; ++i) ++bin_start_[bead_bin_[i] + 1];
  for (int c = 0; c < n_bins; ++c) bin_start_[c + 1] += bin_start_[c];
  slot_bead_.resize(n);
  {
    std::vector<int> fill(bin_start_.begin(), bin_start_.end() - 1);
    for (int i = 0; i < n; ++i) slot_bead_[fill[bead_bin_[i]]++] = i;
  }
  const std::int64_t* id = b.id.data();
  for (int c = 0; c < n_bins; ++c)
    for (int k = bin_start_[c] + 1; k < bin_start_[c + 1]; ++k) {
      const int j = slot_bead_[k];
      int m = k;
      for (; m > bin_start_[c] && id[slot_bead_[m - 1]] > id[j]; --m) slot_bead_[m] = slot_bead_[m - 1];
      slot_bead_[m] = j;
    }
  // Positions in slot order.
  x_.resize(n);
  y_.resize(n);
  z_.resize(n);
  for (int k = 0; k < n; ++k) {
    const Vec3& x = b.pos[slot_bead_[k]];
    x_[k] = x[0];
    y_[k] = x[1];
    z_[k] = x[2];
  }
}

// Owned beads are at least kMargin cells inside the grid, so the stencil needs no bounds checks.
std::size_t NeighborList::gather_candidates(int ix, int iy, int iz, const int (&nc)[3], int n_cells,
                                            std::vector<int>& seg) {
  const int n_species_local = n_species_;
  std::size_t m = 0;
  for (int s = 0; s < n_species_local; ++s) {
    seg[s] = static_cast<int>(m);
    for (int z = iz - 2; z <= iz + 2; ++z)
      for (int y = iy - 2; y <= iy + 2; ++y) {
        const int bin = s * n_cells + (z * nc[1] + y) * nc[0] + ix;
        const int k0 = bin_start_[bin - 2], k1 = bin_start_[bin + 3];
        if (cand_x_.size() < m + (k1 - k0)) {
          const std::size_t cap = 2 * (m + (k1 - k0));
          cand_x_.resize(cap);
          cand_y_.resize(cap);
          cand_z_.resize(cap);
          cand_j_.resize(cap);
          cand_d2_.resize(cap);
        }
        // One loop for the four arrays: runs are short (a dozen slots), so four library
        // copies would cost more in calls than in bytes.
        double *dx = cand_x_.data() + m, *dy = cand_y_.data() + m, *dz = cand_z_.data() + m;
        int* dj = cand_j_.data() + m;
        for (int k = k0; k < k1; ++k) {
          dx[k - k0] = x_[k];
          dy[k - k0] = y_[k];
          dz[k - k0] = z_[k];
          dj[k - k0] = slot_bead_[k];
        }
        m += k1 - k0;
      }
  }
  seg[n_species_local] = static_cast<int>(m);
  return m;
}

void NeighborList::cell_rows(int c, int n_cells, int n_owned, std::size_t m, const std::vector<int>& seg, double r2) {
  const int n_species_local = n_species_;
  const std::size_t stride = static_cast<std::size_t>(n_species_local) + 1;
  const Candidates cand{.x = cand_x_.data(),
                        .y = cand_y_.data(),
                        .z = cand_z_.data(),
                        .j = cand_j_.data(),
                        .m = static_cast<int>(m),
                        .seg = seg.data(),
                        .n_species = n_species_local,
                        .self_d2 = r2,
                        .d2 = cand_d2_.data()};
  const ListRow list_row = list_row_for(kernel_isa());
  row_limit_.resize(n_species_local);
  double* limit = row_limit_.data();
  for (int s = 0; s < n_species_local; ++s) {
    for (int t = 0; t < n_species_local; ++t)
      limit[t] = s < n_pair_species_ && t < n_pair_species_ ? pair_range2_[s * n_pair_species_ + t] : r2;
    for (int k = bin_start_[s * n_cells + c]; k < bin_start_[s * n_cells + c + 1]; ++k) {
      const int i = slot_bead_[k];
      if (i >= n_owned) continue;
      if (index_.size() < n_index_ + m + kCompactSlack) index_.resize(2 * (n_index_ + m + kCompactSlack));
      int* row_offset = offset_.data() + static_cast<std::size_t>(i) * stride;
      n_index_ = list_row(cand, i, x_[k], y_[k], z_[k], limit, index_.data(), n_index_, row_offset);
    }
  }
}

// Rows into local order, so that the force loop walks index_ and writes its outputs sequentially.
void NeighborList::rows_into_local_order(int n_owned) {
  const int n_species_local = n_species_;
  const std::size_t stride = static_cast<std::size_t>(n_species_local) + 1;
  if (sorted_.size() < index_.size()) sorted_.resize(index_.size());  // both keep their size: no refill
  std::size_t o = 0;
  for (int i = 0; i < n_owned; ++i) {
    int* row_offset = offset_.data() + static_cast<std::size_t>(i) * stride;
    const int begin = row_offset[0], length = row_offset[n_species_local] - begin;
    std::copy(index_.begin() + begin, index_.begin() + begin + length, sorted_.begin() + o);
    for (int t = 0; t <= n_species_local; ++t) row_offset[t] += static_cast<int>(o) - begin;
    o += length;
  }
  index_.swap(sorted_);
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
