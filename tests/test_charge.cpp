// Charge stage: the matching is maximum (against exhaustive search on small graphs), covers every
// bead of a KA glass but N mod 2, uses only pairs within the cutoff; charges are ±q per bond and
// sum to exactly zero; results do not depend on the rank count; the stage updates the file
// atomically and can be rerun.
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/input.hpp"
#include "tlsmap/io/units.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/stages/charge.hpp"
#include "tlsmap/stages/pack.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

using namespace tlsmap;

namespace {

int rank_of(MPI_Comm comm = MPI_COMM_WORLD) {
  int r;
  MPI_Comm_rank(comm, &r);
  return r;
}

Box cube(double l) {
  Box b;
  b.len = Vec3::Constant(l);
  return b;
}

// Checks every BondSet must pass: a matching (each bead at most once), ids ordered, lengths equal
// to the minimum-image distance and below the cutoff, unpaired = the beads in no bond.
void expect_valid(const BondSet& b, const std::vector<Vec3>& pos, const Box& box) {
  std::vector<int> used(pos.size(), 0);
  ASSERT_EQ(b.bonds.size(), b.length.size());
  for (std::size_t k = 0; k < b.bonds.size(); ++k) {
    const auto [i, j] = b.bonds[k];
    ASSERT_LT(i, j);
    ASSERT_GE(i, 1);
    ASSERT_LE(j, static_cast<std::int64_t>(pos.size()));
    ++used[i - 1], ++used[j - 1];
    EXPECT_EQ(b.length[k], box.minimum_image(pos[j - 1] - pos[i - 1]).norm());
    EXPECT_LT(b.length[k], b.cutoff);
    if (k) {
      EXPECT_LT(b.bonds[k - 1][0], i);
    }
  }
  std::vector<std::int64_t> free;
  for (std::size_t k = 0; k < pos.size(); ++k) {
    EXPECT_LE(used[k], 1) << "bead " << k + 1 << " in two bonds";
    if (!used[k]) free.push_back(static_cast<std::int64_t>(k) + 1);
  }
  EXPECT_EQ(free, b.unpaired);
  // Maximal: no two unpaired beads could still form a bond.
  for (std::size_t a = 0; a < free.size(); ++a)
    for (std::size_t c = a + 1; c < free.size(); ++c)
      EXPECT_GE(box.minimum_image(pos[free[c] - 1] - pos[free[a] - 1]).norm(), b.cutoff);
}

// Maximum matching size by exhaustive search over vertex subsets (n ≤ 20): the reference.
int brute_force_matching(const std::vector<Vec3>& pos, const Box& box, double cutoff) {
  const int n = static_cast<int>(pos.size());
  std::vector<std::uint32_t> adj(n, 0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (i != j && box.minimum_image(pos[j] - pos[i]).norm() < cutoff) adj[i] |= 1u << j;
  std::vector<int> best(1u << n, 0);  // best[mask]: maximum matching within the vertices of mask
  for (std::uint32_t mask = 1; mask < (1u << n); ++mask) {
    const int v = __builtin_ctz(mask);
    const std::uint32_t rest = mask & ~(1u << v);
    int b = best[rest];
    for (std::uint32_t m = adj[v] & rest; m; m &= m - 1) b = std::max(b, 1 + best[rest & ~(1u << __builtin_ctz(m))]);
    best[mask] = b;
  }
  return best[(1u << n) - 1];
}

// Greedy by increasing distance alone (what the matching starts from), to show the tests bite.
int greedy_matching(const std::vector<Vec3>& pos, const Box& box, double cutoff) {
  std::vector<std::tuple<double, int, int>> e;
  for (int i = 0; i < static_cast<int>(pos.size()); ++i)
    for (int j = i + 1; j < static_cast<int>(pos.size()); ++j) {
      const double r = box.minimum_image(pos[j] - pos[i]).norm();
      if (r < cutoff) e.emplace_back(r, i, j);
    }
  std::sort(e.begin(), e.end());
  std::vector<char> used(pos.size(), 0);
  int n = 0;
  for (auto [r, i, j] : e)
    if (!used[i] && !used[j]) used[i] = used[j] = 1, ++n;
  return n;
}

// A small KA glass (500 beads): lattice start, short liquid run and quench, FIRE.
struct Glass {
  Box box;
  std::vector<Vec3> pos;  // by id - 1, on every rank
  Beads owned;            // this rank's owned beads after the run
};

Glass make_test_glass(MPI_Comm comm) {
  PackParams p;
  p.n_beads = 500;
  p.seed = 11;
  p.equil_steps = 300;
  p.quench_steps = 300;
  p.fire.f_tol = 1e-3;  // near the inherent structure is enough for a pairing test
  p.log_every = 1000000;
  Glass g;
  g.box = packing_box(p.n_beads, p.density, p.aspect);
  System sys(comm, g.box, make_model(p.model), p.skin);
  sys.set_beads(lattice_start(comm, p.n_beads, g.box, model_composition(p.model), p.seed));
  Progress progress(comm, "test glass");
  make_glass(sys, p, progress);
  g.pos = gather_by_id(sys.beads(), comm).pos;
  g.owned = sys.beads();
  g.owned.truncate_owned(g.owned.n_owned);
  return g;
}

const Glass& world_glass() {
  static const Glass g = make_test_glass(MPI_COMM_WORLD);
  return g;
}

std::string shared_temp_name(const std::string& stem) {
  long pid = static_cast<long>(getpid());
  MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  return (std::filesystem::temp_directory_path() / (stem + "_" + std::to_string(pid) + ".h5")).string();
}

}  // namespace

TEST(Pairing, ChainNeedsAnAugmentingPath) {
  // A-B-C-D with BC shortest: greedy bonds B-C and strands A and D; only A-B, C-D pairs all four.
  const Box box = cube(100.0);
  const std::vector<Vec3> pos = {Vec3(10.0, 10, 10), Vec3(11.0, 10, 10), Vec3(11.9, 10, 10), Vec3(12.9, 10, 10)};
  EXPECT_EQ(greedy_matching(pos, box, 1.2), 1);
  const BondSet b = pair_beads(pos, box, 1.2, 1.2);
  expect_valid(b, pos, box);
  ASSERT_EQ(b.bonds.size(), 2u);
  EXPECT_EQ(b.bonds[0], (std::array<std::int64_t, 2>{1, 2}));
  EXPECT_EQ(b.bonds[1], (std::array<std::int64_t, 2>{3, 4}));
  EXPECT_TRUE(b.unpaired.empty());
  EXPECT_EQ(b.enlargements, 0);
}

TEST(Pairing, OddChainLeavesExactlyOne) {
  const Box box = cube(100.0);
  std::vector<Vec3> pos;
  for (int k = 0; k < 7; ++k) pos.push_back(Vec3(1.0 + k * (k % 2 ? 0.9 : 1.0), 5, 5));
  const BondSet b = pair_beads(pos, box, 1.2, 1.2);
  expect_valid(b, pos, box);
  EXPECT_EQ(b.bonds.size(), 3u);
  EXPECT_EQ(b.unpaired.size(), 1u);
}

TEST(Pairing, OddCycleWithTails) {
  // A pentagon 1..5 (side 1) with tails: 6 hangs on vertex 1, 7 on vertex 3, 8 on 7. The tails
  // are longer than the sides, so greedy takes two pentagon sides and strands a pentagon vertex
  // and a tail; the augmenting path between them runs around the odd cycle. (Whether a search
  // meets it as a blossom depends on the root; MaximumOnRandomSmallGraphs fails if blossom
  // contraction is switched off — checked by hand.)
  const Box box = cube(100.0);
  std::vector<Vec3> pos;
  const double r = 1.0 / (2 * std::sin(M_PI / 5));
  for (int k = 0; k < 5; ++k)
    pos.push_back(Vec3(50 + r * std::cos(2 * M_PI * k / 5), 50 + r * std::sin(2 * M_PI * k / 5), 50));
  auto tail = [&](int v) -> Vec3 {  // -> Vec3: not an Eigen expression of dangling temporaries
    return Vec3(50, 50, 50) + (pos[v] - Vec3(50, 50, 50)) * (1 + 1.1 / r);
  };
  pos.push_back(tail(0));
  pos.push_back(tail(2));
  pos.push_back(tail(2) + Vec3(0, 0, 1.1));
  const BondSet b = max_matching(pos, box, 1.15);
  expect_valid(b, pos, box);
  EXPECT_EQ(brute_force_matching(pos, box, 1.15), 4);
  EXPECT_EQ(greedy_matching(pos, box, 1.15), 3);
  EXPECT_EQ(b.bonds.size(), 4u);
}

TEST(Pairing, MaximumOnRandomSmallGraphs) {
  // Random point sets in a periodic box, sparse enough that maximum matchings are imperfect and
  // greedy often falls short; the size must equal the exhaustive search's every time.
  int greedy_short = 0, imperfect = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const int n = 6 + trial % 13;  // 6..18 beads
    const Box box = cube(4.0);
    std::vector<Vec3> pos;
    for (int k = 0; k < n; ++k) {
      auto u = uniform4(trial, Stream::test, k + 1, 0);
      pos.push_back(Vec3(4 * u[0], 4 * u[1], 4 * u[2]));
    }
    const double cutoff = 0.9 + 1.0 * uniform4(trial, Stream::test, 0, 1)[0];
    const BondSet b = max_matching(pos, box, cutoff);
    expect_valid(b, pos, box);
    const int best = brute_force_matching(pos, box, cutoff);
    ASSERT_EQ(static_cast<int>(b.bonds.size()), best) << "trial " << trial << ", n " << n << ", cutoff " << cutoff;
    greedy_short += greedy_matching(pos, box, cutoff) < best;
    imperfect += 2 * best < n - 1;
  }
  EXPECT_GT(greedy_short, 100);  // augmenting paths were needed often
  EXPECT_GT(imperfect, 100);     // and maximum ≠ perfect often
  if (rank_of() == 0)
    std::printf("greedy short of maximum in %d, imperfect maximum in %d of 3000\n", greedy_short, imperfect);
}

TEST(Pairing, CutoffEnlargedWhenNeededAndErrorBeyondTheLimit) {
  // Simple cubic lattice, spacing 1: nothing within 0.9; 0.9 · 1.1² = 1.089 pairs everything.
  const Box box = cube(6.0);
  std::vector<Vec3> pos;
  for (int z = 0; z < 6; ++z)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 6; ++x) pos.push_back(Vec3(x + 0.5, y + 0.5, z + 0.5));
  const BondSet b = pair_beads(pos, box, 0.9, 2.0);
  expect_valid(b, pos, box);
  EXPECT_EQ(b.enlargements, 2);
  EXPECT_DOUBLE_EQ(b.cutoff, 0.9 * 1.1 * 1.1);
  EXPECT_TRUE(b.unpaired.empty());
  EXPECT_THROW(pair_beads(pos, box, 0.9, 0.95), Error);
  EXPECT_THROW(pair_beads(pos, box, 3.5, 4.0), Error);  // beyond half the box edge
}

TEST(Charges, PlusMinusPerBondAndExactlyNeutral) {
  const Glass& g = world_glass();
  const BondSet b = pair_beads(g.owned, g.box, 1.5, 2.5, MPI_COMM_WORLD);
  const double q = 2.0243;
  const std::uint64_t seed = 99;
  const std::vector<double> charge = bond_charges(b, 500, q, seed);
  int smaller_positive = 0;
  for (const auto& [i, j] : b.bonds) {
    EXPECT_EQ(std::abs(charge[i - 1]), q);
    EXPECT_EQ(charge[j - 1], -charge[i - 1]);
    const bool plus = uniform4(seed, Stream::charge_sign, i, 0)[0] < 0.5;
    EXPECT_EQ(charge[i - 1], plus ? q : -q);
    smaller_positive += charge[i - 1] > 0;
  }
  for (std::int64_t id : b.unpaired) EXPECT_EQ(charge[id - 1], 0.0);
  EXPECT_EQ(std::count(charge.begin(), charge.end(), q), std::count(charge.begin(), charge.end(), -q));
  EXPECT_EQ(reproducible_sum(MPI_COMM_WORLD, charge), 0.0);
  // Signs are fair coin flips: 250 bonds, 5 standard deviations.
  EXPECT_NEAR(smaller_positive, 125.0, 5 * std::sqrt(250 * 0.25));
  // Beads in a System: each owned bead gets the charge of its id.
  Beads beads = g.owned;
  assign_charges(b, 500, q, seed, beads);
  std::vector<double> mine(beads.charge.begin(), beads.charge.begin() + beads.n_owned);
  for (int k = 0; k < beads.n_owned; ++k) EXPECT_EQ(mine[k], charge[beads.id[k] - 1]);
  EXPECT_EQ(reproducible_sum(MPI_COMM_WORLD, mine), 0.0);
}

TEST(Charges, GlassPairedCompletelyAndIndependentOfRankCount) {
  const Glass& g = world_glass();
  const BondSet b = pair_beads(g.owned, g.box, 1.5, 2.5, MPI_COMM_WORLD);
  expect_valid(b, g.pos, g.box);
  EXPECT_TRUE(b.unpaired.empty());
  EXPECT_EQ(b.bonds.size(), 250u);
  EXPECT_EQ(b.enlargements, 0);
  // Serial pairing of the gathered positions: the same bonds, bit for bit.
  const BondSet s = pair_beads(g.pos, g.box, 1.5, 2.5);
  EXPECT_EQ(s.bonds, b.bonds);
  EXPECT_EQ(s.length, b.length);
  // The whole chain (glass + pairing) on one rank (MPI_COMM_SELF on rank 0), broadcast.
  std::vector<std::int64_t> self_bonds(500);
  std::vector<double> self_length(250);
  if (rank_of() == 0) {
    const Glass one = make_test_glass(MPI_COMM_SELF);
    EXPECT_EQ(one.pos, g.pos);
    const BondSet r = pair_beads(one.owned, one.box, 1.5, 2.5, MPI_COMM_SELF);
    ASSERT_EQ(r.bonds.size(), 250u);
    for (std::size_t k = 0; k < 250; ++k) self_bonds[2 * k] = r.bonds[k][0], self_bonds[2 * k + 1] = r.bonds[k][1];
    self_length = r.length;
  }
  MPI_Bcast(self_bonds.data(), 500, MPI_INT64_T, 0, MPI_COMM_WORLD);
  MPI_Bcast(self_length.data(), 250, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  for (std::size_t k = 0; k < 250; ++k) {
    EXPECT_EQ(b.bonds[k][0], self_bonds[2 * k]);
    EXPECT_EQ(b.bonds[k][1], self_bonds[2 * k + 1]);
  }
  EXPECT_EQ(b.length, self_length);
  const BondStats st = bond_stats(b);
  EXPECT_GT(st.min, 0.6);  // KA: no pair closer than ~0.7 σ in an inherent structure
  EXPECT_LT(st.max, 1.5);
  std::int64_t in_hist = 0;
  for (auto c : st.histogram) in_hist += c;
  EXPECT_EQ(in_hist, 250);
  if (rank_of() == 0)
    std::printf("KA glass N=500: bond length %.4f +- %.4f (min %.4f, max %.4f)\n", st.mean, st.std, st.min, st.max);
}

TEST(Charges, OddGlassLeavesExactlyOne) {
  const Glass& g = world_glass();
  std::vector<Vec3> pos(g.pos.begin(), g.pos.end() - 1);  // drop bead 500
  const BondSet b = pair_beads(pos, g.box, 1.5, 2.5);
  expect_valid(b, pos, g.box);
  EXPECT_EQ(b.bonds.size(), 249u);
  EXPECT_EQ(b.unpaired.size(), 1u);
}

TEST(ChargeStage, UpdatesTheFileInPlaceAndCanBeRerun) {
  const Glass& g = world_glass();
  const std::string path = shared_temp_name("tlsmap_test_charge");
  const std::string text = "[run]\noutput = \"" + path + "\"\nseed = 5\n[charge]\nzeta = 0.2\n";
  const Input in = Input::from_string(text, "test.toml", default_schema());
  {
    Hdf5File f(path, Hdf5File::Mode::create, MPI_COMM_WORLD);
    write_configuration(f, g.box, g.owned, config_meta(in));
    f.commit();
  }
  for (int run = 0; run < 2; ++run) {  // the second run replaces /charge
    run_charge(in, MPI_COMM_WORLD);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    Hdf5File f(path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
    Configuration c = read_configuration(f);
    const GlobalBeads all = gather_by_id(c.beads, MPI_COMM_WORLD);
    const double q = 0.2 / PhysicalUnits::from_input(in).e_per_charge();
    EXPECT_DOUBLE_EQ(read_attribute(f, "/charge", "charge_reduced"), q);
    const BondSet b = pair_beads(g.pos, g.box, 1.5, 2.5);
    EXPECT_EQ(all.charge, bond_charges(b, 500, q, 5));
    Shape dims;
    const auto bonds = read_dataset<std::int64_t>(f, "/charge/bonds", &dims);
    ASSERT_EQ(dims, (Shape{250, 2}));
    for (std::size_t k = 0; k < 250; ++k) {
      EXPECT_EQ(bonds[2 * k], b.bonds[k][0]);
      EXPECT_EQ(bonds[2 * k + 1], b.bonds[k][1]);
    }
    EXPECT_EQ(read_dataset<double>(f, "/charge/bond_length"), b.length);
    EXPECT_EQ(read_attribute(f, "/charge", "net_charge"), 0.0);
    EXPECT_EQ(read_attribute(f, "/charge", "n_unpaired"), 0.0);
    const BondStats st = bond_stats(b);
    EXPECT_DOUBLE_EQ(read_attribute(f, "/charge", "mu_mol_reduced"), q * st.mean);
    EXPECT_DOUBLE_EQ(read_attribute(f, "/charge", "mu_mol_debye"),
                     q * st.mean * PhysicalUnits::from_input(in).debye_per_dipole());
  }
  // A failing run (cannot pair at the allowed cutoff) leaves the file as it was and no temp file.
  const auto size_before = std::filesystem::file_size(path);
  const Input bad =
      Input::from_string(text + "bond_cutoff = 0.3\nmax_bond_cutoff = 0.3\n", "bad.toml", default_schema());
  EXPECT_THROW(run_charge(bad, MPI_COMM_WORLD), Error);
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(std::filesystem::file_size(path), size_before);
  {
    Hdf5File f(path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
    EXPECT_EQ(read_attribute(f, "/charge", "bond_cutoff"), 1.5);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of() == 0) std::filesystem::remove(path);
}

TEST(Hdf5FileUpdate, UncommittedLeavesOriginalCommittedReplaces) {
  const std::string path = shared_temp_name("tlsmap_test_update");
  {
    Hdf5File f(path, Hdf5File::Mode::create, MPI_COMM_WORLD);
    write_attribute(f, "/x", "v", 1.0);
    f.commit();
  }
  {
    Hdf5File f(path, Hdf5File::Mode::update, MPI_COMM_WORLD);
    write_attribute(f, "/x", "v", 2.0);
    MPI_Barrier(MPI_COMM_WORLD);
    EXPECT_TRUE(std::filesystem::exists(path + ".tmp"));
  }  // no commit
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  {
    Hdf5File f(path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
    EXPECT_EQ(read_attribute(f, "/x", "v"), 1.0);
  }
  {
    Hdf5File f(path, Hdf5File::Mode::update, MPI_COMM_WORLD);
    write_attribute(f, "/x", "v", 3.0);
    f.commit();
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  {
    Hdf5File f(path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
    EXPECT_EQ(read_attribute(f, "/x", "v"), 3.0);
  }
  EXPECT_THROW(Hdf5File(path + ".missing", Hdf5File::Mode::update, MPI_COMM_WORLD), Error);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of() == 0) std::filesystem::remove(path);
}
