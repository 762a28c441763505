// Timing of the exact point-charge J_el (include/tlsmap/couplings/point_coupling.hpp,
// /interactions/j_el_point) against box size: T synthetic TLS of M moving beads each (within 3.5 σ of
// a random centre, moved by up to 0.1 σ, charges ±0.1) in a cubic box of N beads at density 1.2, every
// pair of TLS closer than CUTOFF (σ; 0 = every pair). Collective: run under mpiexec for more ranks.
// The real-space cut-off r_c is the cheapest by the code's estimate, or RC (σ) if given.
//   mpiexec -n 1 build/bench/bench_point_coupling N T M CUTOFF [RC]
#include "tlsmap/couplings/point_coupling.hpp"

#include <mpi.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (argc != 5 && argc != 6) {
    if (rank == 0) std::fprintf(stderr, "usage: bench_point_coupling N T M CUTOFF [RC]\n");
    MPI_Finalize();
    return 2;
  }
  const long n = std::atol(argv[1]), t = std::atol(argv[2]), m = std::atol(argv[3]);
  const double cutoff = std::atof(argv[4]), real_cut = argc == 6 ? std::atof(argv[5]) : 0.0;
  if (n < 1 || t < 2 || m < 1 || m > n || !(cutoff >= 0.0)) {
    if (rank == 0) std::fprintf(stderr, "bench_point_coupling: need N ≥ M ≥ 1, T ≥ 2, CUTOFF ≥ 0\n");
    MPI_Finalize();
    return 2;
  }
  const double len = std::cbrt(static_cast<double>(n) / 1.2);
  tlsmap::Box box;
  box.len = tlsmap::Vec3(len, len, len);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> charge(static_cast<std::size_t>(n));
  for (double& q : charge) q = u(rng) < 0.5 ? -0.1 : 0.1;
  tlsmap::TlsSet tls;
  tls.offset.push_back(0);
  for (long k = 0; k < t; ++k) {
    const tlsmap::Vec3 c(len * u(rng), len * u(rng), len * u(rng));
    tls.center.push_back(c);
    tls.radius.push_back(3.5);
    for (long b = 0; b < m; ++b) {
      tlsmap::Vec3 x;
      do x = tlsmap::Vec3(2 * u(rng) - 1, 2 * u(rng) - 1, 2 * u(rng) - 1);
      while (x.squaredNorm() > 1.0);
      x = c + 3.5 * x;
      tls.id.push_back(1 + static_cast<std::int64_t>(u(rng) * static_cast<double>(n)) % n);
      tls.pos_a.push_back(x);
      tls.pos_b.push_back(x + 0.1 * tlsmap::Vec3(2 * u(rng) - 1, 2 * u(rng) - 1, 2 * u(rng) - 1));
    }
    tls.offset.push_back(static_cast<std::int64_t>(tls.id.size()));
  }
  const tlsmap::TlsPairs pairs = tlsmap::tls_pairs(tls, box, cutoff > 0.0 ? cutoff : 1e300);
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = std::chrono::steady_clock::now();
  tlsmap::PointCouplingSplit split;
  const std::vector<double> j =
      tlsmap::point_charge_couplings(MPI_COMM_WORLD, box, tls, charge, pairs, 1.0, real_cut, &split);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double sum = 0.0;
  for (double v : j) sum += std::abs(v);
  if (rank == 0)
    std::printf(
        "N %ld (L %.2f), %ld TLS of %ld moving beads, %zu pairs: r_c %.2f, %ld k-vectors: %.3f s (sum |J| %.12g)\n", n,
        len, t, m, pairs.size(), split.real_cut, split.k_vectors, s, sum);
  MPI_Finalize();
  return 0;
}
