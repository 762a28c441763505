// The Coulomb share of the stiffness (include/tlsmap/couplings/coulomb_stiffness.hpp, docs/elastic.md):
//  * rock salt (±q on a simple cubic lattice, spacing r0): every ion sits at an inversion centre, so no
//    orthorhombic strain relaxes it, and the Coulomb energy is E_M (V0/V)^{1/3} with the Madelung
//    energy E_M = −(N/2) M q²/r0 (M = 1.747564594633, Ewald 1921). Closed forms:
//      K^c = V d²E/dV² = (4/9) E_M / V,   σ^c = −P^c = −E_M/(3V) on the diagonal,
//    and cubic symmetry of the block (C11 = C22 = C33, C12 = C23 = C31);
//  * a minimised Kob–Andersen glass with ±1 charges: the pair part against the Hessian route of the
//    same configuration (independent: linear response instead of energy differences); the Coulomb part
//    against two other paths, computed here from relaxed strained states and plain Ewald sums:
//    uniform scaling (K^c = (E'' − 2E')/(9V), from K = V d²E/dV²) and the tetragonal stretch
//    diag(1 + e, 1 − e, 1) (E''/V = C_xx + C_yy − 2C_xy + σ_xx + σ_yy);
//  * the Hessian route with ±1 charges acting on the KA glass against the finite-strain path: the whole
//    orthorhombic block of C to 1e-6 of max |C| (measured 1.8e-7 to 3.1e-7; the Coulomb part is 6.4 % of it),
//    the Hessian route's stress against the virial tensor to 1e-6 (8e-9);
//  * every rank count against a run on MPI_COMM_SELF (the test runs at 1, 2 and 4 ranks).
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/couplings/coulomb_stiffness.hpp"
#include "tlsmap/electrostatics/ewald.hpp"
#include "tlsmap/md/lbfgs.hpp"
#include "tlsmap/md/material.hpp"
#include "tlsmap/parallel/gather.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace tlsmap;
using namespace tlsmap::testing;

namespace {

constexpr double kMadelung = 1.7475645946332;

void print_part0(const char* name, const StiffnessPart& p) {
  if (world_rank() != 0) return;
  std::printf("%s: C block [%.8f %.8f %.8f; %.8f %.8f %.8f; %.8f %.8f %.8f], stress (%.8f %.8f %.8f), K %.8f, G %.8f\n",
              name, p.c(0, 0), p.c(0, 1), p.c(0, 2), p.c(1, 0), p.c(1, 1), p.c(1, 2), p.c(2, 0), p.c(2, 1), p.c(2, 2),
              p.stress[0], p.stress[1], p.stress[2], p.bulk, p.shear);
}

// Rock salt: n³ ions on a simple cubic lattice of spacing r0, species and sign alternating.
struct RockSalt {
  Box box;
  Beads beads;
  std::vector<double> charge;  // by id
};
RockSalt rock_salt(int n, double r0) {
  RockSalt s;
  s.box = cube(n * r0);
  std::int64_t id = 1;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k, ++id) {
        const int parity = (i + j + k) % 2;
        s.charge.push_back(parity == 0 ? 1.0 : -1.0);
        if (world_rank() == 0) s.beads.push_owned(s.box.lo + r0 * Vec3(i + 0.5, j + 0.5, k + 0.5), parity, 0.0, id);
      }
  return s;
}

// Minimised KA glass of n³ beads (as in test_material), owned beads.
struct Glass {
  Box box;
  Beads beads;
  std::vector<double> charge;
};
Glass ka_glass(int n) {
  Glass g;
  g.box = ka_box(n);
  System sys(MPI_COMM_WORLD, g.box, kob_andersen(), 0.3);
  sys.set_beads(jittered_lattice(n, g.box, 0.6, 2, 5, world_rank() == 0));
  LbfgsParams p;
  p.f_tol = 1e-11;
  EXPECT_TRUE(minimize_lbfgs(sys, p).converged);
  g.beads = sys.beads();
  g.beads.truncate_owned(g.beads.n_owned);
  const std::int64_t total = static_cast<std::int64_t>(n) * n * n;
  for (std::int64_t id = 1; id <= total; ++id) g.charge.push_back(id % 2 == 0 ? 1.0 : -1.0);
  return g;
}

// Coulomb energy of the relaxed sample strained by diag(1 + e).
double strained_coulomb(const Box& box, const Beads& beads, const std::vector<double>& q, const Vec3& e, double f_tol) {
  const auto sys = relax_strained(MPI_COMM_WORLD, box, beads, kob_andersen(), 0.3, {0, 0, 0}, e, f_tol);
  GlobalBeads g = gather_by_id(sys->beads(), MPI_COMM_WORLD);
  for (Vec3& x : g.pos) sys->box().wrap(x);
  return ewald(g.pos, q, sys->box(), ewald_params(sys->box(), 1e-13)).energy;
}

}  // namespace

TEST(CoulombStiffness, RockSaltMatchesMadelungClosedForms) {
  const int n = 8;
  const double r0 = 1.05;  // no pair at a KA cut-off (at 1.1 the B–B pairs at 2 r0 sit on theirs)
  const RockSalt s = rock_salt(n, r0);
  CoulombStiffnessParams p;
  p.strain = 1e-4;
  const CoulombStiffness c =
      coulomb_stiffness(MPI_COMM_WORLD, s.box, s.beads, s.charge, kob_andersen(), 0.3, {0, 0, 0}, p);
  const double volume = s.box.volume(), e_m = -0.5 * n * n * n * kMadelung / r0;
  const double k_ref = 4.0 / 9.0 * e_m / volume, sigma_ref = -e_m / (3.0 * volume);
  print_part0("rock salt, Coulomb", c.coulomb);
  if (world_rank() == 0)
    std::printf("rock salt: E_c %.10f (Madelung %.10f), K^c %.10f (closed form %.10f), sigma^c %.10f (%.10f)\n",
                c.energy_coulomb, e_m, c.coulomb.bulk, k_ref, c.coulomb.stress[0], sigma_ref);
  EXPECT_NEAR(c.energy_coulomb, e_m, 1e-10 * std::abs(e_m));
  EXPECT_NEAR(c.coulomb.bulk, k_ref, 1e-5 * std::abs(k_ref));  // measured 8e-7
  for (int a = 0; a < 3; ++a) {
    EXPECT_NEAR(c.coulomb.stress[a], sigma_ref, 1e-7 * std::abs(sigma_ref));    // measured 3.2e-8 (O(h²))
    EXPECT_NEAR(c.coulomb.c(a, a), c.coulomb.c(0, 0), 1e-5 * std::abs(k_ref));  // measured 2.8e-6
    EXPECT_NEAR(c.coulomb.c(a, (a + 1) % 3), c.coulomb.c(0, 1), 1e-5 * std::abs(k_ref));
  }
  // No strain relaxes rock salt, so the Born (affine) path is the relaxed one: the same block.
  if (world_rank() == 0)
    std::printf("rock salt, affine: K^c %.10f, max |C^c_affine − C^c| %.2e\n", c.coulomb_affine.bulk,
                (c.coulomb_affine.c - c.coulomb.c).cwiseAbs().maxCoeff());
  EXPECT_NEAR(c.coulomb_affine.bulk, k_ref, 1e-5 * std::abs(k_ref));
  EXPECT_LT((c.coulomb_affine.c - c.coulomb.c).cwiseAbs().maxCoeff(), 1e-5 * std::abs(k_ref));
}

namespace {
// The Born (affine) path on any configuration: E_c is homogeneous of degree −1 in the positions and
// the box, so along the affine uniform dilation by 1 + e, E_c(e) = E_c/(1 + e) exactly, whatever the
// structure: E' = −E_c and E'' = 2 E_c. In terms of the block and the path stress (E' = V Σ_a σ_a,
// E'' = V (Σ_ab C_ab + Σ_a σ_a)): Σ_a σ^c_a = −E_c/V (the virial theorem) and
// K^c_uniform = (E'' − 2E')/(9V) = (Σ_ab C^c_ab − Σ_a σ^c_a)/9 = (4/9) E_c/V. (The Voigt K of the B
// block equals K_uniform only under an isotropic stress.) Tolerances: the stress (a first difference)
// to 1e-6 relative (measured 1e-10); K (a second difference at h = 1e-5 of Ewald sums accurate to
// 1e-13 of the whole sum) to 3e-5 of the whole sum's (4/9)|E|/V, E = E_c plus the bonded pairs' q²/r
// that the engine leaves out. That error is the round-off of the second difference (ε |sum| / h²),
// not the sums' accuracy: on the dimer glass it was 1.3e-5 of the whole at Ewald accuracy 1e-13 and
// 6.4e-6 at 1e-15 (where the stress check then failed at 2e-6), and 5.6e-6 on an earlier dimer
// minimum; KA glass 1.5e-6 of K^c. On the dimers K^c is 100 to 1000 times smaller than the whole,
// so this checks it to a few percent only; the KA glass checks it closely.
void expect_affine_coulomb_closed_forms(const CoulombStiffness& c, double volume, double bonded, const char* what) {
  const StiffnessPart& q = c.coulomb_affine;
  const double k_ref = 4.0 / 9.0 * c.energy_coulomb / volume, sigma_ref = -c.energy_coulomb / volume;
  const double k_uniform = (q.c.sum() - q.stress.sum()) / 9.0;
  if (world_rank() == 0)
    std::printf(
        "%s: affine K^c_uniform %.10f ((4/9) E_c/V %.10f), Σσ^c %.10f (−E_c/V %.10f); affine shares K %.5f "
        "G %.5f sound %.5f (relaxed: %.5f %.5f %.5f)\n",
        what, k_uniform, k_ref, q.stress.sum(), sigma_ref, c.affine_share_bulk, c.affine_share_shear,
        c.affine_share_sound, c.share_bulk, c.share_shear, c.share_sound);
  EXPECT_NEAR(k_uniform, k_ref, 3e-5 * 4.0 / 9.0 * (std::abs(c.energy_coulomb) + std::abs(bonded)) / volume) << what;
  EXPECT_NEAR(q.stress.sum(), sigma_ref, 1e-6 * std::abs(sigma_ref)) << what;
}
}  // namespace

TEST(CoulombStiffness, GlassPathsAgreeAndPairPartMatchesHessianRoute) {
  const Glass g = ka_glass(6);
  CoulombStiffnessParams p;
  p.strain = 1e-5;  // plastic events in small glasses from ~3e-5 (test_material)
  // The Coulomb energy is not stationary on the path, so its error is linear in the relaxation's. On
  // this glass (max |C^c| = 2.23) the tetragonal check differs by 2.5e-3 at f_tol = 1e-10, 7.7e-4 at
  // 1e-11 and 9e-5 at 1e-12; the shares agree to 1e-5 at all three.
  p.f_tol = 1e-12;
  const CoulombStiffness c =
      coulomb_stiffness(MPI_COMM_WORLD, g.box, g.beads, g.charge, kob_andersen(), 0.3, {0, 0, 0}, p);
  print_part0("KA glass, pair", c.pair);
  print_part0("KA glass, Coulomb", c.coulomb);
  if (world_rank() == 0) std::printf("%s\n", relaxation_summary(c).c_str());

  // The pair part against the Hessian route.
  System sys(MPI_COMM_WORLD, g.box, kob_andersen(), 0.3);
  sys.set_beads(g.beads);
  sys.compute_forces();
  const ElasticTensor t = hessian_elastic_constants(sys);
  const double g_tet = (t.shear_tetragonal[0] + t.shear_tetragonal[1] + t.shear_tetragonal[2]) / 3.0;
  if (world_rank() == 0)
    std::printf(
        "KA glass pair part: K %.8f (Hessian %.8f), G %.8f (Hessian %.8f), block max |diff| / C_11 %.2e; shares "
        "K %.5f G %.5f rho c_s^2 %.5f\n",
        c.pair.bulk, t.bulk_modulus, c.pair.shear, g_tet,
        (c.pair.c - t.relaxed.topLeftCorner<3, 3>()).cwiseAbs().maxCoeff() / t.relaxed(0, 0), c.share_bulk,
        c.share_shear, c.share_sound);
  EXPECT_NEAR(c.pair.bulk, t.bulk_modulus, 1e-6 * t.bulk_modulus);  // measured 3e-8
  // The Born path's pair block against the Hessian route's Born sums (analytic, no differences).
  const double born_diff = (c.pair_affine.c - t.born.topLeftCorner<3, 3>()).cwiseAbs().maxCoeff() / t.born(0, 0);
  if (world_rank() == 0)
    std::printf("KA glass pair part, affine: max |C_affine − C^Born| / C^Born_11 %.2e\n", born_diff);
  EXPECT_LT(born_diff, 1e-5);
  expect_affine_coulomb_closed_forms(c, g.box.volume(), 0.0, "KA glass (passive)");
  EXPECT_NEAR(c.pair.shear, g_tet, 1e-5 * g_tet);  // measured 4e-7
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) EXPECT_NEAR(c.pair.c(a, b), t.relaxed(a, b), 1e-5 * t.relaxed(0, 0));

  // The Coulomb part along the uniform and tetragonal paths.
  const double h = p.strain, v = g.box.volume();
  auto energy = [&](const Vec3& e) { return strained_coulomb(g.box, g.beads, g.charge, e, p.f_tol); };
  const double e0 = c.energy_coulomb;
  const double up = energy(Vec3::Constant(h)), um = energy(Vec3::Constant(-h));
  const double k_uniform = ((up - 2.0 * e0 + um) / (h * h) - 2.0 * (up - um) / (2.0 * h)) / (9.0 * v);
  const double tp = energy(Vec3(h, -h, 0.0)), tm = energy(Vec3(-h, h, 0.0));
  const double tet = (tp - 2.0 * e0 + tm) / (h * h * v);
  const StiffnessPart& q = c.coulomb;
  const double tet_block = q.c(0, 0) + q.c(1, 1) - 2.0 * q.c(0, 1) + q.stress[0] + q.stress[1];
  if (world_rank() == 0)
    std::printf("KA glass Coulomb part: K %.8f (uniform path %.8f); tetragonal E''/V %.8f (block %.8f)\n", q.bulk,
                k_uniform, tet, tet_block);
  const double scale = q.c.cwiseAbs().maxCoeff();
  EXPECT_NEAR(q.bulk, k_uniform, 5e-4 * scale);  // measured 2e-6 · scale
  EXPECT_NEAR(tet, tet_block, 5e-4 * scale);     // measured 4e-5 · scale

  // Any rank count gives the serial result.
  CoulombStiffness serial;
  const GlobalBeads gb = gather_by_id(g.beads, MPI_COMM_WORLD);
  if (world_rank() == 0) {
    Beads b;
    for (std::size_t k = 0; k < gb.size(); ++k)
      b.push_owned(gb.pos[k], gb.species[k], 0.0, static_cast<std::int64_t>(k + 1));
    serial = coulomb_stiffness(MPI_COMM_SELF, g.box, b, g.charge, kob_andersen(), 0.3, {0, 0, 0}, p);
  }
  double values[4] = {serial.coulomb.bulk, serial.coulomb.shear, serial.pair.bulk, serial.pair.shear};
  MPI_Bcast(values, 4, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  EXPECT_NEAR(c.coulomb.bulk, values[0], 1e-9 * std::abs(values[0]));
  EXPECT_NEAR(c.coulomb.shear, values[1], 1e-9 * std::abs(values[1]));
  EXPECT_NEAR(c.pair.bulk, values[2], 1e-9 * std::abs(values[2]));
  EXPECT_NEAR(c.pair.shear, values[3], 1e-9 * std::abs(values[3]));
}

// Active charges (the sample a minimum of U + E_c, every strained state relaxed with the charges
// acting).
namespace {

constexpr double kDimerSkin = 0.3;

CoulombParams engine_split(const Box& box, double accuracy) {
  return coulomb_params(box, accuracy, 0.0, 1.0, 0.5 * box.len.minCoeff() - kDimerSkin, 16, CoulombSolver::fft);
}

// 125 polar dimers (charges ±zeta) from a lattice with random axes, minimised with the charges
// acting: an orientationally disordered minimum of U + E_c (not a quenched glass).
struct DimerGlass {
  Box box;
  Beads beads;
  std::vector<double> charge;  // by id
};
DimerGlass dimer_glass(double zeta) {
  DimerGlass g;
  g.box = dimer_box(5, 1.4);
  const CoulombParams split = engine_split(g.box, 1e-7);
  g.beads.enable_partner();
  if (world_rank() == 0) {  // on one rank: the same minimum at every rank count
    // Most of the way (thousands of L-BFGS steps) with a cheap split, the last digits with the tight one.
    Beads start;
    {  // one FFT solver at a time
      auto coarse = sample_system(MPI_COMM_SELF, g.box, model_by_name("polar-dimers"), kDimerSkin, {0, 0, 0},
                                  lattice_dimers(5, 1.4, g.box, zeta, 11, true), engine_split(g.box, 1e-4));
      LbfgsParams p;
      p.f_tol = 1e-3;
      minimize_lbfgs(*coarse, p);
      start = coarse->beads();
      start.clear_ghosts();
    }
    auto sys = sample_system(MPI_COMM_SELF, g.box, model_by_name("polar-dimers"), kDimerSkin, {0, 0, 0}, start, split);
    LbfgsParams p;
    p.f_tol = 1e-10;
    EXPECT_TRUE(minimize_lbfgs(*sys, p).converged);
    g.beads = sys->beads();
    g.beads.clear_ghosts();
  }
  for (int m = 0; m < 125; ++m) g.charge.insert(g.charge.end(), {zeta, -zeta});
  return g;
}

}  // namespace

// A Kob–Andersen glass with charges ±ζ acting: as ζ → 0 the active share tends to the passive
// (first-order) one, which scales exactly as ζ²; the stress check holds on both paths.
TEST(CoulombStiffness, ActiveSharesTendToFirstOrderAsZetaVanishes) {
  const Glass g0 = ka_glass(6);
  const double zetas[2] = {0.1, 0.05};
  double ratio[2];
  for (int z = 0; z < 2; ++z) {
    Beads beads = g0.beads;
    std::vector<double> charge = g0.charge;
    for (double& q : charge) q *= zetas[z];
    for (int i = 0; i < beads.n_owned; ++i) beads.charge[i] = charge[beads.id[i] - 1];
    CoulombStiffnessParams p;
    p.strain = 1e-5;
    p.f_tol = 1e-11;
    const CoulombStiffness passive =
        coulomb_stiffness(MPI_COMM_WORLD, g0.box, beads, charge, kob_andersen(), kDimerSkin, {0, 0, 0}, p);
    p.active = engine_split(g0.box, 1e-7);
    const CoulombStiffness active =
        coulomb_stiffness(MPI_COMM_WORLD, g0.box, beads, charge, kob_andersen(), kDimerSkin, {0, 0, 0}, p);
    ratio[z] = active.share_sound / passive.share_sound;
    if (world_rank() == 0)
      std::printf(
          "KA zeta %.2f: shares active K %.6g G %.6g sound %.6g, passive K %.6g G %.6g sound %.6g (ratio %.5f); "
          "stress checks %.2e %.2e\n",
          zetas[z], active.share_bulk, active.share_shear, active.share_sound, passive.share_bulk, passive.share_shear,
          passive.share_sound, ratio[z], active.stress_check, passive.stress_check);
    EXPECT_LT(active.stress_check, 1e-5);  // measured below 1e-9
    EXPECT_LT(passive.stress_check, 1e-5);
  }
  // The correction is O(ζ²) relative: measured 3.8e-2 at ζ = 0.1 and 0.93e-2 at 0.05 (a factor 4.1 for
  // the expected 4). The Coulomb energy is not stationary on the path, so the relaxations' tolerance
  // enters linearly: at f_tol = 1e-10 the factor was 3.0 (1.35e-2 at 0.05), hence 1e-11. A split at
  // accuracy 1e-5 instead of 1e-7 biases the active path by about 1.5 %
  // (ratios 0.983 and 0.986, not converging): the measurement needs the tight split.
  const double dev[2] = {std::abs(ratio[0] - 1.0), std::abs(ratio[1] - 1.0)};
  if (world_rank() == 0) std::printf("deviation ratio %.3f (zeta^2 scaling: 4)\n", dev[0] / dev[1]);
  EXPECT_LT(dev[1], 0.02);
  EXPECT_GT(dev[0] / dev[1], 2.5);
  EXPECT_LT(dev[0] / dev[1], 6.0);
}

// The Hessian route with the charges acting (md/material.hpp with the split's elastic part,
// couplings/coulomb_hessian.hpp) against the finite-strain path: a 216-bead Kob–Andersen glass with
// ±1 charges, relaxed with them acting; the relaxed orthorhombic block of the Lagrangian C from the
// Born terms, Ξ and the Hessian solves equals C^pair + C^c of the thirteen relaxations and plain
// Ewald sums, and the Hessian route's stress equals the virial's.
TEST(CoulombStiffness, ActiveHessianRouteMatchesFiniteStrain) {
  Glass g = ka_glass(6);
  for (int i = 0; i < g.beads.n_owned; ++i) g.beads.charge[i] = g.charge[g.beads.id[i] - 1];
  const CoulombParams split = engine_split(g.box, 1e-7);
  ElasticTensor hessian;
  Mat3 virial_stress;
  {
    auto sys = sample_system(MPI_COMM_WORLD, g.box, kob_andersen(), kDimerSkin, {0, 0, 0}, g.beads, split);
    LbfgsParams lp;
    lp.f_tol = 1e-10;
    ASSERT_TRUE(minimize_lbfgs(*sys, lp).converged);
    std::static_pointer_cast<ActiveCoulomb>(sys->force_terms()[0])->set_virial_tensor(true);
    sys->compute_forces();
    virial_stress = -sys->thermo().virial / g.box.volume();
    hessian = hessian_elastic_constants(*sys);
    g.beads = sys->beads();
    g.beads.truncate_owned(g.beads.n_owned);
  }  // one FFT solver at a time: coulomb_stiffness makes its own
  CoulombStiffnessParams p;
  p.strain = 1e-5;
  p.f_tol = 1e-10;
  p.active = split;
  const CoulombStiffness c =
      coulomb_stiffness(MPI_COMM_WORLD, g.box, g.beads, g.charge, kob_andersen(), kDimerSkin, {0, 0, 0}, p);
  const Mat3 strain_block = c.pair.c + c.coulomb.c, hessian_block = hessian.relaxed.topLeftCorner<3, 3>();
  const double scale = strain_block.cwiseAbs().maxCoeff();
  const double diff = (hessian_block - strain_block).cwiseAbs().maxCoeff() / scale;
  const double coulomb = c.coulomb.c.cwiseAbs().maxCoeff() / scale;
  const double stress = (hessian.stress - virial_stress).cwiseAbs().maxCoeff() / virial_stress.cwiseAbs().maxCoeff();
  if (world_rank() == 0)
    std::printf(
        "active Hessian route: max |C_H − C_fs| / max |C| = %.2e (Coulomb part %.3f of max |C|, K share %.4f); "
        "stress vs virial %.2e; C11 %.6f vs %.6f, C12 %.6f vs %.6f\n",
        diff, coulomb, c.share_bulk, stress, hessian_block(0, 0), strain_block(0, 0), hessian_block(0, 1),
        strain_block(0, 1));
  if (world_rank() == 0) std::printf("%s\n", relaxation_summary(c).c_str());
  EXPECT_LT(c.stress_check, 1e-5) << "a plastic event within the strain";
  EXPECT_LT(diff, 1e-6);
  EXPECT_GT(coulomb, 100 * 1e-6) << "the charges' part is too small to test";
  EXPECT_LT(stress, 1e-6);
}

// Polar dimers: E_c is the engine's Coulomb energy (the bonded pairs' q_i q_j/r left out).
TEST(CoulombStiffness, ActiveDimerGlassCoulombEnergyIsTheEngines) {
  const DimerGlass g = dimer_glass(0.1);
  CoulombStiffnessParams p;
  p.strain = 1e-5;
  p.f_tol = 1e-10;
  p.active = engine_split(g.box, 1e-5);
  const CoulombStiffness c = coulomb_stiffness(MPI_COMM_WORLD, g.box, g.beads, g.charge, model_by_name("polar-dimers"),
                                               kDimerSkin, {0, 0, 0}, p);
  auto with =
      sample_system(MPI_COMM_WORLD, g.box, model_by_name("polar-dimers"), kDimerSkin, {0, 0, 0}, g.beads, p.active);
  auto without =
      sample_system(MPI_COMM_WORLD, g.box, model_by_name("polar-dimers"), kDimerSkin, {0, 0, 0}, g.beads, std::nullopt);
  with->compute_forces(), without->compute_forces();
  const double engine_coulomb = with->potential_energy() - without->potential_energy();
  // The split's error is relative to the whole Ewald sum, bonded pairs included (as test_bonds): here
  // the bonded pairs' q²/r (−1.565) is 100 to 4000 times E_c (−0.0166 and −0.00038 on two minima), and a broken
  // exclusion misses by it.
  const GlobalBeads gb = gather_by_id(g.beads, MPI_COMM_WORLD);
  double bonded = 0.0;
  for (std::size_t m = 0; m + 1 < gb.size(); m += 2)
    bonded += g.charge[m] * g.charge[m + 1] / g.box.minimum_image(gb.pos[m] - gb.pos[m + 1]).norm();
  if (world_rank() == 0)
    std::printf(
        "dimers: E_c %.10f (engine %.10f, bonded pairs %.6f), shares K %.6g G %.6g sound %.6g, stress check %.2e\n",
        c.energy_coulomb, engine_coulomb, bonded, c.share_bulk, c.share_shear, c.share_sound, c.stress_check);
  EXPECT_NEAR(c.energy_coulomb, engine_coulomb, 1e-5 * std::abs(engine_coulomb + bonded));
  expect_affine_coulomb_closed_forms(c, g.box.volume(), bonded, "dimers (active)");
  EXPECT_LT(c.stress_check, 1e-5);
}
