// Material constants by finite strain with relaxation (include/tlsmap/material.hpp).
#include "tlsmap/material.hpp"

#include "tlsmap/error.hpp"
#include "tlsmap/lbfgs.hpp"
#include "tlsmap/reduction.hpp"

#include <cmath>

namespace tlsmap {

namespace {

// Stress σ = −W/V of the sample with the box and beads scaled by (1 + e_d) per dimension, relaxed.
Mat3 relaxed_stress(MPI_Comm comm, const Box& box, const Beads& beads, const LJTable& table, double skin,
                    Int3 proc_grid, const Vec3& e, double f_tol) {
  Box b = box;
  const Vec3 s = Vec3::Ones() + e;
  b.len = box.len.cwiseProduct(s);
  Beads copy = beads;
  copy.clear_ghosts();
  for (int i = 0; i < copy.n_owned; ++i) {
    Vec3 x = copy.pos[i];
    box.wrap(x);
    copy.pos[i] = b.lo + (x - box.lo).cwiseProduct(s);
    copy.image[i] = {0, 0, 0};
  }
  System sys(comm, b, table, skin, proc_grid);
  sys.set_beads(std::move(copy));
  LbfgsParams p;
  p.f_tol = f_tol;
  const MinimizeResult m = minimize_lbfgs(sys, p);
  if (!m.converged) throw Error("material constants: the strained sample did not relax to f_tol");
  sys.compute_forces();
  return -sys.thermo().virial / b.volume();
}

}  // namespace

MaterialConstants measure_material(MPI_Comm comm, const Box& box, const Beads& beads, const LJTable& table,
                                   double skin, Int3 proc_grid, double strain, double f_tol) {
  MaterialConstants c;
  c.strain = strain;
  std::int64_t n = beads.n_owned;
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, comm);
  c.density = c.mass_density = static_cast<double>(n) / box.volume();
  auto stress = [&](const Vec3& e) { return relaxed_stress(comm, box, beads, table, skin, proc_grid, e, f_tol); };
  const Mat3 s0 = stress(Vec3::Zero());
  c.pressure = -s0.trace() / 3.0;
  const double e = strain;
  const double p_plus = -stress(Vec3::Constant(e)).trace() / 3.0, p_minus = -stress(Vec3::Constant(-e)).trace() / 3.0;
  c.bulk_modulus = -(p_plus - p_minus) / (6.0 * e);
  double g[3];
  for (int k = 0; k < 3; ++k) {
    const int a = k, b = (k + 1) % 3;
    Vec3 d = Vec3::Zero();
    d[a] = e, d[b] = -e;
    const Mat3 sp = stress(d), sm = stress(-d);
    g[k] = ((sp(a, a) - sp(b, b)) - (sm(a, a) - sm(b, b))) / (8.0 * e);
  }
  c.shear_xy = g[0], c.shear_yz = g[1], c.shear_zx = g[2];
  c.shear_modulus = (g[0] + g[1] + g[2]) / 3.0;
  c.c_longitudinal = std::sqrt(std::max(0.0, (c.bulk_modulus + 4.0 * c.shear_modulus / 3.0) / c.mass_density));
  c.c_transverse = std::sqrt(std::max(0.0, c.shear_modulus / c.mass_density));

  // Affine (Born) bulk modulus from the pair sums of the reference configuration.
  System sys(comm, box, table, skin, proc_grid);
  Beads copy = beads;
  copy.clear_ghosts();
  sys.set_beads(std::move(copy));
  const Beads& bb = sys.beads();
  const NeighborList& list = sys.neighbor_list();
  std::vector<double> terms(bb.n_owned, 0.0);
  for (int i = 0; i < bb.n_owned; ++i)
    for (const int* j = list.row_begin(i); j < list.row_end(i); ++j) {
      const auto& p = table(bb.species[i], bb.species[*j]);
      const double r2 = (bb.pos[i] - bb.pos[*j]).squaredNorm();
      if (r2 >= p.rc2) continue;
      const double s2 = p.sigma2 / r2, s6 = s2 * s2 * s2, s12 = s6 * s6;
      const double r_u1 = 4.0 * p.epsilon * (-12.0 * s12 + 6.0 * s6);   // r u'
      const double r2_u2 = 4.0 * p.epsilon * (156.0 * s12 - 42.0 * s6);  // r² u''
      terms[i] += 0.5 * (r2_u2 - 2.0 * r_u1);                            // full list: each pair twice
    }
  c.bulk_born = reproducible_sum(comm, terms) / (9.0 * box.volume());
  return c;
}

}  // namespace tlsmap
