// Timing of the plain Ewald sum (include/tlsmap/electrostatics/ewald.hpp) that the Coulomb share of the
// stiffness evaluates 13 times per sample (docs/elastic.md §4): N random ±2 charges at density 1.2,
// accuracy 1e-13, one core.
//   build/bench/bench_ewald 1000 4000 8000
#include "tlsmap/electrostatics/ewald.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_ewald N [N ...]\n");
    return 2;
  }
  for (int a = 1; a < argc; ++a) {
    const int n = std::atoi(argv[a]);
    if (n < 2) {
      std::fprintf(stderr, "bench_ewald: N must be at least 2 (got %s)\n", argv[a]);
      return 2;
    }
    const double len = std::cbrt(n / 1.2);
    tlsmap::Box box;
    box.len = tlsmap::Vec3(len, len, len);
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0.0, len);
    std::vector<tlsmap::Vec3> pos(n);
    std::vector<double> q(n);
    for (int i = 0; i < n; ++i) pos[i] = tlsmap::Vec3(u(rng), u(rng), u(rng)), q[i] = i % 2 == 0 ? -2.0 : 2.0;
    if (n % 2 == 1) q.back() = 0.0;  // neutral
    const auto t0 = std::chrono::steady_clock::now();
    const tlsmap::EwaldResult r = tlsmap::ewald(pos, q, box, tlsmap::ewald_params(box, 1e-13));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("N %d: %.3f s (E = %.10g)\n", n, s, r.energy);
  }
  return 0;
}
