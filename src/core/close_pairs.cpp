// Close pairs by a sparse periodic cell list (include/tlsmap/core/close_pairs.hpp).
#include "tlsmap/core/close_pairs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace tlsmap {

void for_each_close_pair(std::span<const Vec3> pos, const Box& box, double cutoff,
                         const std::function<bool(std::size_t, std::size_t, double)>& visit) {
  const std::size_t n = pos.size();
  if (n < 2 || !(cutoff > 0.0)) return;
  std::int64_t nc[3];
  for (int d = 0; d < 3; ++d)
    nc[d] = static_cast<std::int64_t>(std::clamp(std::floor(box.len[d] / cutoff), 1.0, 1048576.0));
  auto cell_along = [&](const Vec3& x, int d) {
    double s = (x[d] - box.lo[d]) / box.len[d];
    s -= std::floor(s);  // [0, 1], 1 only by rounding
    return std::min(static_cast<std::int64_t>(s * static_cast<double>(nc[d])), nc[d] - 1);
  };
  auto key_of = [&](std::int64_t cx, std::int64_t cy, std::int64_t cz) { return (cz * nc[1] + cy) * nc[0] + cx; };
  std::vector<std::pair<std::int64_t, std::size_t>> order(n);  // (cell key, point), sorted
  for (std::size_t i = 0; i < n; ++i)
    order[i] = {key_of(cell_along(pos[i], 0), cell_along(pos[i], 1), cell_along(pos[i], 2)), i};
  std::sort(order.begin(), order.end());
  std::vector<std::int64_t> keys;   // occupied cells, ascending
  std::vector<std::size_t> starts;  // their first entry in `order`; one more at the end
  for (std::size_t k = 0; k < n; ++k)
    if (k == 0 || order[k].first != order[k - 1].first) keys.push_back(order[k].first), starts.push_back(k);
  starts.push_back(n);

  const double cut2 = cutoff * cutoff;
  std::vector<std::int64_t> near[3];  // distinct neighbour cells along each edge (fewer than three
                                      // cells along an edge would otherwise visit a cell twice)
  for (std::size_t a = 0; a < keys.size(); ++a) {
    const std::int64_t c[3] = {keys[a] % nc[0], (keys[a] / nc[0]) % nc[1], keys[a] / (nc[0] * nc[1])};
    for (int d = 0; d < 3; ++d) {
      near[d].clear();
      for (int o = -1; o <= 1; ++o) near[d].push_back(((c[d] + o) % nc[d] + nc[d]) % nc[d]);
      std::sort(near[d].begin(), near[d].end());
      near[d].erase(std::unique(near[d].begin(), near[d].end()), near[d].end());
    }
    for (std::int64_t z : near[2])
      for (std::int64_t y : near[1])
        for (std::int64_t x : near[0]) {
          const auto it = std::lower_bound(keys.begin(), keys.end(), key_of(x, y, z));
          if (it == keys.end() || *it != key_of(x, y, z)) continue;
          const std::size_t b = static_cast<std::size_t>(it - keys.begin());
          for (std::size_t p = starts[a]; p < starts[a + 1]; ++p)
            for (std::size_t s = starts[b]; s < starts[b + 1]; ++s) {
              const std::size_t i = order[p].second, j = order[s].second;
              if (i >= j) continue;  // each pair once: from the cell of its smaller index's bead
              const double r2 = box.minimum_image(Vec3(pos[j] - pos[i])).squaredNorm();
              if (r2 < cut2 && !visit(i, j, r2)) return;
            }
        }
  }
}

}  // namespace tlsmap
