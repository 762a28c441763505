// The FFT (P3M) reciprocal part of the bead Coulomb split (fft_coulomb.hpp, coulomb.hpp with
// solver = fft), through the real engine (System, its Coulomb neighbour list, PETSc's FFTW
// interface), against the plain Ewald sum (ewald.hpp at δ = 1e-14 on every rank, serial):
//  * random neutral charges (216, values in [−1, 1]) in a cubic box and an orthorhombic one
//    (9 × 11.7 × 7.2, so a swapped mesh axis or a wrong per-dimension k cannot pass), at the
//    accuracy knob δ = 1e-3 … 1e-6: RMS force error and energy error ≤ δ, and the a-priori estimate
//    bounds the measured error within a factor: measured ≤ 1.5 × estimate and estimate ≤ 30 ×
//    measured (measured estimate/measured 1.1–3.7);
//  * the mesh estimate alone (Deserno–Holm sum) against the measured mesh error, real space at 1e-9:
//    within a factor 2 either way (measured 0.84–1.40);
//  * agreement with the multigrid path at uniform ε (and the same real-space and self parts bit for
//    bit);
//  * forces against −(central finite differences) of the energy;
//  * rank-count independence: 2 and 4 ranks against an MPI_COMM_SELF run on rank 0;
//  * the solver names, and "fft" refused with a varying ε; one solver alive at a time.
// The test binary runs at 1, 2 and 4 ranks (CTest); every rank computes the same Ewald reference.
#include "tlsmap/core/error.hpp"
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/electrostatics/ewald.hpp"
#include "tlsmap/electrostatics/fft_coulomb.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/gather.hpp"

#include "coulomb_support.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>

using namespace tlsmap;
using tlsmap::testing::world_rank;
using tlsmap::testing::world_size;

namespace {

constexpr double kSkin = 0.3;

using Sample = tlsmap::testing::Charges;
using tlsmap::testing::rms_relative;

// n_side³ charges on a jittered lattice, random values in [−1, 1] made exactly neutral; the box
// origin is off zero so that a mesh anchored at 0 instead of box.lo shows.
Sample random_sample(const Vec3& len, int n_side, std::uint64_t seed) {
  return tlsmap::testing::random_charges(Vec3(-0.7, 0.2, 1.3), len, n_side, seed, seed + 1);
}

using Outcome = tlsmap::testing::SplitOutcome;

CoulombParams params_for(const Sample& s, double accuracy, CoulombSolver solver) {
  return coulomb_params(s.box, accuracy, 0.0, 1.0, 0.5 * s.box.len.minCoeff() - kSkin, 16, solver);
}

Outcome run_split(const Sample& s, MPI_Comm comm, const CoulombParams& p) {
  return tlsmap::testing::run_coulomb_split(s, comm, p);
}

// The knob scan against Ewald: measured ≤ δ (energy and forces); estimate ≥ measured/1.5 and
// ≤ 30 × measured (measured ratio estimate/measured: 1.10–1.73 cubic, 2.6–3.7 orthorhombic). The
// estimate is an RMS expectation for uncorrelated charges, not a strict bound: the mesh part alone
// scatters 0.84–1.4 around the measured error (MeshEstimateAgainstMeasured), the real-space
// Kolafa–Perram part is on the pessimistic side; 1.5 leaves room for that scatter.
void check_knob_scan(const Sample& s, const char* name) {
  const EwaldResult ref = ewald(s.pos, s.q, s.box, ewald_params(s.box, 1e-14));
  for (double delta : {1e-3, 1e-4, 1e-5, 1e-6}) {
    const Outcome o = run_split(s, MPI_COMM_WORLD, params_for(s, delta, CoulombSolver::fft));
    const double df = rms_relative(o.force, ref.force);
    const double de = std::abs(o.result.total - ref.energy) / std::abs(ref.energy);
    if (world_rank() == 0)
      std::printf(
          "%s fft δ = %.0e: mesh %d×%d×%d order %d r_c %.3f | E %.12f Ewald %.12f rel %.2e | RMS ΔF/F %.2e | "
          "estimate %.2e (real %.1e mesh %.1e) estimate/measured %.2f\n",
          name, delta, o.mesh[0], o.mesh[1], o.mesh[2], o.params.assignment_order, o.params.cutoff, o.result.total,
          ref.energy, de, df, o.result.relative_error, o.result.estimate.real / o.result.rms_force,
          o.result.estimate.grid / o.result.rms_force, o.result.relative_error / df);
    // Catches: a wrong influence function, mesh normalisation (1/V, 1/N), a B-spline weight or
    // stencil offset error, a swapped axis — any of them leaves an error far above δ.
    EXPECT_LE(df, delta) << name << " δ " << delta;
    // Catches: a wrong self-energy correction or a factor in the k-space energy sum (half spectrum).
    EXPECT_LE(de, delta) << name << " δ " << delta;
    // Catches an estimate that no longer bounds the error (optimistic) or has lost its scale.
    EXPECT_GE(1.5 * o.result.relative_error, df) << name << " δ " << delta << ": estimate optimistic";
    EXPECT_LE(o.result.relative_error, 30.0 * df) << name << " δ " << delta << ": estimate uselessly pessimistic";
  }
}

}  // namespace

TEST(FftCoulomb, SolverNames) {
  EXPECT_EQ(coulomb_solver_by_name("fft"), CoulombSolver::fft);
  EXPECT_EQ(coulomb_solver_by_name("mg"), CoulombSolver::mg);
  EXPECT_EQ(coulomb_solver_by_name("mg", true), CoulombSolver::mg);
  EXPECT_THROW(coulomb_solver_by_name("fft", true), Error);  // a varying ε cannot go through an FFT
  EXPECT_THROW(coulomb_solver_by_name("pppm"), Error);
  EXPECT_STREQ(coulomb_solver_name(CoulombSolver::fft), "fft");
}

TEST(FftCoulomb, KnobScanCubic) { check_knob_scan(random_sample(Vec3(9, 9, 9), 6, 101), "cubic 216"); }

TEST(FftCoulomb, KnobScanOrthorhombic) {
  check_knob_scan(random_sample(Vec3(9, 11.7, 7.2), 6, 202), "orthorhombic 216");
}

// The mesh estimate alone: real space at 1e-9 (erfc(α r_c) ≈ 1e-9), meshes of 12 … 24 nodes along
// x (the box is 9 × 11.7 × 7.2) at order 5 and order 7. The estimate is the expected RMS error for
// uncorrelated charges; one sample of 216 charges scatters around it (measured estimate/measured
// 0.84–1.40). Asserted: 0.5 ≤ estimate/measured ≤ 2, and the error falls as the mesh is refined.
// Catches a wrong Deserno–Holm sum (alias range, the k·k_m numerator, 1/V factors) and an influence
// function that is not the optimal one (its error would exceed the estimate by far).
TEST(FftCoulomb, MeshEstimateAgainstMeasured) {
  const Sample s = random_sample(Vec3(9, 11.7, 7.2), 6, 303);
  const EwaldResult ref = ewald(s.pos, s.q, s.box, ewald_params(s.box, 1e-14));
  CoulombParams base = params_for(s, 1e-9, CoulombSolver::mg);  // the real-space rule at 1e-9; mesh set below
  base.solver = CoulombSolver::fft;
  for (int order : {5, 7}) {
    double previous = 1.0;
    for (int n : {12, 16, 20, 24}) {
      CoulombParams p = base;
      p.assignment_order = order;
      p.mesh = Int3{n, static_cast<int>(std::lround(n * 1.3)), static_cast<int>(std::lround(n * 0.8))};
      const Outcome o = run_split(s, MPI_COMM_WORLD, p);
      const double df = rms_relative(o.force, ref.force), est = o.result.estimate.grid / o.result.rms_force;
      if (world_rank() == 0)
        std::printf("mesh %2d×%2d×%2d order %d α %.4f: RMS ΔF/F %.2e, mesh estimate %.2e (ratio %.2f)\n", p.mesh[0],
                    p.mesh[1], p.mesh[2], order, p.alpha, df, est, est / df);
      EXPECT_GE(est, 0.5 * df) << "mesh " << n << " order " << order;
      EXPECT_LE(est, 2.0 * df) << "mesh " << n << " order " << order;
      EXPECT_LT(df, previous) << "mesh " << n << " order " << order;
      previous = df;
    }
  }
}

// fft against mg at uniform ε (= 2.5, so a missing 1/ε in either shows), both at δ = 1e-6: the
// real-space and self parts are the same code on the same α and must agree bit for bit; totals and
// forces agree to 2δ (each is within δ of Ewald). Catches a solver-dependent α, ε or self term.
TEST(FftCoulomb, AgreesWithMultigridAtUniformEpsilon) {
  const Sample s = random_sample(Vec3(9, 9, 9), 6, 404);
  const double delta = 1e-6;
  CoulombParams pf = params_for(s, delta, CoulombSolver::fft), pm = params_for(s, delta, CoulombSolver::mg);
  pf.epsilon = pm.epsilon = 2.5;
  const Outcome f = run_split(s, MPI_COMM_WORLD, pf);
  const Outcome m = run_split(s, MPI_COMM_WORLD, pm);
  const double df = rms_relative(f.force, m.force),
               de = std::abs(f.result.total - m.result.total) / std::abs(m.result.total);
  if (world_rank() == 0)
    std::printf("fft vs mg, ε = 2.5, δ = %.0e: E %.12f vs %.12f (rel %.2e), RMS ΔF/F %.2e; mesh %d³ vs grid %d³\n",
                delta, f.result.total, m.result.total, de, df, f.mesh[0], m.mesh[0]);
  EXPECT_EQ(f.result.real, m.result.real);
  EXPECT_EQ(f.result.self, m.result.self);
  EXPECT_LE(de, 2.0 * delta);
  EXPECT_LE(df, 2.0 * delta);
}

// Forces against −dE/dx by central differences (h = 1e-5) for 4 beads × 3 directions at δ = 1e-6.
// ik-differentiated P3M forces are not the exact gradient of the P3M energy: they differ at the
// level of the mesh error. Asserted: |F − F_fd| ≤ 5δ RMS|F| per component, measured worst 1.95δ (the finite-difference
// error itself, ~h² E''' and rounding 1e-16 |E|/h, is ~1e-9 of RMS|F|). Catches a sign error of the
// field, a factor 2 in forces or energy, and forces computed from a different ε or α than the energy.
TEST(FftCoulomb, ForcesAreMinusTheEnergyGradient) {
  const Sample s = random_sample(Vec3(9, 9, 9), 6, 505);
  const double delta = 1e-6, h = 1e-5;
  const CoulombParams p = params_for(s, delta, CoulombSolver::fft);
  const Outcome o = run_split(s, MPI_COMM_WORLD, p);
  double worst = 0.0;
  for (int i : {0, 37, 101, 200})
    for (int d = 0; d < 3; ++d) {
      Sample plus = s, minus = s;
      plus.pos[i][d] += h, minus.pos[i][d] -= h;
      const double ep = run_split(plus, MPI_COMM_WORLD, p).result.total;
      const double em = run_split(minus, MPI_COMM_WORLD, p).result.total;
      const double fd = -(ep - em) / (2.0 * h);
      worst = std::max(worst, std::abs(fd - o.force[i][d]) / o.result.rms_force);
      EXPECT_LE(std::abs(fd - o.force[i][d]), 5.0 * delta * o.result.rms_force) << "bead " << i << " dim " << d;
    }
  if (world_rank() == 0)
    std::printf("forces vs −∇E (central differences, h = %g): worst |ΔF|/RMS|F| %.2e (δ = %.0e)\n", h, worst, delta);
}

// 2 and 4 ranks against a one-rank run (MPI_COMM_SELF on rank 0, after the parallel one is gone: one
// FFTW matrix at a time). Real and self parts bitwise (canonical rows, reproducible sums); the mesh
// energy to 1e-12 relative and the forces to 1e-11 of max|F| (different FFT factorisations and
// summation orders: rounding only). Catches a wrong slab/brick index map, a periodic image added
// twice or lost at a rank boundary, and a scatter that misses the other ranks' parts.
TEST(FftCoulomb, RankCountIndependent) {
  if (world_size() == 1) GTEST_SKIP() << "compared at 2 and 4 ranks";
  const Sample s = random_sample(Vec3(9, 11.7, 7.2), 6, 606);
  const CoulombParams p = params_for(s, 1e-5, CoulombSolver::fft);
  const Outcome o = run_split(s, MPI_COMM_WORLD, p);
  if (world_rank() != 0) return;
  const Outcome one = run_split(s, MPI_COMM_SELF, p);
  const double de = std::abs(o.result.reciprocal - one.result.reciprocal) / std::abs(one.result.reciprocal);
  const double df = tlsmap::testing::max_abs_diff(o.force, one.force) / tlsmap::testing::max_abs(one.force);
  std::printf("fft, %d ranks vs 1: mesh energy rel. diff %.1e, forces %.1e of max|F|\n", world_size(), de, df);
  EXPECT_EQ(o.result.real, one.result.real);
  EXPECT_EQ(o.result.self, one.result.self);
  EXPECT_LE(de, 1e-12);
  EXPECT_LE(df, 1e-11);
}

// Destroying a PETSc FFTW matrix ends FFTW-MPI for the whole process (fftw_mpi_cleanup), so a second
// solver alive at the same time is refused with an Error (collectively), and one made after the
// first is gone works. Catches a guard that is missing or never released.
TEST(FftCoulomb, OneSolverAtATime) {
  const Sample s = random_sample(Vec3(9, 9, 9), 6, 707);
  const CoulombParams p = params_for(s, 1e-4, CoulombSolver::fft);
  const Decomposition dec(MPI_COMM_WORLD, s.box, {0, 0, 0});
  {
    FftCoulomb first(dec, p.mesh, p.assignment_order, p.alpha, p.epsilon);
    EXPECT_THROW(FftCoulomb(dec, p.mesh, p.assignment_order, p.alpha, p.epsilon), Error);
  }
  const Outcome o = run_split(s, MPI_COMM_WORLD, p);  // a new solver once the first is gone
  EXPECT_GT(o.result.rms_force, 0.0);
}
