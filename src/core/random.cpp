#include "tlsmap/core/random.hpp"

#include <cmath>

#include <Random123/philox.h>
#include <Random123/boxmuller.hpp>
#include <Random123/uniform.hpp>

namespace tlsmap {
namespace {
r123::Philox4x64::ctr_type block(std::uint64_t seed, Stream stream, std::uint64_t id, std::uint64_t step,
                                 std::uint64_t sub) {
  r123::Philox4x64 rng;
  r123::Philox4x64::ctr_type ctr = {{id, step, sub, 0}};
  r123::Philox4x64::key_type key = {{seed, static_cast<std::uint64_t>(stream)}};
  return rng(ctr, key);
}
}  // namespace

std::array<double, 4> uniform4(std::uint64_t seed, Stream stream, std::uint64_t id, std::uint64_t step,
                               std::uint64_t sub) {
  auto r = block(seed, stream, id, step, sub);
  return {r123::u01<double>(r[0]), r123::u01<double>(r[1]), r123::u01<double>(r[2]), r123::u01<double>(r[3])};
}

Vec3 gaussian3(std::uint64_t seed, Stream stream, std::uint64_t id, std::uint64_t step) {
  auto r = block(seed, stream, id, step, 0);
  auto a = r123::boxmuller(r[0], r[1]);
  auto b = r123::boxmuller(r[2], r[3]);
  return Vec3(a.x, a.y, b.x);
}

double gaussian_draw(std::uint64_t seed, Stream stream, std::uint64_t id, std::uint64_t step, std::uint64_t k) {
  const auto u = uniform4(seed, stream, id, step, 1 + k / 2);
  const double r = std::sqrt(-2.0 * std::log(u[0]));
  return (k % 2 == 0) ? r * std::cos(2.0 * M_PI * u[1]) : r * std::sin(2.0 * M_PI * u[1]);
}

}  // namespace tlsmap
