// Material constants by finite strain with relaxation and by the Hessian route
// (include/tlsmap/md/material.hpp, docs/elastic.md).
#include "tlsmap/md/material.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/md/hessian.hpp"
#include "tlsmap/md/lbfgs.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <span>

namespace tlsmap {

namespace {

// Stress σ = −W/V of the sample strained by (1 + e_d) per dimension, relaxed.
Mat3 relaxed_stress(MPI_Comm comm, const Box& box, const Beads& beads, const Model& model, double skin, Int3 proc_grid,
                    const Vec3& e, double f_tol) {
  const std::unique_ptr<System> sys = relax_strained(comm, box, beads, model, skin, proc_grid, e, f_tol);
  return -sys->thermo().virial / sys->box().volume();
}

}  // namespace

std::pair<Box, Beads> strained_copy(const Box& box, const Beads& beads, const Vec3& e) {
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
  return {b, std::move(copy)};
}

std::unique_ptr<System> relax_strained(MPI_Comm comm, const Box& box, const Beads& beads, const Model& model,
                                       double skin, Int3 proc_grid, const Vec3& e, double f_tol) {
  auto [b, copy] = strained_copy(box, beads, e);
  auto sys = std::make_unique<System>(comm, b, model, skin, proc_grid);
  sys->set_beads(std::move(copy));
  relax_strained_state(*sys, e, f_tol, "material constants");
  return sys;
}

long relax_strained_state(System& sys, const Vec3& e, double f_tol, std::string_view what, std::string_view how) {
  LbfgsParams p;
  p.f_tol = f_tol;
  const MinimizeResult m = minimize_lbfgs(sys, p);
  if (!m.converged)
    throw Error(
        fmt::format("{}: the sample strained by ({:.3g}, {:.3g}, {:.3g}) did not relax{} to max |F| <= {:.3g} "
                    "(reached {:.3g})",
                    what, e[0], e[1], e[2], how, f_tol, m.max_force));
  sys.compute_forces();
  return m.iterations;
}

Mat6 stress_strain_coefficients(const Mat6& c, const Mat3& s) {
  auto d = [](int a, int b) { return a == b ? 1.0 : 0.0; };
  Mat6 b;
  for (int I = 0; I < 6; ++I)
    for (int J = 0; J < 6; ++J) {
      const int i = kVoigt[I][0], j = kVoigt[I][1], k = kVoigt[J][0], l = kVoigt[J][1];
      b(I, J) = c(I, J) + 0.5 * (s(i, k) * d(j, l) + s(i, l) * d(j, k) + s(j, k) * d(i, l) + s(j, l) * d(i, k)) -
                s(i, j) * d(k, l);
    }
  return b;
}

PairElasticSums::PairElasticSums(int n_owned)
    : terms_(27, std::vector<double>(n_owned, 0.0)), xi_(6 * static_cast<std::size_t>(n_owned), Vec3::Zero()) {
  for (int j = 0; j < 6; ++j) eps_[j] = voigt_unit_strain(j);
}

void PairElasticSums::add(int i, const Vec3& r, double r2, const PairCurvature& c) {
  const double w = 0.5 * r2 * (c.u2 - c.u1_over_r);  // ½ (r² u'' − r u') / r² · r²; n = r/|r|
  double nn[6];
  for (int I = 0; I < 6; ++I) nn[I] = r[kVoigt[I][0]] * r[kVoigt[I][1]] / r2;
  int t = 0;
  for (int I = 0; I < 6; ++I)
    for (int J = I; J < 6; ++J) terms_[t++][i] += w * nn[I] * nn[J];
  for (int I = 0; I < 6; ++I) terms_[21 + I][i] += 0.5 * c.u1_over_r * r[kVoigt[I][0]] * r[kVoigt[I][1]];
  const Mat3 k = pair_block(r, r2, c);
  for (int J = 0; J < 6; ++J) xi_[6 * static_cast<std::size_t>(i) + J] -= k * (eps_[J] * r);
}

ElasticPart PairElasticSums::finish(MPI_Comm comm) {
  std::vector<std::span<const double>> spans(terms_.begin(), terms_.end());
  const std::vector<double> sums = reproducible_sums(comm, spans);
  ElasticPart out;
  int t = 0;
  for (int I = 0; I < 6; ++I)
    for (int J = I; J < 6; ++J, ++t) out.born(I, J) = out.born(J, I) = sums[t];
  for (int I = 0; I < 6; ++I) {
    const int a = kVoigt[I][0], c = kVoigt[I][1];
    out.stress_volume(a, c) = out.stress_volume(c, a) = sums[21 + I];
  }
  out.xi = std::move(xi_);
  return out;
}

double voigt_bulk(const Mat6& b) {
  const Mat6 s = 0.5 * (b + b.transpose());
  return (s(0, 0) + s(1, 1) + s(2, 2) + 2.0 * (s(0, 1) + s(1, 2) + s(2, 0))) / 9.0;
}

double voigt_shear(const Mat6& b) {
  const Mat6 s = 0.5 * (b + b.transpose());
  return (s(0, 0) + s(1, 1) + s(2, 2) - (s(0, 1) + s(1, 2) + s(2, 0)) + 3.0 * (s(3, 3) + s(4, 4) + s(5, 5))) / 15.0;
}

namespace {

// The pair model's affine part (C^Born, σ, Ξ: md/hessian.hpp's pair loop, bonds included).
ElasticPart pair_model_part(const System& sys) {
  PairElasticSums sums(sys.beads().n_owned);
  for (int i = 0; i < sys.beads().n_owned; ++i)
    for_each_pair_curvature(sys, i,
                            [&](int, const Vec3& r, double r2, const PairCurvature& c) { sums.add(i, r, r2, c); });
  return sums.finish(sys.comm());
}

// M_IJ = Ξ_I · x_J (I, J < m) over the owned rows of the m right-hand sides and solutions, summed over
// ranks.
std::vector<double> response_dots(MPI_Comm comm, int n, int m, VecHandle (&rhs)[6], VecHandle (&sol)[6]) {
  std::vector<std::vector<double>> dots(m * m, std::vector<double>(n, 0.0));
  const PetscScalar *x[6], *y[6];
  for (int J = 0; J < m; ++J) {
    petsc_check(VecGetArrayRead(rhs[J], &x[J]), "elastic constants");
    petsc_check(VecGetArrayRead(sol[J], &y[J]), "elastic constants");
  }
  for (int I = 0; I < m; ++I)
    for (int J = 0; J < m; ++J)
      for (int i = 0; i < n; ++i)
        dots[m * I + J][i] =
            x[I][3 * i] * y[J][3 * i] + x[I][3 * i + 1] * y[J][3 * i + 1] + x[I][3 * i + 2] * y[J][3 * i + 2];
  for (int J = 0; J < m; ++J) {
    petsc_check(VecRestoreArrayRead(rhs[J], &x[J]), "elastic constants");
    petsc_check(VecRestoreArrayRead(sol[J], &y[J]), "elastic constants");
  }
  std::vector<std::span<const double>> spans(dots.begin(), dots.end());
  return reproducible_sums(comm, spans);
}

// The non-affine relaxation of the first m Voigt components: m solves H x_J = Ξ_J (translations
// projected out), then M_IJ = Ξ_I · x_J / V in the top-left m × m corner. Adds the KSP iterations to
// out.ksp_iterations.
Mat6 nonaffine_term(const System& sys, const std::vector<Vec3>& xi, double rtol, int m, ElasticTensor& out) {
  const MPI_Comm comm = sys.comm();
  const int n = sys.beads().n_owned;
  const BeadNumbering num(sys.beads(), comm);
  HessianOperator full(sys, num);  // with the force terms' parts (active charges)
  // The translations: a null space for CG on the assembled Hessian. With a matrix-free part (GMRES,
  // which broke down at its restarts on the singular operator of a polar glass) bead 1 is clamped
  // instead. Both give the same Ξᵀx: Σ_i Ξ_i = 0, so the solutions differ by a translation that
  // Ξ does not see.
  const bool clamp = full.matrix_free();
  HessianOperator h = clamp ? full.clamped(num, {1}) : std::move(full);
  MatNullSpace ns = nullptr;
  if (!clamp) {
    h.attach_translation_null_space();
    petsc_check(MatGetNullSpace(h.op(), &ns), "elastic constants: null space");
  }
  const Beads& beads = sys.beads();
  KSPHandle ksp = make_hessian_ksp(comm, h, rtol);
  VecHandle rhs[6], sol[6];
  for (int J = 0; J < m; ++J) {
    petsc_check(MatCreateVecs(h.matrix(), sol[J].out(), rhs[J].out()), "elastic constants: vectors");
    PetscScalar* a;
    petsc_check(VecGetArray(rhs[J], &a), "elastic constants: right-hand side");
    for (int i = 0; i < n; ++i)
      for (int d = 0; d < 3; ++d) a[3 * i + d] = (clamp && beads.id[i] == 1) ? 0.0 : xi[6 * i + J][d];
    petsc_check(VecRestoreArray(rhs[J], &a), "elastic constants: right-hand side");
    if (ns) petsc_check(MatNullSpaceRemove(ns, rhs[J]), "elastic constants: null space");
    out.ksp_iterations += solve_checked(ksp, rhs[J], sol[J], "elastic constants: H x = Ξ");
    if (ns) petsc_check(MatNullSpaceRemove(ns, sol[J]), "elastic constants: null space");
  }
  const std::vector<double> dots = response_dots(comm, n, m, rhs, sol);
  Mat6 nonaffine = Mat6::Zero();
  for (int I = 0; I < m; ++I)
    for (int J = 0; J < m; ++J) nonaffine(I, J) = dots[m * I + J] / out.volume;
  return nonaffine;
}

// C^Born, σ and Ξ of the pair model and every force term; then C from the first m components' solves.
ElasticTensor born_and_relaxed(const System& sys, double rtol, int m) {
  ElasticTensor out;
  out.volume = sys.box().volume();
  ElasticPart affine = pair_model_part(sys);
  for (const auto& term : sys.force_terms()) {  // active charges: their Born, stress and Ξ
    const std::optional<ElasticPart> part = term->elastic_part(sys);
    if (!part) throw Error("elastic constants by the Hessian route: a force term of the System has no elastic part");
    affine.born += part->born;
    affine.stress_volume += part->stress_volume;
    for (std::size_t k = 0; k < affine.xi.size(); ++k) affine.xi[k] += part->xi[k];
  }
  out.born = affine.born / out.volume;
  out.stress = affine.stress_volume / out.volume;
  const Mat6 nonaffine = nonaffine_term(sys, affine.xi, rtol, m, out);
  out.relaxed = out.born - 0.5 * (nonaffine + nonaffine.transpose());
  return out;
}

}  // namespace

ElasticTensor hessian_elastic_constants(const System& sys, double rtol) {
  ElasticTensor out = born_and_relaxed(sys, rtol, 6);
  out.b_born = stress_strain_coefficients(out.born, out.stress);
  out.b_relaxed = stress_strain_coefficients(out.relaxed, out.stress);
  out.bulk_modulus = voigt_bulk(out.b_relaxed), out.shear_modulus = voigt_shear(out.b_relaxed);
  out.bulk_born = voigt_bulk(out.b_born), out.shear_born = voigt_shear(out.b_born);
  for (int k = 0; k < 3; ++k) {
    const int a = k, c = (k + 1) % 3;
    const Mat6& q = out.b_relaxed;
    out.shear_tetragonal[k] = (q(a, a) + q(c, c) - q(a, c) - q(c, a)) / 4.0;
  }
  return out;
}

Mat3 hessian_orthorhombic_block(const System& sys, double rtol) {
  return born_and_relaxed(sys, rtol, 3).relaxed.topLeftCorner<3, 3>();
}

void add_hessian_route(MaterialConstants& c, const System& sys) {
  std::int64_t n = sys.beads().n_owned;
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, sys.comm());
  c.density = c.mass_density = static_cast<double>(n) / sys.box().volume();
  // Hessian route on the same configuration. A KSP failure (not a minimum: an indefinite Hessian;
  // collective, so every rank sees it) leaves the Hessian-route fields NaN rather than losing the
  // finite-strain values.
  ElasticTensor t;
  try {
    t = hessian_elastic_constants(sys);
  } catch (const Error& e) {
    c.hessian_failure = e.what();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    t.bulk_modulus = t.shear_modulus = t.bulk_born = t.shear_born = nan;
    for (double& g : t.shear_tetragonal) g = nan;
    t.b_relaxed = t.b_born = t.relaxed = t.born = Mat6::Constant(nan);
  }
  c.bulk_modulus_hessian = t.bulk_modulus, c.shear_modulus_hessian = t.shear_modulus;
  c.bulk_born_hessian = t.bulk_born, c.shear_born_hessian = t.shear_born;
  c.shear_xy_hessian = t.shear_tetragonal[0], c.shear_yz_hessian = t.shear_tetragonal[1];
  c.shear_zx_hessian = t.shear_tetragonal[2];
  c.c_longitudinal_hessian = std::sqrt((t.bulk_modulus + 4.0 * t.shear_modulus / 3.0) / c.mass_density);
  c.c_transverse_hessian = std::sqrt(t.shear_modulus / c.mass_density);  // NaN if G < 0 or failed
  c.c_voigt = t.b_relaxed, c.c_voigt_born = t.b_born;
  c.tensor = t;
  c.pressure = sys.thermo().virial.trace() / (3.0 * sys.box().volume());  // P = −tr σ / 3, σ = −W/V
}

MaterialConstants measure_material(MPI_Comm comm, const Box& box, const Beads& beads, const Model& model, double skin,
                                   Int3 proc_grid, double strain, double f_tol) {
  MaterialConstants c;
  c.strain = strain;
  std::int64_t n = beads.n_owned;
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, comm);
  c.density = c.mass_density = static_cast<double>(n) / box.volume();
  auto stress = [&](const Vec3& e) { return relaxed_stress(comm, box, beads, model, skin, proc_grid, e, f_tol); };
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
  System sys(comm, box, model, skin, proc_grid);
  Beads copy = beads;
  copy.clear_ghosts();
  sys.set_beads(std::move(copy));
  const Beads& bb = sys.beads();
  std::vector<double> terms(bb.n_owned, 0.0);
  for (int i = 0; i < bb.n_owned; ++i)
    for_each_pair_curvature(sys, i, [&](int, const Vec3&, double r2, const PairCurvature& k) {
      terms[i] += 0.5 * r2 * (k.u2 - 2.0 * k.u1_over_r);  // ½ (r² u'' − 2 r u'), full list: each pair twice
    });
  c.bulk_born = reproducible_sum(comm, terms) / (9.0 * box.volume());

  sys.compute_forces();
  add_hessian_route(c, sys);
  return c;
}

}  // namespace tlsmap
