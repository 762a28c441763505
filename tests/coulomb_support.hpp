#pragma once
// The bead Coulomb split run through the real engine (System, its Coulomb neighbour list, Coulomb
// with either reciprocal solver): shared by test_coulomb and test_fft_coulomb.
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/gather.hpp"

#include "test_support.hpp"

#include <mpi.h>

#include <vector>

namespace tlsmap::testing {

struct SplitOutcome {
  CoulombParams params;
  CoulombResult result;
  std::vector<Vec3> force;  // Coulomb force by id − 1, on every rank
  Int3 mesh{0, 0, 0};       // the mg grid's nodes or the fft mesh
};

// Collective over comm. Rank 0 passes every charge in (migration distributes them); the skin is
// the engine's 0.3 σ, the pair model only carries the list.
inline SplitOutcome run_coulomb_split(const Charges& s, MPI_Comm comm, const CoulombParams& p) {
  SplitOutcome o;
  o.params = p;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  Beads b;
  if (rank == 0)
    for (std::size_t i = 0; i < s.pos.size(); ++i) b.push_owned(s.pos[i], 0, s.q[i], static_cast<std::int64_t>(i + 1));
  System sys(comm, s.box, make_model("kob-andersen"), 0.3, {0, 0, 0}, p.cutoff);
  sys.set_beads(std::move(b));
  Coulomb coulomb(sys.decomp(), p);
  std::vector<Vec3> f;
  o.result = coulomb.compute(sys.beads(), *sys.coulomb_list(), f);
  o.mesh = coulomb.mesh();
  Beads& mine = sys.beads();
  for (int i = 0; i < mine.n_owned; ++i) mine.force[i] = f[i];
  o.force = gather_by_id(mine, comm).force;
  return o;
}

}  // namespace tlsmap::testing
