#pragma once
// The distributed Hessian against central differences of the engine's forces, shared by the tests
// of each pair model (test_interact: Kob–Andersen; test_polydisperse: soft spheres).
#include "tlsmap/core/random.hpp"
#include "tlsmap/md/hessian.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <vector>

namespace tlsmap::testing {

struct HessianCheck {
  double err = 0.0;    // max over beads and components of |H v − (F(x − hv) − F(x + hv))/2h|
  double scale = 0.0;  // max |H v|
};

// Collective. H v for a Gaussian v (Philox, keyed by bead id: rank-count independent) against the
// central difference of the forces with step h; positions and forces are restored afterwards.
inline HessianCheck hessian_vs_force_differences(System& sys, double h) {
  const BeadNumbering num(sys.beads(), sys.comm());
  MatHandle mat = assemble_hessian(sys, num);
  Beads& b = sys.beads();
  const int n = b.n_owned;
  std::vector<Vec3> v(n), x0(b.pos.begin(), b.pos.begin() + n), hv(n), fp(n), fm(n);
  for (int i = 0; i < n; ++i) v[i] = gaussian3(9, Stream::test, b.id[i], 0);
  VecHandle vv, out;
  EXPECT_EQ(MatCreateVecs(mat, vv.out(), out.out()), 0);
  PetscScalar* a;
  EXPECT_EQ(VecGetArray(vv, &a), 0);
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d) a[3 * i + d] = v[i][d];
  EXPECT_EQ(VecRestoreArray(vv, &a), 0);
  EXPECT_EQ(MatMult(mat, vv, out), 0);
  const PetscScalar* r;
  EXPECT_EQ(VecGetArrayRead(out, &r), 0);
  for (int i = 0; i < n; ++i) hv[i] = Vec3(r[3 * i], r[3 * i + 1], r[3 * i + 2]);
  EXPECT_EQ(VecRestoreArrayRead(out, &r), 0);
  for (double sgn : {1.0, -1.0}) {
    for (int i = 0; i < n; ++i) b.pos[i] = x0[i] + sgn * h * v[i];
    sys.positions_changed();
    sys.compute_forces();
    for (int i = 0; i < n; ++i) (sgn > 0 ? fp : fm)[i] = b.force[i];
  }
  for (int i = 0; i < n; ++i) b.pos[i] = x0[i];
  sys.positions_changed();
  sys.compute_forces();
  HessianCheck c;
  for (int i = 0; i < n; ++i) {
    c.err = std::max(c.err, (-(fp[i] - fm[i]) / (2 * h) - hv[i]).cwiseAbs().maxCoeff());
    c.scale = std::max(c.scale, hv[i].cwiseAbs().maxCoeff());
  }
  MPI_Allreduce(MPI_IN_PLACE, &c.err, 1, MPI_DOUBLE, MPI_MAX, sys.comm());
  MPI_Allreduce(MPI_IN_PLACE, &c.scale, 1, MPI_DOUBLE, MPI_MAX, sys.comm());
  return c;
}

}  // namespace tlsmap::testing
