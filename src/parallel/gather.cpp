#include "tlsmap/parallel/gather.hpp"

#include "tlsmap/core/error.hpp"

namespace tlsmap {

std::vector<double> allgather_concat(const std::vector<double>& mine, MPI_Comm comm) {
  int size = 0;
  MPI_Comm_size(comm, &size);
  const int count = static_cast<int>(mine.size());
  std::vector<int> counts(size), displs(size + 1, 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  for (int r = 0; r < size; ++r) displs[r + 1] = displs[r] + counts[r];
  std::vector<double> all(displs[size]);
  MPI_Allgatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, comm);
  return all;
}

GlobalBeads gather_by_id(const Beads& b, MPI_Comm comm) {
  // id pos(3) vel(3) force(3) image(3) species charge [diameter] [partner]
  int with[2] = {b.has_diameter, b.has_partner};  // a rank without beads may lack the flags
  MPI_Allreduce(MPI_IN_PLACE, with, 2, MPI_INT, MPI_LOR, comm);
  const bool with_diameter = with[0] != 0, with_partner = with[1] != 0;
  const std::size_t stride = 15 + (with_diameter ? 1 : 0) + (with_partner ? 1 : 0);
  const std::size_t at_partner = 15 + (with_diameter ? 1 : 0);
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(b.n_owned) * stride);
  for (int i = 0; i < b.n_owned; ++i) {
    out.push_back(static_cast<double>(b.id[i]));
    for (const Vec3* v : {&b.pos[i], &b.vel[i], &b.force[i]}) out.insert(out.end(), v->data(), v->data() + 3);
    for (int d = 0; d < 3; ++d) out.push_back(b.image[i][d]);
    out.push_back(b.species[i]);
    out.push_back(b.charge[i]);
    if (with_diameter) out.push_back(b.has_diameter ? b.diameter[i] : 0.0);
    if (with_partner) out.push_back(b.has_partner ? static_cast<double>(b.partner[i]) : 0.0);
  }
  const std::vector<double> all = allgather_concat(out, comm);
  const std::size_t n = all.size() / stride;
  GlobalBeads g;
  g.pos.resize(n);
  g.vel.resize(n);
  g.force.resize(n);
  g.image.resize(n);
  g.species.assign(n, -1);
  g.charge.resize(n);
  g.diameter.resize(with_diameter ? n : 0);
  g.partner.resize(with_partner ? n : 0);
  bool ok = true;
  for (std::size_t k = 0; k < n && ok; ++k) {
    const double* r = all.data() + k * stride;
    auto id = static_cast<std::int64_t>(r[0]);
    if (id < 1 || static_cast<std::size_t>(id) > n || g.species[id - 1] != -1) {
      ok = false;
      break;
    }
    std::size_t row = id - 1;
    g.pos[row] = Vec3(r[1], r[2], r[3]);
    g.vel[row] = Vec3(r[4], r[5], r[6]);
    g.force[row] = Vec3(r[7], r[8], r[9]);
    g.image[row] = {static_cast<int>(r[10]), static_cast<int>(r[11]), static_cast<int>(r[12])};
    g.species[row] = static_cast<int>(r[13]);
    g.charge[row] = r[14];
    if (with_diameter) g.diameter[row] = r[15];
    if (with_partner) g.partner[row] = static_cast<std::int64_t>(r[at_partner]);
  }
  // Every rank saw the same gathered data, so every rank reaches the same verdict.
  if (!ok) throw Error("bead ids are not 1..N each exactly once");
  return g;
}

std::unordered_map<std::int64_t, Vec3> allgather_by_id(MPI_Comm comm, const std::vector<std::int64_t>& ids,
                                                       const std::vector<Vec3>& v) {
  std::vector<double> mine;
  for (std::size_t k = 0; k < ids.size(); ++k)
    mine.insert(mine.end(), {static_cast<double>(ids[k]), v[k][0], v[k][1], v[k][2]});
  const std::vector<double> all = allgather_concat(mine, comm);
  std::unordered_map<std::int64_t, Vec3> out;
  for (std::size_t k = 0; k + 3 < all.size(); k += 4)
    out[static_cast<std::int64_t>(all[k])] = Vec3(all[k + 1], all[k + 2], all[k + 3]);
  return out;
}

Beads block_by_id(const GlobalBeads& g, const std::vector<Vec3>& pos, MPI_Comm comm, bool velocities,
                  const std::vector<std::int64_t>& index, const Vec3& shift) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const std::int64_t n = static_cast<std::int64_t>(index.empty() ? g.size() : index.size());
  const bool diameters = !g.diameter.empty(), bonded = !g.partner.empty(), vel = velocities && !g.vel.empty();
  Beads mine;
  if (diameters) mine.enable_diameter();
  if (bonded) mine.enable_partner();
  for (std::int64_t k = rank * n / size; k < (rank + 1) * n / size; ++k) {
    const std::int64_t i = index.empty() ? k : index[k];
    mine.push_owned(pos[i] + shift, g.species[i], g.charge[i], i + 1, vel ? g.vel[i] : Vec3::Zero(), {0, 0, 0},
                    diameters ? g.diameter[i] : 0.0);
    if (bonded) mine.partner.back() = g.partner[i];
  }
  return mine;
}

}  // namespace tlsmap
