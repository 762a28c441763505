#pragma once
// Shared test helpers: reproducible configurations and independent O(N²) references.
#include "tlsmap/core/box.hpp"
#include "tlsmap/core/random.hpp"
#include "tlsmap/electrostatics/ewald.hpp"
#include "tlsmap/io/catalogue.hpp"
#include "tlsmap/md/md.hpp"
#include "tlsmap/md/pair_potential.hpp"
#include "tlsmap/md/system.hpp"
#include "tlsmap/parallel/beads.hpp"
#include "tlsmap/parallel/gather.hpp"
#include "tlsmap/stages/pack.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace tlsmap::testing {

inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

inline int world_size() {
  int s = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

// Max |E(t) − E(0)| per bead over n_steps of NVE (dt = 0.002) from velocities at the given
// temperature, sampled every 50 steps: the energy-conservation measure of the NVE tests.
inline double nve_energy_excursion(System& sys, long n_steps, double temperature, std::uint64_t seed) {
  assign_velocities(sys, temperature, seed);
  MolecularDynamics md(sys, MDParams{.dt = 0.002, .langevin = false, .friction = 0.0, .seed = 1});
  const Thermo t0 = sys.thermo();
  const double e0 = t0.potential + t0.kinetic;
  double worst = 0.0;
  md.run(
      n_steps, [](long) { return 0.0; },
      [&](long) {
        const Thermo t = sys.thermo();
        worst = std::max(worst, std::abs(t.potential + t.kinetic - e0));
      },
      50);
  return worst / static_cast<double>(sys.n_global());
}

inline Box cube(double len) {
  Box b;
  b.len = Vec3(len, len, len);
  return b;
}

// The cubic box of n_side³ Kob–Andersen beads at density 1.2.
inline Box ka_box(int n_side) { return cube(std::cbrt(n_side * n_side * n_side / 1.2)); }

// n beads on a simple cubic lattice filling `box` (n must be a cube), each displaced by up to
// `jitter` lattice spacings; species 1 (B) for a 20% subset when n_species = 2. Returned as the
// owned beads of rank 0 of `comm_rank` (other ranks get none: migration distributes them).
inline Beads jittered_lattice(int n_side, const Box& box, double jitter, int n_species, std::uint64_t seed,
                              bool on_this_rank = true) {
  Beads b;
  if (!on_this_rank) return b;
  std::int64_t id = 1;
  for (int z = 0; z < n_side; ++z)
    for (int y = 0; y < n_side; ++y)
      for (int x = 0; x < n_side; ++x, ++id) {
        auto u = uniform4(seed, Stream::test, id, 0);
        Vec3 a(box.len[0] / n_side, box.len[1] / n_side, box.len[2] / n_side);
        Vec3 p = box.lo + Vec3((x + 0.5 + jitter * (u[0] - 0.5)) * a[0], (y + 0.5 + jitter * (u[1] - 0.5)) * a[1],
                               (z + 0.5 + jitter * (u[2] - 0.5)) * a[2]);
        int s = (n_species == 2 && u[3] < 0.2) ? 1 : 0;
        b.push_owned(p, s, 0.0, id);
      }
  return b;
}

// The finite-strain reference of a deformation potential: `box` strained by diag(1 + e) about box.lo
// (returned) and `beads` with it (images scale with the box), the TLS's mobile beads at their
// state-A or state-B positions, strained too.
inline Beads strained_state(const Box& box, const Beads& beads, const TlsSet& t, const Vec3& e, bool state_b,
                            Box& strained) {
  strained = box;
  strained.len = box.len.cwiseProduct(Vec3::Ones() + e);
  auto strain = [&](const Vec3& x) -> Vec3 { return box.lo + (x - box.lo).cwiseProduct(Vec3::Ones() + e); };
  Beads b = beads;
  for (int i = 0; i < b.n_owned; ++i) {
    b.pos[i] = strain(b.pos[i]);
    for (std::size_t k = 0; k < t.id.size(); ++k)
      if (t.id[k] == b.id[i]) b.pos[i] = strain(state_b ? t.pos_b[k] : t.pos_a[k]);
  }
  return b;
}

// A jittered_lattice of one species with the polydisperse model's diameters (assign_diameters,
// by bead id), for the soft-sphere tests.
inline Beads poly_lattice(int n_side, double jitter, std::uint64_t seed, bool on_this_rank = true) {
  Beads b = jittered_lattice(n_side, cube(n_side), jitter, 1, seed, on_this_rank);
  assign_diameters(b, static_cast<std::int64_t>(n_side) * n_side * n_side);
  return b;
}

// Point charges in a box: the samples of the Coulomb tests.
struct Charges {
  Box box;
  std::vector<Vec3> pos;
  std::vector<double> q;
};

// n_side³ charges on a jittered_lattice (no two closer than ~0.1 spacing) in the box [lo, lo + len),
// values uniform in [−1, 1] made exactly neutral by moving the sum onto the last one. Positions come
// from `seed`, values from `charge_seed` (counter-based): the same sample on every rank.
inline Charges random_charges(const Vec3& lo, const Vec3& len, int n_side, std::uint64_t seed,
                              std::uint64_t charge_seed) {
  Charges s;
  s.box.lo = lo;
  s.box.len = len;
  const Beads b = jittered_lattice(n_side, s.box, 0.9, 1, seed);
  s.pos = b.pos;
  double sum = 0.0;
  for (int i = 0; i < b.n_owned; ++i) {
    const auto u = uniform4(charge_seed, Stream::test, b.id[i], 1);
    s.q.push_back(2.0 * u[0] - 1.0);
    if (i + 1 < b.n_owned) sum += s.q.back();
  }
  s.q.back() = -sum;
  return s;
}

// Perfect fcc crystal of 4 n³ beads (single species) at density rho, in cube(fcc_edge(n, rho)); the
// owned beads of the calling rank when on_this_rank (other ranks get none: migration distributes them).
// The box of lattice_dimers' tests: n_side · spacing on a side, its corner off the origin so that
// the lattice meets the faces at no special place.
inline Box dimer_box(int n_side, double spacing) {
  Box b;
  b.lo = Vec3(0.3, -0.2, 0.0);
  b.len = Vec3::Constant(n_side * spacing);
  return b;
}

// n_side³ diatomic molecules of the polar-dimer model on a cubic lattice of `spacing` starting at
// box.lo + 0.1 (so that molecules straddle the box faces and the mid-planes where ranks split it):
// molecule m (0-based) is A bead id 2m + 1 (+charge) and B bead id 2m + 2 (−charge), random axis and
// bond length r0 ± 0.05 from (seed, m). Beads wrapped with image flags; all on one rank.
inline Beads lattice_dimers(int n_side, double spacing, const Box& box, double charge, std::uint64_t seed,
                            bool on_this_rank) {
  Beads b;
  b.enable_partner();
  if (!on_this_rank) return b;
  int m = 0;
  for (int z = 0; z < n_side; ++z)
    for (int y = 0; y < n_side; ++y)
      for (int x = 0; x < n_side; ++x, ++m) {
        const auto u = uniform4(seed, Stream::test, m + 1, 0);
        const double cz = 2.0 * u[0] - 1.0, phi = 2.0 * M_PI * u[1], sz = std::sqrt(1.0 - cz * cz);
        const Vec3 axis(sz * std::cos(phi), sz * std::sin(phi), cz);
        const double len = kPolarDimerBondLength + 0.1 * (u[2] - 0.5);
        const Vec3 c = box.lo + Vec3::Constant(0.1) + spacing * Vec3(x, y, z);
        Vec3 a = c - 0.5 * len * axis, bb = c + 0.5 * len * axis;
        const Int3 ia = box.wrap(a), ib = box.wrap(bb);
        b.push_owned(a, 0, charge, 2 * m + 1, Vec3::Zero(), ia);
        b.partner.back() = 2 * m + 2;
        b.push_owned(bb, 1, -charge, 2 * m + 2, Vec3::Zero(), ib);
        b.partner.back() = 2 * m + 1;
      }
  return b;
}

inline double fcc_edge(int n, double rho) { return n * std::cbrt(4.0 / rho); }
inline Beads fcc_lattice(int n, double rho, bool on_this_rank = true) {
  const double a = std::cbrt(4.0 / rho);
  Beads b;
  if (!on_this_rank) return b;
  const Vec3 basis[4] = {Vec3(0.25, 0.25, 0.25), Vec3(0.75, 0.75, 0.25), Vec3(0.75, 0.25, 0.75),
                         Vec3(0.25, 0.75, 0.75)};
  std::int64_t id = 1;
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x)
        for (const Vec3& e : basis) b.push_owned(a * (Vec3(x, y, z) + e), 0, 0.0, id++);
  return b;
}

struct Reference {
  double energy = 0.0;
  std::vector<Vec3> force;  // by id-1
  Mat3 virial = Mat3::Zero();
};

// One pair's energy and f/r in long double; `inside` false beyond the pair's cutoff.
struct PairTerm {
  bool inside = false;
  long double u = 0.0L, f_over_r = 0.0L;
};

// Every pair once, minimum image, long-double accumulation: independent of cells, lists and halos.
// pair(i, j, d) gives the terms of beads i, j at minimum-image separation d = x_i − x_j.
template <class PairFn>
Reference brute_force_pairs(const std::vector<Vec3>& pos, const Box& box, PairFn pair) {
  const std::size_t n = pos.size();
  std::vector<long double> f(3 * n, 0.0L);
  long double e = 0.0L, w[3][3] = {};
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const Vec3 d = box.minimum_image(pos[i] - pos[j]);
      const PairTerm t = pair(i, j, d);
      if (!t.inside) continue;
      e += t.u;
      for (int a = 0; a < 3; ++a) {
        f[3 * i + a] += t.f_over_r * d[a];
        f[3 * j + a] -= t.f_over_r * d[a];
        for (int c = 0; c < 3; ++c) w[a][c] += t.f_over_r * d[a] * d[c];
      }
    }
  Reference r;
  r.energy = static_cast<double>(e);
  r.force.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    r.force[i] =
        Vec3(static_cast<double>(f[3 * i]), static_cast<double>(f[3 * i + 1]), static_cast<double>(f[3 * i + 2]));
  for (int a = 0; a < 3; ++a)
    for (int c = 0; c < 3; ++c) r.virial(a, c) = static_cast<double>(w[a][c]);
  return r;
}

// The species-table (Lennard-Jones) reference.
inline Reference brute_force(const std::vector<Vec3>& pos, const std::vector<int>& species, const Box& box,
                             const LJTable& table) {
  return brute_force_pairs(pos, box, [&](std::size_t i, std::size_t j, const Vec3& d) {
    const double r2 = d.squaredNorm();
    const auto& p = table(species[i], species[j]);
    if (r2 >= p.rc2) return PairTerm{};
    const double s6 = std::pow(p.sigma2 / r2, 3);
    return PairTerm{true, 4.0L * p.epsilon * s6 * (s6 - 1.0) - p.shift, 24.0L * p.epsilon * s6 * (2.0 * s6 - 1.0) / r2};
  });
}

// The polydisperse soft-sphere reference, straight from the definition (docs/input.md), not through
// PolydisperseSoftSphere: v = y⁻¹² + c0 + c2 y² + c4 y⁴ for y = r/σ_ij < 1.25, σ_ij by the
// non-additive rule.
inline Reference brute_force_poly(const std::vector<Vec3>& pos, const std::vector<double>& diameter, const Box& box) {
  return brute_force_pairs(pos, box, [&](std::size_t i, std::size_t j, const Vec3& d) {
    const double si = diameter[i], sj = diameter[j];
    const long double sigma = 0.5L * (si + sj) * (1.0L - 0.2L * std::fabs(si - sj));
    const long double y = std::sqrt(static_cast<long double>(d.squaredNorm())) / sigma;
    if (y >= 1.25L) return PairTerm{};
    const long double yc = 1.25L;
    const long double c0 = -28.0L / std::pow(yc, 12), c2 = 48.0L / std::pow(yc, 14), c4 = -21.0L / std::pow(yc, 16);
    const long double dv = -12.0L * std::pow(y, -13) + 2.0L * c2 * y + 4.0L * c4 * y * y * y;
    return PairTerm{true, std::pow(y, -12) + c0 + c2 * y * y + c4 * std::pow(y, 4), -dv / (y * sigma * sigma)};
  });
}

// The polar-dimer reference at positions pos (by id − 1; species, charges and partners as in g),
// from the definitions (docs/polar.md): truncated-shifted LJ over the non-bonded pairs and harmonic
// bonds, every pair by minimum image, plus a plain Ewald sum at 1e-12 minus each bonded pair's
// q_i q_j / r. The pair part is brute_force_pairs'; the Ewald sum is ewald() (not the engine's split).
struct PolarDimerReference {
  double energy = 0.0;                     // the whole model's
  double coulomb_energy = 0.0;             // Ewald minus the bonded pairs
  double ewald_energy = 0.0;               // the whole Ewald sum, bonded pairs included (its scale)
  std::vector<Vec3> pair, coulomb, ewald;  // forces: LJ and bonds; the Coulomb part; the whole Ewald sum
};
inline PolarDimerReference polar_dimer_reference(const GlobalBeads& g, const std::vector<Vec3>& pos, const Box& box) {
  const LJTable table = polar_dimer_table();
  const auto pairs = brute_force_pairs(pos, box, [&](std::size_t i, std::size_t j, const Vec3& d) {
    const long double r = std::sqrt(static_cast<long double>(d.squaredNorm()));
    if (g.partner[i] == static_cast<std::int64_t>(j + 1)) {
      const long double k = kPolarDimerBondK, r0 = kPolarDimerBondLength;
      return PairTerm{true, 0.5L * k * (r - r0) * (r - r0), -k * (r - r0) / r};
    }
    const auto& p = table(g.species[i], g.species[j]);
    if (r >= p.rc) return PairTerm{};
    const long double s6 = std::pow(p.sigma / r, 6);
    const long double shift = 4.0L * p.epsilon * (std::pow(p.sigma / p.rc, 12) - std::pow(p.sigma / p.rc, 6));
    return PairTerm{true, 4.0L * p.epsilon * s6 * (s6 - 1.0L) - shift,
                    24.0L * p.epsilon * s6 * (2.0L * s6 - 1.0L) / (r * r)};
  });
  std::vector<Vec3> wrapped = pos;
  for (auto& x : wrapped) box.wrap(x);
  const EwaldResult ew = ewald(wrapped, g.charge, box, ewald_params(box, 1e-12));
  PolarDimerReference out{0.0, ew.energy, ew.energy, pairs.force, ew.force, ew.force};
  for (std::size_t i = 0; i < g.size(); ++i) {
    const std::size_t j = static_cast<std::size_t>(g.partner[i] - 1);
    if (j < i) continue;
    const Vec3 d = box.minimum_image(pos[i] - pos[j]);
    const double r = d.norm(), qq = g.charge[i] * g.charge[j];
    out.coulomb_energy -= qq / r;
    out.coulomb[i] -= (qq / (r * r * r)) * d;
    out.coulomb[j] += (qq / (r * r * r)) * d;
  }
  out.energy = pairs.energy + out.coulomb_energy;
  return out;
}

// RMS |f − ref| / RMS |ref|.
inline double rms_relative(const std::vector<Vec3>& f, const std::vector<Vec3>& ref) {
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < f.size(); ++i) num += (f[i] - ref[i]).squaredNorm(), den += ref[i].squaredNorm();
  return std::sqrt(num / den);
}

inline double max_abs_diff(const std::vector<Vec3>& a, const std::vector<Vec3>& b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, (a[i] - b[i]).cwiseAbs().maxCoeff());
  return m;
}

inline double max_abs(const std::vector<Vec3>& a) {
  double m = 0.0;
  for (const auto& v : a) m = std::max(m, v.cwiseAbs().maxCoeff());
  return m;
}

}  // namespace tlsmap::testing
