// Physics with a dielectric constant ε ≠ 1, each against a reference the code under test does not
// compute for itself:
//  * the bead Coulomb split (coulomb.hpp) at ε = 2.5 through the real engine (System, its Coulomb
//    neighbour list, PoissonGrid) against the plain Ewald sum (ewald.hpp, itself tested against the
//    NaCl Madelung constant) at ε = 2.5 AND against the ε = 1 Ewald sum divided by 2.5 (so an ε
//    mistake shared by both codes cannot hide): total energy, self term included, to the requested
//    accuracy δ = 1e-5 relative, forces to RMS |ΔF|/|F| ≤ 1e-5; and the self term equal to the closed
//    form −α Σq²/(ε√π) to 1e-12. Catches e.g. a self term, real-space or grid part without its 1/ε.
//  * the dipole stage's μ_eq13 path (make_eq13_grid + eq13_dipoles, as `tlsmap dipole` calls it) with a
//    dielectric domain sphere ε_in ≠ ε_ext, for a ±q bond that rotates off the sphere's centre: the
//    closed form μ_eq13 = −ε_in p/(2ε_ext + ε_in) (a sphere's l = 1 surface potential depends only on
//    the dipole moment of the charges inside it, so the closed form holds for any interior charges),
//    first order in h at the sharp interface: the Richardson value 2μ(h) − μ(2h) within 2 % and the
//    raw value at h = 0.25 within 8 %. A prefactor ε_ext instead of ε_in (off by 3×) or a swapped
//    ε_in/ε_ext in the image correction fail it.
#include "tlsmap/couplings/dipole.hpp"
#include "tlsmap/electrostatics/coulomb.hpp"
#include "tlsmap/electrostatics/ewald.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/decomposition.hpp"
#include "tlsmap/parallel/gather.hpp"

#include "eq13_test_support.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <numbers>

using namespace tlsmap;
using tlsmap::testing::world_rank;

namespace {

constexpr double pi = std::numbers::pi;

void print0(const char* fmt, auto... args) {
  if (world_rank() == 0) std::printf(fmt, args...);
}

using tlsmap::testing::Charges;
using tlsmap::testing::rms_relative;

// n_side³ charges on a jittered lattice, values uniform in [−1, 1] made exactly neutral.
Charges random_charges(const Vec3& len, int n_side, std::uint64_t seed) {
  return tlsmap::testing::random_charges(Vec3(0.3, -1.1, 0.6), len, n_side, seed, seed + 7);
}

}  // namespace

TEST(TrustPhysics, CoulombSplitWithDielectricEqualsEwald) {
  const double eps = 2.5, accuracy = 1e-5, skin = 0.3;
  const Charges s = random_charges(Vec3(9, 10.5, 8.1), 6, 31);
  const CoulombParams p = coulomb_params(s.box, accuracy, 0.0, eps, 0.5 * s.box.len.minCoeff() - skin);
  ASSERT_EQ(p.epsilon, eps);
  Beads b;
  if (world_rank() == 0)
    for (std::size_t i = 0; i < s.pos.size(); ++i) b.push_owned(s.pos[i], 0, s.q[i], static_cast<std::int64_t>(i + 1));
  System sys(MPI_COMM_WORLD, s.box, make_model("kob-andersen"), skin, {0, 0, 0}, p.cutoff);
  sys.set_beads(std::move(b));
  Coulomb coulomb(sys.decomp(), p);
  std::vector<Vec3> f;
  const CoulombResult r = coulomb.compute(sys.beads(), *sys.coulomb_list(), f);
  Beads& mine = sys.beads();
  for (int i = 0; i < mine.n_owned; ++i) mine.force[i] = f[i];
  const std::vector<Vec3> force = gather_by_id(mine, MPI_COMM_WORLD).force;

  const EwaldResult ref = ewald(s.pos, s.q, s.box, ewald_params(s.box, 1e-14, 0.0, eps));
  const EwaldResult vac = ewald(s.pos, s.q, s.box, ewald_params(s.box, 1e-14, 0.0, 1.0));
  double q2 = 0.0;
  for (double v : s.q) q2 += v * v;
  const double self = -p.alpha / std::sqrt(pi) * q2 / eps;
  const double de = std::abs(r.total / ref.energy - 1), de_vac = std::abs(r.total * eps / vac.energy - 1);
  const double df = rms_relative(force, ref.force);
  std::vector<Vec3> vac_scaled = vac.force;
  for (auto& v : vac_scaled) v /= eps;
  const double df_vac = rms_relative(force, vac_scaled);
  print0(
      "eps = %.1f: split E = %.12f (real %.6f grid %.6f self %.6f), Ewald(eps) %.12f (rel %.2e), "
      "Ewald(1)/eps %.12f (rel %.2e); RMS dF/F %.2e vs Ewald(eps), %.2e vs Ewald(1)/eps; self vs closed form %.1e\n",
      eps, r.total, r.real, r.reciprocal, r.self, ref.energy, de, vac.energy / eps, de_vac, df, df_vac,
      std::abs(r.self / self - 1));
  EXPECT_LE(de, accuracy);
  EXPECT_LE(de_vac, accuracy);
  EXPECT_LE(df, accuracy);
  EXPECT_LE(df_vac, accuracy);
  EXPECT_NEAR(r.self, self, 1e-12 * std::abs(self));
}

namespace {

// One TLS: a bond of charges ±q centred `off` from the sphere centre c rotates by `angle` about an
// axis; bead 1 (+q) and bead 2 (−q).
using RotatingBond = tlsmap::testing::OneTls;

RotatingBond rotating_bond(const Vec3& c, double radius, const Vec3& off, double half_length, double angle, double q) {
  RotatingBond s;
  const Vec3 a = half_length * Vec3(0.6, -0.48, 0.64).normalized();
  const Vec3 axis = Vec3(0.2, 0.9, -0.3).normalized();
  const Vec3 a2 = Eigen::AngleAxisd(angle, axis) * a;
  s.tls.center = {c};
  s.tls.radius = {radius};
  s.tls.offset = {0, 2};
  s.tls.id = {1, 2};
  s.tls.pos_a = {c + off + a, c + off - a};
  s.tls.pos_b = {c + off + a2, c + off - a2};
  s.charge = {q, -q};
  return s;
}

Eq13Dipole stage_mu_eq13(const Box& box, const RotatingBond& s, double h, double eps_ext, double eps_in,
                         double* h_used) {
  const tlsmap::testing::StageEq13 r = tlsmap::testing::stage_eq13(MPI_COMM_WORLD, box, s, h, eps_ext, eps_in);
  *h_used = r.h;
  return r.mu;
}

}  // namespace

TEST(TrustPhysics, DielectricDomainOffCentreBondMatchesClosedForm) {
  // Box 8 × 8.5 × 9, sphere R = 2.5, bond of length 1.0 centred 0.3 off the centre, rotated by 0.25 rad:
  // every charge ≥ 1.7 = 6.8σ from the surface at h = 0.25. ε_ext = 1.5, ε_in = 4.5.
  Box box;
  box.lo = Vec3(-0.4, 0.1, 0.3);
  box.len = Vec3(8.0, 8.5, 9.0);
  const Vec3 c = box.lo + Vec3(3.9, 4.3, 4.4);
  const RotatingBond s = rotating_bond(c, 2.5, Vec3(0.1, -0.2, 0.2), 0.5, 0.25, 0.4);
  const Vec3 p = direct_dipole(s.tls, 0, s.charge, box);
  const double ee = 1.5, ei = 4.5;
  const Vec3 closed = -ei / (2 * ee + ei) * p;
  double h_used = 0.0;
  const Eq13Dipole coarse = stage_mu_eq13(box, s, 0.5, ee, ei, &h_used);
  const double h_coarse = h_used;
  const Eq13Dipole fine = stage_mu_eq13(box, s, 0.25, ee, ei, &h_used);
  const Vec3 extrap = 2 * fine.corrected - coarse.corrected;
  const double e_fine = (fine.corrected - closed).norm() / closed.norm();
  const double e_coarse = (coarse.corrected - closed).norm() / closed.norm();
  const double e_extrap = (extrap - closed).norm() / closed.norm();
  print0(
      "dielectric domain eps_in %.1f in eps_ext %.1f, off-centre rotating bond |p| = %.5f: mu_eq13/mu_direct = "
      "%.5f (h = %.3f), %.5f (h = %.3f), extrapolated %.5f; closed form -eps_in/(2eps_ext+eps_in) = %.5f; "
      "errors %.2e, %.2e, extrapolated %.2e\n",
      ei, ee, p.norm(), coarse.corrected.dot(p) / p.squaredNorm(), h_coarse, fine.corrected.dot(p) / p.squaredNorm(),
      h_used, extrap.dot(p) / p.squaredNorm(), -ei / (2 * ee + ei), e_coarse, e_fine, e_extrap);
  EXPECT_LT(e_extrap, 0.02);
  EXPECT_LT(e_fine, 0.08);
}
