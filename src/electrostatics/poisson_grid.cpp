#include "tlsmap/electrostatics/poisson_grid.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/reduction.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

namespace tlsmap {

namespace {

constexpr double four_pi = 4.0 * std::numbers::pi;

double coord(const Box& box, int n, int d, int i) { return box.lo[d] + box.len[d] * i / n; }

// First node of slab k along d: the smallest i with x_i ≥ boundary(d, k) — the same test the bead
// ownership uses, so a rank owns exactly the nodes inside its subdomain.
int first_node(const Decomposition& dec, int n, int d, int k) {
  if (k == dec.dims()[d]) return n;
  const double b = dec.boundary(d, k);
  int i = std::clamp(static_cast<int>(std::ceil((b - dec.box().lo[d]) / dec.box().len[d] * n)), 0, n);
  while (i > 0 && coord(dec.box(), n, d, i - 1) >= b) --i;
  while (i < n && coord(dec.box(), n, d, i) < b) ++i;
  return i;
}

}  // namespace

std::vector<double> central_difference_coefficients(int order) {
  if (order < 2 || order > 16 || order % 2) throw Error("Poisson grid: order must be 2, 4, ..., 16");
  const int p = order / 2;
  // c_m = 2 (−1)^(m+1) (p!)² / (m² (p−m)! (p+m)!)  (Fornberg's central weights, as ratios of factorials)
  auto fact = [](int k) {
    double f = 1.0;
    for (int i = 2; i <= k; ++i) f *= i;
    return f;
  };
  std::vector<double> c(p);
  for (int m = 1; m <= p; ++m)
    c[m - 1] = 2.0 * (m % 2 ? 1.0 : -1.0) * fact(p) * fact(p) / (double(m) * m * fact(p - m) * fact(p + m));
  return c;
}

PoissonGrid::PoissonGrid(const Decomposition& decomp, const PoissonGridOptions& opt, const Dielectric& eps)
    : decomp_(decomp), eps_(eps), sigma_(opt.sigma), order_(opt.order) {
  const Box& box = decomp.box();
  const Int3& dims = decomp.dims();
  if (!(opt.spacing > 0.0) || !(opt.sigma > 0.0) || !(opt.kernel_cutoff > 0.0))
    throw Error("Poisson grid: spacing, sigma and kernel_cutoff must be positive");
  if (order_ != 2) coef_ = central_difference_coefficients(order_);
  if (order_ != 2 && !eps.spheres().empty())
    throw Error("Poisson grid: order " + std::to_string(order_) +
                " needs a uniform dielectric (use order 2 with spheres)");
  // Multigrid halves the grid per level: the coarsest grid keeps ≥ max(4, 2·dims) nodes per
  // dimension (≥ 2 per rank); n is the smallest multiple of 2^(levels−1) with spacing ≤ h.
  Int3 target;
  for (int d = 0; d < 3; ++d) target[d] = static_cast<int>(std::ceil(box.len[d] / opt.spacing - 1e-9));
  levels_ = opt.levels;
  if (levels_ <= 0) {
    levels_ = 1;
    for (int l = 2; l <= 8; ++l) {
      bool ok = true;
      for (int d = 0; d < 3; ++d) ok = ok && (target[d] >> (l - 1)) >= std::max(4, 2 * dims[d]);
      if (!ok) break;
      levels_ = l;
    }
  }
  const int f = 1 << (levels_ - 1);
  for (int d = 0; d < 3; ++d) {
    n_[d] = f * ((target[d] + f - 1) / f);
    h_[d] = box.len[d] / n_[d];
  }
  s_ = 1;
  for (int d = 0; d < 3; ++d) s_ = std::max(s_, static_cast<int>(std::ceil(opt.kernel_cutoff * opt.sigma / h_[d])));
  s_ = std::max(s_, order_ / 2);  // the high-order stencil reads its neighbours through the wide ghosts
  // A bead up to `drift` outside the subdomain (it moved since the last migration) still spreads
  // into this rank's ghost nodes.
  if (!(opt.drift >= 0.0)) throw Error("Poisson grid: the drift allowance must be ≥ 0");
  w_ = s_ + static_cast<int>(std::ceil(opt.drift / h_.minCoeff()));
  for (int d = 0; d < 3; ++d) {
    int narrowest = n_[d];
    for (int k = 0; k < dims[d]; ++k)
      narrowest = std::min(narrowest, first_node(decomp, n_[d], d, k + 1) - first_node(decomp, n_[d], d, k));
    if (narrowest < w_ || n_[d] < 2 * s_ + 1) {
      std::ostringstream msg;
      msg << "Poisson grid: " << n_[d] << " nodes along dimension " << d << " over " << dims[d] << " ranks leave "
          << narrowest << " per rank, fewer than the kernel support of " << w_
          << " nodes (kernel_cutoff·sigma/h, plus the drift allowance); use a coarser spacing, a smaller sigma or "
             "fewer ranks";
      throw Error(msg.str());
    }
  }
  petsc_check(set_up(opt), "Poisson grid set-up");
  // The DMDA must have put each rank's nodes inside that rank's bead subdomain.
  bool inside = true;
  for (int d = 0; d < 3; ++d)
    inside = inside && m_[d] > 0 && coord(box, n_[d], d, lo_[d]) >= decomp.sub_lo()[d] &&
             coord(box, n_[d], d, lo_[d] + m_[d] - 1) < decomp.sub_hi()[d];
  agree(decomp.comm(), inside, "DMDA ownership does not match the bead decomposition");
}

Vec3 PoissonGrid::node(const Int3& i) const {
  const Box& b = decomp_.box();
  return Vec3(coord(b, n_[0], 0, i[0]), coord(b, n_[1], 1, i[1]), coord(b, n_[2], 2, i[2]));
}

PetscErrorCode PoissonGrid::set_up(const PoissonGridOptions& opt) {
  PetscFunctionBeginUser;
  const ScopedLogEvent event(LogEvent::poisson_setup);  // ended on every return path
  PetscCall(set_up_grids());
  PetscCall(set_up_solver(opt));
  PetscFunctionReturn(0);
}

// The two DMDAs on the bead process grid (star stencil for the solve, box stencil of width w_ for
// spreading and interpolation) and their vectors.
PetscErrorCode PoissonGrid::set_up_grids() {
  PetscFunctionBeginUser;
  const Int3& dims = decomp_.dims();
  std::vector<PetscInt> own[3];
  for (int d = 0; d < 3; ++d)
    for (int k = 0; k < dims[d]; ++k)
      own[d].push_back(first_node(decomp_, n_[d], d, k + 1) - first_node(decomp_, n_[d], d, k));
  const auto P = DM_BOUNDARY_PERIODIC;
  PetscCall(DMDACreate3d(decomp_.comm(), P, P, P, DMDA_STENCIL_STAR, n_[0], n_[1], n_[2], dims[0], dims[1], dims[2], 1,
                         1, own[0].data(), own[1].data(), own[2].data(), da_.out()));
  PetscCall(DMSetUp(da_));
  PetscCall(DMDACreate3d(decomp_.comm(), P, P, P, DMDA_STENCIL_BOX, n_[0], n_[1], n_[2], dims[0], dims[1], dims[2], 1,
                         w_, own[0].data(), own[1].data(), own[2].data(), da_wide_.out()));
  PetscCall(DMSetUp(da_wide_));
  PetscInt xs, ys, zs, xm, ym, zm;
  PetscCall(DMDAGetCorners(da_, &xs, &ys, &zs, &xm, &ym, &zm));
  lo_ = {xs, ys, zs}, m_ = {xm, ym, zm};
  PetscCall(DMCreateGlobalVector(da_wide_, charge_.out()));
  PetscCall(VecSet(charge_, 0.0));
  PetscCall(DMCreateGlobalVector(da_, phi_.out()));
  PetscCall(VecSet(phi_, 0.0));
  PetscCall(DMCreateLocalVector(da_, phi_local_.out()));
  PetscCall(DMCreateLocalVector(da_wide_, phi_wide_.out()));
  PetscCall(VecSet(phi_local_, 0.0));
  PetscCall(VecSet(phi_wide_, 0.0));

  PetscCall(DMCreateGlobalVector(da_, rhs_.out()));
  PetscCall(DMCreateGlobalVector(da_, sol_.out()));
  PetscCall(VecSet(sol_, 0.0));
  PetscFunctionReturn(0);
}

// CG preconditioned by geometric multigrid (Chebyshev–Jacobi smoothers, SVD on the singular
// coarsest level), on the 7-point or the high-order operator.
PetscErrorCode PoissonGrid::set_up_solver(const PoissonGridOptions& opt) {
  PetscFunctionBeginUser;
  // The DM gives multigrid its hierarchy and re-discretises the 7-point operator on every coarse
  // level (compute_operators); the fine-level operators are ours (DM inactive): the assembled
  // 7-point matrix as preconditioner, and either the same matrix or the high-order MatShell as A.
  PetscCall(KSPCreate(decomp_.comm(), ksp_.out()));
  PetscCall(KSPSetOptionsPrefix(ksp_, "poisson_"));
  PetscCall(KSPSetDM(ksp_, da_));
  PetscCall(KSPSetDMActive(ksp_, PETSC_FALSE));
  PetscCall(KSPSetComputeOperators(ksp_, compute_operators, this));
  PetscCall(DMCreateMatrix(da_, pre_.out()));
  PetscCall(compute_operators(ksp_, pre_, pre_, this));
  if (order_ != 2) {
    PetscInt n_local;
    PetscCall(VecGetLocalSize(rhs_, &n_local));
    const PetscInt n_global = static_cast<PetscInt>(n_[0]) * n_[1] * n_[2];
    PetscCall(MatCreateShell(decomp_.comm(), n_local, n_local, n_global, n_global, this, op_.out()));
    PetscCall(MatShellSetOperation(op_, MATOP_MULT, reinterpret_cast<void (*)(void)>(apply_high_order)));
    MatNullSpace ns;
    PetscCall(MatNullSpaceCreate(decomp_.comm(), PETSC_TRUE, 0, nullptr, &ns));
    PetscCall(MatSetNullSpace(op_, ns));
    PetscCall(MatSetTransposeNullSpace(op_, ns));
    PetscCall(MatNullSpaceDestroy(&ns));
    PetscCall(DMCreateLocalVector(da_wide_, work_wide_.out()));
  }
  PetscCall(KSPSetOperators(ksp_, order_ != 2 ? static_cast<Mat>(op_) : static_cast<Mat>(pre_), pre_));
  PetscCall(KSPSetInitialGuessNonzero(ksp_, opt.reuse_solution ? PETSC_TRUE : PETSC_FALSE));
  PetscCall(KSPSetType(ksp_, KSPCG));
  PetscCall(KSPSetTolerances(ksp_, opt.rtol, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
  PC pc, coarse_pc;
  KSP coarse;
  PetscCall(KSPGetPC(ksp_, &pc));
  PetscCall(PCSetType(pc, PCMG));
  PetscCall(PCMGSetLevels(pc, levels_, nullptr));
  // The coarsest problem is singular (periodic): LU would only work by luck, SVD is exact.
  PetscCall(PCMGGetCoarseSolve(pc, &coarse));
  PetscCall(KSPSetType(coarse, KSPPREONLY));
  PetscCall(KSPGetPC(coarse, &coarse_pc));
  PetscCall(PCSetType(coarse_pc, PCSVD));
  // Multigrid works on the 7-point P only (smoothers and residuals included): with the high-order A
  // on the fine level the V-cycle costs 2× more and saves only 3 of 10 CG iterations (bench).
  PetscCall(PCSetUseAmat(pc, PETSC_FALSE));
  // Smoothers: PETSc's Chebyshev with point Jacobi instead of SOR — a vectorised sweep, 1.3–1.5×
  // faster per solve in our (noisy) runs at the same iteration count (bench/bench_coulomb.cpp).
  for (int l = 1; l < levels_; ++l) {
    KSP smoother;
    PC smoother_pc;
    PetscCall(PCMGGetSmoother(pc, l, &smoother));
    PetscCall(KSPGetPC(smoother, &smoother_pc));
    PetscCall(PCSetType(smoother_pc, PCJACOBI));
  }
  PetscCall(KSPSetFromOptions(ksp_));
  PetscCall(KSPSetUp(ksp_));
  PetscFunctionReturn(0);
}

// Re-discretises on whatever level's DMDA the KSP hands in (multigrid calls it on each level).
PetscErrorCode PoissonGrid::compute_operators(KSP ksp, Mat A, Mat P, void* ctx) {
  PetscFunctionBeginUser;
  const auto* g = static_cast<const PoissonGrid*>(ctx);
  const Box& box = g->decomp_.box();
  DM da;
  PetscInt nx, ny, nz, xs, ys, zs, xm, ym, zm;
  PetscCall(KSPGetDM(ksp, &da));
  PetscCall(DMDAGetInfo(da, nullptr, &nx, &ny, &nz, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr, nullptr));
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  const Int3 n{nx, ny, nz};
  const Vec3 h(box.len[0] / nx, box.len[1] / ny, box.len[2] / nz);
  // Cell values of ε on the owned nodes plus one layer, evaluated at wrapped positions so both
  // ranks sharing a face compute the same number (the matrix stays exactly symmetric).
  const int ex = xm + 2, ey = ym + 2;
  std::vector<double> e(static_cast<std::size_t>(ex) * ey * (zm + 2));
  auto at = [&](int i, int j, int k) -> double& { return e[((k - zs + 1) * ey + (j - ys + 1)) * ex + (i - xs + 1)]; };
  for (int k = zs - 1; k <= zs + zm; ++k)
    for (int j = ys - 1; j <= ys + ym; ++j)
      for (int i = xs - 1; i <= xs + xm; ++i) {
        const Int3 w{(i + nx) % nx, (j + ny) % ny, (k + nz) % nz};
        Vec3 c;
        for (int d = 0; d < 3; ++d) c[d] = coord(box, n[d], d, w[d]);
        at(i, j, k) = g->eps_.cell_average(c, h, box);
      }
  const double area_over_h[3] = {h[1] * h[2] / h[0], h[0] * h[2] / h[1], h[0] * h[1] / h[2]};
  auto face = [](double a, double b) { return 2.0 * a * b / (a + b); };  // harmonic mean
  for (int k = zs; k < zs + zm; ++k)
    for (int j = ys; j < ys + ym; ++j)
      for (int i = xs; i < xs + xm; ++i) {
        MatStencil row{}, col[7] = {};
        PetscScalar v[7];
        row.i = i, row.j = j, row.k = k;
        const double e0 = at(i, j, k);
        const int off[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
        double diag = 0.0;
        for (int f = 0; f < 6; ++f) {
          const double c = face(e0, at(i + off[f][0], j + off[f][1], k + off[f][2])) * area_over_h[f / 2];
          col[f].i = i + off[f][0], col[f].j = j + off[f][1], col[f].k = k + off[f][2];
          v[f] = -c;
          diag += c;
        }
        col[6] = row;
        v[6] = diag;
        PetscCall(MatSetValuesStencil(P, 1, &row, 7, col, v, INSERT_VALUES));
      }
  PetscCall(MatAssemblyBegin(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(P, MAT_FINAL_ASSEMBLY));
  if (A != P) {
    PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  }
  MatNullSpace ns;
  PetscCall(MatNullSpaceCreate(PetscObjectComm((PetscObject)da), PETSC_TRUE, 0, nullptr, &ns));
  PetscCall(MatSetNullSpace(A, ns));
  PetscCall(MatSetTransposeNullSpace(A, ns));
  if (A != P) PetscCall(MatSetNullSpace(P, ns));
  PetscCall(MatNullSpaceDestroy(&ns));
  PetscFunctionReturn(0);
}

// y = A x for order > 2: ε h³ Σ_d Σ_m c_m (2 x_i − x_{i+m e_d} − x_{i−m e_d}) / h_d², neighbours
// read through the wide ghosts (width ≥ order/2, periodic).
PetscErrorCode PoissonGrid::apply_high_order(Mat A, Vec x, Vec y) {
  PetscFunctionBeginUser;
  PoissonGrid* g;
  PetscCall(MatShellGetContext(A, &g));
  PetscCall(DMGlobalToLocal(g->da_wide_, x, INSERT_VALUES, g->work_wide_));
  const PetscScalar*** u;
  PetscScalar*** v;
  PetscCall(DMDAVecGetArrayRead(g->da_wide_, g->work_wide_, &u));
  PetscCall(DMDAVecGetArray(g->da_, y, &v));
  const int p = static_cast<int>(g->coef_.size());
  const double scale = g->eps_.background() * g->h_.prod();
  std::vector<double> w[3];
  for (int d = 0; d < 3; ++d)
    for (int m = 0; m < p; ++m) w[d].push_back(scale * g->coef_[m] / (g->h_[d] * g->h_[d]));
  double diag = 0.0;
  for (int d = 0; d < 3; ++d)
    for (int m = 0; m < p; ++m) diag += 2.0 * w[d][m];
  const Int3 lo = g->lo_, hi{g->lo_[0] + g->m_[0], g->lo_[1] + g->m_[1], g->lo_[2] + g->m_[2]};
  for (int k = lo[2]; k < hi[2]; ++k)
    for (int j = lo[1]; j < hi[1]; ++j)
      for (int i = lo[0]; i < hi[0]; ++i) {
        double acc = diag * u[k][j][i];
        for (int m = 1; m <= p; ++m)
          acc -= w[0][m - 1] * (u[k][j][i + m] + u[k][j][i - m]) + w[1][m - 1] * (u[k][j + m][i] + u[k][j - m][i]) +
                 w[2][m - 1] * (u[k + m][j][i] + u[k - m][j][i]);
        v[k][j][i] = acc;
      }
  PetscCall(DMDAVecRestoreArrayRead(g->da_wide_, g->work_wide_, &u));
  PetscCall(DMDAVecRestoreArray(g->da_, y, &v));
  PetscFunctionReturn(0);
}

PoissonGrid::Weights1D PoissonGrid::weights(int d, double x, bool derivative) const {
  Weights1D r;
  const Box& box = decomp_.box();
  r.first = static_cast<int>(std::floor((x - box.lo[d]) / h_[d])) - s_ + 1;
  r.w.resize(2 * s_);
  if (derivative) r.dw.resize(2 * s_);
  double sum = 0.0, dsum = 0.0;
  const double inv2s2 = 0.5 / (sigma_ * sigma_);
  for (int t = 0; t < 2 * s_; ++t) {
    const double dx = coord(box, n_[d], d, r.first + t) - x;
    r.w[t] = std::exp(-dx * dx * inv2s2);
    sum += r.w[t];
    if (derivative) dsum += (r.dw[t] = r.w[t] * dx * 2.0 * inv2s2);  // ∂/∂x of the unnormalised weight
  }
  // Normalise the discrete weights (quotient rule for the derivative).
  for (int t = 0; t < 2 * s_; ++t) {
    if (derivative) r.dw[t] = (r.dw[t] * sum - r.w[t] * dsum) / (sum * sum);
    r.w[t] /= sum;
  }
  return r;
}

bool PoissonGrid::in_ghost_range(const Weights1D (&w)[3]) const {
  for (int d = 0; d < 3; ++d)
    if (w[d].first < lo_[d] - w_ || w[d].first + 2 * s_ - 1 > lo_[d] + m_[d] - 1 + w_) return false;
  return true;
}

void PoissonGrid::spread(std::span<const Vec3> pos, std::span<const double> q) {
  bool inside = true;
  petsc_check(spread_impl(pos, q, inside), "Poisson charge spreading");
  agree(decomp_.comm(), inside, "Poisson spreading: a bead lies outside its rank's subdomain");
}

PetscErrorCode PoissonGrid::spread_impl(std::span<const Vec3> pos, std::span<const double> q, bool& inside) {
  PetscFunctionBeginUser;
  const ScopedLogEvent event(LogEvent::poisson_spread);  // ended on every return path
  Vec local;
  PetscScalar*** a;
  PetscCall(DMGetLocalVector(da_wide_, &local));
  PetscCall(VecSet(local, 0.0));
  PetscCall(DMDAVecGetArray(da_wide_, local, &a));
  for (std::size_t b = 0; b < pos.size(); ++b) {
    const Weights1D w[3] = {weights(0, pos[b][0], false), weights(1, pos[b][1], false), weights(2, pos[b][2], false)};
    if (!in_ghost_range(w)) {
      inside = false;
      continue;
    }
    for (int k = 0; k < 2 * s_; ++k)
      for (int j = 0; j < 2 * s_; ++j) {
        const double qjk = q[b] * w[2].w[k] * w[1].w[j];
        PetscScalar* line = &a[w[2].first + k][w[1].first + j][w[0].first];
        for (int i = 0; i < 2 * s_; ++i) line[i] += qjk * w[0].w[i];
      }
  }
  PetscCall(DMDAVecRestoreArray(da_wide_, local, &a));
  // Ghost contributions (including periodic wrap-around on one rank) go to their owners.
  PetscCall(VecSet(charge_, 0.0));
  PetscCall(DMLocalToGlobal(da_wide_, local, ADD_VALUES, charge_));
  PetscCall(DMRestoreLocalVector(da_wide_, &local));
  PetscFunctionReturn(0);
}

void PoissonGrid::set_density(const std::function<double(const Vec3&)>& rho) {
  PetscScalar*** a;
  const double cell = h_.prod();
  petsc_check(DMDAVecGetArray(da_wide_, charge_, &a), "set_density");
  for (int k = lo_[2]; k < lo_[2] + m_[2]; ++k)
    for (int j = lo_[1]; j < lo_[1] + m_[1]; ++j)
      for (int i = lo_[0]; i < lo_[0] + m_[0]; ++i) a[k][j][i] = rho(node({i, j, k})) * cell;
  petsc_check(DMDAVecRestoreArray(da_wide_, charge_, &a), "set_density");
}

void PoissonGrid::solve() {
  petsc_check(solve_impl(), "Poisson solve");
  if (reason_ < 0) {
    std::ostringstream msg;
    msg << "Poisson solve diverged (" << KSPConvergedReasons[reason_] << ") after " << iterations_
        << " iterations; try -poisson_ksp_monitor";
    throw Error(msg.str());
  }
}

PetscErrorCode PoissonGrid::solve_impl() {
  PetscFunctionBeginUser;
  const ScopedLogEvent event(LogEvent::poisson_solve);  // ended on every return path
  PetscInt its, n;
  PetscScalar sum;
  // RHS 4π Q made exactly neutral (a uniform background), so the singular system is consistent.
  PetscCall(VecCopy(charge_, rhs_));  // same parallel layout: both DMDAs share the ownership
  PetscCall(VecScale(rhs_, four_pi));
  PetscCall(VecSum(rhs_, &sum));
  PetscCall(VecGetSize(rhs_, &n));
  PetscCall(VecShift(rhs_, -sum / n));
  PetscCall(KSPSolve(ksp_, rhs_, sol_));  // from the previous φ when reuse_solution is set
  PetscCall(KSPGetConvergedReason(ksp_, &reason_));
  PetscCall(KSPGetIterationNumber(ksp_, &its));
  iterations_ = its;
  PetscCall(PetscInfo(static_cast<KSP>(ksp_), "Poisson solve: %s after %d iterations\n", KSPConvergedReasons[reason_],
                      (int)its));
  // Zero-mean potential (the Ewald convention); the solver leaves an arbitrary constant.
  PetscCall(VecCopy(sol_, phi_));
  PetscCall(VecSum(phi_, &sum));
  PetscCall(VecGetSize(phi_, &n));
  PetscCall(VecShift(phi_, -sum / n));
  PetscCall(DMGlobalToLocal(da_, phi_, INSERT_VALUES, phi_local_));
  PetscCall(DMGlobalToLocal(da_wide_, phi_, INSERT_VALUES, phi_wide_));
  PetscFunctionReturn(0);
}

double PoissonGrid::energy() const {
  PetscScalar dot;
  petsc_check(VecDot(charge_, phi_, &dot), "Poisson energy");
  return 0.5 * dot;
}

template <class Out, class Kernel>
std::vector<Out> PoissonGrid::interpolate(std::span<const Vec3> pos, bool derivative, const char* what,
                                          Kernel kernel) const {
  std::vector<Out> out(pos.size());  // every entry is set below, or the call throws
  const PetscScalar*** a;
  petsc_check(DMDAVecGetArrayRead(da_wide_, phi_wide_, &a), what);
  bool inside = true;
  for (std::size_t b = 0; b < pos.size(); ++b) {
    const Weights1D w[3] = {weights(0, pos[b][0], derivative), weights(1, pos[b][1], derivative),
                            weights(2, pos[b][2], derivative)};
    if (!in_ghost_range(w)) {
      inside = false;
      continue;
    }
    out[b] = kernel(w, a);
  }
  petsc_check(DMDAVecRestoreArrayRead(da_wide_, phi_wide_, &a), what);
  if (!inside) throw Error(std::string("PoissonGrid::") + what + ": a point lies outside this rank's subdomain");
  return out;
}

std::vector<double> PoissonGrid::potential_at(std::span<const Vec3> pos) const {
  return interpolate<double>(pos, false, "potential_at", [&](const Weights1D(&w)[3], const PetscScalar*** a) {
    double sum = 0.0;
    for (int k = 0; k < 2 * s_; ++k)
      for (int j = 0; j < 2 * s_; ++j)
        for (int i = 0; i < 2 * s_; ++i)
          sum += w[2].w[k] * w[1].w[j] * w[0].w[i] * a[w[2].first + k][w[1].first + j][w[0].first + i];
    return sum;
  });
}

std::vector<Vec3> PoissonGrid::field_at(std::span<const Vec3> pos) const {
  const ScopedLogEvent event(LogEvent::poisson_field);
  return interpolate<Vec3>(pos, true, "field_at", [&](const Weights1D(&w)[3], const PetscScalar*** a) {
    Vec3 g = Vec3::Zero();
    for (int k = 0; k < 2 * s_; ++k)
      for (int j = 0; j < 2 * s_; ++j)
        for (int i = 0; i < 2 * s_; ++i) {
          const double p = a[w[2].first + k][w[1].first + j][w[0].first + i];
          g[0] += w[2].w[k] * w[1].w[j] * w[0].dw[i] * p;
          g[1] += w[2].w[k] * w[1].dw[j] * w[0].w[i] * p;
          g[2] += w[2].dw[k] * w[1].w[j] * w[0].w[i] * p;
        }
    return Vec3(-g);
  });
}

std::vector<double> PoissonGrid::sample_potential(std::span<const Vec3> points) const {
  std::vector<double> out(points.size(), 0.0);
  for (std::size_t t = 0; t < points.size(); ++t) {
    Vec3 p = points[t];
    decomp_.box().wrap(p);
    if (decomp_.owns(p)) out[t] = potential_at(std::span<const Vec3>(&p, 1))[0];
  }
  MPI_Allreduce(MPI_IN_PLACE, out.data(), static_cast<int>(out.size()), MPI_DOUBLE, MPI_SUM, decomp_.comm());
  return out;
}

Vec3 PoissonGrid::sphere_field_integral(const Vec3& centre, double radius) const {
  const ScopedLogEvent event(LogEvent::poisson_integral);
  const Box& box = decomp_.box();
  const double cell = h_.prod(), half_diag = 0.5 * h_.norm();
  std::vector<double> terms[3];
  const PetscScalar*** p;
  petsc_check(DMDAVecGetArrayRead(da_, phi_local_, &p), "sphere_field_integral");
  for (int k = lo_[2]; k < lo_[2] + m_[2]; ++k)
    for (int j = lo_[1]; j < lo_[1] + m_[1]; ++j)
      for (int i = lo_[0]; i < lo_[0] + m_[0]; ++i) {
        const Vec3 r = box.minimum_image(node({i, j, k}) - centre);
        const double dist = r.norm();
        if (dist >= radius + half_diag) continue;
        double weight = 1.0;
        if (dist > radius - half_diag) {  // cut by the surface: volume fraction from 4×4×4 samples
          int in = 0;
          for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b)
              for (int c = 0; c < 4; ++c)
                in += (r + Vec3((a - 1.5) / 4 * h_[0], (b - 1.5) / 4 * h_[1], (c - 1.5) / 4 * h_[2])).norm() < radius;
          weight = in / 64.0;
        }
        if (weight == 0.0) continue;
        terms[0].push_back(-weight * cell * (p[k][j][i + 1] - p[k][j][i - 1]) / (2 * h_[0]));
        terms[1].push_back(-weight * cell * (p[k][j + 1][i] - p[k][j - 1][i]) / (2 * h_[1]));
        terms[2].push_back(-weight * cell * (p[k + 1][j][i] - p[k - 1][j][i]) / (2 * h_[2]));
      }
  petsc_check(DMDAVecRestoreArrayRead(da_, phi_local_, &p), "sphere_field_integral");
  const auto s = reproducible_sums(decomp_.comm(), {terms[0], terms[1], terms[2]});
  return Vec3(s[0], s[1], s[2]);
}

void PoissonGrid::for_each_owned_node(const std::function<void(const Int3&, const Vec3&, double)>& f) const {
  const PetscScalar*** p;
  petsc_check(DMDAVecGetArrayRead(da_, phi_local_, &p), "for_each_owned_node");
  for (int k = lo_[2]; k < lo_[2] + m_[2]; ++k)
    for (int j = lo_[1]; j < lo_[1] + m_[1]; ++j)
      for (int i = lo_[0]; i < lo_[0] + m_[0]; ++i) f({i, j, k}, node({i, j, k}), p[k][j][i]);
  petsc_check(DMDAVecRestoreArrayRead(da_, phi_local_, &p), "for_each_owned_node");
}

}  // namespace tlsmap
