// Distributed pair-potential Hessian (see include/tlsmap/md/hessian.hpp).
#include "tlsmap/md/hessian.hpp"

#include "tlsmap/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
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

PetscErrorCode assemble(const System& sys, const BeadNumbering& num, const BlockRows& rows, Mat* out) {
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
    rows(i, [&](int j, const Mat3&) { cols.push_back(blk[j]); });
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
    rows(i, [&](int j, const Mat3& k) {
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

PetscErrorCode ksp_for(MPI_Comm comm, Mat a, Mat h, KSPType type, double rtol, KSP* out) {
  PetscFunctionBeginUser;
  KSP ksp;
  PC pc;
  PetscCall(KSPCreate(comm, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, "hessian_"));
  PetscCall(KSPSetOperators(ksp, a, h));
  PetscCall(KSPSetType(ksp, type));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCGAMG));
  // The multigrid's finest level on the assembled matrix alone: PCMG's default (Amat there) applied a
  // matrix-free part (the charges' grid) in every smoothing step, four times the cost of a GMRES
  // iteration for the same iteration count (interact on a 200-bead polar glass: 20 s → 4.6 s).
  PetscCall(PCSetUseAmat(pc, PETSC_FALSE));
  PetscCall(KSPSetTolerances(ksp, rtol, 1e-50, PETSC_DEFAULT, 20000));
  // GMRES (the matrix-free operator): a Krylov space of 100 instead of PETSc's 30 before a restart.
  if (std::string(type) == KSPGMRES) PetscCall(KSPGMRESSetRestart(ksp, 100));
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

PairCurvature bond_curvature(double r2, const HarmonicBond& bond) {
  const double r = std::sqrt(r2);
  return {bond.k * (r - bond.r0) / r, bond.k};
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

MatHandle assemble_blocks(const System& sys, const BeadNumbering& num, const BlockRows& rows) {
  MatHandle h;
  petsc_check(assemble(sys, num, rows, h.out()), "Hessian assembly");
  return h;
}

MatHandle assemble_hessian(const System& sys, const BeadNumbering& num) {
  const ScopedLogEvent event(LogEvent::hessian_assembly);
  return assemble_blocks(sys, num, [&](int i, const BlockVisitor& visit) {
    for_each_pair_curvature(
        sys, i, [&](int j, const Vec3& r, double r2, const PairCurvature& c) { visit(j, pair_block(r, r2, c)); });
  });
}

void attach_translation_null_space(Mat h) { petsc_check(null_space(h), "Hessian null space"); }

void clamp_beads(Mat h, const BeadNumbering& num, const std::vector<std::int64_t>& ids) {
  petsc_check(clamp(h, num, ids), "Hessian clamping");
}

// The shell's context: y = A x + M Σ_parts H_p (M x), M the mask of free rows (1) and clamped ones (0).
struct HessianOperator::Impl {
  MatHandle matrix, shell;
  std::vector<std::shared_ptr<HessianPart>> parts;
  VecHandle mask, tx, ty;  // mask empty: nothing clamped

  static PetscErrorCode mult(Mat shell, Vec x, Vec y) {
    PetscFunctionBeginUser;
    Impl* self;
    PetscCall(MatShellGetContext(shell, &self));
    PetscCall(MatMult(self->matrix, x, y));
    if (self->mask) PetscCall(VecPointwiseMult(self->tx, self->mask, x));
    else PetscCall(VecCopy(x, self->tx));
    PetscCall(VecSet(self->ty, 0.0));
    try {
      for (const auto& p : self->parts) p->add_product(self->tx, self->ty);
    } catch (const std::exception& e) {
      SETERRQ(PetscObjectComm((PetscObject)shell), PETSC_ERR_LIB, "%s", e.what());
    }
    if (self->mask) PetscCall(VecPointwiseMult(self->ty, self->mask, self->ty));
    PetscCall(VecAXPY(y, 1.0, self->ty));
    PetscFunctionReturn(0);
  }

  // The shell around `matrix` (the parts present), with its work vectors.
  void make_shell() {
    PetscInt m, n, gm, gn;
    petsc_check(MatGetLocalSize(matrix, &m, &n), "Hessian operator");
    petsc_check(MatGetSize(matrix, &gm, &gn), "Hessian operator");
    const MPI_Comm comm = PetscObjectComm((PetscObject)(Mat)matrix);
    petsc_check(MatCreateShell(comm, m, n, gm, gn, this, shell.out()), "Hessian operator");
    petsc_check(MatShellSetOperation(shell, MATOP_MULT, (void (*)(void))mult), "Hessian operator");
    petsc_check(MatSetBlockSize(shell, 3), "Hessian operator");
    petsc_check(MatCreateVecs(matrix, tx.out(), ty.out()), "Hessian operator");
  }
};

HessianOperator::HessianOperator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HessianOperator::~HessianOperator() = default;
HessianOperator::HessianOperator(HessianOperator&&) noexcept = default;
HessianOperator& HessianOperator::operator=(HessianOperator&&) noexcept = default;

HessianOperator::HessianOperator(const System& sys, const BeadNumbering& num) : impl_(std::make_unique<Impl>()) {
  impl_->matrix = assemble_hessian(sys, num);
  for (const auto& term : sys.force_terms()) {
    std::shared_ptr<HessianPart> part = term->hessian_part(sys, num);
    if (!part) throw Error("Hessian: a force term of this System has no Hessian part");
    MatHandle b = part->blocks();
    if (b) petsc_check(MatAXPY(impl_->matrix, 1.0, b, DIFFERENT_NONZERO_PATTERN), "Hessian: a force term's blocks");
    impl_->parts.push_back(std::move(part));
  }
  petsc_check(MatSetOption(impl_->matrix, MAT_SYMMETRIC, PETSC_TRUE), "Hessian operator");
  if (!impl_->parts.empty()) impl_->make_shell();
}

Mat HessianOperator::matrix() const { return impl_->matrix; }
Mat HessianOperator::op() const { return impl_->parts.empty() ? Mat(impl_->matrix) : Mat(impl_->shell); }
bool HessianOperator::matrix_free() const { return !impl_->parts.empty(); }

HessianOperator HessianOperator::clamped(const BeadNumbering& num, const std::vector<std::int64_t>& ids) const {
  auto c = std::make_unique<Impl>();
  petsc_check(MatDuplicate(impl_->matrix, MAT_COPY_VALUES, c->matrix.out()), "Hessian clamping");
  clamp_beads(c->matrix, num, ids);
  c->parts = impl_->parts;
  if (!c->parts.empty()) {
    c->make_shell();
    petsc_check(MatCreateVecs(c->matrix, c->mask.out(), nullptr), "Hessian clamping");
    if (impl_->mask) petsc_check(VecCopy(impl_->mask, c->mask), "Hessian clamping");
    else petsc_check(VecSet(c->mask, 1.0), "Hessian clamping");
    const std::vector<PetscInt> blocks = num.blocks_of(ids);
    PetscScalar* a;
    petsc_check(VecGetArray(c->mask, &a), "Hessian clamping");
    for (PetscInt b : blocks)
      if (b >= num.first() && b < num.first() + num.n_owned())
        for (int d = 0; d < 3; ++d) a[3 * (b - num.first()) + d] = 0.0;
    petsc_check(VecRestoreArray(c->mask, &a), "Hessian clamping");
  }
  return HessianOperator(std::move(c));
}

void HessianOperator::attach_translation_null_space() {
  tlsmap::attach_translation_null_space(impl_->matrix);
  if (!impl_->parts.empty()) {
    MatNullSpace ns;
    petsc_check(MatGetNullSpace(impl_->matrix, &ns), "Hessian null space");
    petsc_check(MatSetNullSpace(impl_->shell, ns), "Hessian null space");
  }
}

KSPHandle make_hessian_ksp(MPI_Comm comm, Mat h, double rtol) {
  KSPHandle k;
  petsc_check(ksp_for(comm, h, h, KSPCG, rtol, k.out()), "Hessian KSP set-up");
  return k;
}

KSPHandle make_hessian_ksp(MPI_Comm comm, const HessianOperator& h, double rtol) {
  KSPHandle k;
  petsc_check(ksp_for(comm, h.op(), h.matrix(), h.matrix_free() ? KSPGMRES : KSPCG, rtol, k.out()),
              "Hessian KSP set-up");
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
