// Ewald reference: NaCl Madelung constant, α independence, forces = −∇E by finite differences,
// potential consistent with the energy, a small dipole and two Gaussian charges in a big box
// against closed forms. Serial code: run on rank 0 only (other ranks pass trivially).
#include "tlsmap/electrostatics/ewald.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <numbers>
#include <random>

using namespace tlsmap;

namespace {

bool not_root() {
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r != 0;
}

Box make_box(double x, double y, double z) {
  Box b;
  b.lo = Vec3(-0.3, 0.1, 0.7);  // a non-zero origin: nothing may depend on it
  b.len = Vec3(x, y, z);
  return b;
}

// n random charges in the box, made exactly neutral by moving the mean onto the last one.
void random_neutral(int n, const Box& box, unsigned seed, std::vector<Vec3>& pos, std::vector<double>& q) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  pos.resize(n), q.resize(n);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    pos[i] = box.lo + Vec3(u(g) * box.len[0], u(g) * box.len[1], u(g) * box.len[2]);
    q[i] = 2.0 * u(g) - 1.0;
    if (i < n - 1) sum += q[i];
  }
  q[n - 1] = -sum;
}

}  // namespace

TEST(Ewald, NaClMadelung) {
  if (not_root()) return;
  // Rock salt: 8 ions on the corners of a unit cube, cell side 2, nearest distance r0 = 1.
  Box box = make_box(2, 2, 2);
  std::vector<Vec3> pos;
  std::vector<double> q;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) {
        pos.push_back(box.lo + Vec3(i, j, k));
        q.push_back((i + j + k) % 2 ? -1.0 : 1.0);
      }
  for (double eps : {1.0, 2.5}) {
    const auto r = ewald(pos, q, box, ewald_params(box, 1e-14, 0.0, eps));
    const double madelung = -r.energy * eps / 4.0;  // E = −(N/2) M q²/(ε r0)
    std::printf("NaCl (eps %.1f): M = %.12f (real %.6f, recip %.6f, self %.6f)\n", eps, madelung, r.real, r.reciprocal,
                r.self);
    EXPECT_NEAR(madelung, 1.747565, 1e-6);
    EXPECT_NEAR(madelung, 1.7475645946332, 1e-10);
    for (const auto& f : r.force) EXPECT_LT(f.norm(), 1e-10);  // every ion sits at a centre of symmetry
  }
}

TEST(Ewald, AlphaIndependence) {
  if (not_root()) return;
  Box box = make_box(3.0, 3.7, 4.4);
  std::vector<Vec3> pos;
  std::vector<double> q;
  random_neutral(24, box, 11, pos, q);
  const auto p1 = ewald_params(box, 1e-15);
  const auto p2 = ewald_params(box, 1e-15, 1.7 * p1.alpha);
  const auto r1 = ewald(pos, q, box, p1), r2 = ewald(pos, q, box, p2);
  std::printf("alpha %.4f: E = %.15f; alpha %.4f: E = %.15f; rel diff %.2e\n", p1.alpha, r1.energy, p2.alpha, r2.energy,
              std::abs(r1.energy - r2.energy) / std::abs(r1.energy));
  EXPECT_NEAR(r1.energy, r2.energy, 1e-10 * std::abs(r1.energy));
  double fmax = 0.0, dmax = 0.0;
  for (std::size_t i = 0; i < pos.size(); ++i) {
    fmax = std::max(fmax, r1.force[i].norm());
    dmax = std::max(dmax, (r1.force[i] - r2.force[i]).norm());
  }
  EXPECT_LT(dmax, 1e-9 * fmax);
}

TEST(Ewald, ForcesAreMinusGradient) {
  if (not_root()) return;
  Box box = make_box(3.0, 3.5, 4.0);
  std::vector<Vec3> pos;
  std::vector<double> q;
  random_neutral(12, box, 5, pos, q);
  const auto p = ewald_params(box, 1e-15, 0.0, 1.7);
  const auto r = ewald(pos, q, box, p);
  const double h = 1e-5;
  double fmax = 0.0, err = 0.0;
  for (std::size_t i = 0; i < pos.size(); ++i)
    for (int d = 0; d < 3; ++d) {
      auto xp = pos, xm = pos;
      xp[i][d] += h, xm[i][d] -= h;
      const double fd = -(ewald(xp, q, box, p).energy - ewald(xm, q, box, p).energy) / (2 * h);
      err = std::max(err, std::abs(fd - r.force[i][d]));
      fmax = std::max(fmax, std::abs(r.force[i][d]));
    }
  std::printf("max |F - F_fd| = %.2e, max |F| = %.3f\n", err, fmax);
  EXPECT_LT(err, 1e-6 * fmax);
}

TEST(Ewald, PotentialMatchesEnergy) {
  if (not_root()) return;
  // ewald_potential skips a charge's own n = 0 term, so E = ½ Σ q_i φ(r_i) − α/(ε√π) Σ q_i²
  // (the screening Gaussian's potential at its own centre).
  Box box = make_box(3.2, 3.2, 3.9);
  std::vector<Vec3> pos;
  std::vector<double> q;
  random_neutral(10, box, 3, pos, q);
  const auto p = ewald_params(box, 1e-15, 0.0, 2.0);
  const auto r = ewald(pos, q, box, p);
  const auto phi = ewald_potential(pos, pos, q, box, p);
  double e = 0.0;
  for (std::size_t i = 0; i < pos.size(); ++i)
    e += 0.5 * q[i] * phi[i] - p.alpha / std::sqrt(std::numbers::pi) * q[i] * q[i] / p.epsilon;
  EXPECT_NEAR(e, r.energy, 1e-11 * std::abs(r.energy));
}

TEST(Ewald, SmallDipoleInBigBox) {
  if (not_root()) return;
  // ±q at distance d in a cube of side L, tin-foil: E = −q²/d − 2π p²/(3 L³) + O(q² d⁴/L⁵)
  // (the cubic lattice's dipole sum vanishes; the conducting boundary removes the 2πp²/3V surface
  // term of the vacuum sum). The uniform field 4πp/(3V) of that term also weakens the pair force.
  // Tolerance 5e-6 at L = 20: the next lattice term is ~1e-6 there and falls as L⁻⁵.
  const double d = 1.0, qq = 1.3, pi = std::numbers::pi;
  double prev = 0.0;
  for (double L : {20.0, 40.0}) {
    Box box = make_box(L, L, L);
    const Vec3 c = box.lo + Vec3(7.1, 9.3, 11.7);
    const Vec3 u = Vec3(1, 2, 2).normalized();
    std::vector<Vec3> pos{c - 0.5 * d * u, c + 0.5 * d * u};
    std::vector<double> q{qq, -qq};
    const auto r = ewald(pos, q, box, ewald_params(box, 1e-15));
    const double closed = -qq * qq / d - 2 * pi * qq * qq * d * d / (3 * L * L * L);
    std::printf("dipole, L = %.0f: Ewald %.10f closed form %.10f diff %.2e (image term %.3e)\n", L, r.energy, closed,
                r.energy - closed, 2 * pi * qq * qq * d * d / (3 * L * L * L));
    EXPECT_NEAR(r.energy, closed, 5e-6);
    EXPECT_NEAR(r.force[0].dot(u), qq * qq / (d * d) - 4 * pi * qq * qq * d / (3 * L * L * L), 5e-6);
    if (prev != 0.0) {
      EXPECT_LT(std::abs(r.energy - closed), std::abs(prev) / 16);  // ~L⁻⁵
    }
    prev = r.energy - closed;
  }
}

TEST(Ewald, GaussianPairInBigBox) {
  if (not_root()) return;
  // Two Gaussians ±q (width σ): self energies q²/(2√π σ) each, interaction −q² erf(d/2σ)/d, and the
  // tin-foil image term −2π p²/(3V).
  const double L = 24.0, d = 2.0, s = 0.6, qq = 1.0, eps = 2.0;
  Box box = make_box(L, L, L);
  const Vec3 c = box.lo + Vec3(5, 6, 7);
  std::vector<Vec3> pos{c, c + Vec3(d, 0, 0)};
  std::vector<double> q{qq, -qq};
  const double pi = std::numbers::pi;
  const double closed = (qq * qq / (std::sqrt(pi) * s) - qq * qq * std::erf(d / (2 * s)) / d -
                         2 * pi * qq * qq * d * d / (3 * L * L * L)) /
                        eps;
  const double e = gaussian_energy(pos, q, box, s, 1e-15, eps);
  std::printf("Gaussian pair: %.10f closed form %.10f diff %.2e\n", e, closed, e - closed);
  EXPECT_NEAR(e, closed, 1e-5);
}
