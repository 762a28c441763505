// Swap Monte Carlo (swap_monte_carlo.hpp): detailed balance, energy bookkeeping against the engine,
// and the distributed sweep equal to the one-process sweep bit for bit at any rank count.
#include "tlsmap/core/error.hpp"
#include "tlsmap/md/lbfgs.hpp"
#include "tlsmap/md/swap_monte_carlo.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/stages/pack.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>

using namespace tlsmap;
using namespace tlsmap::testing;

namespace {

using Poly = PolydisperseSoftSphere;

// Every pair's energy from the definition (test_support.hpp), not through Poly::evaluate.
double total_energy(const SwapCopy& c, const Box& box) { return brute_force_poly(c.pos, c.diameter, box).energy; }

}  // namespace

// Five beads in a cluster, five distinct diameters: 120 assignments. The sweep, iterated (every 10th
// sweep sampled, 50,000 samples), must visit them with the Boltzmann weights exp(−E/T)/Z computed
// here by brute force over all 120. Pearson χ² over the 120 cells, 119 degrees of freedom, must stay
// below 172.5 (p = 0.001, Wilson–Hilferty). Power: the same samples against the uniform
// distribution give χ² in the thousands, and a sign error in ΔE, a missed neighbour cell or a biased
// partner draw would each distort the weights by far more than the statistical noise.
TEST(Swap, DetailedBalanceChiSquare) {
  const Box box = cube(4.5);  // 2 cells of 2.25 >= 1.25 σ_max = 2.025 per edge
  SwapCopy c;
  const Vec3 centre(2.2, 2.3, 2.1);
  const std::array<Vec3, 5> offset{Vec3(0, 0, 0), Vec3(1.0, 0.1, 0), Vec3(0.1, 1.05, 0), Vec3(0, 0.1, 1.1),
                                   Vec3(0.9, 0.85, 0.7)};
  const std::array<double, 5> diameters{0.75, 0.9, 1.05, 1.25, 1.5};
  for (int k = 0; k < 5; ++k) {
    c.id.push_back(k + 1);
    c.pos.push_back(centre + offset[k]);
    c.diameter.push_back(diameters[k]);
  }
  // The 120 assignments: perm[k] = index into `diameters` of bead k.
  std::array<int, 5> perm{0, 1, 2, 3, 4};
  std::map<std::array<int, 5>, double> energy;
  do {
    SwapCopy s = c;
    for (int k = 0; k < 5; ++k) s.diameter[k] = diameters[perm[k]];
    energy[perm] = total_energy(s, box);
  } while (std::next_permutation(perm.begin(), perm.end()));
  ASSERT_EQ(energy.size(), 120u);
  double e_min = 1e300, e_max = -1e300;
  for (const auto& [p, e] : energy) e_min = std::min(e_min, e), e_max = std::max(e_max, e);
  const double T = (e_max - e_min) / 4.0;  // weights span e^-4: every state is visited
  double z = 0.0;
  for (const auto& [p, e] : energy) z += std::exp(-(e - e_min) / T);

  std::map<std::array<int, 5>, long> count;
  const long samples = 50000, thin = 10;
  std::int64_t attempted = 0, accepted = 0;
  for (long s = 0; s < samples * thin; ++s) {
    const SwapStats st = swap_sweep_copy(c, box, Poly{}.max_cutoff(), T, 77, static_cast<std::uint64_t>(s));
    attempted += st.attempted, accepted += st.accepted;
    if (s % thin != thin - 1) continue;
    std::array<int, 5> p{};
    for (int k = 0; k < 5; ++k)
      p[k] = static_cast<int>(std::find(diameters.begin(), diameters.end(), c.diameter[k]) - diameters.begin());
    ++count[p];
  }
  double chi2 = 0.0, chi2_uniform = 0.0, min_expected = 1e300;
  for (const auto& [p, e] : energy) {
    const double expected = samples * std::exp(-(e - e_min) / T) / z;
    const double observed = static_cast<double>(count[p]);
    min_expected = std::min(min_expected, expected);
    chi2 += (observed - expected) * (observed - expected) / expected;
    chi2_uniform += (observed - samples / 120.0) * (observed - samples / 120.0) / (samples / 120.0);
  }
  if (world_rank() == 0)
    std::printf(
        "swap χ²: %.1f (119 dof; bound 172.5), against uniform %.0f; T = %.4g, smallest expected count "
        "%.1f, acceptance %.3f\n",
        chi2, chi2_uniform, T, min_expected, static_cast<double>(accepted) / attempted);
  EXPECT_GT(min_expected, 5.0);
  EXPECT_LT(chi2, 172.5);
  EXPECT_GT(chi2_uniform, 1000.0);
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, attempted);
}

// A 729-bead polydisperse liquid-like configuration (jittered lattice relaxed by 100 L-BFGS steps),
// five sweeps at T = 0.3 through the distributed swap_sweep and through swap_sweep_copy on the
// gathered copy: the same diameters bit for bit, the same accepted counts, at 1, 2 and 4 ranks; and
// the engine's energy change (forces recomputed on the new diameters) equals the sum of the accepted
// ΔE to 1e-9 relative to the total energy.
TEST(Swap, DistributedSweepEqualsCopyAndEnergyBookkeeping) {
  const int n_side = 9;
  System sys(MPI_COMM_WORLD, cube(n_side), Model(Poly{}), 0.3);
  sys.set_beads(poly_lattice(n_side, 0.3, 5, world_rank() == 0));
  LbfgsParams relax;
  relax.max_iter = 100;
  minimize_lbfgs(sys, relax);
  sys.compute_forces();
  const GlobalBeads g = gather_by_id(sys.beads(), sys.comm());
  SwapCopy copy;
  for (std::size_t k = 0; k < g.size(); ++k) {
    copy.id.push_back(static_cast<std::int64_t>(k + 1));
    copy.pos.push_back(g.pos[k]);
    copy.diameter.push_back(g.diameter[k]);
  }
  const double e_engine0 = sys.potential_energy();
  EXPECT_NEAR(e_engine0, total_energy(copy, sys.box()), 1e-9 * std::abs(e_engine0));
  std::int64_t total_accepted = 0;
  for (std::uint64_t sweep = 1; sweep <= 5; ++sweep) {
    const double e_before = sys.potential_energy();
    const SwapStats d = swap_sweep(sys, 0.3, 11, sweep);
    const SwapStats s = swap_sweep_copy(copy, sys.box(), Poly{}.max_cutoff(), 0.3, 11, sweep);
    sys.compute_forces();
    EXPECT_EQ(d.attempted, s.attempted);
    EXPECT_EQ(d.accepted, s.accepted);
    EXPECT_EQ(d.attempted, 729);  // every cell holds at least two beads
    EXPECT_NEAR(sys.potential_energy() - e_before, d.energy_change, 1e-9 * std::abs(e_before));
    total_accepted += d.accepted;
  }
  EXPECT_GT(total_accepted, 100);
  const GlobalBeads after = gather_by_id(sys.beads(), sys.comm());
  EXPECT_EQ(after.diameter, copy.diameter);
  EXPECT_NE(after.diameter, g.diameter);
  // Diameters are exchanged, never made: the multiset is unchanged.
  std::vector<double> a = after.diameter, b0 = g.diameter;
  std::sort(a.begin(), a.end());
  std::sort(b0.begin(), b0.end());
  EXPECT_EQ(a, b0);
  if (world_rank() == 0)
    std::printf("5 sweeps at %d ranks: %lld of %d attempts accepted\n", world_size(),
                static_cast<long long>(total_accepted), 5 * 729);
}

TEST(Swap, RefusesSpeciesModels) {
  System sys(MPI_COMM_WORLD, ka_box(6), Model(kob_andersen(), "kob-andersen"), 0.3);
  sys.set_beads(jittered_lattice(6, ka_box(6), 0.2, 2, 1, world_rank() == 0));
  try {
    swap_sweep(sys, 1.0, 1, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kob-andersen"), std::string::npos) << e.what();
  }
}
