// Distributed pair-potential Hessian (see include/tlsmap/md/hessian.hpp).
#include "tlsmap/md/hessian.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace tlsmap {

namespace {

PetscErrorCode make_ao(MPI_Comm comm, const Beads& beads, PetscInt first, AO* ao) {
  PetscFunctionBeginUser;
  std::vector<PetscInt> app(beads.n_owned), petsc(beads.n_owned);
  for (int i = 0; i < beads.n_owned; ++i) app[i] = static_cast<PetscInt>(beads.id[i] - 1), petsc[i] = first + i;
  PetscCall(AOCreateMemoryScalable(comm, beads.n_owned, app.data(), petsc.data(), ao));
  PetscFunctionReturn(0);
}

PetscErrorCode assemble(const System& sys, const BeadNumbering& num, Mat* out) {
  PetscFunctionBeginUser;
  const Beads& b = sys.beads();
  const int n = b.n_owned;
  // Block row of every local bead: owned by position, ghosts through the AO.
  std::vector<std::int64_t> ghost_ids(b.id.begin() + n, b.id.begin() + b.n_local());
  const std::vector<PetscInt> ghost_blocks = num.blocks_of(ghost_ids);
  std::vector<PetscInt> blk(b.n_local());
  for (int i = 0; i < n; ++i) blk[i] = num.first() + i;
  for (int g = 0; g < b.n_ghost; ++g) blk[n + g] = ghost_blocks[g];
  const PetscInt lo = num.first(), hi = num.first() + n;

  std::vector<PetscInt> d_nnz(n), o_nnz(n), cols;
  for (int i = 0; i < n; ++i) {
    cols.assign(1, blk[i]);
    for_each_pair_curvature(sys, i, [&](int j, const Vec3&, double, const PairCurvature&) { cols.push_back(blk[j]); });
    std::sort(cols.begin(), cols.end());
    cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
    for (PetscInt c : cols) (c >= lo && c < hi ? d_nnz[i] : o_nnz[i])++;
  }
  Mat h;
  PetscCall(MatCreate(num.comm(), &h));
  PetscCall(MatSetSizes(h, 3 * n, 3 * n, 3 * num.n_global(), 3 * num.n_global()));
  PetscCall(MatSetType(h, MATAIJ));  // AIJ with block size 3: GAMG (3.18) has no BAIJ graph
  PetscCall(MatSetBlockSize(h, 3));
  PetscCall(MatXAIJSetPreallocation(h, 3, d_nnz.data(), o_nnz.data(), nullptr, nullptr));
  PetscCall(MatSetOption(h, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  for (int i = 0; i < n; ++i) {
    Mat3 diag = Mat3::Zero();
    PetscErrorCode ierr = 0;
    for_each_pair_curvature(sys, i, [&](int j, const Vec3& r, double r2, const PairCurvature& c) {
      const Mat3 k = pair_block(r, r2, c);
      diag += k;
      PetscScalar v[9];
      for (int a = 0; a < 3; ++a)
        for (int d = 0; d < 3; ++d) v[3 * a + d] = -k(a, d);
      if (!ierr) ierr = MatSetValuesBlocked(h, 1, &blk[i], 1, &blk[j], v, ADD_VALUES);
    });
    PetscCall(ierr);
    PetscScalar v[9];
    for (int a = 0; a < 3; ++a)
      for (int c = 0; c < 3; ++c) v[3 * a + c] = diag(a, c);
    PetscCall(MatSetValuesBlocked(h, 1, &blk[i], 1, &blk[i], v, ADD_VALUES));
  }
  PetscCall(MatAssemblyBegin(h, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(h, MAT_FINAL_ASSEMBLY));
  PetscCall(MatSetOption(h, MAT_SYMMETRIC, PETSC_TRUE));
  *out = h;
  PetscFunctionReturn(0);
}

PetscErrorCode null_space(Mat h) {
  PetscFunctionBeginUser;
  Vec v[3];
  PetscInt n, lo, hi;
  PetscCall(MatGetSize(h, &n, nullptr));
  PetscCall(MatGetOwnershipRange(h, &lo, &hi));
  const double norm = 1.0 / std::sqrt(static_cast<double>(n / 3));
  for (int d = 0; d < 3; ++d) {
    PetscCall(MatCreateVecs(h, &v[d], nullptr));
    PetscScalar* a;
    PetscCall(VecGetArray(v[d], &a));
    for (PetscInt r = lo; r < hi; ++r) a[r - lo] = (r % 3 == d) ? norm : 0.0;
    PetscCall(VecRestoreArray(v[d], &a));
  }
  MatNullSpace ns;
  PetscCall(MatNullSpaceCreate(PetscObjectComm((PetscObject)h), PETSC_FALSE, 3, v, &ns));
  PetscCall(MatSetNullSpace(h, ns));
  PetscCall(MatSetNearNullSpace(h, ns));
  PetscCall(MatNullSpaceDestroy(&ns));
  for (int d = 0; d < 3; ++d) PetscCall(VecDestroy(&v[d]));
  PetscFunctionReturn(0);
}

PetscErrorCode clamp(Mat h, const BeadNumbering& num, const std::vector<std::int64_t>& ids) {
  PetscFunctionBeginUser;
  const std::vector<PetscInt> blocks = num.blocks_of(ids);
  std::vector<PetscInt> rows;
  const PetscInt lo = num.first(), hi = num.first() + num.n_owned();
  for (PetscInt b : blocks)
    if (b >= lo && b < hi)
      for (int d = 0; d < 3; ++d) rows.push_back(3 * b + d);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  PetscCall(MatZeroRowsColumns(h, static_cast<PetscInt>(rows.size()), rows.data(), 1.0, nullptr, nullptr));
  PetscFunctionReturn(0);
}

PetscErrorCode ksp_for(MPI_Comm comm, Mat h, double rtol, KSP* out) {
  PetscFunctionBeginUser;
  KSP ksp;
  PC pc;
  PetscCall(KSPCreate(comm, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, "hessian_"));
  PetscCall(KSPSetOperators(ksp, h, h));
  PetscCall(KSPSetType(ksp, KSPCG));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCGAMG));
  PetscCall(KSPSetTolerances(ksp, rtol, 1e-50, PETSC_DEFAULT, 20000));
  PetscCall(KSPSetFromOptions(ksp));
  *out = ksp;
  PetscFunctionReturn(0);
}

}  // namespace

PairCurvature lj_pair_curvature(double r2, const LennardJones::Params& p) {
  const double s2 = p.sigma2 / r2, s6 = s2 * s2 * s2, s12 = s6 * s6;
  return {-24.0 * p.epsilon * s6 * (2.0 * s6 - 1.0) / r2,  // u'/r = −f/r
          4.0 * p.epsilon * (156.0 * s12 - 42.0 * s6) / r2};
}

PairCurvature soft_sphere_pair_curvature(double r2, double sigma_ij) {
  using P = PolydisperseSoftSphere;
  const double inv_s2 = 1.0 / (sigma_ij * sigma_ij), y2 = r2 * inv_s2, inv_y2 = (sigma_ij * sigma_ij) / r2;
  const double inv_y14 = inv_y2 * inv_y2 * inv_y2 * inv_y2 * inv_y2 * inv_y2 * inv_y2;
  // u = y⁻¹² + c0 + c2 y² + c4 y⁴ with y = r/σ: u'/r = (−12 y⁻¹⁴ + 2 c2 + 4 c4 y²)/σ²,
  // u'' = (156 y⁻¹⁴ + 2 c2 + 12 c4 y²)/σ².
  return {inv_s2 * (-12.0 * inv_y14 + 2.0 * P::c2 + 4.0 * P::c4 * y2),
          inv_s2 * (156.0 * inv_y14 + 2.0 * P::c2 + 12.0 * P::c4 * y2)};
}

bool pair_curvature(const System& sys, int i, int j, double r2, PairCurvature* c) {
  const Beads& b = sys.beads();
  const Model& m = sys.model();
  if (m.has_diameters()) {
    const double s = PolydisperseSoftSphere::mix(b.diameter[i], b.diameter[j]);
    if (r2 >= PolydisperseSoftSphere::kCutRatio2 * s * s) return false;
    *c = soft_sphere_pair_curvature(r2, s);
    return true;
  }
  const auto& p = m.table(b.species[i], b.species[j]);
  if (r2 >= p.rc2) return false;
  *c = lj_pair_curvature(r2, p);
  return true;
}

Mat3 pair_block(const Vec3& r, double r2, const PairCurvature& c) {
  const Mat3 uu = r * r.transpose() / r2;
  return c.u2 * uu + c.u1_over_r * (Mat3::Identity() - uu);
}

BeadNumbering::BeadNumbering(const Beads& beads, MPI_Comm comm) : comm_(comm), n_owned_(beads.n_owned) {
  PetscInt first = 0, n = n_owned_;
  MPI_Exscan(&n, &first, 1, MPIU_INT, MPI_SUM, comm);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  first_ = rank == 0 ? 0 : first;
  MPI_Allreduce(&n, &n_global_, 1, MPIU_INT, MPI_SUM, comm);
  petsc_check(make_ao(comm, beads, first_, ao_.out()), "bead numbering (AO)");
}

std::vector<PetscInt> BeadNumbering::blocks_of(const std::vector<std::int64_t>& ids) const {
  std::vector<PetscInt> idx(ids.size());
  for (std::size_t k = 0; k < ids.size(); ++k) idx[k] = static_cast<PetscInt>(ids[k] - 1);
  petsc_check(AOApplicationToPetsc(ao_, static_cast<PetscInt>(idx.size()), idx.data()), "bead numbering lookup");
  bool ok = true;
  for (PetscInt b : idx) ok = ok && b >= 0;
  if (!ok) throw Error("bead numbering: an id is not numbered");
  return idx;
}

MatHandle assemble_hessian(const System& sys, const BeadNumbering& num) {
  const ScopedLogEvent event(LogEvent::hessian_assembly);
  MatHandle h;
  petsc_check(assemble(sys, num, h.out()), "Hessian assembly");
  return h;
}

void attach_translation_null_space(Mat h) { petsc_check(null_space(h), "Hessian null space"); }

void clamp_beads(Mat h, const BeadNumbering& num, const std::vector<std::int64_t>& ids) {
  petsc_check(clamp(h, num, ids), "Hessian clamping");
}

KSPHandle make_hessian_ksp(MPI_Comm comm, Mat h, double rtol) {
  KSPHandle k;
  petsc_check(ksp_for(comm, h, rtol, k.out()), "Hessian KSP set-up");
  return k;
}

int solve_checked(KSP ksp, Vec b, Vec x, const char* what) {
  petsc_check(KSPSolve(ksp, b, x), what);
  KSPConvergedReason reason;
  PetscInt its;
  petsc_check(KSPGetConvergedReason(ksp, &reason), what);
  petsc_check(KSPGetIterationNumber(ksp, &its), what);
  if (reason < 0) {
    std::ostringstream msg;
    msg << what << ": KSP diverged (" << KSPConvergedReasons[reason] << ") after " << its
        << " iterations; try -hessian_ksp_monitor or -hessian_pc_type";
    throw Error(msg.str());
  }
  return static_cast<int>(its);
}

}  // namespace tlsmap
