// Bonded molecules in the engine (md/bonds.hpp, model "polar-dimers") with active charges
// (couplings/active_coulomb.hpp), at 1, 2 and 4 ranks. The sample: 216 dimers (432 beads) with
// centres on a lattice shifted so that molecules straddle the periodic boundary and the planes where
// 2 and 4 ranks split the box, random orientations, bond lengths r0 ± 0.05, charges ±0.5 by species.
//  * energy and forces against an independent O(N²) reference: truncated-shifted LJ over every pair
//    except the bonded ones, the harmonic bond from its definition, plus the plain Ewald sum of the
//    charges minus each bonded pair's q_i q_j / r. With δ = 1e-5 (fft), relative to the whole
//    Ewald sum (bonded pairs included, the split's own scale): |ΔE| ≤ δ |E_Ewald| and
//    √Σ|ΔF|² ≤ δ √Σ|F_Ewald|²;
//  * the sample does test what it claims: at 2 and 4 ranks some molecules have their beads on two
//    ranks (counted), and some bonds cross the periodic boundary at every rank count;
//  * a molecule keeps its bond as beads migrate: after 500 NVE steps every bond length is within
//    0.2 of r0 and the partner is still resolved;
//  * NVE over 1e4 steps with bonds and charges (125 molecules in a 7 σ box): the energy excursion per
//    bead at most 1.5 × that of the same molecules without charges + 1e-5, and below 1e-3, at every
//    rank count;
//  * FIRE on the molecules: its step is capped at 1/ω_bond (md/fire.hpp, stable_dt_max), and from
//    the lattice start relaxed by L-BFGS to max|F| ≤ 1e-2 it reaches 1e-4 in at most 800 steps
//    (measured: 227, the same at 1, 2 and 4 ranks; 1660 with dt_max 0.05 uncapped);
//  * bad topology is refused on every rank: a bead whose partner does not name it back.
#include "tlsmap/core/error.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/md/fire.hpp"
#include "tlsmap/md/lbfgs.hpp"
#include "tlsmap/md/md.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/gather.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

using namespace tlsmap;
using tlsmap::testing::world_rank;
using tlsmap::testing::world_size;

namespace {

constexpr double kSkin = 0.3, kCharge = 0.5, kAccuracy = 1e-5;
constexpr int kSide = 6;
constexpr double kSpacing = 1.4;

Box sample_box() { return tlsmap::testing::dimer_box(kSide, kSpacing); }

Beads dimers(bool on_this_rank) {
  return tlsmap::testing::lattice_dimers(kSide, kSpacing, sample_box(), kCharge, 21, on_this_rank);
}

CoulombParams params(const Box& box = sample_box()) {
  return coulomb_params(box, kAccuracy, 0.0, 1.0, 0.5 * box.len.minCoeff() - kSkin, 16, CoulombSolver::fft);
}

struct Reference {
  double energy = 0.0, coulomb_energy = 0.0;
  double ewald_energy = 0.0, ewald_force = 0.0;  // the whole sum's scale: energy, √Σ|F|², no exclusion
  std::vector<Vec3> force;
};

// Independent of the engine: test_support.hpp's polar_dimer_reference.
Reference reference(const GlobalBeads& g) {
  const tlsmap::testing::PolarDimerReference r = tlsmap::testing::polar_dimer_reference(g, g.pos, sample_box());
  Reference ref{r.energy, r.coulomb_energy, r.ewald_energy, 0.0, r.pair};
  for (const auto& f : r.ewald) ref.ewald_force += f.squaredNorm();
  ref.ewald_force = std::sqrt(ref.ewald_force);
  for (std::size_t i = 0; i < g.size(); ++i) ref.force[i] += r.coulomb[i];
  return ref;
}

// The sample on every rank's share, charges acting (System is not movable: built in place).
std::unique_ptr<System> charged_dimers() {
  const CoulombParams p = params();
  auto sys = std::make_unique<System>(MPI_COMM_WORLD, sample_box(), model_by_name("polar-dimers"), kSkin, Int3{0, 0, 0},
                                      p.cutoff);
  sys->set_beads(dimers(world_rank() == 0));
  activate_coulomb(*sys, p, kSkin);
  return sys;
}

TEST(Bonds, EnergyAndForcesMatchAnIndependentSum) {
  const auto owner = charged_dimers();
  System& sys = *owner;
  sys.compute_forces();

  // What the sample exercises: molecules split over ranks, bonds across the periodic boundary.
  const Beads& b = sys.beads();
  long split = 0;
  for (int i = 0; i < b.n_owned; ++i) split += sys.bond_partner()[i] >= b.n_owned ? 1 : 0;
  MPI_Allreduce(MPI_IN_PLACE, &split, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  if (world_size() > 1) {
    EXPECT_GT(split, 0) << "no molecule is split over ranks";
  }

  const GlobalBeads g = gather_by_id(sys.beads(), MPI_COMM_WORLD);
  long crossing = 0;
  for (std::size_t i = 0; i < g.size(); ++i)
    crossing += g.image[i] != g.image[static_cast<std::size_t>(g.partner[i] - 1)] ? 1 : 0;
  EXPECT_GT(crossing, 0) << "no bond crosses the periodic boundary";

  const Reference ref = reference(g);
  const double e = sys.potential_energy();
  // The split's accuracy is relative to the whole sum (bonded pairs included), its natural scale.
  EXPECT_NEAR(e, ref.energy, kAccuracy * std::abs(ref.ewald_energy));
  double df = 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) df += (g.force[i] - ref.force[i]).squaredNorm();
  df = std::sqrt(df);
  EXPECT_LE(df, kAccuracy * ref.ewald_force);
  if (world_rank() == 0)
    std::printf(
        "%d ranks: %ld beads with the partner a ghost (split or across the boundary), %ld bonded across "
        "the boundary | E %.10f reference %.10f (Coulomb %.6f, before exclusion %.6f) | |ΔF| %.2e vs "
        "|F_Ewald| %.3f\n",
        world_size(), split, crossing, e, ref.energy, ref.coulomb_energy, ref.ewald_energy, df, ref.ewald_force);
}

TEST(Bonds, MoleculesKeepTheirBondsThroughMigration) {
  const Box box = sample_box();
  const auto owner = charged_dimers();
  System& sys = *owner;
  assign_velocities(sys, 1.0, 4);
  MolecularDynamics md(sys, MDParams{.dt = 0.002, .langevin = false, .friction = 0.0, .seed = 1});
  md.run(500, [](long) { return 0.0; });
  const GlobalBeads g = gather_by_id(sys.beads(), MPI_COMM_WORLD);
  double worst = 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const std::size_t j = static_cast<std::size_t>(g.partner[i] - 1);
    ASSERT_EQ(g.partner[j], static_cast<std::int64_t>(i + 1));
    // Unwrapped coordinates: the molecule is whole.
    const Vec3 ui = g.pos[i] + Vec3(g.image[i][0], g.image[i][1], g.image[i][2]).cwiseProduct(box.len);
    const Vec3 uj = g.pos[j] + Vec3(g.image[j][0], g.image[j][1], g.image[j][2]).cwiseProduct(box.len);
    worst = std::max(worst, std::abs((ui - uj).norm() - kPolarDimerBondLength));
  }
  EXPECT_LT(worst, 0.2);
  if (world_rank() == 0) std::printf("after 500 steps at T = 1: max |r − r0| = %.3f (unwrapped)\n", worst);
}

// Max |E(t) − E(0)| per bead over n NVE steps (dt = 0.002) from T = 0.5, the molecules first relaxed
// to max |F| ≤ 1 (the lattice start's strain would otherwise heat the run), with or without charges.
// A smaller sample than the other tests' (125 molecules, box 7 σ, real-space cut 3.2 σ): half the
// cost per step (32 s instead of 67 s for the 1e4 steps at one rank).
double nve_excursion(bool charged, long n_steps) {
  constexpr int kNveSide = 5;
  const Box box = tlsmap::testing::dimer_box(kNveSide, kSpacing);
  const CoulombParams p = params(box);
  Beads b = tlsmap::testing::lattice_dimers(kNveSide, kSpacing, box, kCharge, 21, world_rank() == 0);
  if (!charged)
    for (double& q : b.charge) q = 0.0;
  const auto owner = sample_system(MPI_COMM_WORLD, box, model_by_name("polar-dimers"), kSkin, {0, 0, 0}, std::move(b),
                                   charged ? std::optional<CoulombParams>(p) : std::nullopt);
  System& sys = *owner;
  LbfgsParams lp;
  lp.f_tol = 1.0;
  minimize_lbfgs(sys, lp);
  return tlsmap::testing::nve_energy_excursion(sys, n_steps, 0.5, 9);
}

// NVE over 1e4 steps with bonds and charges: the bonds (period 0.099 τ, 50 steps) and the grid forces
// conserve energy as well as the bonds alone do. Not bitwise the same trajectory at 1, 2 and 4 ranks
// (the mesh sums differ in their last bits and MD is chaotic): the same bound at every rank count.
TEST(Bonds, NveWithBondsAndChargesConservesEnergy) {
  const long n = 10000;
  const double neutral = nve_excursion(false, n), charged = nve_excursion(true, n);
  if (world_rank() == 0)
    std::printf(
        "NVE with bonds, %ld steps: max |E − E0| per bead %.2e with active charges ±%.1f (fft, δ = %.0e), "
        "%.2e without\n",
        n, charged, kCharge, kAccuracy, neutral);
  EXPECT_LE(charged, 1.5 * neutral + 1e-5);
  EXPECT_LE(charged, 1e-3);
}

TEST(Bonds, FireStepStaysBelowTheBondLimit) {
  EXPECT_DOUBLE_EQ(stable_dt_max(model_by_name("polar-dimers"), 0.05), 1.0 / std::sqrt(2.0 * kPolarDimerBondK));
  EXPECT_EQ(stable_dt_max(model_by_name("polar-dimers"), 0.01), 0.01);
  EXPECT_EQ(stable_dt_max(model_by_name("kob-andersen"), 0.05), 0.05);
  const auto owner = sample_system(MPI_COMM_WORLD, sample_box(), model_by_name("polar-dimers"), kSkin, {0, 0, 0},
                                   dimers(world_rank() == 0), std::nullopt);
  System& sys = *owner;
  LbfgsParams lp;
  lp.f_tol = 1e-2;
  minimize_lbfgs(sys, lp);
  FireParams fp;
  fp.f_tol = 1e-4;
  const MinimizeResult r = minimize_fire(sys, fp);
  if (world_rank() == 0) std::printf("FIRE on %ld dimer beads to 1e-4: %ld steps\n", sys.n_global(), r.iterations);
  EXPECT_TRUE(r.converged);
  EXPECT_LE(r.iterations, 800);
}

TEST(Bonds, AsymmetricPartnersAreRefused) {
  const Box box = sample_box();
  System sys(MPI_COMM_WORLD, box, model_by_name("polar-dimers"), kSkin);
  Beads b = dimers(world_rank() == 0);
  if (world_rank() == 0) b.partner[2] = 1;  // bead 3 claims bead 1, which names bead 2
  EXPECT_THROW(sys.set_beads(std::move(b)), Error);
}

}  // namespace
