#include "tlsmap/md/swap_monte_carlo.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace tlsmap {

namespace {

using Poly = PolydisperseSoftSphere;

SwapCopy gather_snapshot(const Beads& b, MPI_Comm comm) {
  std::vector<double> mine;
  mine.reserve(static_cast<std::size_t>(b.n_owned) * 5);
  for (int i = 0; i < b.n_owned; ++i)
    mine.insert(mine.end(), {static_cast<double>(b.id[i]), b.pos[i][0], b.pos[i][1], b.pos[i][2], b.diameter[i]});
  const std::vector<double> all = allgather_concat(mine, comm);
  const std::size_t n = all.size() / 5;
  std::vector<std::size_t> order(n);
  for (std::size_t k = 0; k < n; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t c) { return all[5 * a] < all[5 * c]; });
  SwapCopy s;
  s.id.resize(n);
  s.pos.resize(n);
  s.diameter.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    const double* r = all.data() + 5 * order[k];
    s.id[k] = static_cast<std::int64_t>(r[0]);
    s.pos[k] = Vec3(r[1], r[2], r[3]);
    s.diameter[k] = r[4];
  }
  return s;
}

// The sweep's cell grid: n[d] cells of edge len[d]/n[d] >= range per direction, n[d] even (or 1),
// shifted by `offset`.
struct Grid {
  Int3 n{1, 1, 1};
  Vec3 lo, len, offset;
  int count() const { return n[0] * n[1] * n[2]; }
  int index(const Int3& c) const { return c[0] + n[0] * (c[1] + n[1] * c[2]); }
  Int3 cell_of(const Vec3& x) const {
    Int3 c;
    for (int d = 0; d < 3; ++d) {
      double s = std::fmod(x[d] - lo[d] - offset[d], len[d]);
      if (s < 0.0) s += len[d];
      c[d] = std::min(n[d] - 1, static_cast<int>(s / len[d] * n[d]));
    }
    return c;
  }
  int colour(const Int3& c) const { return (c[0] % 2) + 2 * (c[1] % 2) + 4 * (c[2] % 2); }
  // The distinct cells within one step of c (periodic; fewer than 27 when n[d] < 3).
  std::vector<int> neighbourhood(const Int3& c) const {
    std::vector<int> out;
    for (int dz = -1; dz <= 1; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const Int3 o{(c[0] + dx + n[0]) % n[0], (c[1] + dy + n[1]) % n[1], (c[2] + dz + n[2]) % n[2]};
          out.push_back(index(o));
        }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
};

Grid make_grid(const Box& box, double range, std::uint64_t seed, std::uint64_t sweep) {
  Grid g;
  g.lo = box.lo;
  g.len = box.len;
  const auto u = uniform4(seed, Stream::swap, 0, sweep);  // bead ids start at 1: id 0 is the grid's
  for (int d = 0; d < 3; ++d) {
    if (box.len[d] < 2.0 * range)
      throw Error("swap Monte Carlo: box edge " + std::to_string(box.len[d]) + " is below twice the pair range " +
                  std::to_string(range) + " (minimum image)");
    const int fit = static_cast<int>(std::floor(box.len[d] / range));
    g.n[d] = fit >= 2 ? fit - fit % 2 : 1;
    g.offset[d] = u[d] * box.len[d];
  }
  return g;
}

class Sweep {
 public:
  // Partner lists only for the beads of this rank's cells (c % size == rank): the cells it runs.
  Sweep(SwapCopy& s, const Grid& g, const Box& box, double range, double temperature, int rank, int size)
      : s_(s), g_(g), beta_(1.0 / temperature), members_(g.count()) {
    const std::size_t n = s.id.size();
    std::vector<Int3> cell(n);
    for (std::size_t k = 0; k < n; ++k) {
      cell[k] = g.cell_of(s.pos[k]);
      members_[g.index(cell[k])].push_back(k);  // in id order
    }
    // Every bead's partners within `range` (positions do not change during the sweep), in a fixed
    // order: neighbourhood cells ascending, members by id.
    const double range2 = range * range;
    std::vector<std::vector<int>> near(g.count());
    for (int c = 0; c < g.count(); ++c)
      near[c] = g.neighbourhood({c % g.n[0], (c / g.n[0]) % g.n[1], c / (g.n[0] * g.n[1])});
    first_.assign(n + 1, 0);
    partners_.reserve(n * 48);
    for (std::size_t k = 0; k < n; ++k) {
      if (g.index(cell[k]) % size != rank) {
        first_[k + 1] = partners_.size();
        continue;
      }
      for (int c : near[g.index(cell[k])])
        for (std::size_t m : members_[c]) {
          if (m == k) continue;
          // Minimum image for wrapped positions (|d| < L): the same r² as Box::minimum_image.
          double r2 = 0.0;
          for (int d = 0; d < 3; ++d) {
            double x = s.pos[m][d] - s.pos[k][d];
            if (x > 0.5 * box.len[d]) x -= box.len[d];
            else if (x < -0.5 * box.len[d]) x += box.len[d];
            r2 += x * x;
          }
          if (r2 < range2) partners_.push_back({m, r2});
        }
      first_[k + 1] = partners_.size();
    }
  }

  const std::vector<std::size_t>& members(int cell) const { return members_[cell]; }

  // All attempts of one cell, in id order; returns the accepted count and appends the beads whose
  // diameters changed to `touched`.
  std::int64_t run_cell(const Int3& c, std::uint64_t seed, std::uint64_t sweep, std::vector<std::size_t>& touched,
                        std::vector<double>& energy_changes) {
    const auto& m = members_[g_.index(c)];
    if (m.size() < 2) return 0;
    std::int64_t accepted = 0;
    for (std::size_t a = 0; a < m.size(); ++a) {
      const std::size_t i = m[a];
      const auto u = uniform4(seed, Stream::swap, static_cast<std::uint64_t>(s_.id[i]), sweep);
      std::size_t b = std::min(m.size() - 2, static_cast<std::size_t>(u[0] * static_cast<double>(m.size() - 1)));
      if (b >= a) ++b;  // uniform over the other m − 1 beads
      const std::size_t j = m[b];
      const double si = s_.diameter[i], sj = s_.diameter[j];
      if (si == sj) continue;  // nothing to exchange; counted as attempted, not accepted
      const double de = change(i, si, sj, j) + change(j, sj, si, i);
      if (de <= 0.0 || u[1] < std::exp(-beta_ * de)) {
        s_.diameter[i] = sj;
        s_.diameter[j] = si;
        touched.push_back(i);
        touched.push_back(j);
        energy_changes.push_back(de);
        ++accepted;
      }
    }
    return accepted;
  }

 private:
  // Energy change of bead k's pairs when its diameter goes from s_old to s_new, every partner but
  // `skip` (the exchange partner: σ_kj is symmetric, so that pair does not change).
  double change(std::size_t k, double s_old, double s_new, std::size_t skip) const {
    double de = 0.0;
    for (std::size_t p = first_[k]; p < first_[k + 1]; ++p) {
      const auto [m, r2] = partners_[p];
      if (m == skip) continue;
      const double a = Poly::mix(s_new, s_.diameter[m]), b = Poly::mix(s_old, s_.diameter[m]);
      if (r2 < Poly::kCutRatio2 * a * a) de += Poly::evaluate(r2, a).energy;
      if (r2 < Poly::kCutRatio2 * b * b) de -= Poly::evaluate(r2, b).energy;
    }
    return de;
  }

  struct Partner {
    std::size_t index;
    double r2;
  };
  SwapCopy& s_;
  const Grid& g_;
  double beta_;
  std::vector<std::vector<std::size_t>> members_;
  std::vector<std::size_t> first_;  // partners_[first_[k], first_[k + 1]) are bead k's
  std::vector<Partner> partners_;
};

// The sweep over a copy that every rank holds: this rank runs cells rank, rank + size, ... of each
// colour; after each colour, sync(touched) must bring every rank's copy up to date.
template <class Sync>
SwapStats sweep_copy(SwapCopy& copy, const Box& box, double range, double temperature, std::uint64_t seed,
                     std::uint64_t sweep, int rank, int size, Sync&& sync) {
  const Grid grid = make_grid(box, range, seed, sweep);
  Sweep state(copy, grid, box, range, temperature, rank, size);
  SwapStats stats;
  for (int c = 0; c < grid.count(); ++c) {
    const auto n = static_cast<std::int64_t>(state.members(c).size());
    if (n >= 2) stats.attempted += n;
  }
  std::vector<double> energy_changes;
  for (int colour = 0; colour < 8; ++colour) {
    std::vector<std::size_t> touched;
    for (int c = rank; c < grid.count(); c += size) {  // this rank's cells, round-robin
      const Int3 cc{c % grid.n[0], (c / grid.n[0]) % grid.n[1], c / (grid.n[0] * grid.n[1])};
      if (grid.colour(cc) == colour) stats.accepted += state.run_cell(cc, seed, sweep, touched, energy_changes);
    }
    sync(touched);
  }
  stats.energy_change = std::accumulate(energy_changes.begin(), energy_changes.end(), 0.0);
  stats.local_energy_changes = std::move(energy_changes);
  return stats;
}

}  // namespace

SwapStats swap_sweep_copy(SwapCopy& copy, const Box& box, double range, double temperature, std::uint64_t seed,
                          std::uint64_t sweep) {
  SwapStats s = sweep_copy(copy, box, range, temperature, seed, sweep, 0, 1, [](const std::vector<std::size_t>&) {});
  s.local_energy_changes.clear();
  return s;
}

SwapStats swap_sweep(System& sys, double temperature, std::uint64_t seed, std::uint64_t sweep) {
  if (!sys.model().has_diameters())
    throw Error("swap Monte Carlo needs a model with per-bead diameters (polydisperse-soft-sphere), not '" +
                sys.model().name + "'");
  MPI_Comm comm = sys.comm();
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  SwapCopy copy = gather_snapshot(sys.beads(), comm);
  auto share = [&](const std::vector<std::size_t>& touched) {
    std::vector<double> mine;
    for (std::size_t k : touched) mine.insert(mine.end(), {static_cast<double>(k), copy.diameter[k]});
    const std::vector<double> all = allgather_concat(mine, comm);
    for (std::size_t r = 0; r + 1 < all.size(); r += 2) copy.diameter[static_cast<std::size_t>(all[r])] = all[r + 1];
  };
  SwapStats stats = sweep_copy(copy, sys.box(), sys.model().max_cutoff(), temperature, seed, sweep, rank, size, share);
  MPI_Allreduce(MPI_IN_PLACE, &stats.accepted, 1, MPI_INT64_T, MPI_SUM, comm);
  stats.energy_change = reproducible_sum(comm, stats.local_energy_changes);
  stats.local_energy_changes.clear();

  Beads& b = sys.beads();
  for (int i = 0; i < b.n_owned; ++i) {
    const auto it = std::lower_bound(copy.id.begin(), copy.id.end(), b.id[i]);
    b.diameter[i] = copy.diameter[static_cast<std::size_t>(it - copy.id.begin())];
  }
  sys.rebuild();  // ghosts carry the new diameters
  return stats;
}

}  // namespace tlsmap
