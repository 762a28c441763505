// Grid Poisson solver: a Fourier mode against the exact (and the exact discrete) solution with
// second-order convergence; the energy of two Gaussian charges against the Ewald-type reference;
// ∫_sphere E dV against the closed forms of docs/electrostatics.md §4 (uniform ε, and a dielectric sphere);
// forces = −∇E; every result equal to an MPI_COMM_SELF run on rank 0 to 1e-8.
#include "tlsmap/core/error.hpp"
#include "tlsmap/electrostatics/dielectric.hpp"
#include "tlsmap/electrostatics/ewald.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <numbers>
#include <utility>

using namespace tlsmap;

namespace {

constexpr double pi = std::numbers::pi;

int world_rank() {
  int r;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

Box cube(double l, Vec3 lo = Vec3(-0.4, 0.3, 1.1)) {
  Box b;
  b.lo = lo;
  b.len = Vec3::Constant(l);
  return b;
}

struct Outcome {
  double energy = 0.0;
  Vec3 integral = Vec3::Zero();
  std::vector<double> samples;
  int iterations = 0;
  Int3 n{0, 0, 0};
  double node_error = 0.0;  // max |φ − exact| over nodes, when an exact function is given
};

struct Case {
  Box box;
  PoissonGridOptions opt;
  Dielectric eps;
  std::vector<Vec3> pos;  // charges (global list; each rank spreads its own)
  std::vector<double> q;
  std::function<double(const Vec3&)> density;  // instead of charges, when set
  std::function<double(const Vec3&)> exact;    // φ at nodes, when set
  Vec3 sphere_centre = Vec3::Zero();
  double sphere_radius = 0.0;
  std::vector<Vec3> samples;
};

Outcome run(const Case& c, MPI_Comm comm) {
  Decomposition dec(comm, c.box);
  PoissonGrid g(dec, c.opt, c.eps);
  if (c.density) {
    g.set_density(c.density);
  } else {
    std::vector<Vec3> mine;
    std::vector<double> qm;
    for (std::size_t i = 0; i < c.pos.size(); ++i) {
      Vec3 p = c.pos[i];
      c.box.wrap(p);
      if (dec.owns(p)) mine.push_back(p), qm.push_back(c.q[i]);
    }
    g.spread(mine, qm);
  }
  g.solve();
  Outcome o;
  o.energy = g.energy();
  if (c.sphere_radius > 0) o.integral = g.sphere_field_integral(c.sphere_centre, c.sphere_radius);
  o.samples = g.sample_potential(c.samples);
  o.iterations = g.iterations();
  o.n = g.n_nodes();
  if (c.exact) {
    g.for_each_owned_node([&](const Int3&, const Vec3& x, double phi) {
      o.node_error = std::max(o.node_error, std::abs(phi - c.exact(x)));
    });
    MPI_Allreduce(MPI_IN_PLACE, &o.node_error, 1, MPI_DOUBLE, MPI_MAX, comm);
  }
  return o;
}

double rel(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

// The same case on MPI_COMM_SELF on rank 0 must agree with the world run to 1e-8 (relative to
// the largest magnitude of each quantity).
void expect_rank_independent(const Case& c, const Outcome& world) {
  if (world_rank() != 0) return;
  const Outcome self = run(c, MPI_COMM_SELF);
  EXPECT_EQ(self.n, world.n);
  EXPECT_LT(rel(world.energy, self.energy), 1e-8);
  const double scale_i = std::max(self.integral.norm(), 1e-300);
  EXPECT_LT((world.integral - self.integral).norm() / scale_i, 1e-8) << "sphere integral";
  double smax = 0.0;
  for (double v : self.samples) smax = std::max(smax, std::abs(v));
  for (std::size_t t = 0; t < self.samples.size(); ++t)
    EXPECT_LT(std::abs(world.samples[t] - self.samples[t]), 1e-8 * smax) << "sample " << t;
}

std::vector<Vec3> sample_points(const Box& box) {
  std::vector<Vec3> s;
  for (int t = 0; t < 7; ++t)
    s.push_back(box.lo + Vec3(0.13 + 0.71 * t, 0.37 + 1.19 * t, 0.91 + 0.43 * t).cwiseProduct(box.len / 5.0));
  return s;
}

void print0(const char* fmt, auto... args) {
  if (world_rank() == 0) std::printf(fmt, args...);
}

}  // namespace

TEST(PoissonGrid, FourierModeSecondOrder) {
  // ρ = cos(2πx/L): φ = 4π ρ/(k² ε). The discrete operator has k_h² = (2 sin(kh/2)/h)², so the
  // solution must match 4π ρ/(k_h² ε) to the solver tolerance and the exact one to O(h²).
  const double L = 4.0, eps = 2.5, k = 2 * pi / L;
  double err[2], h[2];
  for (int g = 0; g < 2; ++g) {
    Case c;
    c.box = cube(L);
    c.opt.spacing = 0.25 / (1 << g);
    c.opt.sigma = c.opt.spacing;
    c.opt.rtol = 1e-12;
    c.eps = Dielectric(eps);
    c.density = [&](const Vec3& x) { return std::cos(k * (x[0] - c.box.lo[0])); };
    c.exact = [&](const Vec3& x) { return 4 * pi * std::cos(k * (x[0] - c.box.lo[0])) / (k * k * eps); };
    c.samples = sample_points(c.box);
    const Outcome o = run(c, MPI_COMM_WORLD);
    h[g] = L / o.n[0];
    err[g] = o.node_error;
    const double kh2 = std::pow(2 * std::sin(k * h[g] / 2) / h[g], 2);
    // Exact discrete solution: the error against the continuum one is 4π/ε (1/k_h² − 1/k²).
    EXPECT_NEAR(err[g], 4 * pi / eps * std::abs(1 / kh2 - 1 / (k * k)), 1e-8);
    print0("Fourier mode: n = %d, h = %.4f, max |phi - exact| = %.3e (rel %.2e), %d iterations\n", o.n[0], h[g], err[g],
           err[g] / (4 * pi / (k * k * eps)), o.iterations);
    expect_rank_independent(c, o);
  }
  const double order = std::log(err[0] / err[1]) / std::log(h[0] / h[1]);
  print0("Fourier mode: observed order %.3f\n", order);
  EXPECT_NEAR(order, 2.0, 0.05);
}

TEST(PoissonGrid, GaussianPairEnergyMatchesReference) {
  // ±q Gaussians of width σ at distance d: grid energy ½ΣQφ against the k-space sum of the same
  // Gaussian charges (self energies, pair term and periodic images all included).
  const double L = 8.0, sigma = 0.5, d = 2.0, eps = 1.5;
  Case c;
  c.box = cube(L);
  c.eps = Dielectric(eps);
  c.opt.sigma = sigma;
  c.opt.rtol = 1e-12;
  const Vec3 centre = c.box.lo + Vec3(3.1, 4.2, 3.7);
  const Vec3 u = Vec3(2, 1, 2) / 3.0;
  c.pos = {centre - 0.5 * d * u, centre + 0.5 * d * u};
  c.q = {1.0, -1.0};
  c.samples = sample_points(c.box);
  const double ref = gaussian_energy(c.pos, c.q, c.box, sigma, 1e-14, eps);
  const double coulomb = -1.0 / (eps * d);
  print0("Gaussian pair: reference E = %.8f (self %.6f, erf pair %.6f, bare -q^2/(eps d) = %.6f)\n", ref,
         1 / (std::sqrt(pi) * sigma * eps), -std::erf(d / (2 * sigma)) / (eps * d), coulomb);
  double prev = 0.0, prev_e = 0.0;
  for (double h : {0.5, 0.25}) {
    c.opt.spacing = h;
    const Outcome o = run(c, MPI_COMM_WORLD);
    const double e = rel(o.energy, ref);
    print0("Gaussian pair: h = %.4f (sigma/h = %.1f): E = %.8f, rel error %.3e, %d its\n", h, sigma / h, o.energy, e,
           o.iterations);
    if (prev > 0) {
      const double extrap = (4 * o.energy - prev_e) / 3;  // second-order Richardson
      print0("Gaussian pair: error ratio %.2f (4 = second order); extrapolated %.8f, rel error %.2e\n", prev / e,
             extrap, rel(extrap, ref));
      EXPECT_LT(e, 0.015);  // dominated by the self energies' O((h/σ)²) discretisation error
      EXPECT_GT(prev / e, 3.5);
      EXPECT_LT(rel(extrap, ref), 2e-3);
    }
    prev = e, prev_e = o.energy;
    expect_rank_independent(c, o);
  }
}

namespace {

// ±q at c ± δu/2, Gaussian width σ, in a cube of side L; sphere of radius R around c.
Case dipole_case(double L, double h, double eps_ext, double eps_in, double R) {
  Case c;
  c.box = cube(L);
  c.opt.spacing = h;
  c.opt.sigma = 0.35;
  c.opt.rtol = 1e-12;
  c.eps = Dielectric(eps_ext);
  c.sphere_centre = c.box.lo + Vec3(0.52, 0.47, 0.5) * L;
  c.sphere_radius = R;
  if (eps_in != eps_ext) c.eps.add_sphere(c.sphere_centre, R, eps_in);
  const Vec3 u = Vec3(1, 2, 2) / 3.0;
  const double delta = 0.6;
  c.pos = {c.sphere_centre + 0.5 * delta * u, c.sphere_centre - 0.5 * delta * u};
  c.q = {1.0, -1.0};
  c.samples = sample_points(c.box);
  return c;
}

Vec3 dipole(const Case& c) { return c.q[0] * (c.pos[0] - c.pos[1]); }

// ∫_sphere E dV for a dipole p at the centre of a sphere (ε_in) in a periodic cubic lattice in
// ε_ext with conducting boundary, to dipole (Clausius–Mossotti) order; f = V_sph/V_box:
//   −4π p/(2ε_ext + ε_in) · [1 − 3 ε_ext f / ((2ε_ext + ε_in) − (ε_in − ε_ext) f)]
// which for ε_in = ε_ext = ε is −(4π/3)(p/ε)(1 − f). Derivation in docs/electrostatics.md.
Vec3 closed_form(const Case& c, double eps_ext, double eps_in) {
  const double f = 4 * pi / 3 * std::pow(c.sphere_radius, 3) / c.box.volume();
  const double s = 2 * eps_ext + eps_in;
  return -4 * pi / s * (1 - 3 * eps_ext * f / (s - (eps_in - eps_ext) * f)) * dipole(c);
}

}  // namespace

TEST(PoissonGrid, UniformSphereIntegral) {
  const double L = 8.0, R = 2.5, eps = 2.0;
  double prev = 0.0;
  for (double h : {0.5, 0.25}) {
    const Case c = dipole_case(L, h, eps, eps, R);
    const Outcome o = run(c, MPI_COMM_WORLD);
    const Vec3 ref = closed_form(c, eps, eps);
    const double e = (o.integral - ref).norm() / ref.norm();
    print0(
        "uniform sphere: n = %d, h = %.3f: integral (%.6f %.6f %.6f), closed form (%.6f %.6f %.6f), rel err %.3e, "
        "%d its\n",
        o.n[0], L / o.n[0], o.integral[0], o.integral[1], o.integral[2], ref[0], ref[1], ref[2], e, o.iterations);
    if (prev > 0) print0("uniform sphere: error ratio %.2f\n", prev / e);
    if (h < 0.3) {
      EXPECT_LT(e, 0.01);
    }
    prev = e;
    expect_rank_independent(c, o);
  }
}

TEST(PoissonGrid, DielectricSphereIntegral) {
  // Sharp sphere, cell-averaged ε, ratios ε_in/ε_ext from 0.25 to 4. The jump of ε (and of E_n)
  // on the sphere makes the integral converge to first order in h (measured: the error halves with
  // h), so the assertion is on the first-order Richardson extrapolation 2 I(h) − I(2h), within the
  // per-ratio bound below (measured 1.62e-2, 8.7e-3, 1.2e-3, 3.7e-3, 3.85e-3 for ε_in/ε_ext = 0.25,
  // 0.5, 1, 2, 4 at 1, 2 and 4 ranks), plus a loose bound on the raw h = 0.25 value (measured 13.9 %
  // at 0.25). TLSMAP_POISSON_CONVERGENCE=1 adds h = 0.125 (slow; for the table in
  // docs/electrostatics.md).
  const double L = 8.0, R = 2.5, eps_ext = 2.0;
  std::vector<double> hs{0.5, 0.25};
  if (std::getenv("TLSMAP_POISSON_CONVERGENCE")) hs.push_back(0.125);
  const std::pair<double, double> ratios[] = {{0.25, 0.025}, {0.5, 0.015}, {1.0, 0.005}, {2.0, 0.008}, {4.0, 0.008}};
  for (const auto& [ratio, extrap_tol] : ratios) {
    double prev = 0.0;
    for (double h : hs) {
      const double eps_in = ratio * eps_ext;
      const Case c = dipole_case(L, h, eps_ext, eps_in, R);
      const Outcome o = run(c, MPI_COMM_WORLD);
      const Vec3 ref = closed_form(c, eps_ext, eps_in);
      const double along = o.integral.dot(dipole(c).normalized()), closed = -ref.norm();
      const double e = (o.integral - ref).norm() / ref.norm();
      const double extrap = prev != 0.0 ? 2 * along - prev : 0.0;
      print0(
          "dielectric sphere eps_in/eps_ext = %.2f, h = %.3f: integral.p^ %.6f, closed form %.6f, rel err %.3e, "
          "extrapolated %.6f (rel err %.2e), %d its\n",
          ratio, h, along, closed, e, extrap, prev != 0.0 ? rel(extrap, closed) : 0.0, o.iterations);
      if (h == 0.25) {
        EXPECT_LT(e, 0.15);
        EXPECT_LT(rel(extrap, closed), extrap_tol) << "eps_in/eps_ext = " << ratio;
      }
      if (ratio == 4.0 && h == 0.25) expect_rank_independent(c, o);
      prev = along;
    }
  }
}

TEST(PoissonGrid, ForceIsMinusEnergyGradient) {
  // field_at is the exact gradient of the discrete energy: compare q E with a central difference.
  Case c = dipole_case(8.0, 0.5, 1.0, 1.0, 2.0);
  Decomposition dec(MPI_COMM_WORLD, c.box);
  PoissonGrid g(dec, c.opt, c.eps);
  auto energy_and_field = [&](const std::vector<Vec3>& pos, Vec3* field0) {
    std::vector<Vec3> mine;
    std::vector<double> qm;
    for (std::size_t i = 0; i < pos.size(); ++i) {
      if (dec.owns(pos[i])) mine.push_back(pos[i]), qm.push_back(c.q[i]);
    }
    g.spread(mine, qm);
    g.solve();
    if (field0) {
      const bool own0 = dec.owns(pos[0]);
      Vec3 f = own0 ? g.field_at(std::span<const Vec3>(&pos[0], 1))[0] : Vec3::Zero();
      MPI_Allreduce(MPI_IN_PLACE, f.data(), 3, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      *field0 = f;
    }
    return g.energy();
  };
  Vec3 e0;
  energy_and_field(c.pos, &e0);
  const double dx = 1e-4;
  for (int d = 0; d < 3; ++d) {
    auto p = c.pos, m = c.pos;
    p[0][d] += dx, m[0][d] -= dx;
    const double fd = -(energy_and_field(p, nullptr) - energy_and_field(m, nullptr)) / (2 * dx);
    print0("force component %d: q E = %.9f, -dE/dx = %.9f\n", d, c.q[0] * e0[d], fd);
    EXPECT_NEAR(c.q[0] * e0[d], fd, 1e-6 * e0.norm());
  }
}

TEST(PoissonGrid, RejectsTooManyRanksForKernel) {
  // A kernel support wider than a rank's share of the grid is a collective input error.
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1) GTEST_SKIP() << "needs more than one rank";
  Decomposition dec(MPI_COMM_WORLD, cube(4.0));
  PoissonGridOptions opt;
  opt.spacing = 0.5;
  opt.sigma = 1.0;  // support 10 nodes > 4 per rank
  EXPECT_THROW(PoissonGrid(dec, opt), Error);
}
