// The domain search's local model with bonded molecules and active charges (search/local_model.hpp,
// electrostatics/shifted_force.hpp), at 1, 2 and 4 ranks (the whole-sample references are parallel).
// Sample: 512 polar dimers (1024 beads, charges ±0.5 by species) on a lattice with random axes,
// L = 11.2; one domain of radius 3 (whole molecules) with a frozen shell of 5.
//  * the shifted-force kernel against its closed form: u(R_c) = f(R_c) = 0, the α = 0 limit, f and
//    d(f/r)/d(r²) against central differences of u and f/r; its table against the long-double formulas;
//  * the local model's gradient and Hessian against central differences of its energy;
//  * without charges the local model is the engine's model: energy differences and forces on the
//    mobile beads equal the domain-decomposed System's (LJ with the bonded pair excluded + bonds);
//  * the whole-sample relaxation of a search state keeps the bonds and the charges: its energy is the
//    engine's (with Ewald charges) at the relaxed positions, below the start; the region mode is
//    refused with charges;
//  * the search's climbs on this model: a random push compresses stiff bonds, whose transverse
//    curvature k(1 − r₀/r) is then strongly negative, and the Lanczos path's step across the climbed
//    mode must still converge (search/local_optimize.hpp: the Levenberg shift);
//  * with charges, its one approximation (shifted-force Coulomb out to R_c instead of Ewald over the
//    sample) against the System with active Ewald charges: forces on the mobile beads and the energy
//    change of a random displacement, relative to their Coulomb parts.
#include "tlsmap/core/error.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/electrostatics/shifted_force.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/domains.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/search/event_search.hpp"
#include "tlsmap/search/local_model.hpp"
#include "tlsmap/search/relax.hpp"
#include "tlsmap/stages/search_stage.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <utility>
#include <vector>

using namespace tlsmap;
using tlsmap::testing::world_rank;

namespace {

constexpr double kSkin = 0.3, kCharge = 0.5, kRadius = 3.0, kShell = 5.0;
constexpr int kSide = 8;
constexpr double kSpacing = 1.4;

Box sample_box() { return tlsmap::testing::dimer_box(kSide, kSpacing); }

Beads dimers(double charge) {
  return tlsmap::testing::lattice_dimers(kSide, kSpacing, sample_box(), charge, 7, world_rank() == 0);
}

// The whole sample in the engine: polar-dimer model, Ewald-split charges when charge != 0.
struct Engine {
  System sys;
  std::shared_ptr<ActiveCoulomb> coulomb;
};

// pos (by id − 1), when given, replaces the lattice positions before the beads are distributed.
std::unique_ptr<Engine> engine(double charge, const std::vector<Vec3>* pos = nullptr) {
  const Box box = sample_box();
  const CoulombParams p = coulomb_params(box, 1e-6, 0.0, 1.0, 0.5 * box.len.minCoeff() - kSkin, 16, CoulombSolver::fft);
  auto e = std::unique_ptr<Engine>(new Engine{
      System(MPI_COMM_WORLD, box, model_by_name("polar-dimers"), kSkin, {0, 0, 0}, charge != 0.0 ? p.cutoff : 0.0),
      nullptr});
  Beads b = dimers(charge);
  if (pos != nullptr)
    for (int i = 0; i < b.n_owned; ++i) b.pos[i] = (*pos)[b.id[i] - 1];
  e->sys.set_beads(std::move(b));
  if (charge != 0.0) e->coulomb = activate_coulomb(e->sys, p, kSkin);
  e->sys.compute_forces();
  return e;
}

// Every rank's copy of one domain (at the box centre) of the gathered sample.
// With far_field, the sample's forces (g.force) on the mobile beads are handed over.
LocalConfig domain_config(const GlobalBeads& g, double alpha, bool charged, bool far_field = false,
                          double rc = kShell) {
  const Box box = sample_box();
  const LocalCopy c =
      local_copy(box, g.pos, g.species, g.charge, box.lo + 0.5 * box.len, kRadius, kShell, {}, g.partner);
  LocalPhysics physics{HarmonicBond{kPolarDimerBondK, kPolarDimerBondLength}, {}, &g.force};
  if (charged) physics.coulomb = ShiftedForceCoulomb(rc, alpha, 1.0);
  LocalConfig config = local_config(c, polar_dimer_table(), physics);
  if (!far_field) config.sample_force.clear();
  return config;
}

// The gathered sample of the uncharged engine with charges ±kCharge by species: the local model's
// charges, without building an Ewald engine.
GlobalBeads charged_sample() {
  const auto e = engine(0.0);
  GlobalBeads g = gather_by_id(e->sys.beads(), MPI_COMM_WORLD);
  for (std::size_t i = 0; i < g.size(); ++i) g.charge[i] = g.species[i] == 0 ? kCharge : -kCharge;
  return g;
}

// Sets the mobile beads of the engine's sample to x (every rank calls; owners write).
void place(System& sys, const LocalModel& m, const LocalModel::Vector& x) {
  Beads& b = sys.beads();
  for (int k = 0; k < m.n_mobile(); ++k) {
    const std::int64_t id = m.config().id[k];
    for (int i = 0; i < b.n_owned; ++i)
      if (b.id[i] == id) b.pos[i] = x.segment<3>(3 * k);
  }
  sys.positions_changed();
  sys.compute_forces();
}

// Forces the engine puts on the mobile beads, as a local-model gradient (−F).
LocalModel::Vector engine_gradient(System& sys, const LocalModel& m) {
  const GlobalBeads g = gather_by_id(sys.beads(), MPI_COMM_WORLD);
  LocalModel::Vector grad(m.n_dof());
  for (int k = 0; k < m.n_mobile(); ++k) grad.segment<3>(3 * k) = -g.force[m.config().id[k] - 1];
  return grad;
}

LocalModel::Vector random_push(const LocalModel& m, double amplitude, std::uint64_t seed) {
  LocalModel::Vector x = m.initial_coordinates();
  for (int k = 0; k < m.n_dof(); ++k) x[k] += amplitude * (2.0 * uniform4(seed, Stream::test, k + 1, 0)[0] - 1.0);
  return x;
}

}  // namespace

TEST(ShiftedForceCoulomb, MatchesItsClosedForm) {
  const double rc = 5.0;
  for (double alpha : {0.0, 0.2, 0.5}) {
    const ShiftedForceCoulomb k(rc, alpha, 2.0);
    const double rc2 = rc * rc;
    EXPECT_NEAR(k.evaluate(rc2).energy, 0.0, 1e-15) << alpha;
    EXPECT_NEAR(k.evaluate(rc2).f_over_r, 0.0, 1e-15) << alpha;
    for (double r : {0.7, 1.3, 2.9, 4.6}) {
      const double h = 1e-5;
      const auto t = k.evaluate(r * r);
      const double fd_f = -(k.evaluate((r + h) * (r + h)).energy - k.evaluate((r - h) * (r - h)).energy) / (2 * h);
      EXPECT_NEAR(t.f_over_r * r, fd_f, 1e-8 * std::max(1.0, std::abs(fd_f))) << alpha << " r " << r;
      const double r2 = r * r, h2 = 1e-5;
      const double fd_dfr = (k.evaluate(r2 + h2).f_over_r - k.evaluate(r2 - h2).f_over_r) / (2 * h2);
      EXPECT_NEAR(t.dfr_dr2, fd_dfr, 1e-7 * std::max(1.0, std::abs(fd_dfr))) << alpha << " r " << r;
      if (alpha == 0.0) {  // plain shifted force: (1/r − 1/R_c + (r − R_c)/R_c²)/ε
        EXPECT_NEAR(t.energy, 0.5 * (1.0 / r - 1.0 / rc + (r - rc) / rc2), 1e-14) << r;
      }
    }
  }
  EXPECT_THROW(ShiftedForceCoulomb(0.0, 0.2, 1.0), Error);
  EXPECT_THROW(ShiftedForceCoulomb(5.0, -0.1, 1.0), Error);
  EXPECT_THROW(ShiftedForceCoulomb(5.0, 0.2, 0.0), Error);
}

// The tabulated kernel (core/binade_table.hpp) against the formulas in long double (erfcl, expl: an
// independent libm path): u, f/r and d(f/r)/d(r²) within 2e-13 of the sum of their terms' magnitudes
// (the table is built to 1e-13 on 17 points per interval; the terms cancel at R_c), on 100 000
// random r² plus every binade edge, R_c² and 1.5 R_c² (beyond the table), for the search's α = 1/R_c
// and others.
TEST(ShiftedForceCoulomb, TableMatchesLongDoubleFormulas) {
  for (const double rc : {3.0, 5.0, 8.0})
    for (const double alpha : {0.0, 1.0 / rc, 0.5, 3.0 / rc}) {
      const ShiftedForceCoulomb k(rc, alpha, 2.0);
      ASSERT_TRUE(k.tabulated()) << rc << " " << alpha;
      using L = long double;
      const L a = alpha, R = rc, inv_eps = 0.5L, g0 = 2.0L * a / std::sqrt(3.14159265358979323846264338327950288L);
      const L u_cut = std::erfc(a * R) / R, c = u_cut / R + g0 * std::exp(-a * a * R * R) / R;
      std::vector<double> s;
      std::mt19937_64 rng(5);
      std::uniform_real_distribution<double> u01(0.0, 1.0);
      for (int i = 0; i < 100000; ++i) s.push_back(std::max(rc * rc * u01(rng) * u01(rng), 1e-4));
      for (double b = rc * rc / 512.0; b < rc * rc; b *= 2.0) s.push_back(b);
      s.push_back(rc * rc), s.push_back(1.5 * rc * rc);  // the edge, and beyond it (the formulas)
      double worst = 0.0;
      for (const double x : s) {
        const L r = std::sqrt(static_cast<L>(x)), e = std::erfc(a * r), g = g0 * std::exp(-a * a * r * r);
        const L t1 = 3 * e / (r * r * r * r), t2 = 3 * g / (r * r * r), t3 = 2 * a * a * g / r, t4 = c / (r * r);
        const L want[3] = {(e / r - u_cut + c * (r - R)) * inv_eps, (e / (r * r) + g / r - c) / r * inv_eps,
                           0.5L * (-t1 - t2 - t3 + t4) / r * inv_eps};
        const L scale[3] = {(e / r + u_cut + std::abs(c * (r - R))) * inv_eps, (e / (r * r) + g / r + c) / r * inv_eps,
                            0.5L * (t1 + t2 + t3 + t4) / r * inv_eps};
        const auto got = k.evaluate(x);
        const double v[3] = {got.energy, got.f_over_r, got.dfr_dr2};
        for (int i = 0; i < 3; ++i) worst = std::max(worst, static_cast<double>(std::abs(v[i] - want[i]) / scale[i]));
        const auto two = k.energy_force(x);  // the energy/gradient path: the same two polynomials
        ASSERT_TRUE(two.energy == got.energy && two.f_over_r == got.f_over_r) << x;
      }
      if (world_rank() == 0)
        std::printf("shifted-force table R_c %.1f α %.3f: built %.1e, sampled %.1e\n", rc, alpha, k.max_table_error(),
                    worst);
      EXPECT_LE(worst, 2e-13) << "R_c " << rc << ", α " << alpha;
    }
}

TEST(LocalModelPolar, GradientAndHessianAreDerivativesOfTheEnergy) {
  const LocalModel m(domain_config(charged_sample(), 0.2, true));
  ASSERT_GT(m.n_mobile(), 90);
  const LocalModel::Vector x = random_push(m, 0.05, 3);
  LocalModel::Vector grad;
  m.energy_gradient(x, grad);
  const LocalModel::Matrix hess = m.hessian(x);
  const double h = 1e-6;
  double worst_g = 0.0, worst_h = 0.0;
  const double g_scale = grad.cwiseAbs().maxCoeff(), h_scale = hess.cwiseAbs().maxCoeff();
  for (int k = 0; k < m.n_dof(); k += 7) {  // every 7th coordinate: all three directions, many beads
    LocalModel::Vector xp = x, xm = x, gp, gm;
    xp[k] += h, xm[k] -= h;
    const double fd = (m.energy_gradient(xp, gp) - m.energy_gradient(xm, gm)) / (2 * h);
    worst_g = std::max(worst_g, std::abs(fd - grad[k]));
    worst_h = std::max(worst_h, ((gp - gm) / (2 * h) - hess.col(k)).cwiseAbs().maxCoeff());
  }
  EXPECT_LE(worst_g, 1e-6 * g_scale);
  EXPECT_LE(worst_h, 1e-6 * h_scale);
  EXPECT_LE((hess - hess.transpose()).cwiseAbs().maxCoeff(), 1e-12 * h_scale);
  if (world_rank() == 0)
    std::printf("%d mobile, %d frozen: max |g − g_fd| %.2e (max |g| %.1f), max |H − H_fd| %.2e (max |H| %.1f)\n",
                m.n_mobile(), m.n_frozen(), worst_g, g_scale, worst_h, h_scale);
}

// The climbs of a domain search (4 random pushes) on the charged dimers, Lanczos path (> 150 dof).
// The pushes leave the basin with bonds compressed, so the climbs start with several modes of
// curvature ~ −k(r₀/r − 1) ~ −300 ε/σ². A step across the climbed mode that is not scaled by each
// mode's curvature (steepest descent at a fixed step, as before 2026-12-07) oscillates on the bond
// modes at the trust radius: here 3 of the 4 climbs then ran their 400 steps without converging (1
// verified saddle); the Levenberg step converges all 4.
TEST(LocalModelPolar, ClimbsConvergeThroughCompressedBonds) {
  const LocalModel m(domain_config(charged_sample(), 0.2, true));
  SearchParams p;
  ASSERT_GT(m.n_dof(), p.saddle.dense_limit);
  p.max_attempts = 4;
  p.stop_after_stale = 4;
  p.neb.n_images = 5;
  p.neb.f_tol = 1e-2;
  const DomainSearch s = search_domain(m, p, 11, 0);
  if (world_rank() == 0)
    std::printf("%d attempts: %d verified saddles, %d failed climbs, %d failed exits; %ld energy calls\n", s.attempts,
                s.events, s.failed_climbs, s.failed_exits, s.energy_calls);
  EXPECT_EQ(s.attempts, 4);
  EXPECT_GE(s.events, 3);
  EXPECT_LE(s.failed_climbs, 1);
}

TEST(LocalModelPolar, WithoutChargesItIsTheEnginesModel) {
  const auto e = engine(0.0);
  const GlobalBeads g = gather_by_id(e->sys.beads(), MPI_COMM_WORLD);
  const LocalModel m(domain_config(g, 0.0, false));
  // Whole molecules: every mobile bead's partner is mobile.
  for (int k = 0; k < m.n_mobile(); ++k) {
    const std::int64_t p = m.config().partner[k];
    bool found = false;
    for (int j = 0; j < m.n_mobile(); ++j) found = found || m.config().id[j] == p;
    EXPECT_TRUE(found) << "bead " << m.config().id[k] << ": partner " << p << " frozen";
  }
  const LocalModel::Vector x0 = m.initial_coordinates(), x1 = random_push(m, 0.08, 5);
  const double e0 = e->sys.potential_energy();
  place(e->sys, m, x1);
  const double de_engine = e->sys.potential_energy() - e0;
  LocalModel::Vector g_local;
  const double de_local = m.energy_gradient(x1, g_local) - m.energy(x0);
  const LocalModel::Vector g_engine = engine_gradient(e->sys, m);
  EXPECT_NEAR(de_local, de_engine, 1e-10 * std::abs(e0));
  EXPECT_LE((g_local - g_engine).cwiseAbs().maxCoeff(), 1e-9 * g_engine.cwiseAbs().maxCoeff());
  if (world_rank() == 0)
    std::printf("no charges: ΔE local %.12f engine %.12f; max |Δgrad| %.2e\n", de_local, de_engine,
                (g_local - g_engine).cwiseAbs().maxCoeff());
}

namespace {

// Errors of the shifted-force local model against the engine's Ewald charges, relative to the
// Coulomb parts (engine with charges minus engine without).
struct ApproximationError {
  double force = 0.0, energy = 0.0;  // RMS |ΔF| / RMS |F_C| on mobile beads; |ΔΔE| / |ΔE_C|
};

// A TLS-like move: the 8 mobile beads nearest the domain centre by `push` each, the rest by push/10.
LocalModel::Vector local_push(const LocalModel& m, double push, std::uint64_t seed) {
  LocalModel::Vector x = m.initial_coordinates();
  const Vec3 c = sample_box().lo + 0.5 * sample_box().len;
  std::vector<std::pair<double, int>> by_distance;
  for (int k = 0; k < m.n_mobile(); ++k) by_distance.emplace_back((m.config().pos[k] - c).norm(), k);
  std::sort(by_distance.begin(), by_distance.end());
  for (int r = 0; r < m.n_mobile(); ++r) {
    const int k = by_distance[r].second;
    const auto u = uniform4(seed, Stream::test, k + 1, 1);
    const double cz = 2.0 * u[0] - 1.0, phi = 2.0 * M_PI * u[1], sz = std::sqrt(1.0 - cz * cz);
    x.segment<3>(3 * k) += (r < 8 ? push : 0.1 * push) * Vec3(sz * std::cos(phi), sz * std::sin(phi), cz);
  }
  return x;
}

ApproximationError approximation_error(double alpha, bool far_field, double push, double rc = kShell,
                                       bool localized = false) {
  const auto bare = engine(0.0);
  const auto charged = engine(kCharge);
  const GlobalBeads g = gather_by_id(charged->sys.beads(), MPI_COMM_WORLD);
  const LocalModel m(domain_config(g, alpha, true, far_field, rc));
  const LocalModel::Vector x0 = m.initial_coordinates(),
                           x1 = localized ? local_push(m, push, 5) : random_push(m, push, 5);

  const double e0 = charged->sys.potential_energy(), b0 = bare->sys.potential_energy();
  if (far_field) {  // where the copy was cut, the model's forces are the sample's (rounded to 2⁻²⁴)
    LocalModel::Vector g0;
    m.energy_gradient(x0, g0);
    const LocalModel::Vector ge = engine_gradient(charged->sys, m);
    EXPECT_LE((g0 - ge).cwiseAbs().maxCoeff(), 1e-10 * ge.cwiseAbs().maxCoeff() + std::ldexp(1.0, -25));
  }
  place(charged->sys, m, x1);
  place(bare->sys, m, x1);
  const double de_engine = charged->sys.potential_energy() - e0;
  const double de_coulomb = de_engine - (bare->sys.potential_energy() - b0);
  const LocalModel::Vector g_engine = engine_gradient(charged->sys, m);
  const LocalModel::Vector g_coulomb = g_engine - engine_gradient(bare->sys, m);
  LocalModel::Vector g_local;
  const double de_local = m.energy_gradient(x1, g_local) - m.energy(x0);
  ApproximationError a;
  a.force = (g_local - g_engine).norm() / g_coulomb.norm();
  a.energy = std::abs(de_local - de_engine) / std::abs(de_coulomb);
  if (world_rank() == 0)
    std::printf(
        "far %d local %d push %.2f alpha %.2f, R_c %.1f: %d mobile | forces: RMS |ΔF| / RMS |F_C| = %.2e (RMS F_C "
        "%.3f) | ΔE of the push: local %.6f engine %.6f (Coulomb part %.6f), error %.2e, / Coulomb part %.2e\n",
        far_field ? 1 : 0, localized ? 1 : 0, push, alpha, rc, m.n_mobile(), a.force,
        g_coulomb.norm() / std::sqrt(m.n_mobile()), de_local, de_engine, de_coulomb, de_local - de_engine, a.energy);
  return a;
}

}  // namespace

// The search's settings (α = 0.2, R_c = 5 = the shell). Measured, the same at 1, 2 and 4 ranks:
// uniform push 0.02: forces 1.5e-3 of the Coulomb forces; TLS-like move (8 beads by 0.3): ΔE
// 1.0e-3 of its Coulomb part, forces 1.0e-2. Without the far-field term: 0.59 and 8.7e-2 (the
// test's power).
TEST(LocalModelPolar, ShiftedForceCoulombApproximatesEwald) {
  const ApproximationError uniform = approximation_error(0.2, true, 0.02);
  EXPECT_LE(uniform.force, 5e-3);
  const ApproximationError tls_like = approximation_error(0.2, true, 0.3, kShell, true);
  EXPECT_LE(tls_like.energy, 5e-3);
  EXPECT_LE(tls_like.force, 2e-2);
  const ApproximationError naive = approximation_error(0.2, false, 0.3, kShell, true);
  EXPECT_GT(naive.energy, 0.1) << "the far-field term should matter in this sample";
  EXPECT_GT(naive.force, 2e-2);
}

TEST(LocalModelPolar, WholeSampleRelaxationKeepsBondsAndCharges) {
  GlobalBeads g;
  double e_start = 0.0;
  {  // one FFT solver at a time: this engine goes before relax_state builds its own
    const auto e = engine(kCharge);
    g = gather_by_id(e->sys.beads(), MPI_COMM_WORLD);
    e_start = e->sys.potential_energy();
  }
  const Box box = sample_box();
  const CoulombParams p = coulomb_params(box, 1e-6, 0.0, 1.0, 0.5 * box.len.minCoeff() - kSkin, 16, CoulombSolver::fft);
  WholeSample w{MPI_COMM_WORLD,
                box,
                &g,
                model_by_name("polar-dimers"),
                kSkin,
                {0, 0, 0},
                0.0,
                0.0,
                p.cutoff,
                [&](const System& sys) { return std::make_shared<ActiveCoulomb>(sys, p, kSkin); }};
  const std::vector<std::int64_t> ids = {1, 2};
  const std::vector<Vec3> pos = {g.pos[0], g.pos[1]};
  std::vector<Vec3> relaxed;
  bool converged = false;
  const double e_relaxed = relax_state(w, ids, pos, 5.0, &relaxed, &converged);
  EXPECT_TRUE(converged);
  EXPECT_LT(e_relaxed, e_start);
  // A new engine, charges acting, at the relaxed positions.
  const auto e = engine(kCharge, &relaxed);
  const double e_engine = e->sys.potential_energy();  // collective
  EXPECT_NEAR(e_relaxed, e_engine, 1e-9 * std::abs(e_start));
  if (world_rank() == 0)
    std::printf("relaxed to max|F| <= 5: E %.8f (start %.4f), the engine at those positions %.8f (Coulomb %.6f)\n",
                e_relaxed, e_start, e_engine, e->coulomb->last().total);
  w.radius = 2.0;
  EXPECT_THROW(relax_state(w, ids, pos, 5.0, &relaxed, &converged), Error);
}
