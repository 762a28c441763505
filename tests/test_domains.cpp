// Domains of the TLS search and the work queue that spreads them over ranks.
//
// References: the domain lattice against its definition (counts, cell volumes, every point of the
// box in exactly one cell); mobile/frozen membership against a brute-force search over all 27
// periodic images (independent of Box::minimum_image), in cubic and orthorhombic boxes with a
// shifted origin; the local copy built from beads spread over the ranks against the one built from
// the whole configuration on one rank (bitwise); the work queue against a serial loop (each item
// exactly once, results ordered and bitwise identical at any rank count, failures reach every rank).
#include "test_support.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/parallel/domains.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/parallel/work_queue.hpp"
#include "tlsmap/stages/search_stage.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>
#include <set>
#include <stdexcept>

namespace tlsmap {
namespace {

using testing::world_rank;
using testing::world_size;

Box ortho_box() {
  Box b;
  b.lo = Vec3(-3.0, 1.25, 0.5);
  b.len = Vec3(12.0, 15.5, 21.0);
  return b;
}

std::vector<Vec3> random_points(const Box& box, int n, std::uint64_t seed) {
  std::vector<Vec3> p(n);
  for (int k = 0; k < n; ++k) {
    auto u = uniform4(seed, Stream::test, k, 0);
    p[k] = box.lo + Vec3(u[0] * box.len[0], u[1] * box.len[1], u[2] * box.len[2]);
    box.wrap(p[k]);  // u = 1 gives lo + len: fold it back as the engine would
  }
  return p;
}

// Smallest distance between x and any periodic image of c: all 27 neighbouring images.
double brute_distance(const Box& box, const Vec3& x, const Vec3& c) {
  double best = INFINITY;
  for (int i = -1; i <= 1; ++i)
    for (int j = -1; j <= 1; ++j)
      for (int k = -1; k <= 1; ++k) {
        Vec3 img = c + Vec3(i * box.len[0], j * box.len[1], k * box.len[2]);
        best = std::min(best, (x - img).norm());
      }
  return best;
}

TEST(DomainGrid, RadiusGivesVolumeXiCubed) {
  for (double xi : {1.0, 5.5, 7.25}) {
    const double r = domain_radius(xi);
    EXPECT_NEAR(4.0 / 3.0 * std::numbers::pi * r * r * r, xi * xi * xi, 1e-12 * xi * xi * xi);
  }
  EXPECT_NEAR(domain_radius(5.5), 3.41193, 1e-5);  // 0.620351 ξ
}

TEST(DomainGrid, LatticeTilesTheBox) {
  for (const Box& box : {testing::cube(10.7), ortho_box()}) {
    for (double spacing : {5.5, 4.0, 3.1}) {
      DomainGrid g(box, 5.5, spacing);
      const Vec3 a = g.spacing();
      for (int d = 0; d < 3; ++d) {
        EXPECT_EQ(g.counts()[d], std::max(1L, std::lround(box.len[d] / spacing)));
        EXPECT_NEAR(a[d] * g.counts()[d], box.len[d], 1e-12);
      }
      // The cells (one per centre) add up to the box.
      EXPECT_NEAR(g.size() * a.prod(), box.volume(), 1e-9 * box.volume());
      // Centres are inside the box, distinct, and in index order x fastest.
      std::set<std::array<long, 3>> seen;
      for (std::int64_t i = 0; i < g.size(); ++i) {
        Vec3 c = g.center(i);
        Vec3 w = c;
        EXPECT_EQ(box.wrap(w), (Int3{0, 0, 0}));
        const Vec3 cell = ((c - box.lo).array() / a.array()).floor();
        EXPECT_EQ(static_cast<std::int64_t>(cell[0] + g.counts()[0] * (cell[1] + g.counts()[1] * cell[2])), i);
        seen.insert({std::lround(c[0] * 1e6), std::lround(c[1] * 1e6), std::lround(c[2] * 1e6)});
      }
      EXPECT_EQ(static_cast<std::int64_t>(seen.size()), g.size());
      // Every point of the box lies in the cell of exactly one centre (|Δ_d| < a_d / 2, minimum image).
      for (const Vec3& p : random_points(box, 2000, 11)) {
        int inside = 0;
        for (std::int64_t i = 0; i < g.size(); ++i) {
          Vec3 d = box.minimum_image(p - g.center(i));
          if ((d.cwiseAbs().array() < 0.5 * a.array()).all()) ++inside;
        }
        EXPECT_EQ(inside, 1);
      }
    }
  }
}

TEST(DomainGrid, RejectsDomainsLargerThanHalfTheBox) {
  EXPECT_THROW(DomainGrid(testing::cube(6.0), 5.5, 5.5), Error);  // R = 3.41 > 3
  EXPECT_NO_THROW(DomainGrid(testing::cube(7.0), 5.5, 5.5));
  EXPECT_THROW(DomainGrid(testing::cube(20.0), 5.5, 0.0), Error);
}

// Membership against the 27-image brute force, for centres inside, at the faces and at corners.
TEST(LocalCopy, MembershipMatchesBruteForce) {
  for (const Box& box : {testing::cube(13.0), ortho_box()}) {
    const auto pos = random_points(box, 3000, 5);
    std::vector<int> species(pos.size());
    std::vector<double> charge(pos.size());
    for (std::size_t k = 0; k < pos.size(); ++k) species[k] = k % 5 == 0, charge[k] = (k % 2 ? 0.1 : -0.1);
    const double radius = domain_radius(5.5), shell = 2.0;
    const Vec3 centers[] = {box.lo + 0.5 * box.len, box.lo + Vec3(0.1, 0.2, 0.3),
                            box.lo + box.len - Vec3(0.01, 0.02, 0.03), box.lo + Vec3(0.5 * box.len[0], 0.0, 0.0)};
    for (const Vec3& c : centers) {
      LocalCopy l = local_copy(box, pos, species, charge, c, radius, shell);
      std::vector<std::int64_t> mobile, frozen;
      for (std::size_t k = 0; k < pos.size(); ++k) {
        const double r = brute_distance(box, pos[k], c);
        // Stay clear of the boundaries, where round-off could decide either way.
        ASSERT_GT(std::abs(r - radius), 1e-9);
        ASSERT_GT(std::abs(r - radius - shell), 1e-9);
        if (r < radius) mobile.push_back(k + 1);
        else if (r < radius + shell) frozen.push_back(k + 1);
      }
      ASSERT_EQ(l.n_mobile, static_cast<int>(mobile.size()));
      ASSERT_EQ(l.size(), static_cast<int>(mobile.size() + frozen.size()));
      EXPECT_TRUE(std::equal(mobile.begin(), mobile.end(), l.id.begin()));
      EXPECT_TRUE(std::equal(frozen.begin(), frozen.end(), l.id.begin() + l.n_mobile));
      for (int i = 0; i < l.size(); ++i) {
        const std::size_t k = l.id[i] - 1;
        EXPECT_EQ(l.pos[i], pos[k]);
        EXPECT_EQ(l.species[i], species[k]);
        EXPECT_EQ(l.charge[i], charge[k]);
      }
      // ~ρ · 4π/3 R³ = 3000/V · ξ³ mobile beads.
      const double expect = pos.size() / box.volume() * 5.5 * 5.5 * 5.5;
      EXPECT_NEAR(l.n_mobile, expect, 5.0 * std::sqrt(expect));
    }
  }
}

// A shell wider than the box: the copy is the whole sample, each bead once.
TEST(LocalCopy, SmallBoxGivesTheWholeSample) {
  const Box box = testing::cube(8.0);
  const auto pos = random_points(box, 400, 9);
  LocalCopy l = local_copy(box, pos, std::vector<int>(400, 0), {}, Vec3(1, 2, 3), domain_radius(5.5), 5.0);
  EXPECT_EQ(l.size(), 400);
  std::set<std::int64_t> ids(l.id.begin(), l.id.end());
  EXPECT_EQ(ids.size(), 400u);
  for (double q : l.charge) EXPECT_EQ(q, 0.0);
}

// A glass-like configuration spread over the ranks (bead id k on rank k mod P), gathered by id,
// cut into local copies: bitwise the same as from the whole configuration on one rank.
TEST(LocalCopy, IdenticalAtAnyRankCount) {
  const int n_side = 12;
  const Box box = testing::ka_box(n_side);
  const Beads all = testing::jittered_lattice(n_side, box, 0.6, 2, 21);
  Beads mine;
  for (int i = 0; i < all.n_owned; ++i)
    if (all.id[i] % world_size() == world_rank())
      mine.push_owned(all.pos[i], all.species[i], 0.01 * (all.id[i] % 7), all.id[i]);
  const GlobalBeads g = gather_by_id(mine, MPI_COMM_WORLD);
  std::vector<Vec3> ref_pos(all.n_owned);
  std::vector<int> ref_species(all.n_owned);
  std::vector<double> ref_charge(all.n_owned);
  for (int i = 0; i < all.n_owned; ++i)
    ref_pos[all.id[i] - 1] = all.pos[i], ref_species[all.id[i] - 1] = all.species[i],
                        ref_charge[all.id[i] - 1] = 0.01 * (all.id[i] % 7);
  DomainGrid grid(box, 5.5, 5.5);
  ASSERT_EQ(grid.size(), 8);
  for (std::int64_t d = 0; d < grid.size(); ++d) {
    LocalCopy a = local_copy(box, g.pos, g.species, g.charge, grid.center(d), grid.radius(), 5.0);
    LocalCopy b = local_copy(box, ref_pos, ref_species, ref_charge, grid.center(d), grid.radius(), 5.0);
    EXPECT_EQ(a.n_mobile, b.n_mobile);
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.species, b.species);
    EXPECT_EQ(a.charge, b.charge);
    EXPECT_EQ(a.pos, b.pos);
    EXPECT_GT(a.n_mobile, 150);  // ~ρ ξ³ = 200
    EXPECT_LT(a.n_mobile, 250);
  }
}

// ---- work queue ---------------------------------------------------------------------------

std::vector<char> bytes_of(const std::string& s) { return std::vector<char>(s.begin(), s.end()); }

TEST(WorkQueue, EachItemExactlyOnceResultsOrdered) {
  std::vector<std::int64_t> items;
  for (int k = 0; k < 37; ++k) items.push_back((k * 17) % 37 + 100);  // any values, not sorted
  std::vector<int> ran(37, 0);
  std::int64_t last_done = 0;
  int n_progress = 0;
  WorkResult r = run_work_queue(
      MPI_COMM_WORLD, items,
      [&](std::int64_t item) {
        ++ran[item - 100];
        // Uneven cost, so the schedule differs from a round robin.
        volatile double x = 0;
        for (int i = 0; i < (item % 5) * 20000; ++i) x = x + std::sqrt(double(i));
        WorkOutput o;
        o.bytes = bytes_of("item " + std::to_string(item * item));
        o.counters = {1, item};
        return o;
      },
      [&](const WorkTally& t) {
        EXPECT_EQ(world_rank(), 0);
        EXPECT_EQ(t.n_items, 37);
        EXPECT_GE(t.done, last_done);
        EXPECT_LE(t.done, t.handed_out);
        last_done = t.done;
        ++n_progress;
      });
  std::vector<int> total(37);
  MPI_Allreduce(ran.data(), total.data(), 37, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  for (int k = 0; k < 37; ++k) EXPECT_EQ(total[k], 1) << "item " << k + 100;
  std::int64_t n_all = 0;
  MPI_Allreduce(&r.n_mine, &n_all, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(n_all, 37);
  EXPECT_FALSE(r.failed);
  if (world_rank() == 0) {
    EXPECT_EQ(n_progress, r.n_mine);
    ASSERT_EQ(r.items.size(), 37u);
    for (int k = 0; k < 37; ++k) {
      EXPECT_EQ(r.items[k], 100 + k);
      EXPECT_EQ(r.bytes[k], bytes_of("item " + std::to_string((100 + k) * (100 + k))));
    }
  } else {
    EXPECT_TRUE(r.items.empty());
  }
}

TEST(WorkQueue, EmptyQueue) {
  WorkResult r = run_work_queue(MPI_COMM_WORLD, {}, [](std::int64_t) { return WorkOutput{}; });
  EXPECT_FALSE(r.failed);
  EXPECT_TRUE(r.items.empty());
  EXPECT_EQ(r.n_mine, 0);
}

// One item throws: every rank learns it (no hang), with the item in the message; what finished is kept.
TEST(WorkQueue, FailureReachesEveryRankWithoutDeadlock) {
  std::vector<std::int64_t> items(20);
  for (int k = 0; k < 20; ++k) items[k] = k;
  WorkResult r = run_work_queue(MPI_COMM_WORLD, items, [](std::int64_t item) {
    if (item == 7) throw std::runtime_error("no saddle found");
    WorkOutput o;
    o.bytes = bytes_of(std::to_string(item));
    return o;
  });
  EXPECT_TRUE(r.failed);
  EXPECT_NE(r.message.find("item 7 on rank"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("no saddle found"), std::string::npos) << r.message;
  if (world_rank() == 0) {
    for (std::size_t k = 0; k < r.items.size(); ++k) {
      EXPECT_NE(r.items[k], 7);
      EXPECT_EQ(r.bytes[k], bytes_of(std::to_string(r.items[k])));
      if (k > 0) {
        EXPECT_LT(r.items[k - 1], r.items[k]);
      }
    }
  }
  // The queue is usable again afterwards (the window was released on every rank).
  WorkResult again = run_work_queue(MPI_COMM_WORLD, items, [](std::int64_t) { return WorkOutput{}; });
  EXPECT_FALSE(again.failed);
}

// Domains of a glass through the queue: the gathered per-domain results (a digest of each local
// copy) are bitwise those of a serial loop, whatever the rank count.
TEST(WorkQueue, DomainResultsIndependentOfRankCount) {
  const int n_side = 12;
  const Box box = testing::ka_box(n_side);
  const Beads all = testing::jittered_lattice(n_side, box, 0.6, 2, 33);
  Beads mine;
  for (int i = 0; i < all.n_owned; ++i)
    if (all.id[i] % world_size() == world_rank()) mine.push_owned(all.pos[i], all.species[i], 0.0, all.id[i]);
  const GlobalBeads g = gather_by_id(mine, MPI_COMM_WORLD);
  DomainGrid grid(box, 5.5, 3.0);  // 4³ = 64 overlapping domains
  ASSERT_EQ(grid.size(), 64);
  auto digest = [&](std::int64_t d) {
    LocalCopy l = local_copy(box, g.pos, g.species, g.charge, grid.center(d), grid.radius(), 5.0);
    Vec3 s = Vec3::Zero();
    for (int i = 0; i < l.n_mobile; ++i) s += box.minimum_image(l.pos[i] - l.center);
    std::vector<char> b(sizeof(double) * 3 + sizeof(int) * 2);
    std::memcpy(b.data(), s.data(), 3 * sizeof(double));
    std::memcpy(b.data() + 3 * sizeof(double), &l.n_mobile, sizeof(int));
    const int n = l.size();
    std::memcpy(b.data() + 3 * sizeof(double) + sizeof(int), &n, sizeof(int));
    return b;
  };
  std::vector<std::int64_t> items(64);
  for (int k = 0; k < 64; ++k) items[k] = k;
  WorkResult r = run_work_queue(MPI_COMM_WORLD, items, [&](std::int64_t d) {
    WorkOutput o;
    o.bytes = digest(d);
    return o;
  });
  ASSERT_FALSE(r.failed);
  if (world_rank() == 0) {
    ASSERT_EQ(r.items, items);
    for (int k = 0; k < 64; ++k) EXPECT_EQ(r.bytes[k], digest(k)) << "domain " << k;
  }
}

// The byte form the queue carries a domain's outcome in: an exact round trip of every field.
TEST(DomainOutcomeBytes, RoundTripIsExact) {
  DomainOutcome o;
  o.domain = 41, o.status = 2, o.error = "saddle did not converge";
  o.center = Vec3(0.1, -2.5, 1e-300);
  o.n_mobile = 201, o.n_frozen = 2999, o.n_attempts = 60, o.n_events = 37, o.seconds = 12.5;
  o.minima_energy = {-7564.25, -7563.0, -7562.125}, o.minima_verified = {1, 1, 0};
  o.saddle_energy = {-7560.5}, o.saddle_verified = {1}, o.saddle_minima = {0, -1};
  TlsRow t;
  t.domain = 41, t.center = o.center, t.radius = 3.4, t.method = "domain", t.cls = "double_well";
  t.energy_a = -7564.25, t.energy_b = -7563.0, t.asymmetry = 1.25, t.barrier = 3.75, t.adjacent = 1;
  t.energy_b_relaxed = -7563.5, t.delta_zpe = -0.015625, t.e_qs = 0.25, t.e_qs_kelvin = 30.0;
  t.d_l = 0.11, t.participation = 17.5, t.path_length = 1.3, t.distance = 0.9, t.splitting = 1e-9;
  t.splitting_kelvin = 1.2e-7, t.over_barrier = 1, t.n_moving = 33, t.intermediate_minima = 2;
  t.saddle_verified = 1, t.neb_converged = 0, t.mu_direct = Vec3(0.01, 0.02, -0.03);
  t.profile_energy = {1, 2, 3}, t.profile_coordinate = {0, 0.5, 1.0}, t.mobile_id = {4, 9};
  t.position_a = {Vec3(1, 2, 3), Vec3(4, 5, 6)}, t.position_b = {Vec3(1.5, 2, 3), Vec3(4, 5.5, 6)};
  o.pairs = {t, t};
  o.pairs[1].cls = "tls", o.pairs[1].mobile_id = {7}, o.pairs[1].position_a = {Vec3(0, 0, 0)};
  o.pairs[1].position_b = {Vec3(0, 0, 0.25)};
  const std::vector<char> b = serialize(o);
  const DomainOutcome r = deserialize_outcome(b.data(), b.size());
  EXPECT_EQ(serialize(r), b);
  EXPECT_EQ(r.error, o.error);
  EXPECT_EQ(r.center, o.center);
  EXPECT_EQ(r.minima_energy, o.minima_energy);
  EXPECT_EQ(r.saddle_minima, o.saddle_minima);
  ASSERT_EQ(r.pairs.size(), 2u);
  EXPECT_EQ(r.pairs[0].position_b, t.position_b);
  EXPECT_EQ(r.pairs[0].mobile_id, t.mobile_id);
  EXPECT_EQ(r.pairs[0].splitting, t.splitting);
  EXPECT_EQ(r.pairs[0].cls, "double_well");
  EXPECT_EQ(r.pairs[1].cls, "tls");
  EXPECT_EQ(r.pairs[1].position_b, o.pairs[1].position_b);
  EXPECT_TRUE(std::isnan(r.pairs[0].energy_a_relaxed));  // NaN survives (not computed yet)
  EXPECT_EQ(r.pairs[0].energy_b_relaxed, -7563.5);
  EXPECT_THROW(deserialize_outcome(b.data(), b.size() - 3), Error);  // truncated: an error, not garbage
}

}  // namespace
}  // namespace tlsmap
