// The /tls reader and writer of the dipole and interact stages (include/tlsmap/io/tls_io.hpp).
#include "tlsmap/io/tls_io.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/io/validate.hpp"

#include <string>
#include <vector>

namespace tlsmap {

namespace {

std::vector<Vec3> as_vec3(const std::vector<double>& flat) {
  std::vector<Vec3> v(flat.size() / 3);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = Vec3(flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]);
  return v;
}

}  // namespace

TlsSet read_tls_set(Hdf5File& file, std::int64_t n_beads) {
  TlsSet t;
  Shape d;
  auto fail = [&](const std::string& what) { throw Error(file.path() + ": " + what); };
  t.center = as_vec3(read_dataset<double>(file, "/tls/center", &d));
  if (d.size() != 2 || d[1] != 3) fail("/tls/center must have shape (n, 3)");
  const std::size_t n = d[0];
  t.radius = read_dataset<double>(file, "/tls/radius", &d);
  if (d.size() != 1 || d[0] != n) fail("/tls/radius must have shape (" + std::to_string(n) + ")");
  t.offset = read_dataset<std::int64_t>(file, "/tls/mobile_offset", &d);
  if (d.size() != 1 || d[0] != n + 1) fail("/tls/mobile_offset must have shape (" + std::to_string(n + 1) + ")");
  t.id = read_dataset<std::int64_t>(file, "/tls/mobile_id", &d);
  if (d.size() != 1) fail("/tls/mobile_id must be one-dimensional");
  const std::size_t m = d[0];
  t.pos_a = as_vec3(read_dataset<double>(file, "/tls/position_a", &d));
  if (d.size() != 2 || d[0] != m || d[1] != 3) fail("/tls/position_a must have shape (" + std::to_string(m) + ", 3)");
  t.pos_b = as_vec3(read_dataset<double>(file, "/tls/position_b", &d));
  if (d.size() != 2 || d[0] != m || d[1] != 3) fail("/tls/position_b must have shape (" + std::to_string(m) + ", 3)");
  require_finite(file.path(), "/tls/center", flatten(t.center), 3);
  require_finite(file.path(), "/tls/radius", t.radius);
  require_finite(file.path(), "/tls/position_a", flatten(t.pos_a), 3);
  require_finite(file.path(), "/tls/position_b", flatten(t.pos_b), 3);
  if (t.offset[0] != 0 || t.offset[n] != static_cast<std::int64_t>(m))
    fail("/tls/mobile_offset must start at 0 and end at the length of /tls/mobile_id");
  for (std::size_t k = 0; k < n; ++k)
    if (t.offset[k + 1] < t.offset[k]) fail("/tls/mobile_offset decreases at row " + std::to_string(k));
  for (auto id : t.id)
    if (id < 1 || id > n_beads)
      fail("/tls/mobile_id holds id " + std::to_string(id) + " outside 1.." + std::to_string(n_beads));
  for (std::size_t k = 0; k < n; ++k)
    if (!(t.radius[k] > 0.0)) fail("/tls/radius must be positive (row " + std::to_string(k) + ")");
  return t;
}

void write_tls_set(Hdf5File& file, const TlsSet& t) {
  const std::size_t n = t.size(), m = t.id.size();
  for (const char* name : {"center", "radius", "mobile_offset", "mobile_id", "position_a", "position_b"})
    remove_object(file, std::string("/tls/") + name);
  write_replicated(file, "/tls/center", flatten(t.center), {n, 3});
  write_replicated(file, "/tls/radius", t.radius, {n});
  write_replicated(file, "/tls/mobile_offset", t.offset, {n + 1});
  write_replicated(file, "/tls/mobile_id", t.id, {m});
  write_replicated(file, "/tls/position_a", flatten(t.pos_a), {m, 3});
  write_replicated(file, "/tls/position_b", flatten(t.pos_b), {m, 3});
}

}  // namespace tlsmap
