#pragma once
// Gather every owned bead to every rank, ordered by id (row id-1). O(N) memory per rank: for tests,
// small outputs and checks, never for the production path.
#include "tlsmap/parallel/beads.hpp"

#include <mpi.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tlsmap {

struct GlobalBeads {
  std::vector<Vec3> pos, vel, force;
  std::vector<Int3> image;
  std::vector<int> species;
  std::vector<double> charge;
  std::vector<double> diameter;       // empty unless the beads have diameters (Beads::has_diameter)
  std::vector<std::int64_t> partner;  // bond partner ids; empty unless Beads::has_partner
  std::size_t size() const { return pos.size(); }
};

// Collective. Ids must be 1..N, each once (checked: throws Error otherwise).
GlobalBeads gather_by_id(const Beads& beads, MPI_Comm comm);

// The way back (local, no communication): this rank's contiguous share of the beads `index` (ids − 1;
// every bead when empty) of g, at pos[i] + shift, with g's velocities when `velocities` and g has
// them. Any split will do: System::set_beads migrates the beads to their owners.
Beads block_by_id(const GlobalBeads& g, const std::vector<Vec3>& pos, MPI_Comm comm, bool velocities = false,
                  const std::vector<std::int64_t>& index = {}, const Vec3& shift = Vec3::Zero());

// Collective: every rank's `mine`, concatenated in rank order, on every rank.
std::vector<double> allgather_concat(const std::vector<double>& mine, MPI_Comm comm);

// Collective: (id → vector) of every rank's entries (ids[k], v[k]), on every rank. O(entries).
std::unordered_map<std::int64_t, Vec3> allgather_by_id(MPI_Comm comm, const std::vector<std::int64_t>& ids,
                                                       const std::vector<Vec3>& v);

}  // namespace tlsmap
