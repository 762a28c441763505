// The polydisperse soft-sphere model (pair_potential.hpp): the pair potential at its cutoff, the
// mixing rule, the diameter law, the engine against an O(N²) reference and finite differences,
// rank-count independence, diameters through H5MD and LAMMPS files, and the code paths that refuse
// the model. The independent numpy evaluation is tests/cli/polydisperse.sh.
#include "hessian_test_support.hpp"
#include "io_test_support.hpp"
#include "test_support.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/io/config_file.hpp"
#include "tlsmap/io/h5md.hpp"
#include "tlsmap/io/lammps_data.hpp"
#include "tlsmap/md/fire.hpp"
#include "tlsmap/md/hessian.hpp"
#include "tlsmap/md/lbfgs.hpp"
#include "tlsmap/md/material.hpp"
#include "tlsmap/md/md.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/domains.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/search/local_model.hpp"
#include "tlsmap/stages/pack.hpp"
#include "tlsmap/stages/search_stage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

using namespace tlsmap;
using namespace tlsmap::testing;

namespace {

using Poly = PolydisperseSoftSphere;

// v(y) and its first two derivatives in y = r/σ_ij, written out from the definition.
double v_of(double y) { return std::pow(y, -12) + Poly::c0 + Poly::c2 * y * y + Poly::c4 * std::pow(y, 4); }
double dv_of(double y) { return -12.0 * std::pow(y, -13) + 2.0 * Poly::c2 * y + 4.0 * Poly::c4 * std::pow(y, 3); }
double d2v_of(double y) { return 156.0 * std::pow(y, -14) + 2.0 * Poly::c2 + 12.0 * Poly::c4 * y * y; }

// n_side³ beads on a jittered simple cubic lattice at density 1 (box n_side), diameters assigned as
// `tlsmap pack` assigns them; all on rank 0 when holder (migration distributes them).
System poly_system(MPI_Comm comm, int n_side) { return System(comm, cube(n_side), Model(Poly{}), 0.3); }

}  // namespace

// v, v' and v'' vanish at r_c = 1.25 σ_ij (to 1e-12, against values of order 1..100), through the
// kernel's evaluate() and from the coefficients; and evaluate() is the definition inside.
TEST(Polydisperse, PotentialAndTwoDerivativesVanishAtTheCutoff) {
  EXPECT_EQ(Poly::c0, -28.0 / std::pow(1.25, 12));
  EXPECT_EQ(Poly::c2, 48.0 / std::pow(1.25, 14));
  EXPECT_EQ(Poly::c4, -21.0 / std::pow(1.25, 16));
  EXPECT_NEAR(v_of(1.25), 0.0, 1e-12);
  EXPECT_NEAR(dv_of(1.25), 0.0, 1e-12);
  EXPECT_NEAR(d2v_of(1.25), 0.0, 1e-12);
  for (double sigma : {Poly::kSigmaMin, 1.0, 1.3, Poly::kSigmaMax}) {
    SCOPED_TRACE("sigma_ij = " + std::to_string(sigma));
    const double rc = 1.25 * sigma;
    const auto at_rc = Poly::evaluate(rc * rc, sigma);
    EXPECT_NEAR(at_rc.energy, 0.0, 1e-12);
    EXPECT_NEAR(at_rc.f_over_r * rc, 0.0, 1e-12);  // −v'(r_c)
    // v'' from the kernel's force by a central difference: O(h²) accurate, so a looser bound.
    const double h = 1e-5 * sigma;
    const auto fp = Poly::evaluate((rc + h) * (rc + h), sigma), fm = Poly::evaluate((rc - h) * (rc - h), sigma);
    EXPECT_NEAR(-(fp.f_over_r * (rc + h) - fm.f_over_r * (rc - h)) / (2 * h), 0.0, 1e-7);
    // Smooth approach: v(r_c − δ) ≈ −v'''(r_c) δ³/6 > 0, about 3e-11 for δ = 1e-4 σ.
    const double in = rc - 1e-4 * sigma;
    const auto near = Poly::evaluate(in * in, sigma);
    EXPECT_GT(near.energy, 0.0);
    EXPECT_LT(near.energy, 1e-9);
    for (double y : {0.8, 1.0, 1.2}) {
      const auto r = Poly::evaluate(y * y * sigma * sigma, sigma);
      EXPECT_NEAR(r.energy, v_of(y), 1e-13 * std::max(1.0, std::abs(v_of(y))));
      EXPECT_NEAR(r.f_over_r, -dv_of(y) / (y * sigma * sigma), 1e-12 * std::max(1.0, std::abs(dv_of(y))));
    }
  }
}

// σ_ij = ½(σ_i + σ_j)(1 − 0.2 |σ_i − σ_j|), symmetric, and largest for two beads of σ_max (which
// makes 1.25 σ_max the neighbour-list cutoff).
TEST(Polydisperse, MixingRule) {
  EXPECT_EQ(Poly::mix(1.0, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(Poly::mix(1.0, 1.5), 1.25 * 0.9);
  EXPECT_EQ(Poly::mix(0.8, 1.4), Poly::mix(1.4, 0.8));
  double largest = 0.0;
  for (int a = 0; a <= 100; ++a)
    for (int b = 0; b <= 100; ++b) {
      const double sa = Poly::kSigmaMin + a * (Poly::kSigmaMax - Poly::kSigmaMin) / 100;
      const double sb = Poly::kSigmaMin + b * (Poly::kSigmaMax - Poly::kSigmaMin) / 100;
      largest = std::max(largest, Poly::mix(sa, sb));
    }
  EXPECT_EQ(largest, Poly::mix(Poly::kSigmaMax, Poly::kSigmaMax));
  EXPECT_EQ(Poly{}.max_cutoff(), 1.25 * Poly::kSigmaMax);
  EXPECT_EQ(Poly::for_diameters_up_to(1.6178850).sigma_max, Poly::kSigmaMax);  // published data
  EXPECT_EQ(Poly::for_diameters_up_to(1.7).sigma_max, 1.7);
  EXPECT_EQ(Poly::for_diameters_up_to(1.0).sigma_max, Poly::kSigmaMax);
  EXPECT_THROW(Poly::for_diameters_up_to(2.5), Error);
}

// The law P(σ) ∝ σ⁻³ on [σ_min, σ_max] = [0.73, 1.62], and the pack's assignment of 200,000
// diameters: bead id k gets the quantile σ((k−1)/N), checked against the law's CDF written out here,
// F(σ) = (σ_min⁻² − σ⁻²)/(σ_min⁻² − σ_max⁻²) = (k−1)/N to 1e-12; the sample mean and standard
// deviation equal the closed forms 2 σ_min σ_max/(σ_min + σ_max) and √(A ln(σ_max/σ_min) − mean²),
// A = 2/(σ_min⁻² − σ_max⁻²), to 1e-5 (quantiles, not a random draw: O(1/N) discretisation only).
TEST(Polydisperse, DiameterLaw) {
  const double a = Poly::kSigmaMin, b = Poly::kSigmaMax;
  EXPECT_EQ(a, 0.73);
  EXPECT_EQ(b, 1.62);
  EXPECT_NEAR(b / a, 2.219, 2e-4);  // the papers' ratio
  const double mean_law = 2 * a * b / (a + b), A = 2 / (1 / (a * a) - 1 / (b * b));
  const double std_law = std::sqrt(A * std::log(b / a) - mean_law * mean_law);
  EXPECT_NEAR(mean_law, 1.006468085106383, 1e-15);
  EXPECT_NEAR(std_law, 0.23039070604079087, 1e-14);
  const int n = 200000;
  Beads beads;
  for (int k = n; k >= 1; --k) beads.push_owned(Vec3::Zero(), 0, 0.0, k);  // any order of ids
  assign_diameters(beads, n);
  ASSERT_TRUE(beads.has_diameter);
  double sum = 0.0, sum2 = 0.0, worst = 0.0;
  for (int i = 0; i < n; ++i) {
    const double d = beads.diameter[i];
    sum += d, sum2 += d * d;
    const double cdf = (1 / (a * a) - 1 / (d * d)) / (1 / (a * a) - 1 / (b * b));
    worst = std::max(worst, std::abs(cdf - static_cast<double>(beads.id[i] - 1) / n));
  }
  const double mean = sum / n, std = std::sqrt(sum2 / n - mean * mean);
  if (world_rank() == 0) std::printf("diameters: mean %.8f, std %.8f, worst CDF error %.2e\n", mean, std, worst);
  EXPECT_LT(worst, 1e-12);
  EXPECT_DOUBLE_EQ(beads.diameter[n - 1], a);  // id 1: σ(0) = σ_min
  EXPECT_NEAR(mean, mean_law, 1e-5);
  EXPECT_NEAR(std, std_law, 1e-5);
}

// Energy, forces and virial against every pair by minimum image in long double, to 1e-12; then
// after 100 L-BFGS steps (capped at 0.1 σ per bead: the jittered start has overlaps of up to
// 1e5 ε/σ that would blow up MD) and 200 Langevin steps, beads having migrated between ranks:
// diameters still belong to their ids, and the forces (which read ghosts' diameters) still agree.
TEST(Polydisperse, MatchesBruteForceAndDiametersTravel) {
  const int n_side = 9;  // 729 beads, box 9 > 2 (1.25 σ_max + skin)
  System sys = poly_system(MPI_COMM_WORLD, n_side);
  sys.set_beads(poly_lattice(n_side, 0.4, 7, world_rank() == 0));
  const GlobalBeads start = gather_by_id(sys.beads(), sys.comm());
  ASSERT_EQ(start.diameter.size(), start.size());
  auto check = [&] {
    sys.compute_forces();
    const GlobalBeads g = gather_by_id(sys.beads(), sys.comm());
    const Reference ref = brute_force_poly(g.pos, g.diameter, sys.box());
    const Thermo th = sys.thermo();
    EXPECT_NEAR(th.potential, ref.energy, 1e-12 * std::abs(ref.energy));
    EXPECT_LE(max_abs_diff(g.force, ref.force), 1e-12 * max_abs(ref.force));
    EXPECT_LE((th.virial - ref.virial).cwiseAbs().maxCoeff(), 1e-12 * ref.virial.cwiseAbs().maxCoeff());
    EXPECT_EQ(g.diameter, start.diameter);
  };
  check();
  LbfgsParams relax;
  relax.max_iter = 100;
  minimize_lbfgs(sys, relax);
  MolecularDynamics md(sys, {0.005, true, 1.0, 3});
  md.run(200, [](long) { return 1.0; });
  check();
}

// Forces are −∂E/∂x: central differences of the total energy (h = 1e-5) for 12 coordinates,
// to 1e-6 of max(1, |F|).
TEST(Polydisperse, ForcesMatchFiniteDifferences) {
  const int n_side = 6;
  System sys = poly_system(MPI_COMM_WORLD, n_side);
  sys.set_beads(poly_lattice(n_side, 0.3, 5, world_rank() == 0));
  sys.compute_forces();
  const GlobalBeads g = gather_by_id(sys.beads(), sys.comm());
  auto energy_with = [&](std::int64_t id, int dim, double dx) {
    Beads& b = sys.beads();
    for (int i = 0; i < b.n_owned; ++i)
      if (b.id[i] == id) b.pos[i][dim] += dx;
    sys.positions_changed();
    sys.compute_forces();
    return sys.potential_energy();
  };
  const double h = 1e-5;
  for (std::int64_t id : {1, 17, 40, 77, 128, 200}) {
    for (int dim : {0, 2}) {
      const double ep = energy_with(id, dim, h), em = energy_with(id, dim, -2 * h);
      energy_with(id, dim, h);  // back
      const double fd = -(ep - em) / (2 * h), f = g.force[id - 1][dim];
      EXPECT_NEAR(fd, f, 1e-6 * std::max(1.0, std::abs(f))) << "bead id " << id << " dim " << dim;
    }
  }
}

// Forces, a capped L-BFGS descent from the jittered start, a Langevin trajectory, a FIRE and an
// L-BFGS minimum: the same bit for bit at this rank count as on one rank.
TEST(Polydisperse, RankCountIndependent) {
  const int n_side = 8;
  auto run = [&](MPI_Comm comm, bool holder) {
    System sys = poly_system(comm, n_side);
    sys.set_beads(poly_lattice(n_side, 0.3, 13, holder));
    sys.compute_forces();
    const Thermo th0 = sys.thermo();
    const GlobalBeads start = gather_by_id(sys.beads(), sys.comm());
    LbfgsParams descent;
    descent.max_iter = 100;
    minimize_lbfgs(sys, descent);
    assign_velocities(sys, 1.0, 8);
    MolecularDynamics md(sys, {0.005, true, 1.0, 99});
    md.run(300, [](long) { return 1.0; });
    const GlobalBeads after_md = gather_by_id(sys.beads(), sys.comm());
    const MinimizeResult fire = minimize_fire(sys, FireParams{});
    const GlobalBeads fire_min = gather_by_id(sys.beads(), sys.comm());
    md.run(100, [](long) { return 1.0; });
    const MinimizeResult lbfgs = minimize_lbfgs(sys, LbfgsParams{});
    const GlobalBeads lbfgs_min = gather_by_id(sys.beads(), sys.comm());
    return std::make_tuple(th0, start, after_md, fire, fire_min, lbfgs, lbfgs_min);
  };
  const auto p = run(MPI_COMM_WORLD, world_rank() == 0);
  if (world_rank() != 0) return;  // the serial reference and the comparison on rank 0 only
  const auto s = run(MPI_COMM_SELF, true);
  EXPECT_EQ(std::get<0>(s).potential, std::get<0>(p).potential);
  EXPECT_EQ(std::get<0>(s).pressure, std::get<0>(p).pressure);
  for (std::size_t i = 0; i < std::get<1>(s).size(); ++i) {
    ASSERT_EQ(std::get<1>(s).force[i], std::get<1>(p).force[i]) << "start, bead id " << i + 1;
    ASSERT_EQ(std::get<2>(s).pos[i], std::get<2>(p).pos[i]) << "after MD, bead id " << i + 1;
    ASSERT_EQ(std::get<4>(s).pos[i], std::get<4>(p).pos[i]) << "FIRE minimum, bead id " << i + 1;
    ASSERT_EQ(std::get<6>(s).pos[i], std::get<6>(p).pos[i]) << "L-BFGS minimum, bead id " << i + 1;
  }
  const MinimizeResult &fs = std::get<3>(s), &fp = std::get<3>(p), &ls = std::get<5>(s), &lp = std::get<5>(p);
  EXPECT_TRUE(fs.converged);
  EXPECT_TRUE(ls.converged);
  EXPECT_LE(fs.max_force, 1e-10);
  EXPECT_LE(ls.max_force, 1e-10);
  EXPECT_EQ(fs.iterations, fp.iterations);
  EXPECT_EQ(fs.energy, fp.energy);
  EXPECT_EQ(ls.iterations, lp.iterations);
  EXPECT_EQ(ls.energy, lp.energy);
  std::printf("minima: FIRE e = %.12f (%ld it.), L-BFGS e = %.12f (%ld it.) per bead\n",
              fs.energy / std::get<1>(s).size(), fs.iterations, ls.energy / std::get<1>(s).size(), ls.iterations);
}

// /particles/all/diameter: written when the beads have diameters and read back exactly, at any rank
// count; absent otherwise; a non-positive diameter in a file is refused naming the dataset and bead.
TEST(Polydisperse, H5mdDiameterRoundTrip) {
  const Box box = cube(6.0);
  Beads beads = distribute(make_beads(300, box, 3), 9);
  assign_diameters(beads, 300);
  {
    TempPath tmp("poly_diameter", ".h5");
    {
      Hdf5File f(tmp.path, Hdf5File::Mode::create, MPI_COMM_WORLD);
      write_configuration(f, box, beads, ConfigMeta{});
      f.commit();
    }
    const Configuration c = read_configuration(tmp.path, MPI_COMM_WORLD);
    EXPECT_TRUE(c.beads.has_diameter);
    const GlobalBeads written = gather_by_id(beads, MPI_COMM_WORLD), read = gather_by_id(c.beads, MPI_COMM_WORLD);
    EXPECT_EQ(read.diameter, written.diameter);
  }
  {
    TempPath tmp("poly_no_diameter", ".h5");
    Beads plain = distribute(make_beads(300, box, 3), 9);
    {
      Hdf5File f(tmp.path, Hdf5File::Mode::create, MPI_COMM_WORLD);
      write_configuration(f, box, plain, ConfigMeta{});
      f.commit();
    }
    Hdf5File f(tmp.path, Hdf5File::Mode::read_only, MPI_COMM_WORLD);
    EXPECT_FALSE(has_object(f, "/particles/all/diameter"));
    EXPECT_FALSE(read_configuration(f).beads.has_diameter);
    expect_error([&] { load_configuration(tmp.path, MPI_COMM_WORLD, true); }, {"no /particles/all/diameter"});
  }
  {
    TempPath tmp("poly_bad_diameter", ".h5");
    for (int i = 0; i < beads.n_owned; ++i)
      if (beads.id[i] == 123) beads.diameter[i] = -0.5;
    {
      Hdf5File f(tmp.path, Hdf5File::Mode::create, MPI_COMM_WORLD);
      write_configuration(f, box, beads, ConfigMeta{});
      f.commit();
    }
    expect_error([&] { read_configuration(tmp.path, MPI_COMM_WORLD); },
                 {"/particles/all/diameter/value", "bead id 123", "positive"});
  }
}

// LAMMPS data: with per-bead diameters the charge column holds them, both ways, bit for bit; the
// beads' charges are then 0. Atom style atomic and non-positive diameters are refused.
TEST(Polydisperse, LammpsChargeColumnHoldsDiameters) {
  const Box box = cube(6.0);
  Beads beads = distribute(make_beads(200, box, 4), 2);
  assign_diameters(beads, 200);
  TempPath tmp("poly_diameter", ".data");
  LammpsWriteOptions o;
  o.diameter_as_charge = true;
  write_lammps_data(tmp.path, box, beads, MPI_COMM_WORLD, o);
  const LoadedConfiguration c = load_configuration(tmp.path, MPI_COMM_WORLD, true);
  const GlobalBeads written = gather_by_id(beads, MPI_COMM_WORLD), read = gather_by_id(c.beads, MPI_COMM_WORLD);
  EXPECT_EQ(read.diameter, written.diameter);
  EXPECT_EQ(c.max_diameter, *std::max_element(written.diameter.begin(), written.diameter.end()));
  for (double q : read.charge) ASSERT_EQ(q, 0.0);
  // Without the model's request the column is a charge, as for any LAMMPS file.
  const GlobalBeads as_charge = gather_by_id(load_configuration(tmp.path, MPI_COMM_WORLD).beads, MPI_COMM_WORLD);
  EXPECT_EQ(as_charge.charge, written.diameter);
  EXPECT_TRUE(as_charge.diameter.empty());

  TempPath atomic("poly_atomic", ".data");
  LammpsWriteOptions oa;
  oa.atom_style = "atomic";
  write_lammps_data(atomic.path, box, beads, MPI_COMM_WORLD, oa);
  expect_error([&] { load_configuration(atomic.path, MPI_COMM_WORLD, true); }, {"atom style atomic", "charge column"});
  for (int i = 0; i < beads.n_owned; ++i)
    if (beads.id[i] == 42) beads.diameter[i] = 0.0;
  write_lammps_data(tmp.path, box, beads, MPI_COMM_WORLD, o);
  expect_error([&] { load_configuration(tmp.path, MPI_COMM_WORLD, true); }, {"atom id 42", "not positive"});
}

// The engine refuses what it cannot do: beads without diameters or beyond σ_max; code written for
// species tables (the Hessian; make_model; the stages other than pack) names the model and itself.
// A species model drops diameters the beads bring.
TEST(Polydisperse, BadModelInputStopsWithOneClearError) {
  const int n_side = 6;
  {
    System sys = poly_system(MPI_COMM_WORLD, n_side);
    expect_error([&] { sys.set_beads(jittered_lattice(n_side, cube(n_side), 0.3, 1, 3, world_rank() == 0)); },
                 {"polydisperse-soft-sphere", "needs a diameter"});
  }
  {
    System sys = poly_system(MPI_COMM_WORLD, n_side);
    Beads b = poly_lattice(n_side, 0.3, 3, world_rank() == 0);
    for (int i = 0; i < b.n_owned; ++i)
      if (b.id[i] == 5) b.diameter[i] = 1.7;
    expect_error([&] { sys.set_beads(std::move(b)); }, {"bead id 5", "diameter 1.7"});
  }
  System sys = poly_system(MPI_COMM_WORLD, n_side);
  sys.set_beads(poly_lattice(n_side, 0.3, 3, world_rank() == 0));
  expect_error([&] { sys.table(); }, {"polydisperse-soft-sphere"});
  expect_error([&] { make_model("polydisperse-soft-sphere"); }, {"polydisperse-soft-sphere", "species table"});
  expect_error([&] { model_for_sample("polydisperse-soft-sphere", {}, "glass.h5"); },
               {"glass.h5", "polydisperse-soft-sphere", "diameters"});
  EXPECT_THROW(model_for_sample("hard-spheres", {1.0}, "glass.h5"), Error);
  EXPECT_EQ(model_for_sample("polydisperse-soft-sphere", {0.8, 1.65}, "x").max_cutoff(), 1.25 * 1.65);
  EXPECT_EQ(model_for_sample("kob-andersen", {}, "x").max_cutoff(), 2.5);

  System ka(MPI_COMM_WORLD, ka_box(n_side), kob_andersen(), 0.3);
  ka.set_beads(poly_lattice(n_side, 0.3, 3, world_rank() == 0));
  EXPECT_FALSE(ka.beads().has_diameter);
  EXPECT_TRUE(ka.beads().diameter.empty());
}

// The local model of a domain (local_model.hpp, what the pairs stage's NEB and levels use) with
// per-bead diameters, on a 512-bead glass-like configuration (jittered lattice, 200 L-BFGS steps):
// the domain of radius 2.5 σ with a frozen shell of 2 r_c. Checks: (1) moving mobile beads changes
// its energy exactly as it changes the engine's whole-sample energy (System, itself checked against
// every pair above), to 1e-10 ε; (2) the gradient matches central differences of the local energy
// (h = 1e-6) to 1e-6 of max(1, |g|); (3) the analytic Hessian matches central differences of the
// gradient to 1e-5 of max(1, |H|) and is symmetric to 1e-12.
TEST(Polydisperse, LocalModelMatchesEngineAndDerivatives) {
  const int n_side = 8;
  System sys = poly_system(MPI_COMM_WORLD, n_side);
  sys.set_beads(poly_lattice(n_side, 0.3, 21, world_rank() == 0));
  LbfgsParams relax;
  relax.max_iter = 200;
  minimize_lbfgs(sys, relax);
  sys.compute_forces();
  const GlobalBeads g = gather_by_id(sys.beads(), sys.comm());
  const Vec3 centre = sys.box().lo + 0.5 * sys.box().len;
  const LocalCopy c =
      local_copy(sys.box(), g.pos, g.species, g.charge, centre, 2.5, 2 * Poly{}.max_cutoff(), g.diameter);
  ASSERT_EQ(c.diameter.size(), c.id.size());
  ASSERT_GE(c.n_mobile, 30);
  const LocalModel m(local_config(c, LJTable{}));
  LocalModel::Vector x0 = m.initial_coordinates(), x1 = x0;
  for (int k = 0; k < m.n_dof(); ++k) x1[k] += 0.02 * std::sin(1.0 + 7.0 * k);  // every mobile bead moved
  // (1) against the engine.
  const double e0_engine = sys.potential_energy();
  Beads moved = sys.beads();
  for (int i = 0; i < moved.n_owned; ++i)
    for (int k = 0; k < c.n_mobile; ++k)
      if (c.id[k] == moved.id[i]) moved.pos[i] = x1.segment<3>(3 * k);
  moved.truncate_owned(moved.n_owned);
  sys.set_beads(std::move(moved));
  sys.compute_forces();
  const double de_engine = sys.potential_energy() - e0_engine, de_local = m.energy(x1) - m.energy(x0);
  if (world_rank() == 0)
    std::printf("local model: %d mobile, %d frozen; ΔE local %.12f, engine %.12f\n", m.n_mobile(), m.n_frozen(),
                de_local, de_engine);
  EXPECT_GT(std::abs(de_engine), 0.1);
  EXPECT_NEAR(de_local, de_engine, 1e-10);
  // (2) gradient and (3) Hessian by central differences, at x1.
  LocalModel::Vector grad;
  m.energy_gradient(x1, grad);
  const LocalModel::Matrix h = m.hessian(x1);
  EXPECT_LE((h - h.transpose()).cwiseAbs().maxCoeff(), 1e-12 * std::max(1.0, h.cwiseAbs().maxCoeff()));
  const double step = 1e-6;
  for (int k = 0; k < m.n_dof(); k += 7) {
    LocalModel::Vector xp = x1, xm = x1, gp, gm;
    xp[k] += step, xm[k] -= step;
    const double fd = (m.energy_gradient(xp, gp) - m.energy_gradient(xm, gm)) / (2 * step);
    EXPECT_NEAR(grad[k], fd, 1e-6 * std::max(1.0, std::abs(grad[k]))) << "coordinate " << k;
    const LocalModel::Vector col = (gp - gm) / (2 * step);
    EXPECT_LE((h.col(k) - col).cwiseAbs().maxCoeff(), 1e-5 * std::max(1.0, h.col(k).cwiseAbs().maxCoeff()))
        << "Hessian column " << k;
  }
}

// The distributed Hessian and the elastic constants (Hessian route, material.hpp) with per-bead
// diameters, on a 343-bead inherent structure (jittered lattice, L-BFGS to 1e-10): (1) H v matches
// central differences of the engine's forces (h = 1e-5; the forces are checked against the O(N²)
// reference above) to 1e-6 of max |H v|; (2) the Hessian-route bulk modulus and tetragonal shears
// match the finite-strain route (strains ±1e-5, each strained box relaxed) to 1e-6 relative, as for
// Kob–Andersen (test_material.cpp): a wrong u'' or u'/r in the soft-sphere curvature changes the
// Born term and the non-affine correction, which the finite strains do not use; (3) the result does
// not depend on the rank count (against MPI_COMM_SELF on rank 0, 1e-7 of max |C|).
TEST(Polydisperse, HessianAndElasticConstantsWithDiameters) {
  const int n_side = 7;
  auto make = [&](MPI_Comm comm, bool holder) {
    auto sys = std::make_unique<System>(comm, cube(n_side), Model(Poly{}), 0.3);
    sys->set_beads(poly_lattice(n_side, 0.3, 21, holder));
    LbfgsParams p;
    p.f_tol = 1e-10;
    p.max_iter = 20000;
    EXPECT_TRUE(minimize_lbfgs(*sys, p).converged);
    sys->compute_forces();
    return sys;
  };
  auto owner = make(MPI_COMM_WORLD, world_rank() == 0);
  System& sys = *owner;
  {  // (1) H v against force differences
    const HessianCheck c = hessian_vs_force_differences(sys, 1e-5);
    if (world_rank() == 0)
      std::printf("soft-sphere Hessian vs force differences: max |Hv - FD| = %.3e, max |Hv| = %.3e\n", c.err, c.scale);
    EXPECT_LT(c.err, 1e-6 * c.scale);
  }
  // (2) the two routes to the elastic constants
  Beads owned = sys.beads();
  owned.truncate_owned(owned.n_owned);
  const MaterialConstants m =
      measure_material(MPI_COMM_WORLD, sys.box(), owned, sys.model(), 0.3, {0, 0, 0}, 1e-5, 1e-10);
  if (world_rank() == 0)
    std::printf(
        "soft spheres: K = %.6f (Hessian) vs %.6f (finite strain); G_tet xy %.6f vs %.6f, yz %.6f vs %.6f, "
        "zx %.6f vs %.6f; K_Born %.6f, G %.6f (Born %.6f)\n",
        m.bulk_modulus_hessian, m.bulk_modulus, m.shear_xy_hessian, m.shear_xy, m.shear_yz_hessian, m.shear_yz,
        m.shear_zx_hessian, m.shear_zx, m.bulk_born_hessian, m.shear_modulus_hessian, m.shear_born_hessian);
  EXPECT_NEAR(m.bulk_modulus_hessian, m.bulk_modulus, 1e-6 * m.bulk_modulus);
  for (const auto& [hess, strain] :
       {std::pair{m.shear_xy_hessian, m.shear_xy}, std::pair{m.shear_yz_hessian, m.shear_yz},
        std::pair{m.shear_zx_hessian, m.shear_zx}})
    EXPECT_NEAR(hess, strain, 1e-6 * m.shear_modulus);
  EXPECT_LT(m.bulk_modulus_hessian, m.bulk_born_hessian);
  EXPECT_LT(m.shear_modulus_hessian, m.shear_born_hessian);
  // (3) rank-count independence
  const ElasticTensor t = hessian_elastic_constants(sys);
  Mat6 serial = Mat6::Zero();
  if (world_rank() == 0) serial = hessian_elastic_constants(*make(MPI_COMM_SELF, true)).relaxed;
  MPI_Bcast(serial.data(), 36, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  const double scale = serial.cwiseAbs().maxCoeff();
  EXPECT_LT((t.relaxed - serial).cwiseAbs().maxCoeff(), 1e-7 * scale);
}
