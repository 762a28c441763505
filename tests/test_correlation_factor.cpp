// The null test of the correlation factor g = |μ_T|² / Σ_b |Δμ_b|² (docs/dipole.md, issue 20): with
// passive charges, each bond's sign drawn independently (the charge stage's bond_charges), g averages
// exactly 1 over the signs whatever the displacements are, so over many pseudo-TLS its mean must come
// out 1.00 ± 0.05. Computed with the dipole stage's own functions (direct_dipole, bond_dipole_changes)
// on 2000 pseudo-TLS in a 1000-bead jittered-lattice glass paired by the charge stage's matching:
// each a localised random displacement field (Gaussian envelope of width 1 σ around a random centre,
// random directions, beads within 3 σ mobile) with its own sign seed. Serial; run at 1, 2 and 4 ranks
// alike.
//  * mean g within 0.05 of 1 and within 4 standard errors;
//  * the test's power: the same displacements with each bond's sign chosen so that its Δμ_b points
//    along +z (a maximally correlated polar response) give mean g > 1.5.
#include "tlsmap/core/random.hpp"
#include "tlsmap/couplings/dipole.hpp"
#include "tlsmap/io/catalogue.hpp"
#include "tlsmap/stages/charge.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

using namespace tlsmap;

namespace {

constexpr int kSide = 10, kPseudoTls = 2000;
constexpr double kRadius = 3.0, kWidth = 1.0, kAmplitude = 0.3;

// Pseudo-TLS k: beads within kRadius of a random centre move by kAmplitude·exp(−r²/2w²) along a
// random direction each.
TlsSet pseudo_tls(const std::vector<Vec3>& pos, const Box& box) {
  TlsSet t;
  t.offset.push_back(0);
  for (int k = 0; k < kPseudoTls; ++k) {
    const auto u = uniform4(31, Stream::test, k + 1, 0);
    const Vec3 c = box.lo + Vec3(u[0], u[1], u[2]).cwiseProduct(box.len);
    t.center.push_back(c);
    t.radius.push_back(kRadius);
    for (std::size_t i = 0; i < pos.size(); ++i) {
      const Vec3 r = box.minimum_image(Vec3(pos[i] - c));
      if (r.norm() >= kRadius) continue;
      const Vec3 dir = gaussian3(31, Stream::test, i + 1, k + 1).normalized();
      t.id.push_back(static_cast<std::int64_t>(i) + 1);
      t.pos_a.push_back(pos[i]);
      t.pos_b.push_back(pos[i] + kAmplitude * std::exp(-0.5 * r.squaredNorm() / (kWidth * kWidth)) * dir);
    }
    t.offset.push_back(static_cast<std::int64_t>(t.id.size()));
  }
  return t;
}

struct Mean {
  double mean = 0.0, se = 0.0;
};

Mean mean_of(const std::vector<double>& g) {
  Mean m;
  for (double x : g) m.mean += x;
  m.mean /= static_cast<double>(g.size());
  double var = 0.0;
  for (double x : g) var += (x - m.mean) * (x - m.mean);
  m.se = std::sqrt(var / static_cast<double>(g.size() - 1) / static_cast<double>(g.size()));
  return m;
}

}  // namespace

TEST(CorrelationFactor, RandomSignsGiveOneOnAverage) {
  const Box box = tlsmap::testing::ka_box(kSide);
  const Beads b = tlsmap::testing::jittered_lattice(kSide, box, 0.15, 1, 17, true);
  const std::vector<Vec3> pos(b.pos.begin(), b.pos.begin() + b.n_owned);
  const auto n = static_cast<std::int64_t>(pos.size());
  const BondSet bonds = pair_beads(pos, box, 1.2, 2.0);
  std::vector<std::int64_t> partner(n, 0);
  for (const auto& [i, j] : bonds.bonds) partner[i - 1] = j, partner[j - 1] = i;
  const TlsSet tls = pseudo_tls(pos, box);

  std::vector<double> g_random, g_aligned;
  long bonds_seen = 0;
  for (std::size_t k = 0; k < tls.size(); ++k) {
    // Independent signs per pseudo-TLS (seed k), as the charge stage draws them.
    const std::vector<double> q = bond_charges(bonds, n, 1.0, 1000 + k);
    const BondDipoleChanges c = bond_dipole_changes(tls, k, q, partner, box);
    ASSERT_GT(c.sum_dmu2, 0.0);
    g_random.push_back(direct_dipole(tls, k, q, box).squaredNorm() / c.sum_dmu2);
    bonds_seen += c.n_bonds;
    // Correlated: every bond's pair of charges turned so that its Δμ_b has Δμ_b·z ≥ 0.
    std::vector<double> qa = q;
    for (std::int64_t r = tls.begin(k); r < tls.end(k); ++r) {
      const std::int64_t i = tls.id[r], j = partner[i - 1];
      if (j == 0 || j < i) continue;  // each bond once, from its smaller id
      Vec3 dj = Vec3::Zero();
      for (std::int64_t s = tls.begin(k); s < tls.end(k); ++s)
        if (tls.id[s] == j) dj = tls.pos_b[s] - tls.pos_a[s];
      const Vec3 dmu = q[i - 1] * ((tls.pos_b[r] - tls.pos_a[r]) - dj);
      if (dmu[2] < 0.0) qa[i - 1] = -qa[i - 1], qa[j - 1] = -qa[j - 1];
    }
    const BondDipoleChanges ca = bond_dipole_changes(tls, k, qa, partner, box);
    g_aligned.push_back(direct_dipole(tls, k, qa, box).squaredNorm() / ca.sum_dmu2);
  }
  const Mean r = mean_of(g_random), a = mean_of(g_aligned);
  EXPECT_NEAR(r.mean, 1.0, 0.05);
  EXPECT_LE(std::abs(r.mean - 1.0), 4.0 * r.se);
  EXPECT_GT(a.mean, 1.5);
  if (tlsmap::testing::world_rank() == 0)
    std::printf(
        "%d pseudo-TLS, %ld bonds in all (%zu bonds, %zu unpaired beads): random signs g = %.4f +- %.4f; "
        "aligned signs g = %.3f +- %.3f\n",
        kPseudoTls, bonds_seen, bonds.bonds.size(), bonds.unpaired.size(), r.mean, r.se, a.mean, a.se);
}
