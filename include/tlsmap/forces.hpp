#pragma once
// The pair loop: forces on owned beads from a full neighbour list, with per-bead energy and virial.
//
// For owned bead i:  F_i = Σ_j (f/r)(r_ij) (x_i − x_j),   e_i = ½ Σ_j u(r_ij),
//                    W_i^{ab} = ½ Σ_j (f/r)(r_ij) (x_i − x_j)_a (x_i − x_j)_b,
// so Σ_i e_i is the potential energy and Σ_i tr W_i = Σ_pairs r·f is the pair virial.
// Kernels see positions and the neighbour list, never a communicator.
#include "tlsmap/beads.hpp"
#include "tlsmap/neighbor_list.hpp"
#include "tlsmap/pair_potential.hpp"

#include <array>
#include <vector>

namespace tlsmap {

struct PerBeadTerms {
  std::vector<double> energy;
  std::array<std::vector<double>, 6> virial;  // xx, yy, zz, xy, xz, yz
};

template <class Potential>
void compute_pair_forces(const PairTable<Potential>& table, const NeighborList& list, Beads& b, PerBeadTerms& out) {
  const int n = b.n_owned;
  out.energy.resize(n);
  for (auto& w : out.virial) w.resize(n);
  const Vec3* pos = b.pos.data();
  const int* species = b.species.data();
  for (int i = 0; i < n; ++i) {
    const double xi = pos[i][0], yi = pos[i][1], zi = pos[i][2];
    const int si = species[i];
    double fx = 0, fy = 0, fz = 0, e = 0, wxx = 0, wyy = 0, wzz = 0, wxy = 0, wxz = 0, wyz = 0;
    for (const int* it = list.row_begin(i); it != list.row_end(i); ++it) {
      const int j = *it;
      const double dx = xi - pos[j][0], dy = yi - pos[j][1], dz = zi - pos[j][2];
      const double r2 = dx * dx + dy * dy + dz * dz;
      const auto& p = table(si, species[j]);
      if (r2 >= p.rc2) continue;
      const auto r = Potential::evaluate(r2, p);
      fx += r.f_over_r * dx;
      fy += r.f_over_r * dy;
      fz += r.f_over_r * dz;
      e += r.energy;
      wxx += r.f_over_r * dx * dx;
      wyy += r.f_over_r * dy * dy;
      wzz += r.f_over_r * dz * dz;
      wxy += r.f_over_r * dx * dy;
      wxz += r.f_over_r * dx * dz;
      wyz += r.f_over_r * dy * dz;
    }
    b.force[i] = Vec3(fx, fy, fz);
    out.energy[i] = 0.5 * e;
    out.virial[0][i] = 0.5 * wxx;
    out.virial[1][i] = 0.5 * wyy;
    out.virial[2][i] = 0.5 * wzz;
    out.virial[3][i] = 0.5 * wxy;
    out.virial[4][i] = 0.5 * wxz;
    out.virial[5][i] = 0.5 * wyz;
  }
}

}  // namespace tlsmap
