#include "tlsmap/md/bonds.hpp"

#include <algorithm>
#include <utility>

namespace tlsmap {

std::int64_t resolve_partners(const Beads& b, std::vector<int>& partner_local) {
  partner_local.assign(b.n_owned, -1);
  if (!b.has_partner) return 0;
  // (id, local index) of every local bead, sorted: each partner by binary search.
  std::vector<std::pair<std::int64_t, int>> by_id(b.n_local());
  for (int i = 0; i < b.n_local(); ++i) by_id[i] = {b.id[i], i};
  std::sort(by_id.begin(), by_id.end());
  for (int i = 0; i < b.n_owned; ++i) {
    const std::int64_t p = b.partner[i];
    if (p == 0) continue;
    auto it = std::lower_bound(by_id.begin(), by_id.end(), std::make_pair(p, -1));
    double best = 0.0;
    for (; it != by_id.end() && it->first == p; ++it) {
      const double d2 = (b.pos[it->second] - b.pos[i]).squaredNorm();
      if (partner_local[i] < 0 || d2 < best) partner_local[i] = it->second, best = d2;
    }
    if (partner_local[i] < 0) return b.id[i];
  }
  return 0;
}

void add_bond_terms(const LJTable& table, const HarmonicBond& bond, const std::vector<int>& partner_local, Beads& b,
                    PerBeadTerms& terms) {
  for (int i = 0; i < b.n_owned; ++i) {
    const int j = partner_local[i];
    if (j < 0) continue;
    const Vec3 d = b.pos[i] - b.pos[j];
    const double r2 = d.squaredNorm(), r = std::sqrt(r2);
    // Bond: F_i = −k (r − r0) d/r.
    double f_over_r = -bond.k * (r - bond.r0) / r;
    double e = 0.5 * bond.k * (r - bond.r0) * (r - bond.r0);
    // Exclusion: the pair loop added this pair's f/r and energy; take them out.
    const auto& p = table(b.species[i], b.species[j]);
    if (r2 < p.rc2) {
      const LennardJones::Result lj = LennardJones::evaluate(r2, p);
      f_over_r -= lj.f_over_r;
      e -= lj.energy;
    }
    const Vec3 f = f_over_r * d;
    b.force[i] += f;
    terms.energy[i] += 0.5 * e;
    // Pair virial r_a f_b, half per bead: xx, yy, zz, xy, xz, yz.
    terms.virial[0][i] += 0.5 * d[0] * f[0];
    terms.virial[1][i] += 0.5 * d[1] * f[1];
    terms.virial[2][i] += 0.5 * d[2] * f[2];
    terms.virial[3][i] += 0.5 * d[0] * f[1];
    terms.virial[4][i] += 0.5 * d[0] * f[2];
    terms.virial[5][i] += 0.5 * d[1] * f[2];
  }
}

}  // namespace tlsmap
