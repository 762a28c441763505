// The md-pairs sampler's pieces (inherent_structures.hpp):
//  * align_to undoes a uniform drift exactly, whatever a few rearranged beads did;
//  * identify_structures on hand-made quench records: structures numbered in order of discovery,
//    a return to an old structure recognised (within dedup_distance), each unordered pair once,
//    the glass as state A whenever it takes part;
//  * run_replica on a small KA glass: every quench is a minimum (max|F| of a fresh System at the
//    stored IS <= f_tol, its energy equal to the stored one to 1e-12 relative), and the record is
//    bitwise the same on the world communicator and on one rank alone (rank-count independence at
//    1, 2 and 4 ranks under CTest), and equal bitwise to quenches of one uninterrupted MD run.
#include "tlsmap/search/inherent_structures.hpp"

#include "test_support.hpp"
#include "tlsmap/core/progress.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/md/md.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/search/relax.hpp"
#include "tlsmap/stages/pack.hpp"

#include <gtest/gtest.h>

using namespace tlsmap;
using namespace tlsmap::testing;

namespace {

std::vector<Vec3> random_positions(const Box& box, int n, std::uint64_t seed) {
  std::vector<Vec3> x(n);
  for (int i = 0; i < n; ++i) {
    const auto u = uniform4(seed, Stream::test, static_cast<std::uint64_t>(i), 0);
    x[i] = box.lo + Vec3(u[0] * box.len[0], u[1] * box.len[1], u[2] * box.len[2]);
  }
  return x;
}

Quench quench(long step, double energy, std::vector<Vec3> pos = {}) {
  Quench q;
  q.step = step, q.energy = energy, q.converged = true, q.pos = std::move(pos);
  return q;
}

}  // namespace

TEST(InherentStructures, AlignUndoesADriftDespiteRearrangedBeads) {
  const Box box = cube(8.0);
  const std::vector<Vec3> ref = random_positions(box, 200, 1);
  std::vector<Vec3> x = ref;
  const Vec3 drift(0.37, -1.21, 3.9);  // more than a bead diameter, wrapping some beads
  for (Vec3& xi : x) xi += drift, box.wrap(xi);
  for (int i = 0; i < 9; ++i) x[i * 7] += Vec3(0.8, -0.6, 0.5);  // a rearrangement of 9 beads
  align_to(box, ref, x);
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (i % 7 != 0 || i / 7 >= 9) worst = std::max(worst, box.minimum_image(Vec3(x[i] - ref[i])).norm());
  EXPECT_LT(worst, 1e-12);
  EXPECT_NEAR(box.minimum_image(Vec3(x[7] - ref[7])).norm(), Vec3(0.8, -0.6, 0.5).norm(), 1e-12);
}

TEST(InherentStructures, IdentifyNumbersStructuresAndPairsEachTransitionOnce) {
  const Box box = cube(8.0);
  const std::vector<Vec3> glass = random_positions(box, 50, 2);
  auto moved = [&](int bead, double by) {
    std::vector<Vec3> x = glass;
    x[bead] += Vec3(by, 0.0, 0.0);
    box.wrap(x[bead]);
    return x;
  };
  const auto s1 = moved(3, 0.5), s2 = moved(10, 0.4);
  auto s2_again = s2;
  s2_again[20] += Vec3(0.0, 0.01, 0.0);  // within dedup_distance of s2
  // Replica 0: stays, hops to s1, stays, hops to s2, back to the glass. Replica 1: hops to s2.
  const std::vector<std::vector<Quench>> reps = {
      {quench(100, -1.0), quench(200, -0.9, s1), quench(300, -0.9), quench(400, -0.8, s2), quench(500, -1.0, glass)},
      {quench(100, -0.8, s2_again), quench(200, -0.8)}};
  std::vector<std::vector<Vec3>> structures{glass};
  const IsCatalogue c = identify_structures(box, reps, 0.05, &structures);
  ASSERT_EQ(structures.size(), 3u);
  EXPECT_EQ(c.state[0], (std::vector<int>{0, 1, 1, 2, 0}));
  EXPECT_EQ(c.state[1], (std::vector<int>{2, 2}));
  // 0→1, 1→2, 2→0 (stored as 0→2: the glass is A); replica 1's 0→2 is the same pair.
  EXPECT_EQ(c.pairs, (std::vector<std::pair<int, int>>{{0, 1}, {1, 2}, {0, 2}}));
  EXPECT_EQ(c.first_seen, (std::vector<std::pair<int, int>>{{-1, -1}, {0, 1}, {0, 3}}));
}

TEST(InherentStructures, ReplicaQuenchesAreMinimaAndRankCountIndependent) {
  PackParams p;
  p.n_beads = 256;
  p.seed = 3;
  p.equil_steps = 500;
  p.quench_steps = 500;
  p.log_every = 1000000;
  const Box box = packing_box(p.n_beads, p.density, p.aspect);
  const Model model = make_model(p.model);
  GlobalBeads glass;
  {
    System sys(MPI_COMM_WORLD, box, model, p.skin);
    sys.set_beads(lattice_start(MPI_COMM_WORLD, p.n_beads, box, model_composition(p.model), p.seed));
    Progress progress(MPI_COMM_WORLD, "test glass");
    make_glass(sys, p, progress);
    glass = gather_by_id(sys.beads(), MPI_COMM_WORLD);
  }
  ReplicaParams rp;
  rp.temperature = 0.35;
  rp.md_steps = 600;
  rp.quench_every = 150;
  rp.md.seed = replica_seed(7, 0);
  rp.f_tol = 1e-8;
  const auto world = run_replica(box, glass, model, rp, MPI_COMM_WORLD);
  MPI_Comm self;
  MPI_Comm_split(MPI_COMM_WORLD, world_rank(), 0, &self);
  const auto alone = run_replica(box, glass, model, rp, self);
  MPI_Comm_free(&self);
  ASSERT_EQ(world.size(), 4u);
  ASSERT_EQ(alone.size(), world.size());
  int n_new = 0;
  for (std::size_t k = 0; k < world.size(); ++k) {
    EXPECT_EQ(world[k].step, static_cast<long>(150 * (k + 1)));
    EXPECT_TRUE(world[k].converged);
    EXPECT_EQ(world[k].energy, alone[k].energy) << "quench " << k;  // bitwise
    ASSERT_EQ(world[k].pos.size(), alone[k].pos.size());
    for (std::size_t i = 0; i < world[k].pos.size(); ++i) ASSERT_EQ((world[k].pos[i] - alone[k].pos[i]).norm(), 0.0);
    if (world[k].pos.empty()) continue;
    ++n_new;
    // An independent look at the stored IS: a fresh System's energy and forces there.
    Beads b;
    if (world_rank() == 0)
      for (std::size_t i = 0; i < glass.size(); ++i)
        b.push_owned(world[k].pos[i], glass.species[i], glass.charge[i], static_cast<std::int64_t>(i) + 1);
    System sys(MPI_COMM_WORLD, box, model, p.skin);
    sys.set_beads(std::move(b));
    sys.compute_forces();
    EXPECT_NEAR(sys.potential_energy(), world[k].energy, 1e-12 * std::abs(world[k].energy));
    EXPECT_LE(sys.max_force(), rp.f_tol);
  }
  // At T = 0.35 a fast-quenched 256-bead glass leaves its first basin within 150 steps.
  EXPECT_GE(n_new, 1);

  // The MD goes on across the quenches as one run: a single uninterrupted MD of 600 steps, quenched
  // by relax_state from copies every 150 steps, gives the same quench energies bitwise (a restarted
  // noise counter or lost velocities would move every IS, if only in its last bits).
  System sys(MPI_COMM_WORLD, box, model, rp.skin);
  {
    Beads b;
    if (world_rank() == 0)
      for (std::size_t i = 0; i < glass.size(); ++i)
        b.push_owned(glass.pos[i], glass.species[i], glass.charge[i], static_cast<std::int64_t>(i) + 1);
    sys.set_beads(std::move(b));
  }
  assign_velocities(sys, rp.temperature, rp.md.seed);
  MolecularDynamics md(sys, rp.md);
  for (std::size_t k = 0; k < world.size(); ++k) {
    md.run(rp.quench_every, [&](long) { return rp.temperature; });
    const GlobalBeads snapshot = gather_by_id(sys.beads(), MPI_COMM_WORLD);
    const WholeSample w{MPI_COMM_WORLD, box, &snapshot, model, rp.skin};
    std::vector<Vec3> is;
    bool converged = false;
    EXPECT_EQ(relax_state(w, {}, {}, rp.f_tol, &is, &converged), world[k].energy) << "quench " << k;
  }
}
