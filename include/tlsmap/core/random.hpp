#pragma once
// Counter-based random numbers (Philox4x64, Random123). A draw is a pure function of
// (seed, stream, bead id, step, sub-draw): no generator state, nothing to communicate, and the same
// numbers for a bead wherever it lives — so stochastic stages do not depend on the rank count.
// Every stream id in the code is listed here, once (HOOMD's RNGIdentifiers).
#include "tlsmap/core/vec3.hpp"

#include <cstdint>

namespace tlsmap {

enum class Stream : std::uint32_t {
  langevin = 1,          // thermostat noise: (bead id, MD step)
  initial_velocity = 2,  // Maxwell–Boltzmann velocities: (bead id, 0)
  packing = 3,           // initial positions/species: (bead id, 0)
  charge_sign = 4,       // sign of each bond's charge pair: (bond's smaller id, 0)
  event_search = 5,      // TLS search pushes: (domain id, attempt)
                         // 6: retired (random diameters; pack now assigns quantiles)
  swap = 7,              // swap Monte Carlo: (bead id, sweep) per attempt; (0, sweep) the cell grid offset
  test = 99,             // tests only
};

// Four uniform doubles in (0, 1].
std::array<double, 4> uniform4(std::uint64_t seed, Stream stream, std::uint64_t id, std::uint64_t step,
                               std::uint64_t sub = 0);
// Three independent standard normal numbers (Box–Muller on one Philox block).
Vec3 gaussian3(std::uint64_t seed, Stream stream, std::uint64_t id, std::uint64_t step);
// The k-th standard normal number of the stream (seed, stream, id, step), k = 0, 1, ...: Box–Muller
// on the uniforms of counter sub = 1 + k/2, the cosine for even k and the sine for odd k (so any
// draw is found without the ones before it; the event search keys its pushes this way).
double gaussian_draw(std::uint64_t seed, Stream stream, std::uint64_t id, std::uint64_t step, std::uint64_t k);

}  // namespace tlsmap
