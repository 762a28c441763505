// The serial TLS search kernel (local_model, local_optimize, neb, tunnelling, event_search):
//  * analytic gradient and Hessian against finite differences, energy against the O(N²) brute force
//    of test_support.hpp (all pairs minus frozen–frozen pairs), pair-list rebuilds, bad input;
//  * LJ7 and LJ13 free clusters: known minima energies (Cambridge Cluster Database) and the Hessian
//    index of every stationary point found; LJ7's minima and transition states (energies and which
//    minima each joins) against an independent complete enumeration (tests/reference/), whose
//    count of 12 transition states is the literature's;
//  * a designed double well (one mobile bead in a frozen cage): minima, asymmetry and barrier against
//    an independent 1D scan of the analytic potential, the WKB splitting against an independent
//    evaluation of the same formula and against the exact 1D Schrödinger splitting (finite
//    differences).
// The kernel is serial and deterministic; the expensive searches run on rank 0 only (other ranks
// have nothing different to check), cheap checks on every rank.
#include "test_support.hpp"
#include "tlsmap/core/error.hpp"
#include "tlsmap/core/heartbeat.hpp"
#include "tlsmap/search/event_search.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>

using namespace tlsmap;
using namespace tlsmap::testing;
using Vector = LocalModel::Vector;

namespace {

// ε = σ = 1 Lennard-Jones without the energy shift (cluster energies in the literature are unshifted),
// the same for every pair of n_species species.
LJTable unshifted_lj(double rc, int n_species = 1) {
  LJTable t(n_species);
  auto p = LennardJones::Params::make(1.0, 1.0, rc);
  p.shift = 0.0;
  for (int a = 0; a < n_species; ++a)
    for (int b = a; b < n_species; ++b) t.set(a, b, p);
  return t;
}

// species: one per bead (empty: all species 0), labels of otherwise identical LJ beads.
LocalModel free_cluster(const std::vector<Vec3>& pos, const std::vector<int>& species = {}) {
  LocalConfig c;
  c.box = cube(100.0);
  c.box.lo = Vec3(-50.0, -50.0, -50.0);
  c.table = unshifted_lj(20.0, species.empty() ? 1 : 1 + *std::max_element(species.begin(), species.end()));
  for (std::size_t i = 0; i < pos.size(); ++i) {
    c.id.push_back(static_cast<std::int64_t>(i + 1));
    c.species.push_back(species.empty() ? 0 : species[i]);
    c.pos.push_back(pos[i]);
  }
  c.n_mobile = static_cast<int>(pos.size());
  return LocalModel(c);
}

std::vector<Vec3> pentagonal_bipyramid() {
  std::vector<Vec3> p;
  for (int k = 0; k < 5; ++k) p.emplace_back(0.94 * std::cos(0.4 * M_PI * k), 0.94 * std::sin(0.4 * M_PI * k), 0.0);
  p.emplace_back(0.0, 0.0, 0.58);
  p.emplace_back(0.0, 0.0, -0.58);
  return p;
}

std::vector<Vec3> icosahedron13() {
  const double phi = 0.5 * (1.0 + std::sqrt(5.0));
  const double s = 1.09 / std::sqrt(1.0 + phi * phi);
  std::vector<Vec3> p{Vec3::Zero()};
  for (int a : {-1, 1})
    for (int b : {-1, 1}) {
      p.emplace_back(0.0, a * s, b * phi * s);
      p.emplace_back(a * s, b * phi * s, 0.0);
      p.emplace_back(b * phi * s, 0.0, a * s);
    }
  return p;
}

// Distinct values (sorted) up to tol.
std::vector<double> distinct(std::vector<double> v, double tol) {
  std::sort(v.begin(), v.end());
  std::vector<double> out;
  for (double e : v)
    if (out.empty() || e - out.back() > tol) out.push_back(e);
  return out;
}

// The complete LJ7 stationary-point set from tests/reference/lj7_stationary_points.py (numpy
// eigenvector following, independent of tlsmap): minima, and saddles with the minima they join.
struct ReferenceSaddle {
  double energy;
  int lo, hi;  // indices into the reference minima (sorted by energy)
};
struct ReferenceLandscape {
  std::vector<double> minima;
  std::vector<ReferenceSaddle> saddles;
};

ReferenceLandscape read_lj7_reference() {
  const char* dir = std::getenv("TLSMAP_TEST_DATA");
  const std::string path = std::string(dir ? dir : "tests/data") + "/lj7_stationary_points.txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  ReferenceLandscape ref;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream is(line.substr(0, line.find('#')));
    std::string kind;
    if (!(is >> kind)) continue;
    if (kind == "minimum") {
      double e;
      is >> e;
      ref.minima.push_back(e);
    } else if (kind == "saddle") {
      ReferenceSaddle q{};
      is >> q.energy >> q.lo >> q.hi;
      ref.saddles.push_back(q);
    }
  }
  return ref;
}

// Index of the reference value within tol of e, or -1.
template <class T, class Energy>
int match(const std::vector<T>& v, double e, double tol, Energy energy) {
  for (std::size_t k = 0; k < v.size(); ++k)
    if (std::abs(energy(v[k]) - e) <= tol) return static_cast<int>(k);
  return -1;
}

// Every minimum and saddle the search found is in the reference set (energy to 1e-6 ε, and a
// saddle joins the same two structures); returns the distinct reference saddles found.
std::vector<int> check_against_reference(const DomainSearch& r, const ReferenceLandscape& ref) {
  const auto id = [](double e) { return e; };
  std::vector<int> found;
  for (const auto& q : r.minima)
    EXPECT_GE(match(ref.minima, q.energy, 1e-6, id), 0) << "minimum " << q.energy << " is not an LJ7 minimum";
  for (const auto& s : r.saddles) {
    const int k = match(ref.saddles, s.energy, 1e-6, [](const ReferenceSaddle& q) { return q.energy; });
    EXPECT_GE(k, 0) << "saddle " << s.energy << " is not an LJ7 transition state";
    if (k < 0) continue;
    if (s.minus >= 0 && s.plus >= 0) {
      const int a = match(ref.minima, r.minima[s.minus].energy, 1e-6, id);
      const int b = match(ref.minima, r.minima[s.plus].energy, 1e-6, id);
      EXPECT_EQ(std::min(a, b), ref.saddles[k].lo) << "saddle " << s.energy;
      EXPECT_EQ(std::max(a, b), ref.saddles[k].hi) << "saddle " << s.energy;
    }
    if (std::find(found.begin(), found.end(), k) == found.end()) found.push_back(k);
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Model: energy, gradient, Hessian.

namespace {
// A KA configuration (6³ beads, ρ = 1.2); the beads within `radius` of the box centre are mobile.
LocalConfig ka_domain(double radius, std::uint64_t seed) {
  const Box box = ka_box(6);
  Beads b = jittered_lattice(6, box, 0.2, 2, seed);
  const Vec3 centre = box.lo + 0.5 * box.len;
  LocalConfig c;
  c.box = box;
  c.table = kob_andersen();
  std::vector<int> mobile, frozen;
  for (int i = 0; i < b.n_owned; ++i)
    ((box.minimum_image(Vec3(b.pos[i] - centre)).norm() <= radius) ? mobile : frozen).push_back(i);
  for (auto* list : {&mobile, &frozen})
    for (int i : *list) {
      c.id.push_back(b.id[i]);
      c.species.push_back(b.species[i]);
      c.pos.push_back(b.pos[i]);
    }
  c.n_mobile = static_cast<int>(mobile.size());
  return c;
}
}  // namespace

TEST(LocalModel, EnergyMatchesBruteForceAndSurvivesListRebuilds) {
  const LocalConfig c = ka_domain(1.6, 5);
  const LocalModel m(c);
  ASSERT_GE(m.n_mobile(), 10);
  std::vector<Vec3> frozen(c.pos.begin() + c.n_mobile, c.pos.end());
  std::vector<int> frozen_species(c.species.begin() + c.n_mobile, c.species.end());
  const double e_ff = brute_force(frozen, frozen_species, c.box, c.table).energy;
  Vector x = m.initial_coordinates();
  for (int round = 0; round < 3; ++round) {
    std::vector<Vec3> all = c.pos;
    for (int i = 0; i < m.n_mobile(); ++i) all[i] = x.segment<3>(3 * i);
    const Reference ref = brute_force(all, c.species, c.box, c.table);
    Vector g;
    const double e = m.energy_gradient(x, g);
    EXPECT_NEAR(e, ref.energy - e_ff, 1e-11 * std::abs(ref.energy));
    for (int i = 0; i < m.n_mobile(); ++i)
      EXPECT_LE((-g.segment<3>(3 * i) - ref.force[i]).norm(), 1e-10 * (1.0 + ref.force[i].norm()));
    // Move every mobile bead by 0.6 skin along a fixed direction (wrapping through the box).
    for (int i = 0; i < m.n_mobile(); ++i) x.segment<3>(3 * i) += Vec3(0.6, -0.3, 0.2).normalized() * 0.6 * m.skin();
  }
  EXPECT_GE(m.n_list_builds(), 2);
}

TEST(LocalModel, GradientAndHessianMatchFiniteDifferences) {
  const LocalModel m(ka_domain(1.6, 11));
  const Vector x = m.initial_coordinates();
  Vector g;
  m.energy_gradient(x, g);
  const LocalModel::Matrix h = m.hessian(x);
  EXPECT_LE((h - h.transpose()).cwiseAbs().maxCoeff(), 1e-12 * h.cwiseAbs().maxCoeff());
  const double step = 1e-6;
  double gerr = 0.0, herr = 0.0;
  for (int j = 0; j < m.n_dof(); ++j) {
    Vector xp = x, xm = x, gp, gm;
    xp[j] += step;
    xm[j] -= step;
    const double ep = m.energy_gradient(xp, gp), em = m.energy_gradient(xm, gm);
    gerr = std::max(gerr, std::abs((ep - em) / (2 * step) - g[j]));
    herr = std::max(herr, ((gp - gm) / (2 * step) - h.col(j)).cwiseAbs().maxCoeff());
  }
  std::printf("FD: max |dE/dx error| = %.2e of %.2e, max |H error| = %.2e of %.2e\n", gerr, g.cwiseAbs().maxCoeff(),
              herr, h.cwiseAbs().maxCoeff());
  EXPECT_LE(gerr, 1e-6 * g.cwiseAbs().maxCoeff());
  EXPECT_LE(herr, 1e-6 * h.cwiseAbs().maxCoeff());
  // The curvature helper on its own, against a difference of f/r.
  const auto& p = m.config().table(0, 1);
  for (double r2 : {0.5, 0.8, 1.3, 3.0}) {
    const double d = 1e-6 * r2;
    const double fd =
        (LennardJones::evaluate(r2 + d, p).f_over_r - LennardJones::evaluate(r2 - d, p).f_over_r) / (2 * d);
    EXPECT_NEAR(lj_dfr_dr2(r2, p), fd, 1e-6 * std::abs(fd));
  }
}

TEST(LocalModel, RejectsBadConfigurations) {
  LocalConfig c = ka_domain(1.6, 5);
  LocalConfig small = c;
  small.box.len = Vec3(4.0, 6.0, 6.0);  // 4 < 2 × 2.5
  EXPECT_THROW(LocalModel{small}, Error);
  LocalConfig none = c;
  none.n_mobile = 0;
  EXPECT_THROW(LocalModel{none}, Error);
  LocalConfig bad_species = c;
  bad_species.species[0] = 2;
  EXPECT_THROW(LocalModel{bad_species}, Error);
  LocalConfig sizes = c;
  sizes.id.pop_back();
  EXPECT_THROW(LocalModel{sizes}, Error);
}

// The band's two optimisers (neb.hpp) on the events of a KA domain (frozen shell) and of LJ7 (a free
// cluster): between the two minima of every verified saddle, 9 images, to max|F_NEB| <= 1e-6. Both
// converge, and their climbing images reach the same first-order saddle: energies within 1e-9 ε
// (measured 4.8e-13; one of them is not the search's saddle but one 6.9e-6 ε lower, for both
// optimisers), one negative Hessian eigenvalue. The other images are not compared: a band's fixed point is not unique once a climber sits
// at a different index or the improved tangent switches (measured: 1.6e-3 ε apart at the same
// climber index, 1.25 ε with the climber one image over, both bands converged). L-BFGS needs at most
// 0.6x FIRE's energy calls over all bands (measured 0.46x; two KA bands fell back to FIRE and still
// converged). A wrong (s, y) pair or a wrong sign in the direction fails the convergence or the count.
TEST(Neb, LbfgsAndFireReachTheSameBand) {
  if (world_rank() != 0) return;
  struct Case {
    const char* name;
    LocalModel model;
  };
  const Case cases[] = {{"KA domain", LocalModel(ka_domain(1.6, 5))}, {"LJ7", free_cluster(pentagonal_bipyramid())}};
  long calls[2] = {0, 0};
  int bands = 0;
  double worst_top = 0.0;
  int fell_back = 0;
  for (const Case& c : cases) {
    SearchParams sp;
    sp.max_attempts = 6;
    sp.analyse_pair = false;
    const DomainSearch d = search_domain(c.model, sp, 3, 17);
    for (const Saddle& s : d.saddles) {
      if (!s.verified || s.minus < 0 || s.plus < 0 || s.minus == s.plus) continue;
      NebResult r[2];
      for (const NebOptimizer o : {NebOptimizer::fire, NebOptimizer::lbfgs}) {
        NebParams p;
        p.n_images = 9;
        p.f_tol = 1e-6;
        p.optimizer = o;
        r[int(o)] = nudged_elastic_band(c.model, d.minima[s.minus].x, d.minima[s.plus].x, p);
      }
      const NebResult &fire = r[int(NebOptimizer::fire)], &lbfgs = r[int(NebOptimizer::lbfgs)];
      ASSERT_TRUE(fire.converged) << c.name;
      ASSERT_TRUE(lbfgs.converged) << c.name;
      const double top = std::abs(fire.energy[fire.highest] - lbfgs.energy[lbfgs.highest]);
      EXPECT_LE(top, 1e-9) << c.name;
      EXPECT_EQ(spectrum(c.model, lbfgs.images[lbfgs.highest], false).n_negative(1e-6), 1) << c.name;
      worst_top = std::max(worst_top, top);
      fell_back += lbfgs.fell_back;
      calls[0] += fire.energy_calls, calls[1] += lbfgs.energy_calls;
      ++bands;
    }
  }
  std::printf(
      "NEB optimisers on %d bands: energy calls FIRE %ld, L-BFGS %ld (%.2fx; %d fell back to FIRE); climbers "
      "differ by %.1e ε at most\n",
      bands, calls[0], calls[1], double(calls[1]) / double(calls[0]), fell_back, worst_top);
  ASSERT_GE(bands, 3) << "too few events to compare the optimisers";
  EXPECT_LE(calls[1], 0.6 * calls[0]);
}

// ---------------------------------------------------------------------------------------------
// A Kob–Andersen domain with a frozen shell: both saddle paths (dense eigenvector following and the
// Lanczos + Newton path used above dense_limit dof) verify every state they report, and converge to
// the same saddle from the same start.

// The climbing image on a path whose straight start is hopeless: two beads of the same species in a
// relaxed KA domain (radius 2, 34–38 mobile beads) trade places, so the start moves them through each
// other. The climber must stay bounded by its neighbours (search/neb.cpp, bound_climber_step). Without
// the bound (measured by disabling it), the highest image ran away to 3243 ε (seed 1, 6 images) and
// 82100 ε (seed 4, 12 images) in the 5000 FIRE steps; with it, the highest image stays below 100 ε
// (measured 0.0 and 5.6: those bands do not converge, and are reported as such). Seed 3 (12 images)
// converges with or without the bound, and its climber must then be a first-order saddle of the model:
// max|∇E| ≤ 1e-4 and exactly one negative eigenvalue of the Hessian (measured barrier 7.867 ε).
TEST(Neb, ClimberStaysBetweenItsNeighboursOnASwapPath) {
  struct Case {
    std::uint64_t seed;
    int images;
  };
  for (const Case c : {Case{1, 6}, Case{3, 12}, Case{4, 12}}) {
    const LocalModel m(ka_domain(2.0, c.seed));
    MinimizerParams mp;
    const MinimizeOutcome a = minimize_local(m, m.initial_coordinates(), mp);
    ASSERT_TRUE(a.converged);
    // The closest pair of mobile beads of one species, swapped: B is the same minimum relabelled.
    const auto& species = m.config().species;
    int bi = -1, bj = -1;
    double closest = HUGE_VAL;
    for (int i = 0; i < m.n_mobile(); ++i)
      for (int j = i + 1; j < m.n_mobile(); ++j) {
        const double d = (a.x.segment<3>(3 * i) - a.x.segment<3>(3 * j)).norm();
        if (species[i] == species[j] && d < closest) closest = d, bi = i, bj = j;
      }
    Vector b = a.x;
    b.segment<3>(3 * bi) = a.x.segment<3>(3 * bj);
    b.segment<3>(3 * bj) = a.x.segment<3>(3 * bi);
    for (const NebOptimizer o : {NebOptimizer::fire, NebOptimizer::lbfgs}) {
      const char* name = o == NebOptimizer::fire ? "FIRE" : "L-BFGS";
      NebParams p;
      p.n_images = c.images;
      p.f_tol = 1e-5;
      p.optimizer = o;
      const NebResult r = nudged_elastic_band(m, a.x, b, p);
      const double top = r.energy[r.highest] - r.energy[0];
      if (world_rank() == 0)
        std::printf(
            "swap path, %s, seed %d (%d mobile, beads %.3f apart), %d images: highest image %.4f ε, converged %d "
            "(%ld steps, max|F| %.1e), fell back to FIRE %d\n",
            name, static_cast<int>(c.seed), m.n_mobile(), closest, c.images, top, r.converged, r.iterations,
            r.max_force, r.fell_back);
      EXPECT_LT(top, 100.0) << name << ", seed " << c.seed << ": the climbing image ran away";
      // Through overlapping beads L-BFGS's steps blow the forces up (measured: max|F| 1e7 to 1e12 within
      // three steps; without the fallback the highest image ends at 1190 ε for seed 1): FIRE takes over.
      if (o == NebOptimizer::lbfgs) {
        EXPECT_TRUE(r.fell_back) << "seed " << c.seed;
      }
      if (c.seed == 3) {
        ASSERT_TRUE(r.converged) << name;
        Vector g;
        m.energy_gradient(r.images[r.highest], g);
        EXPECT_LT(LocalModel::max_force(g), 1e-4);
        EXPECT_EQ(spectrum(m, r.images[r.highest], false).n_negative(1e-6), 1);
      }
    }
  }
}

TEST(EventSearch, KaDomainDenseAndLanczosPathsAgree) {
  const LocalModel m(ka_domain(1.6, 5));
  SearchParams dense;
  dense.max_attempts = 4;
  dense.analyse_pair = false;
  SearchParams lanczos = dense;
  lanczos.saddle.dense_limit = 0;
  const DomainSearch rd = search_domain(m, dense, 3, 17);
  const DomainSearch rl = search_domain(m, lanczos, 3, 17);
  std::printf("KA domain (%d mobile, %d frozen): dense %d events, %zu minima; Lanczos %d events, %zu minima\n",
              m.n_mobile(), m.n_frozen(), rd.events, rd.minima.size(), rl.events, rl.minima.size());
  for (const DomainSearch* r : {&rd, &rl}) {
    EXPECT_GE(r->events, 1);
    for (const auto& q : r->minima) {
      EXPECT_TRUE(q.verified);
      EXPECT_LE(q.max_force, 1e-10);
    }
    for (const auto& q : r->saddles) {
      EXPECT_TRUE(q.verified);
      EXPECT_EQ(q.n_negative, 1);
      EXPECT_LE(q.max_force, 1e-9);
    }
  }
  // Same start minimum, same energy (the starting configuration is minimised identically).
  EXPECT_EQ(rd.minima[0].energy, rl.minima[0].energy);
  // Lanczos against the full spectrum at the minimum.
  const Vector x0 = rd.minima[0].x;
  const LocalModel::Matrix h = m.hessian(x0);
  Vector v;
  double second = 0.0;
  const double lam = lowest_eigenpair(h, Vector(), v, &second);
  const Spectrum sp = spectrum(m, x0);
  EXPECT_NEAR(lam, sp.values[0], 1e-8 * h.cwiseAbs().maxCoeff());
  EXPECT_NEAR(std::abs(v.dot(sp.vectors.col(0))), 1.0, 1e-6);
  // Both paths from the same point near a saddle reach that saddle.
  ASSERT_FALSE(rd.saddles.empty());
  const Saddle& s = rd.saddles[0];
  Vector start = s.x;
  for (int i = 0; i < start.size(); ++i) start[i] += 2e-3 * std::sin(3.0 * i + 1.0);
  SaddleParams sl;
  sl.dense_limit = 0;
  const SaddleOutcome od = converge_saddle(m, start, SaddleParams{});
  const SaddleOutcome ol = converge_saddle(m, start, sl);
  ASSERT_TRUE(od.converged);
  ASSERT_TRUE(ol.converged);
  EXPECT_NEAR(od.energy, s.energy, 1e-9);
  EXPECT_NEAR(ol.energy, s.energy, 1e-9);
  EXPECT_LE(LocalModel::max_bead_norm(ol.x - s.x), 1e-6);
}

// same_structure: exchanging two mobile beads of one species is a relabelling (the same structure)
// in a species model; with per-bead diameters it is one only if the two diameters are equal.
TEST(EventSearch, SameStructureKnowsWhichBeadsAreIdentical) {
  if (world_rank() != 0) return;
  LocalConfig c = ka_domain(1.6, 5);
  int i = 0, j = -1;
  for (int k = 1; k < c.n_mobile && j < 0; ++k)
    if (c.species[k] == c.species[i]) j = k;
  ASSERT_GE(j, 0);
  const auto exchanged = [&](const LocalModel& m) {
    Minimum a{.x = m.initial_coordinates(), .energy = -1.0}, b = a;
    b.x.segment<3>(3 * i) = a.x.segment<3>(3 * j), b.x.segment<3>(3 * j) = a.x.segment<3>(3 * i);
    return std::make_pair(a, b);
  };
  SearchParams p;
  {
    const LocalModel m(c);
    const auto [a, b] = exchanged(m);
    EXPECT_TRUE(same_structure(m, a, b, p));
    Minimum far = b;
    far.energy += 2.0 * p.dedup_energy;
    EXPECT_FALSE(same_structure(m, a, far, p));  // the energy filter
  }
  c.diameter.assign(c.pos.size(), 1.0);
  for (std::size_t k = 0; k < c.pos.size(); ++k) c.diameter[k] = 0.9 + 0.001 * static_cast<double>(k);
  {
    const LocalModel m(c);
    const auto [a, b] = exchanged(m);
    EXPECT_FALSE(same_structure(m, a, b, p));
  }
  c.diameter[j] = c.diameter[i];
  {
    const LocalModel m(c);
    const auto [a, b] = exchanged(m);
    EXPECT_TRUE(same_structure(m, a, b, p));
  }
}

// The free-cluster branch of same_structure on a two-component LJ7 (the apex bead of the
// pentagonal bipyramid another species, equal LJ parameters, so exchanging it with an equatorial
// bead keeps the energy and the whole sorted distance list): that exchange is a new structure (a
// homotop); the cluster rotated, translated and with two equatorial beads relabelled is the same.
// The species-blind distance list called the homotop the same.
TEST(EventSearch, FreeClusterHomotopIsANewStructure) {
  if (world_rank() != 0) return;
  // beads 0-4 equatorial, 5 and 6 the apexes; apex 5 of species 1
  const LocalModel m = free_cluster(pentagonal_bipyramid(), {0, 0, 0, 0, 0, 1, 0});
  Minimum a{.x = m.initial_coordinates(), .energy = m.energy(m.initial_coordinates())};
  Minimum homotop = a, moved = a;
  homotop.x.segment<3>(0) = a.x.segment<3>(15), homotop.x.segment<3>(15) = a.x.segment<3>(0);
  homotop.energy = m.energy(homotop.x);
  const Eigen::Matrix3d r = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()).toRotationMatrix();
  for (int i = 0; i < 7; ++i) moved.x.segment<3>(3 * i) = r * a.x.segment<3>(3 * i) + Eigen::Vector3d(0.3, -1.1, 2.0);
  moved.x.segment<3>(3).swap(moved.x.segment<3>(6));  // beads 1 and 2: both equatorial, species 0
  moved.energy = m.energy(moved.x);
  SearchParams p;
  ASSERT_NEAR(homotop.energy, a.energy, 1e-12);  // only the labels tell them apart
  EXPECT_FALSE(same_structure(m, a, homotop, p));
  EXPECT_TRUE(same_structure(m, a, moved, p));
  EXPECT_TRUE(same_structure(m, homotop, homotop, p));
}

// A saddle recomputed from itself on the Lanczos path converges before its first Lanczos step and
// carries no mode (it happens to the band's top when a band runs through an event's saddle, and
// crashed the connectivity check once): fall_off_saddle takes the exact mode and still reaches the
// event's two minima, and analyse_pair on them through that saddle finds it connecting.
TEST(EventSearch, ModelessSaddleStillFallsIntoItsMinima) {
  if (world_rank() != 0) return;
  const LocalModel m(ka_domain(1.6, 5));
  SearchParams p;
  p.max_attempts = 4;
  p.analyse_pair = false;
  p.saddle.dense_limit = 0;  // the Lanczos path
  const DomainSearch r = search_domain(m, p, 3, 17);
  const Saddle* q = nullptr;
  for (const Saddle& s : r.saddles)
    if (!q && s.minus >= 0 && s.plus >= 0 && s.minus != s.plus) q = &s;
  ASSERT_NE(q, nullptr) << "no event with two distinct sides";
  SaddleParams again = p.saddle;
  again.exact_mode = false;  // as analyse_pair refines the band's top
  const SaddleOutcome s = converge_saddle(m, q->x, again);
  ASSERT_TRUE(s.converged);
  EXPECT_EQ(s.steps, 0);
  EXPECT_EQ(s.mode.size(), 0);
  const auto sides = fall_off_saddle(m, p, s);
  for (int k = 0; k < 2; ++k) {
    ASSERT_TRUE(sides[k].converged);
    const double to_minus = LocalModel::max_bead_norm(sides[k].x - r.minima[q->minus].x);
    const double to_plus = LocalModel::max_bead_norm(sides[k].x - r.minima[q->plus].x);
    EXPECT_LE(std::min(to_minus, to_plus), 1e-6) << "side " << k;
  }
  EXPECT_NE(LocalModel::max_bead_norm(sides[0].x - r.minima[q->minus].x) <= 1e-6,
            LocalModel::max_bead_norm(sides[1].x - r.minima[q->minus].x) <= 1e-6);  // one side each
  const TlsPair t = analyse_pair(m, r.minima[q->minus], r.minima[q->plus], p, q->minus, q->plus, {q->x});
  EXPECT_TRUE(t.saddle.verified);
  EXPECT_TRUE(t.saddle_connects);
}

// ---------------------------------------------------------------------------------------------
// Free clusters.

// The heartbeat (core/heartbeat.hpp) of a long work item: a short LJ7 search under a scope that
// lets every beat through speaks from each of the search's loops (attempts, saddle convergence,
// local minimisation, NEB) in the documented format; a nested scope with 0 s silences it and the
// outer one speaks again once the inner is closed; a scope whose first line is an hour away says
// nothing. Catches a loop that stopped beating, a scope that leaks past its end, a silenced scope
// that still prints.
TEST(Heartbeat, EveryLoopOfASearchBeatsThroughTheInnermostScope) {
  if (world_rank() != 0) return;
  const LocalModel m = free_cluster(pentagonal_bipyramid());
  SearchParams p;
  p.max_attempts = 6;
  p.stop_after_stale = 6;
  p.explore_window = 1.5;
  std::vector<std::string> lines;
  const auto sink = [&](const std::string& l) { lines.push_back(l); };
  {
    const HeartbeatScope outer("[test] domain 7 (rank 0)", 1e-9, sink);
    const DomainSearch r = search_domain(m, p, 2026, 7);
    ASSERT_GE(r.pairs.size(), 1u) << "no pair: the NEB loop was not exercised";
    const std::regex format(R"(\[test\] domain 7 \(rank 0\), [0-9]+ s in: [a-zA-Z ]+ step [0-9]+, [a-zA-Z|]+ .+)");
    for (const std::string& l : lines) EXPECT_TRUE(std::regex_match(l, format)) << l;
    for (const char* loop :
         {": search attempt step ", ": saddle convergence step ", ": minimisation step ", ": NEB step "})
      EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(loop) != l.npos; }))
          << "no heartbeat from" << loop;
    const std::size_t before = lines.size();
    {
      const HeartbeatScope quiet("[test] silent", 0.0, sink);
      search_domain(m, p, 2026, 7);
    }
    EXPECT_EQ(lines.size(), before) << "a scope of 0 s let a line through";
    heartbeat("loop", 1, "x", 1.0);
    ASSERT_EQ(lines.size(), before + 1) << "the outer scope did not resume";
    EXPECT_EQ(lines.back().substr(lines.back().find(" s in:")), " s in: loop step 1, x 1");
  }
  lines.clear();
  {
    const HeartbeatScope later("[test] later", 3600.0, sink);
    search_domain(m, p, 2026, 7);
  }
  heartbeat("loop", 1, "x", 1.0);  // no scope open: nothing
  EXPECT_TRUE(lines.empty()) << lines.front();
}

TEST(EventSearch, LJ7FindsTheKnownMinima) {
  if (world_rank() != 0) return;
  const LocalModel m = free_cluster(pentagonal_bipyramid());
  SearchParams p;
  p.max_attempts = 400;  // the distinct-saddle count saturates by ~300 (unchanged at 2000)
  p.stop_after_stale = 400;
  p.explore_window = 1.5;  // all four LJ7 minima lie within 0.98 ε of the global one
  const DomainSearch r = search_domain(m, p, 2026, 7);
  std::vector<double> e_min, e_sad;
  for (const auto& q : r.minima) {
    EXPECT_TRUE(q.verified) << "minimum at " << q.energy << " max|F| " << q.max_force << " λ1 " << q.lowest_eigenvalue;
    EXPECT_LE(q.max_force, 1e-10);
    e_min.push_back(q.energy);
  }
  for (const auto& s : r.saddles) {
    EXPECT_TRUE(s.verified);
    EXPECT_EQ(s.n_negative, 1);
    EXPECT_LE(s.max_force, 1e-9);
    e_sad.push_back(s.energy);
  }
  const auto em = distinct(e_min, 1e-7), es = distinct(e_sad, 1e-7);
  std::printf(
      "LJ7: %d attempts, %d events (%d no exit, %d climbs unconverged), %zu minima (%zu distinct energies), %zu "
      "saddles (%zu distinct energies), %.2f s\n",
      r.attempts, r.events, r.failed_exits, r.failed_climbs, r.minima.size(), em.size(), r.saddles.size(), es.size(),
      r.seconds);
  // Every attempt is counted once (/search/n_events, n_failed_exits, n_failed_climbs add up).
  EXPECT_EQ(r.attempts, 400);
  EXPECT_EQ(r.events + r.failed_exits + r.failed_climbs, r.attempts);
  for (double e : em) std::printf("  minimum %.6f\n", e);
  for (double e : es) std::printf("  saddle  %.6f\n", e);
  // Cambridge Cluster Database (Wales & Doye, J. Phys. Chem. A 101, 5111 (1997)): LJ7 global
  // minimum −16.505384 (pentagonal bipyramid). LJ7 has 4 minima (Doye & Wales, J. Chem. Phys. 116,
  // 3777 (2002)); the three others as usually quoted to 5 decimals (capped octahedron −15.93504,
  // tricapped tetrahedron −15.59321, bicapped trigonal bipyramid −15.53306; e.g. Wales, Energy
  // Landscapes (CUP 2003)). Cross-checked against an independent public table of the four LJ7
  // minima to 8 decimals: −16.50538417, −15.93504306, −15.59321094, −15.53306005 (the search
  // finds −15.9350431, −15.5932109, −15.5330600 with max|F| <= 1e-10). Asserted to 1e-5, the
  // precision of the usual 5-decimal quotation.
  ASSERT_EQ(em.size(), 4u);
  EXPECT_NEAR(r.minima[0].energy, -16.505384, 1e-6);
  EXPECT_NEAR(em[0], -16.505384, 1e-6);
  EXPECT_NEAR(em[1], -15.93504, 1e-5);
  EXPECT_NEAR(em[2], -15.59321, 1e-5);
  EXPECT_NEAR(em[3], -15.53306, 1e-5);
  // Transition states: every one found is an LJ7 transition state of the independent reference
  // enumeration, joining the same minima. The low-lying landscape is complete: all reference
  // saddles within 2 ε of the global minimum (11 of the 12; the 12th, a degenerate rearrangement of
  // the tricapped tetrahedron 3 ε above it, is rare for random pushes; mode following finds it:
  // LJ7CompleteTransitionStateSet).
  const ReferenceLandscape ref = read_lj7_reference();
  const std::vector<int> found = check_against_reference(r, ref);
  for (std::size_t k = 0; k < ref.saddles.size(); ++k) {
    if (ref.saddles[k].energy <= em[0] + 2.0) {
      EXPECT_TRUE(std::binary_search(found.begin(), found.end(), static_cast<int>(k)))
          << "missed the transition state at " << ref.saddles[k].energy;
    }
  }
  EXPECT_EQ(es.size(), found.size());
  // The pair is the two lowest: global minimum and capped octahedron.
  ASSERT_EQ(r.pairs.size(), 1u);
  EXPECT_NEAR(r.pairs[0].energy_a, -16.505384, 1e-6);
  EXPECT_NEAR(r.pairs[0].asymmetry, em[1] - em[0], 1e-9);
  // Its barrier is the lowest saddle found: the pair is directly connected.
  EXPECT_NEAR(r.pairs[0].barrier, es[0] - em[0], 1e-8);
  EXPECT_FALSE(r.pairs[0].intermediate_minima);
  EXPECT_GT(r.pairs[0].barrier, r.pairs[0].asymmetry);
  EXPECT_TRUE(r.pairs[0].saddle.verified);
  std::printf(
      "LJ7 pair: asymmetry %.6f barrier %.6f intermediate minima %d, NEB max|F| %.1e (%ld it), d_L %.3f "
      "n_moving %d N_p %.2f path %.3f, Δ0 = %.3e ε (S = %.4f, ħ = %.4f)\n",
      r.pairs[0].asymmetry, r.pairs[0].barrier, r.pairs[0].path.n_intermediate_minima, r.pairs[0].path.max_force,
      r.pairs[0].path.iterations, r.pairs[0].d_l, r.pairs[0].n_moving, r.pairs[0].participation, r.pairs[0].path_length,
      r.pairs[0].splitting.delta0, r.pairs[0].splitting.action, r.pairs[0].splitting.hbar);
}

// The Good–Turing convergence measure (missing_probability) on hand-made hit counts, and the
// stopping rule on a small KA domain (8 mobile beads; measured: stops after 93 attempts with 23
// minima, 9 of them singletons): with target_missing = 0.1 the search stops by the rule (at >= 10
// attempts, before the budget of 400), and the recorded estimate is n1/n recomputed from the minima's
// hit counts. (A free cluster is no test case: every permutational copy is a new minimum, and LJ7
// is still finding them after 400 attempts.)
TEST(EventSearch, GoodTuringConvergence) {
  std::vector<Minimum> m(5);
  const double e[] = {0.0, 0.5, -0.3, 2.0, 0.9};
  const int hits[] = {7, 1, 3, 1, 1};
  for (int i = 0; i < 5; ++i) m[i].energy = e[i], m[i].hits = hits[i];
  int n1 = -1;
  EXPECT_DOUBLE_EQ(missing_probability(m, 10, 1.0, &n1), 0.2);  // ids 1 and 4 (id 3 outside, id 0 is O)
  EXPECT_EQ(n1, 2);
  EXPECT_DOUBLE_EQ(missing_probability(m, 10, 3.0), 0.3);
  EXPECT_DOUBLE_EQ(missing_probability(m, 4, 0.4), 0.0);
  EXPECT_TRUE(std::isnan(missing_probability(m, 0, 1.0)));

  if (world_rank() != 0) return;
  const LocalModel m7(ka_domain(1.3, 5));
  SearchParams p;
  p.max_attempts = 400;
  p.stop_after_stale = 400;
  p.target_missing = 0.1;
  p.target_window = 10.0;
  p.analyse_pair = false;
  const DomainSearch r = search_domain(m7, p, 2026, 7);
  int singletons = 0, total_hits = 0;
  for (std::size_t i = 1; i < r.minima.size(); ++i) {
    singletons += r.minima[i].hits == 1 && std::abs(r.minima[i].energy - r.minima[0].energy) <= p.target_window;
    total_hits += r.minima[i].hits;
  }
  std::printf(
      "KA domain (%d mobile), target_missing 0.1: stopped after %d attempts (%d events), %zu minima, "
      "%d singletons, missing %.4f, %.2f s\n",
      m7.n_mobile(), r.attempts, r.events, r.minima.size(), r.singletons, r.missing, r.seconds);
  EXPECT_GE(r.attempts, 10);
  EXPECT_LT(r.attempts, 400);
  EXPECT_LE(r.missing, 0.1);
  EXPECT_EQ(r.singletons, singletons);
  EXPECT_DOUBLE_EQ(r.missing, static_cast<double>(singletons) / r.attempts);
}

// An attempt whose push cannot leave the basin (no exit steps allowed) is counted in failed_exits
// (/search/n_failed_exits), not in events or failed_climbs, and no saddle is recorded.
TEST(EventSearch, PushesThatCannotLeaveCountAsFailedExits) {
  if (world_rank() != 0) return;
  const LocalModel m = free_cluster(pentagonal_bipyramid());
  SearchParams p;
  p.max_attempts = 5;
  p.stop_after_stale = 5;
  p.max_push_steps = 0;
  p.analyse_pair = false;
  const DomainSearch r = search_domain(m, p, 2026, 7);
  EXPECT_EQ(r.attempts, 5);
  EXPECT_EQ(r.failed_exits, 5);
  EXPECT_EQ(r.events, 0);
  EXPECT_EQ(r.failed_climbs, 0);
  EXPECT_TRUE(r.saddles.empty());
}

// The count of LJ7 transition states against the literature: 12 distinct transition states (one per
// structure: permutational isomers and enantiomers counted once) joining the 4 minima — Tsai &
// Jordan, J. Phys. Chem. 97, 11227 (1993); Doye & Wales, J. Chem. Phys. 116, 3777 (2002), Table I.
// The independent reference enumeration (tests/reference/lj7_stationary_points.py: eigenvector
// following along all 15 modes of every minimum plus 3000 random starts) finds the same 12. The search
// with mode following along all 15 internal modes (follow_modes) finds all 12 within 1000 attempts
// (12 already by 600), and these attempts are deterministic: the seed does not matter. (Random
// pushes alone find the highest one only at ~3e-4 per attempt: docs/search.md.)
TEST(EventSearch, LJ7CompleteTransitionStateSet) {
  if (world_rank() != 0) return;
  const ReferenceLandscape ref = read_lj7_reference();
  ASSERT_EQ(ref.minima.size(), 4u);    // literature: 4 minima
  ASSERT_EQ(ref.saddles.size(), 12u);  // literature: 12 transition states
  const LocalModel m = free_cluster(pentagonal_bipyramid());
  SearchParams p;
  p.max_attempts = 1000;
  p.stop_after_stale = 1000;
  p.explore_window = 1.5;
  p.follow_modes = 15;
  p.analyse_pair = false;
  std::vector<std::vector<int>> found_by_seed;
  for (std::uint64_t seed : {2026, 7}) {
    const DomainSearch r = search_domain(m, p, seed, 7);
    found_by_seed.push_back(check_against_reference(r, ref));
    std::printf(
        "LJ7 (follow_modes 15, seed %d): %d attempts, %d events (%d no exit, %d climbs unconverged), %zu "
        "distinct transition states of %zu, %.2f s\n",
        static_cast<int>(seed), r.attempts, r.events, r.failed_exits, r.failed_climbs, found_by_seed.back().size(),
        ref.saddles.size(), r.seconds);
    EXPECT_EQ(r.events + r.failed_exits + r.failed_climbs, r.attempts);
    EXPECT_EQ(found_by_seed.back().size(), ref.saddles.size());
  }
  EXPECT_EQ(found_by_seed[0], found_by_seed[1]);
}

TEST(EventSearch, LJ13IcosahedronAndItsNeighbours) {
  if (world_rank() != 0) return;
  const LocalModel m = free_cluster(icosahedron13());
  SearchParams p;
  p.max_attempts = 12;
  p.stop_after_stale = 12;
  p.explore_window = 0.0;  // explore around the icosahedron only
  const DomainSearch r = search_domain(m, p, 2026, 13);
  // Cambridge Cluster Database: LJ13 global minimum −44.326801 (Mackay icosahedron).
  EXPECT_NEAR(r.minima[0].energy, -44.326801, 1e-6);
  EXPECT_TRUE(r.minima[0].verified);
  std::printf("LJ13: %d attempts, %d events, %zu minima, %zu saddles, %.2f s\n", r.attempts, r.events, r.minima.size(),
              r.saddles.size(), r.seconds);
  for (const auto& q : r.minima) {
    EXPECT_TRUE(q.verified);
    EXPECT_GE(q.energy, -44.326801 - 1e-6);
  }
  for (const auto& s : r.saddles) {
    EXPECT_TRUE(s.verified);
    EXPECT_EQ(s.n_negative, 1);
    std::printf("  saddle %.6f (minima %d, %d)\n", s.energy, s.minus, s.plus);
  }
  EXPECT_GE(r.events, 1);
}

// ---------------------------------------------------------------------------------------------
// A designed double well: one mobile bead on the axis of a frozen square ring (radius R, in the
// plane x = 0) between two frozen beads at x = −L1 and x = +L2. The ring is tighter than the LJ
// minimum distance, so the bead sits on either side of it: a double well along x, first-order
// saddle at the ring centre (for L1 = L2 symmetric; the axis stays the path by symmetry).

namespace {

struct Cage {
  double ring = 1.05, left = 2.2, right = 2.2;
};

std::vector<Vec3> cage_frozen(const Cage& c) {
  std::vector<Vec3> f;
  for (int k = 0; k < 4; ++k)
    f.emplace_back(0.0, c.ring * std::cos(0.5 * M_PI * k + 0.25 * M_PI),
                   c.ring * std::sin(0.5 * M_PI * k + 0.25 * M_PI));
  f.emplace_back(-c.left, 0.0, 0.0);
  f.emplace_back(c.right, 0.0, 0.0);
  return f;
}

LocalModel cage_model(const Cage& c, double x_start) {
  LocalConfig cfg;
  cfg.box = cube(20.0);
  cfg.box.lo = Vec3(-10.0, -10.0, -10.0);
  cfg.table = lennard_jones(2.5);
  cfg.pos.push_back(Vec3(x_start, 0.03, -0.02));
  for (const Vec3& f : cage_frozen(c)) cfg.pos.push_back(f);
  for (std::size_t i = 0; i < cfg.pos.size(); ++i) {
    cfg.id.push_back(static_cast<std::int64_t>(i + 1));
    cfg.species.push_back(0);
  }
  cfg.n_mobile = 1;
  return LocalModel(cfg);
}

// Independent 1D potential on the axis: own LJ formula, truncated and shifted at 2.5.
double lj_u(double r) {
  if (r >= 2.5) return 0.0;
  auto u = [](double q) { return 4.0 * (std::pow(q, -12) - std::pow(q, -6)); };
  return u(r) - u(2.5);
}
double lj_du(double r) { return r >= 2.5 ? 0.0 : 4.0 * (-12.0 * std::pow(r, -13) + 6.0 * std::pow(r, -7)); }

double axis_v(const Cage& c, double x) {
  double v = 0.0;
  for (const Vec3& f : cage_frozen(c)) v += lj_u((Vec3(x, 0, 0) - f).norm());
  return v;
}
double axis_dv(const Cage& c, double x) {
  double d = 0.0;
  for (const Vec3& f : cage_frozen(c)) {
    const Vec3 r = Vec3(x, 0, 0) - f;
    d += lj_du(r.norm()) * r[0] / r.norm();
  }
  return d;
}
// Root of V' in [a, b] by bisection (V' changes sign).
double axis_root(const Cage& c, double a, double b) {
  const bool up = axis_dv(c, b) > 0.0;
  for (int k = 0; k < 200; ++k) {
    const double m = 0.5 * (a + b);
    if ((axis_dv(c, m) > 0.0) == up) b = m;
    else a = m;
  }
  return 0.5 * (a + b);
}

// Exact 1D levels of −(ħ²/2) ψ'' + V ψ (unit mass) by second-order finite differences on [a, b].
std::pair<double, double> fd_levels(const Cage& c, double hbar, double a, double b, int n) {
  const double h = (b - a) / (n + 1);
  Eigen::VectorXd diag(n), sub(n - 1);
  for (int i = 0; i < n; ++i) diag[i] = hbar * hbar / (h * h) + axis_v(c, a + (i + 1) * h);
  sub.setConstant(-0.5 * hbar * hbar / (h * h));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es;
  es.computeFromTridiagonal(diag, sub, Eigen::EigenvaluesOnly);
  return {es.eigenvalues()[0], es.eigenvalues()[1]};
}

// The WKB formula of tunnelling.hpp evaluated independently on the analytic axis potential: each
// well's ground level E0 = V + ½ħω + ħ²(¾c4/ω² − 11/8 c3²/ω⁴) and classical frequency there
// Ω = ω(1 + (3c4/ω⁴ − 7.5c3²/ω⁶)(E0 − V)) from the potential's own Taylor coefficients at the minimum
// (finite differences of V'; the kernel takes them from the band's node next to each end), the
// action at the higher level, and the prefactor ħ√(Ω_A Ω_B)/√(eπ).
double wkb_reference(const Cage& c, double hbar, double xa, double xb, double& action) {
  auto curv = [&](double x) { return (axis_dv(c, x + 1e-5) - axis_dv(c, x - 1e-5)) / 2e-5; };
  auto well = [&](double x, double& omega) {
    const double w = std::sqrt(curv(x)), d = 1e-3;
    const double c3 = (curv(x + d) - curv(x - d)) / (2 * d) / 6;
    const double c4 = (curv(x + d) - 2 * curv(x) + curv(x - d)) / (d * d) / 24;
    const double e0 = 0.5 * hbar * w + hbar * hbar * (0.75 * c4 / (w * w) - 11.0 / 8.0 * c3 * c3 / std::pow(w, 4));
    omega = w * (1 + (3 * c4 / std::pow(w, 4) - 7.5 * c3 * c3 / std::pow(w, 6)) * e0);
    return axis_v(c, x) + e0;
  };
  double wa = 0.0, wb = 0.0;
  const double level_a = well(xa, wa), level_b = well(xb, wb);
  const double level = std::max(level_a, level_b);
  auto f = [&](double x) { return axis_v(c, x) - level; };
  auto cross = [&](double lo, double hi) {  // f(lo) < 0 < f(hi) or the reverse
    const bool up = f(hi) > 0.0;
    for (int k = 0; k < 200; ++k) {
      const double m = 0.5 * (lo + hi);
      if ((f(m) > 0.0) == up) hi = m;
      else lo = m;
    }
    return 0.5 * (lo + hi);
  };
  const double top = axis_root(c, xa + 0.05, xb - 0.05);
  const double s1 = cross(xa, top), s2 = cross(xb, top);
  // Substitution x = s1 + (s2 − s1)(1 − cos θ)/2 removes the square-root end points; midpoint rule.
  const int n = 20000;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const double th = M_PI * (i + 0.5) / n;
    const double x = s1 + 0.5 * (s2 - s1) * (1.0 - std::cos(th));
    sum += std::sqrt(2.0 * std::max(0.0, f(x))) * 0.5 * (s2 - s1) * std::sin(th);
  }
  action = sum * M_PI / n;
  return hbar * std::sqrt(wa * wb) / std::sqrt(M_E * M_PI) * std::exp(-action / hbar);
}

}  // namespace

TEST(EventSearch, DesignedDoubleWellMatchesScanAndSchrodinger) {
  const Cage cage;
  const LocalModel m = cage_model(cage, 0.35);
  SearchParams p;
  p.max_attempts = 20;
  p.stop_after_stale = 10;
  p.neb.n_images = 33;
  // Neon-like units (Λ* = 0.577, ħ* = 0.0918): the WKB exponent S/ħ is then a few units, where both the
  // exponential and the finite-difference reference are accurate.
  p.units.sigma_angstrom = 2.788;
  p.units.epsilon_kelvin = 36.68;
  p.units.mass_amu = 20.18;
  const DomainSearch r = search_domain(m, p, 99, 1);
  // Independent scan of the axis potential.
  const double xr = axis_root(cage, 0.2, 1.0), xl = axis_root(cage, -1.0, -0.2), x0 = axis_root(cage, -0.2, 0.2);
  const double barrier = axis_v(cage, x0) - axis_v(cage, xl);
  std::printf("double well: minima at %.6f, %.6f (V = %.9f), top at %.2e, barrier %.9f\n", xl, xr, axis_v(cage, xr), x0,
              barrier);
  ASSERT_EQ(r.pairs.size(), 1u);
  const TlsPair& t = r.pairs[0];
  const Vector& xa = r.minima[t.a].x;
  const Vector& xb = r.minima[t.b].x;
  EXPECT_NEAR(std::min(xa[0], xb[0]), xl, 1e-8);
  EXPECT_NEAR(std::max(xa[0], xb[0]), xr, 1e-8);
  EXPECT_NEAR(t.energy_a, axis_v(cage, xr), 1e-10);
  EXPECT_NEAR(t.asymmetry, 0.0, 1e-10);
  EXPECT_NEAR(t.barrier, barrier, 1e-8);
  EXPECT_TRUE(t.saddle.verified);
  EXPECT_NEAR(t.saddle.x[0], 0.0, 1e-8);
  EXPECT_FALSE(t.intermediate_minima);
  EXPECT_EQ(t.n_moving, 1);
  EXPECT_NEAR(t.d_l, xr - xl, 1e-8);
  EXPECT_NEAR(t.participation, 1.0, 1e-12);
  EXPECT_NEAR(t.path_length, xr - xl, 1e-6);
  // Splitting: the kernel's WKB along the band vs the same formula on the analytic potential, and
  // vs the exact 1D level gap.
  const double hbar = hbar_reduced(p.units);
  double action = 0.0;
  const double wkb = wkb_reference(cage, hbar, xl, xr, action);
  const auto lv = fd_levels(cage, hbar, -cage.left + 0.75, cage.right - 0.75, 4000);
  const double exact = lv.second - lv.first;
  std::printf(
      "double well: ħ* = %.5f, S = %.6f (ref %.6f), S/ħ = %.2f; Δ0 WKB = %.6e (ref %.6e), exact 1D = %.6e "
      "(ratio %.4f); %.3e K\n",
      hbar, t.splitting.action, action, action / hbar, t.splitting.delta0, wkb, exact, t.splitting.delta0 / exact,
      t.splitting.delta0_kelvin);
  // de Boer's quantum parameter Λ* = h/(σ√(mε)) = 2π ħ*: 0.186 for argon (σ = 3.405 Å, ε = 119.8 K).
  PhysicalUnits argon;
  argon.sigma_angstrom = 3.405;
  argon.epsilon_kelvin = 119.8;
  argon.mass_amu = 39.948;
  EXPECT_NEAR(2.0 * M_PI * hbar_reduced(argon), 0.186, 1e-3);
  // The kernel takes each well's c3, c4 from the band's node next to the end, the reference from the
  // analytic derivatives (this LJ well has large higher ones): measured S +1.3e-4, Δ0 −0.1 % with the
  // band's ends refined (3 levels; +9.8e-4 and −0.8 % without).
  EXPECT_NEAR(t.splitting.action, action, 2e-3 * action);
  EXPECT_NEAR(t.splitting.delta0, wkb, 1.5e-2 * wkb);
  // tunnelling.hpp claims 5 % for S/ħ ≥ 5; measured −3.6 % here at S/ħ = 5.6 (−4.2 % without the refined
  // ends, −3.5 % with the analytic c3, c4; Landau–Lifshitz's ħω/π at the harmonic level, used before,
  // gave +4.7 %).
  EXPECT_NEAR(t.splitting.delta0 / exact, 1.0, 0.05);
}

TEST(EventSearch, AsymmetricDoubleWellMatchesScan) {
  Cage cage;
  cage.right = 2.3;  // the right wall is further: the right well is different
  const LocalModel m = cage_model(cage, -0.35);
  SearchParams p;
  p.max_attempts = 20;
  p.stop_after_stale = 10;
  const DomainSearch r = search_domain(m, p, 99, 2);
  const double xr = axis_root(cage, 0.2, 1.0), xl = axis_root(cage, -1.0, -0.2), x0 = axis_root(cage, -0.2, 0.2);
  const double vl = axis_v(cage, xl), vr = axis_v(cage, xr);
  ASSERT_EQ(r.pairs.size(), 1u);
  const TlsPair& t = r.pairs[0];
  EXPECT_NEAR(t.energy_a, std::min(vl, vr), 1e-10);
  EXPECT_NEAR(t.energy_b, std::max(vl, vr), 1e-10);
  EXPECT_NEAR(t.asymmetry, std::abs(vl - vr), 1e-10);
  EXPECT_NEAR(t.barrier, axis_v(cage, x0) - std::min(vl, vr), 1e-8);
  EXPECT_TRUE(t.saddle.verified);
  // The WKB action at the higher zero-point level, against the same formula on the analytic axis.
  double action = 0.0;
  const double wkb = wkb_reference(cage, hbar_reduced(p.units), xl, xr, action);
  std::printf("asymmetric well: asymmetry %.9f barrier %.9f, S = %.6f (ref %.6f), Δ0 = %.4e ε (ref %.4e)\n",
              t.asymmetry, t.barrier, t.splitting.action, action, t.splitting.delta0, wkb);
  EXPECT_FALSE(t.splitting.over_barrier);
  EXPECT_NEAR(t.splitting.action, action, 2e-3 * action);  // as above: measured S +2.3e-4, Δ0 −0.65 %
  EXPECT_NEAR(t.splitting.delta0, wkb, 1.5e-2 * wkb);
}

// ---------------------------------------------------------------------------------------------
// The catalogue's pair rule: pairs adjacent to the occupied state O, with their quantum levels.

namespace {

// (ħ/2) Σ ω of the single mobile bead at x, from a central-difference Hessian of model.energy
// (not the analytic Hessian the kernel uses) diagonalised by Eigen.
double fd_zero_point(const LocalModel& m, const LocalModel::Vector& x, double hbar) {
  const double h = 1e-4;
  Eigen::Matrix3d hess;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      auto e = [&](double da, double db) {
        LocalModel::Vector y = x;
        y[a] += da, y[b] += db;
        return m.energy(y);
      };
      hess(a, b) = (e(h, h) - e(h, -h) - e(-h, h) + e(-h, -h)) / (4 * h * h);
    }
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(hess);
  return 0.5 * hbar * es.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
}

// Neon-like units (ħ* = 0.0918): levels and splittings large enough to check against a 1D solve.
PhysicalUnits neon() {
  PhysicalUnits u;
  u.sigma_angstrom = 2.788, u.epsilon_kelvin = 36.68, u.mass_amu = 20.18;
  return u;
}

SearchParams occupied_params() {
  SearchParams p;
  p.pairs = SearchParams::PairRule::occupied;
  p.start_from_occupied = true;
  p.max_attempts = 20;
  p.stop_after_stale = 10;
  p.neb.n_images = 33;
  p.units = neon();
  return p;
}

}  // namespace

// The designed double well, started in its right well: the occupied state is the right minimum and
// the one pair is (right, left), adjacent, with E_qs against an independent finite-difference 1D
// solve of the analytic axis potential (fd_levels above), ΔZPE against a finite-difference Hessian,
// and the class by the documented rule at two thresholds.
TEST(EventSearch, OccupiedPairOfTheDesignedDoubleWell) {
  const Cage cage;
  const LocalModel m = cage_model(cage, 0.35);
  SearchParams p = occupied_params();
  const DomainSearch r = search_domain(m, p, 99, 1);
  ASSERT_EQ(r.pairs.size(), 1u);
  const TlsPair& t = r.pairs[0];
  const double xr = axis_root(cage, 0.2, 1.0), xl = axis_root(cage, -1.0, -0.2);
  EXPECT_EQ(t.a, 0);  // A is the occupied state ...
  EXPECT_TRUE(t.involves_occupied);
  EXPECT_NEAR(r.minima[t.a].x[0], xr, 1e-8);  // ... the right well, where the search started
  EXPECT_NEAR(r.minima[t.b].x[0], xl, 1e-8);
  EXPECT_TRUE(t.adjacent);
  const double hbar = hbar_reduced(p.units);
  const auto lv = fd_levels(cage, hbar, -cage.left + 0.75, cage.right - 0.75, 4000);
  const double exact = lv.second - lv.first;
  std::printf(
      "occupied pair: E_qs = %.6e (exact 1D %.6e, ratio %.5f; mirror continuation %.6e), Δ0 WKB %.6e, "
      "ΔZPE %.2e, class %s\n",
      t.levels.e_qs, exact, t.levels.e_qs / exact, t.levels.e_qs_other, t.splitting.delta0, t.delta_zpe, t.cls.c_str());
  EXPECT_NEAR(t.levels.e_qs / exact, 1.0, 1e-3);  // measured 7e-5 (harmonic continuation: +10 %)
  EXPECT_NEAR(t.levels.e0, lv.first, 1e-4 * std::abs(lv.first));
  // A symmetric well: both minima have the same normal modes.
  EXPECT_NEAR(t.delta_zpe, 0.0, 1e-7);
  // Class by the rule: tls when E_qs is within the threshold, double_well otherwise.
  EXPECT_EQ(t.cls, t.levels.e_qs <= p.max_splitting ? "tls" : "double_well");
  p.max_splitting = 1.01 * t.levels.e_qs;
  EXPECT_EQ(search_domain(m, p, 99, 1).pairs.at(0).cls, "tls");
  p.max_splitting = 0.99 * t.levels.e_qs;
  EXPECT_EQ(search_domain(m, p, 99, 1).pairs.at(0).cls, "double_well");
}

// The asymmetric cage started in its higher well: the asymmetry is signed (E_B − E_O < 0), E_qs
// tends to the level gap of an asymmetric pair, ΔZPE equals the finite-difference value.
TEST(EventSearch, OccupiedPairIsSigned) {
  Cage cage;
  cage.right = 2.3;
  const double xr = axis_root(cage, 0.2, 1.0), xl = axis_root(cage, -1.0, -0.2);
  const double vl = axis_v(cage, xl), vr = axis_v(cage, xr);
  const bool right_higher = vr > vl;
  const LocalModel m = cage_model(cage, right_higher ? 0.35 : -0.35);  // start in the higher well
  const SearchParams p = occupied_params();
  const DomainSearch r = search_domain(m, p, 99, 2);
  ASSERT_EQ(r.pairs.size(), 1u);
  const TlsPair& t = r.pairs[0];
  EXPECT_NEAR(t.asymmetry, -std::abs(vl - vr), 1e-10);
  EXPECT_LT(t.asymmetry, 0.0);
  const double hbar = hbar_reduced(p.units);
  const auto lv = fd_levels(cage, hbar, -cage.left + 0.75, cage.right - 0.75, 4000);
  EXPECT_NEAR(t.levels.e_qs / (lv.second - lv.first), 1.0, 1e-3);  // measured 3e-5
  const double zpe = fd_zero_point(m, r.minima[t.b].x, hbar) - fd_zero_point(m, r.minima[t.a].x, hbar);
  std::printf("signed pair: ε = %.6e, E_qs = %.6e (exact 1D %.6e), ΔZPE = %.6e (finite differences %.6e)\n",
              t.asymmetry, t.levels.e_qs, lv.second - lv.first, t.delta_zpe, zpe);
  EXPECT_NEAR(t.delta_zpe, zpe, 1e-6 * hbar + 1e-4 * std::abs(zpe));
  EXPECT_GT(std::abs(t.delta_zpe), 1e-4);  // the two wells differ: a zero ΔZPE would be a bug
}

// LJ7 from the global minimum: every pair is the global minimum and a minimum that one reference
// transition state joins to it directly, the barrier is that transition state's energy, and every
// pair is adjacent (never a chain of two events).
// Connectivity of the saddle a band's top refines to (TlsPair::saddle_connects), against the
// independent LJ7 enumeration: bands between every two of the four structures (at three image
// counts) end on verified saddles; whenever one is a reference transition state, saddle_connects
// must be 1 exactly when that state joins the pair's two structures. Minima 2 and 3 have no direct
// transition state, so any saddle their band finds belongs to a neighbouring event. Measured: 18
// bands, 15 verified saddles, 5 connecting and 10 not; one of the 10 (0-3 at 5 images, on the 1-3
// transition state) has no interior minimum on its band, so only the connectivity test keeps it
// from being called adjacent with another event's barrier.
TEST(EventSearch, LJ7SaddleConnectsOnlyItsOwnPair) {
  if (world_rank() != 0) return;
  const ReferenceLandscape ref = read_lj7_reference();
  const LocalModel m = free_cluster(pentagonal_bipyramid());
  SearchParams p;
  p.max_attempts = 400;
  p.stop_after_stale = 400;
  p.explore_window = 1.5;
  p.analyse_pair = false;
  const DomainSearch r = search_domain(m, p, 2026, 7);
  const auto id = [](double e) { return e; };
  std::vector<int> rep(ref.minima.size(), -1);  // one found copy of each reference structure
  for (int k = 0; k < static_cast<int>(r.minima.size()); ++k) {
    const int s = match(ref.minima, r.minima[k].energy, 1e-6, id);
    if (s >= 0 && rep[s] < 0) rep[s] = k;
  }
  for (int s = 0; s < 4; ++s) ASSERT_GE(rep[s], 0) << "the search missed LJ7 minimum " << s;
  int verified = 0, connecting = 0, not_connecting = 0, caught = 0;
  for (int n_images : {5, 9, 16})
    for (int i = 0; i < 4; ++i)
      for (int j = i + 1; j < 4; ++j) {
        SearchParams q = p;
        q.neb.n_images = n_images;
        const TlsPair t = analyse_pair(m, r.minima[rep[i]], r.minima[rep[j]], q, rep[i], rep[j]);
        if (!t.saddle.verified) continue;
        ++verified;
        const int k = match(ref.saddles, t.saddle.energy, 1e-6, [](const ReferenceSaddle& z) { return z.energy; });
        ASSERT_GE(k, 0) << "band " << i << "-" << j << ": saddle " << t.saddle.energy
                        << " is not an LJ7 transition state";
        const bool joins = ref.saddles[k].lo == i && ref.saddles[k].hi == j;
        EXPECT_EQ(t.saddle_connects, joins) << "band " << i << "-" << j << " (" << n_images << " images) ends on the "
                                            << ref.saddles[k].lo << "-" << ref.saddles[k].hi << " transition state";
        EXPECT_EQ(t.adjacent, t.saddle_connects && !t.intermediate_minima);
        (t.saddle_connects ? connecting : not_connecting)++;
        caught += !t.saddle_connects && !t.intermediate_minima;
        std::printf("LJ7 band %d-%d, %2d images: saddle %.6f (reference %d-%d), connects %d, interior minima %d\n", i,
                    j, n_images, t.saddle.energy, ref.saddles[k].lo, ref.saddles[k].hi, t.saddle_connects ? 1 : 0,
                    t.path.n_intermediate_minima);
      }
  std::printf("LJ7 bands: %d verified saddles, %d connecting, %d not (%d of them without an interior minimum)\n",
              verified, connecting, not_connecting, caught);
  EXPECT_GE(connecting, 1);
  EXPECT_GE(caught, 1);
}

namespace {

// The LJ7 search from the global minimum with the occupied pair rule, 200 attempts.
SearchParams lj7_occupied_params() {
  SearchParams p;
  p.pairs = SearchParams::PairRule::occupied;
  p.start_from_occupied = true;
  p.max_attempts = 200;
  p.stop_after_stale = 200;
  return p;
}

}  // namespace

TEST(EventSearch, LJ7PairsAreAdjacentToTheStart) {
  if (world_rank() != 0) return;
  const ReferenceLandscape ref = read_lj7_reference();
  const LocalModel m = free_cluster(pentagonal_bipyramid());
  const SearchParams p = lj7_occupied_params();
  const DomainSearch r = search_domain(m, p, 2026, 7);
  ASSERT_GE(r.pairs.size(), 1u);
  const auto id = [](double e) { return e; };
  const int gm = match(ref.minima, r.minima[0].energy, 1e-6, id);
  ASSERT_GE(gm, 0);
  std::vector<int> partners;
  int n_adjacent = 0;
  for (const TlsPair& t : r.pairs) {
    EXPECT_EQ(t.a, 0);
    // A push-over minimisation can land beyond the next minimum: the NEB then finds a minimum
    // between, and the row is kept as not adjacent (its band is not one event).
    EXPECT_EQ(t.adjacent, t.saddle.verified && t.saddle_connects && t.path.n_intermediate_minima == 0);
    if (!t.adjacent) continue;
    ++n_adjacent;
    const int b = match(ref.minima, r.minima[t.b].energy, 1e-6, id);
    ASSERT_GE(b, 0);
    partners.push_back(b);
    bool joined = false;
    for (const ReferenceSaddle& q : ref.saddles)
      joined |= std::min(gm, b) == q.lo && std::max(gm, b) == q.hi &&
                std::abs(q.energy - r.minima[0].energy - t.barrier) < 1e-6;
    EXPECT_TRUE(joined) << "pair to minimum " << r.minima[t.b].energy << " with barrier " << t.barrier
                        << " is not a reference transition state from the global minimum";
  }
  EXPECT_GE(n_adjacent, 2);  // the global minimum has direct transition states to 3 of the 4 minima
  std::printf("LJ7 occupied pairs: %zu, %d adjacent (partner minima:", r.pairs.size(), n_adjacent);
  for (int b : partners) std::printf(" %d", b);
  std::printf(")\n");
}

// The band's refined ends (neb.hpp, refine_band_ends) and the wells' axes (event_search.cpp) on the
// LJ7 pairs adjacent to the global minimum (argon ħ*):
//  * the refined band has 2 nodes more per level and end, each level halves its end segment, and the
//    refined nodes' slopes have the sign of the energies' change along the band;
//  * each end's axis, rebuilt here from the stored band alone — the chord from the minimum to the
//    band's point one zero-point length sqrt(ħ/ω) along it, ω² the curvature along the chord from
//    central differences of the gradient (not the model's Hessian) — gives the reported ω;
//  * E_qs is converged in the refinement: 3 levels (the default) against 5. (32 images with 3 levels
//    are printed, not asserted: see the measured values below.)
TEST(EventSearch, RefinedEndsAndWellAxesConvergeEqs) {
  if (world_rank() != 0) return;
  const LocalModel m = free_cluster(pentagonal_bipyramid());
  const SearchParams p = lj7_occupied_params();
  ASSERT_EQ(p.neb.end_levels, 3);
  const DomainSearch r = search_domain(m, p, 2026, 7);
  const double hbar = hbar_reduced(p.units);
  // The axis at one end of band b, and ω along it.
  auto axis = [&](const NebResult& b, bool front, double& omega) {
    const int n = static_cast<int>(b.images.size()), end = front ? 0 : n - 1, step = front ? 1 : -1;
    const Vector& x0 = b.images[end];
    auto dist = [&](int k) { return front ? b.arc[k] : b.arc.back() - b.arc[k]; };
    auto point = [&](double d) {  // linear between the nodes, never past the top
      d = std::min(d, dist(b.highest));
      int k = end;
      while (dist(k + step) < d) k += step;
      const double f = (d - dist(k)) / (dist(k + step) - dist(k));
      return Vector(b.images[k] + f * (b.images[k + step] - b.images[k]));
    };
    auto curvature = [&](const Vector& u) {
      Vector gp, gm;
      m.energy_gradient(x0 + 1e-4 * u, gp);
      m.energy_gradient(x0 - 1e-4 * u, gm);
      return u.dot(gp - gm) / 2e-4;
    };
    Vector u = (x0 - b.images[end + step]).normalized();
    for (int it = 0; it < 100; ++it) {
      omega = std::sqrt(curvature(u));
      const Vector next = (x0 - point(std::sqrt(hbar / omega))).normalized();
      const bool settled = (next - u).norm() < 1e-9;
      u = next;
      if (settled) break;
    }
    omega = std::sqrt(curvature(u));
    return u;
  };
  int checked = 0;
  for (const TlsPair& t : r.pairs) {
    if (!t.adjacent) continue;
    const NebResult& b = t.path;
    ASSERT_EQ(b.end_levels[0], 3);
    ASSERT_EQ(b.end_levels[1], 3);
    ASSERT_EQ(b.images.size(), 16u + 12u);
    // Each level's sub-band has 4 equal segments, spanning the 2 segments next to the end before it:
    // the nodes 0, 2, 4, 6 (and 8, 10 of the band) are 1, 2, 4, 8 (16, 32) end segments out.
    for (int k : {2, 4, 6}) EXPECT_NEAR(b.arc[k], (1 << (k / 2)) * b.arc[1], 0.05 * b.arc[k]) << "node " << k;
    // The refined nodes' slopes dV/ds point the way the energies go (B's sub-bands run from B: their
    // slopes change sign when spliced in): the band rises out of both minima.
    const int n = static_cast<int>(b.images.size());
    for (int k = 1; k <= 7; ++k) {
      EXPECT_GT(b.slope[k] * (b.energy[k + 1] - b.energy[k - 1]), 0.0) << "node " << k;
      EXPECT_GT(b.slope[n - 1 - k] * (b.energy[n - k] - b.energy[n - 2 - k]), 0.0) << "node " << n - 1 - k;
    }
    double wa = 0, wb = 0;
    axis(b, true, wa);
    axis(b, false, wb);
    EXPECT_NEAR(t.levels.omega_a, wa, 1e-5 * wa);
    EXPECT_NEAR(t.levels.omega_b, wb, 1e-5 * wb);
    // Convergence in the band's resolution.
    auto e_qs = [&](int images, int levels) {
      SearchParams q = p;
      q.neb.n_images = images;
      q.neb.end_levels = levels;
      const TlsPair u = analyse_pair(m, r.minima[t.a], r.minima[t.b], q, t.a, t.b, {t.saddle.x});
      return std::pair{u.levels.e_qs, u.path_length};
    };
    const double e3 = t.levels.e_qs, e0 = e_qs(16, 0).first, e5 = e_qs(16, 5).first;
    const auto [e32, length32] = e_qs(32, 3);
    std::printf(
        "LJ7 pair 0-%d: omega %.4f %.4f (rebuilt %.4f %.4f); E_qs 16 images: %.6f (0 levels), %.6f (3), "
        "%.6f (5); 32 images, 3 levels: %.6f (path %.4f, 16 images %.4f)\n",
        t.b, t.levels.omega_a, t.levels.omega_b, wa, wb, e0, e3, e5, e32, length32, t.path_length);
    // Measured: 3 against 5 levels within 0.08 %; 0 levels 0.6-2.9 % off. 32 images: within 0.2 % where
    // the band is the same path, -1.7 % and -17 % where its length grew by 0.7 % and 2.6 % (the coarser
    // band's interior, where the refinement starts, lies off the finer band's path: not an end effect).
    EXPECT_NEAR(e3, e5, 3e-3 * e5);
    ++checked;
  }
  EXPECT_GE(checked, 2);
}
