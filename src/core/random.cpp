#include "tlsmap/core/random.hpp"

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

}  // namespace tlsmap
