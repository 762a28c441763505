#include "tlsmap/core/reduction.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

namespace tlsmap {

std::vector<double> reproducible_sums(MPI_Comm comm, const std::vector<std::span<const double>>& terms) {
  const std::size_t k = terms.size();
  // Global max |term| and global term count of each quantity (counts as doubles: exact below 2^53).
  std::vector<double> local(k, 0.0), global(k, 0.0), counts(k), total_counts(k);
  for (std::size_t q = 0; q < k; ++q) {
    double m = 0.0;
    for (double t : terms[q]) m = std::isfinite(t) ? std::max(m, std::abs(t)) : INFINITY;
    local[q] = m;
    counts[q] = static_cast<double>(terms[q].size());
  }
  MPI_Allreduce(local.data(), global.data(), static_cast<int>(k), MPI_DOUBLE, MPI_MAX, comm);
  MPI_Allreduce(counts.data(), total_counts.data(), static_cast<int>(k), MPI_DOUBLE, MPI_SUM, comm);

  std::vector<std::int64_t> isum(k, 0), gsum(k, 0);
  std::vector<double> scale(k, 0.0);
  for (std::size_t q = 0; q < k; ++q) {
    if (global[q] == 0.0 || !std::isfinite(global[q])) continue;
    int e = 0;
    std::frexp(global[q], &e);  // max|t| < 2^e
    int count_bits = static_cast<int>(std::ceil(std::log2(total_counts[q] + 1.0)));
    // Every |t| * scale <= 2^(62 - count_bits), so the sum of all terms stays below 2^62.
    scale[q] = std::ldexp(1.0, 62 - count_bits - e);
    std::int64_t s = 0;
    for (double t : terms[q]) s += std::llround(t * scale[q]);
    isum[q] = s;
  }
  MPI_Allreduce(isum.data(), gsum.data(), static_cast<int>(k), MPI_INT64_T, MPI_SUM, comm);
  std::vector<double> out(k, 0.0);
  for (std::size_t q = 0; q < k; ++q) {
    if (!std::isfinite(global[q])) out[q] = std::numeric_limits<double>::quiet_NaN();  // a non-finite term
    else if (scale[q] != 0.0) out[q] = static_cast<double>(gsum[q]) / scale[q];
  }
  return out;
}

}  // namespace tlsmap
