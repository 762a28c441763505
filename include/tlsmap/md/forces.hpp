#pragma once
// The pair loop: forces on owned beads from a full neighbour list, with per-bead energy and virial.
//
// For owned bead i:  F_i = Σ_j (f/r)(r_ij) (x_i − x_j),   e_i = ½ Σ_j u(r_ij),
//                    W_i^{ab} = ½ Σ_j (f/r)(r_ij) (x_i − x_j)_a (x_i − x_j)_b,
// so Σ_i e_i is the potential energy and Σ_i tr W_i = Σ_pairs r·f is the pair virial.
// Kernels see positions and the neighbour list, never a communicator.
//
// Order of summation, and why the results do not depend on the rank count: the list gives each
// row in a canonical order (neighbor_list.hpp); term k of a species segment goes to partial sum
// k mod kLanes, and the kLanes partial sums are added in a fixed tree at the end. kLanes is a
// constant of the code, not the SIMD width of the build, so the order is a function of the list
// alone. (Partial sums are what lets the accumulation vectorise: one running sum in list order is
// a chain of dependent additions.)
//
// Layout of the loop over one row, in chunks of up to kChunk neighbours:
//   (1) gather x_i − x_j into contiguous buffers,
//   (2) evaluate f/r and u with the segment's constant parameters (a loop the compiler vectorises),
//   (3) zero them beyond the cutoff, (4) accumulate into the lanes.
// (1) and (4) are the same for every model (detail::pair_loop); (2) and (3) are the model's segment
// evaluator: constant parameters per species pair (TableSegment), or parameters per pair from the
// two beads' diameters (DiameterSegment, the polydisperse soft spheres).
// (3) is a loop of its own: with -ftrapping-math (GCC's default) the compiler will not evaluate
// unconditionally a division that the source executes on one branch only, so a cutoff test inside
// (2) keeps it scalar, and one inside (4) becomes a branch taken at random.
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/parallel/beads.hpp"
#include "tlsmap/parallel/neighbor_list.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

namespace tlsmap {

struct PerBeadTerms {
  std::vector<double> energy;
  std::array<std::vector<double>, 6> virial;  // xx, yy, zz, xy, xz, yz
};

namespace detail {
constexpr int kLanes = 8;      // partial sums per quantity (see above)
constexpr int kChunk = 64;     // neighbours per buffered chunk, a multiple of kLanes
constexpr double kFar = 1e10;  // padding displacement, beyond any cutoff
// Fixed order, pairwise.
inline double reduce_lanes(const double* a) {
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

// The row loop every model shares: gather (1), the model's evaluation and cutoff (2, 3), lanes (4).
// segment_of(i, s) returns the evaluator of row i's list segment s, called as
//   eval(idx, m, m_padded, bx, by, bz, f, e)
// for the neighbours idx[0, m) with displacements b*[0, m_padded) (padding at kFar); it writes f/r
// and u of every term to f and e, zero beyond the cutoff and in the padding.
template <class SegmentOf>
void pair_loop(const NeighborList& list, int n_seg, Beads& b, PerBeadTerms& out, SegmentOf&& segment_of) {
  static_assert(kLanes == 8 && kChunk % kLanes == 0, "reduce_lanes adds exactly 8 lanes");
  const int n = b.n_owned;
  out.energy.resize(n);
  for (auto& w : out.virial) w.resize(n);
  static_assert(sizeof(Vec3) == 3 * sizeof(double), "positions are read as a flat array of doubles");
  const double* const pos = reinterpret_cast<const double*>(b.pos.data());  // bead j at pos[3 j ...]
  // Separate arrays of a fixed size, so the compiler knows that they do not alias.
  alignas(64) double bx[kChunk], by[kChunk], bz[kChunk], bfc[kChunk], bec[kChunk];
  for (int i = 0; i < n; ++i) {
    const double xi = pos[3 * i], yi = pos[3 * i + 1], zi = pos[3 * i + 2];
    alignas(64) double acc[10][kLanes] = {};  // F (3), u, W (6), each in kLanes partial sums
    for (int s = 0; s < n_seg; ++s) {
      const auto eval = segment_of(i, s);
      const int* const seg_end = list.segment_end(i, s);
      for (const int* idx = list.segment_begin(i, s); idx < seg_end; idx += kChunk) {
        const int m = static_cast<int>(std::min<std::ptrdiff_t>(kChunk, seg_end - idx));
        const int m_padded = (m + kLanes - 1) / kLanes * kLanes;
        for (int k = 0; k < m; ++k) {
          const double* xj = pos + 3 * static_cast<std::size_t>(idx[k]);
          bx[k] = xi - xj[0];
          by[k] = yi - xj[1];
          bz[k] = zi - xj[2];
        }
        for (int k = m; k < m_padded; ++k) bx[k] = by[k] = bz[k] = kFar;
        eval(idx, m, m_padded, bx, by, bz, bfc, bec);
        for (int k0 = 0; k0 < m_padded; k0 += kLanes)
          for (int l = 0; l < kLanes; ++l) {
            const int k = k0 + l;
            const double f = bfc[k], dx = bx[k], dy = by[k], dz = bz[k];
            const double fdx = f * dx, fdy = f * dy, fdz = f * dz;
            acc[0][l] += fdx;
            acc[1][l] += fdy;
            acc[2][l] += fdz;
            acc[3][l] += bec[k];
            acc[4][l] += fdx * dx;
            acc[5][l] += fdy * dy;
            acc[6][l] += fdz * dz;
            acc[7][l] += fdx * dy;
            acc[8][l] += fdx * dz;
            acc[9][l] += fdy * dz;
          }
      }
    }
    b.force[i] = Vec3(reduce_lanes(acc[0]), reduce_lanes(acc[1]), reduce_lanes(acc[2]));
    out.energy[i] = 0.5 * reduce_lanes(acc[3]);
    for (int q = 0; q < 6; ++q) out.virial[q][i] = 0.5 * reduce_lanes(acc[4 + q]);
  }
}

// A segment of one species pair: constant parameters, so (2) is a loop the compiler vectorises.
template <class Potential>
struct TableSegment {
  typename Potential::Params p;
  void operator()(const int*, int, int m_padded, const double* bx, const double* by, const double* bz, double* f,
                  double* e) const {
    alignas(64) double br[kChunk], bf[kChunk], be[kChunk];
    for (int k = 0; k < m_padded; ++k) {
      const double r2 = bx[k] * bx[k] + by[k] * by[k] + bz[k] * bz[k];
      const auto r = Potential::evaluate(r2, p);
      br[k] = r2;
      bf[k] = r.f_over_r;
      be[k] = r.energy;
    }
    const double rc2 = p.rc2;
    for (int k = 0; k < m_padded; ++k) {
      const bool in = br[k] < rc2;
      f[k] = in ? bf[k] : 0.0;
      e[k] = in ? be[k] : 0.0;
    }
  }
};

// Polydisperse soft spheres: σ_ij from bead i's diameter and each neighbour's (gathered first, so
// the mixing and the evaluation stay vectorisable loops), cutoff 1.25 σ_ij per pair.
struct DiameterSegment {
  double sigma_i;
  const double* diameter;  // by local index, owned and ghosts
  void operator()(const int* idx, int m, int m_padded, const double* bx, const double* by, const double* bz, double* f,
                  double* e) const {
    using P = PolydisperseSoftSphere;
    alignas(64) double bs[kChunk], br[kChunk], bf[kChunk], be[kChunk];
    for (int k = 0; k < m; ++k) bs[k] = diameter[idx[k]];
    for (int k = m; k < m_padded; ++k) bs[k] = 1.0;  // padding: any diameter; kFar is beyond its cutoff
    for (int k = 0; k < m_padded; ++k) {
      const double sigma = P::mix(sigma_i, bs[k]);
      const double r2 = bx[k] * bx[k] + by[k] * by[k] + bz[k] * bz[k];
      const auto r = P::evaluate(r2, sigma);
      bs[k] = P::kCutRatio2 * sigma * sigma;  // now the squared cutoff of the pair
      br[k] = r2;
      bf[k] = r.f_over_r;
      be[k] = r.energy;
    }
    for (int k = 0; k < m_padded; ++k) {
      const bool in = br[k] < bs[k];
      f[k] = in ? bf[k] : 0.0;
      e[k] = in ? be[k] : 0.0;
    }
  }
};
}  // namespace detail

template <class Potential>
void compute_pair_forces(const PairTable<Potential>& table, const NeighborList& list, Beads& b, PerBeadTerms& out) {
  const int* species = b.species.data();
  const int n_seg = std::min(list.n_species(), table.n_species());
  detail::pair_loop(list, n_seg, b, out,
                    [&](int i, int s) { return detail::TableSegment<Potential>{table(species[i], s)}; });
}

// Polydisperse soft spheres (pair_potential.hpp): parameters per pair from Beads::diameter (owned
// and ghosts). Every list segment is evaluated alike (species play no part), in list order, so the
// summation order, hence the result, is that of the species models: independent of the rank count.
inline void compute_polydisperse_forces(const NeighborList& list, Beads& b, PerBeadTerms& out) {
  const double* diameter = b.diameter.data();
  detail::pair_loop(list, list.n_species(), b, out, [&](int i, int) {
    return detail::DiameterSegment{diameter[i], diameter};
  });
}

// The forces of `model` (its species table or its per-bead diameters), in the instruction-set
// variant of core/kernel_isa.hpp; bitwise the same in every variant. What System::compute_forces runs.
void compute_model_forces(const Model& model, const NeighborList& list, Beads& b, PerBeadTerms& out);

}  // namespace tlsmap
