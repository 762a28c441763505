// TLS–TLS couplings: J_el on the grid, point-dipole J_dd, elastic J_mech by linear response with the
// distributed Hessian, and the four-state relaxation that checks it (include/tlsmap/couplings/interact.hpp).
#include "tlsmap/couplings/interact.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/reduction.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"
#include "tlsmap/md/fire.hpp"
#include "tlsmap/md/hessian.hpp"
#include "tlsmap/parallel/decomposition.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace tlsmap {

namespace {

using IdSet = std::unordered_set<std::int64_t>;
using IdMap = std::unordered_map<std::int64_t, Vec3>;

IdSet mobile_ids(const TlsSet& t, std::size_t k) {
  IdSet s;
  for (std::int64_t r = t.begin(k); r < t.end(k); ++r) s.insert(t.id[r]);
  return s;
}

// Collective: current positions of the listed beads, from their owners, on every rank.
IdMap gather_positions(const System& sys, const IdSet& ids) {
  const Beads& b = sys.beads();
  std::vector<std::int64_t> mine;
  std::vector<Vec3> pos;
  for (int i = 0; i < b.n_owned; ++i)
    if (ids.count(b.id[i])) mine.push_back(b.id[i]), pos.push_back(b.pos[i]);
  return allgather_by_id(sys.comm(), mine, pos);
}

// Collective: move the owned beads listed in `target` there (exact copy, or by the minimum-image step
// from where they are, which keeps a bead continuous across the periodic boundary), then refresh.
void move_to(System& sys, const IdMap& target, bool exact) {
  Beads& b = sys.beads();
  for (int i = 0; i < b.n_owned; ++i)
    if (auto it = target.find(b.id[i]); it != target.end())
      b.pos[i] = exact ? it->second : Vec3(b.pos[i] + sys.box().minimum_image(it->second - b.pos[i]));
  sys.positions_changed();
}

IdMap state_positions(const TlsSet& t, std::size_t k, bool state_b) {
  IdMap m;
  for (std::int64_t r = t.begin(k); r < t.end(k); ++r) m[t.id[r]] = state_b ? t.pos_b[r] : t.pos_a[r];
  return m;
}

struct SparseForce {
  std::vector<PetscInt> block;  // block rows (owned by this rank)
  std::vector<Vec3> f;
};

// Collective: f_k = F(X_B) − F(X_A) on the owned beads outside M_k (nonzero entries only).
SparseForce force_dipole(System& sys, const BeadNumbering& num, const TlsSet& t, std::size_t k) {
  const IdSet m = mobile_ids(t, k);
  const IdMap x0 = gather_positions(sys, m);
  move_to(sys, state_positions(t, k, false), false);
  sys.compute_forces();
  std::unordered_map<std::int64_t, Vec3> fa;
  const Beads& b = sys.beads();
  for (int i = 0; i < b.n_owned; ++i)
    if (!m.count(b.id[i])) fa[b.id[i]] = b.force[i];
  move_to(sys, state_positions(t, k, true), false);
  sys.compute_forces();
  std::vector<std::int64_t> ids;
  SparseForce out;
  bool known = true;
  for (int i = 0; i < b.n_owned; ++i) {
    if (m.count(b.id[i])) continue;
    const auto it = fa.find(b.id[i]);
    if (it == fa.end()) {
      known = false;
      continue;
    }
    const Vec3 d = b.force[i] - it->second;
    if (!d.isZero(0.0)) ids.push_back(b.id[i]), out.f.push_back(d);
  }
  agree(sys.comm(), known, "force dipole: an environment bead changed rank between states A and B");
  move_to(sys, x0, true);
  out.block = num.blocks_of(ids);
  bool local = true;
  for (PetscInt r : out.block) local = local && r >= num.first() && r < num.first() + num.n_owned();
  agree(sys.comm(), local, "force dipole: an environment bead is not owned where the Hessian numbers it");
  return out;
}

// Collective: γ_k = −½(W + Wᵀ)(B'_k) + ½(W + Wᵀ)(A) for every TLS (interact.hpp), W the virial
// of the whole sample (Thermo::virial, reproducible), A the reference in `sys` (forces computed there),
// B'_k = M_k at state B and every other bead displaced by u_k (sol[k], numbered by `num`). Fresh
// Systems for the B'_k: `sys` is untouched.
std::vector<Mat3> deformation_potentials(const System& sys, const BeadNumbering& num, const TlsSet& t,
                                         const std::vector<VecHandle>& sol) {
  // Force terms: the active charges' whole virial tensor (active_coulomb.hpp), which the fft solver
  // has and the multigrid one has not (NaN then).
  std::vector<std::shared_ptr<ActiveCoulomb>> charges;
  double coulomb_cutoff = 0.0;
  for (const auto& term : sys.force_terms()) {
    auto c = std::dynamic_pointer_cast<ActiveCoulomb>(term);
    if (!c || c->params().solver != CoulombSolver::fft)
      return std::vector<Mat3>(t.size(), Mat3::Constant(std::nan("")));
    charges.push_back(c), coulomb_cutoff = std::max(coulomb_cutoff, c->params().cutoff);
  }
  Beads ref = sys.beads();
  ref.truncate_owned(ref.n_owned);
  const std::vector<PetscInt> rows =
      num.blocks_of(std::vector<std::int64_t>(ref.id.begin(), ref.id.begin() + ref.n_owned));
  bool local = true;
  for (PetscInt r : rows) local = local && r >= num.first() && r < num.first() + num.n_owned();
  agree(sys.comm(), local, "deformation potentials: a bead is not owned where the Hessian numbers it");
  // The terms are shared with a System on sys's process grid (the same subdomains, which their mesh
  // is laid out on): the FFT solver may exist once (fft_coulomb.hpp).
  auto virial = [&](const Beads& b) {
    System s(sys.comm(), sys.box(), sys.model(), 0.3, sys.decomp().dims(), coulomb_cutoff);
    s.set_beads(b);
    for (const auto& term : sys.force_terms()) s.add_force_term(term);
    for (const auto& c : charges) c->set_virial_tensor(true);
    s.compute_forces();
    for (const auto& c : charges) c->set_virial_tensor(false);
    const Mat3 w = s.thermo().virial;
    return Mat3(0.5 * (w + w.transpose()));
  };
  // A: the caller's last forces (reproducible sums, so equal to a fresh System's on any
  // decomposition), unless the charges' tensor has to be evaluated.
  const Mat3 w_ref = sys.thermo().virial;
  const Mat3 w_a = charges.empty() ? Mat3(0.5 * (w_ref + w_ref.transpose())) : virial(ref);
  std::vector<Mat3> out;
  for (std::size_t k = 0; k < t.size(); ++k) {
    Beads b = ref;
    const PetscScalar* u;
    petsc_check(VecGetArrayRead(sol[k], &u), "deformation potentials");
    for (int i = 0; i < b.n_owned; ++i) {
      const PetscScalar* x = u + 3 * (rows[i] - num.first());
      b.pos[i] += Vec3(x[0], x[1], x[2]);
    }
    petsc_check(VecRestoreArrayRead(sol[k], &u), "deformation potentials");
    const IdMap mb = state_positions(t, k, true);  // u_k = 0 on M_k (clamped)
    for (int i = 0; i < b.n_owned; ++i)
      if (auto it = mb.find(b.id[i]); it != mb.end()) b.pos[i] += sys.box().minimum_image(it->second - b.pos[i]);
    out.push_back(-(virial(b) - w_a));
  }
  return out;
}

PetscErrorCode fill(Vec v, const SparseForce& s) {
  PetscFunctionBeginUser;
  PetscCall(VecSet(v, 0.0));
  for (std::size_t k = 0; k < s.block.size(); ++k)
    PetscCall(VecSetValuesBlocked(v, 1, &s.block[k], s.f[k].data(), INSERT_VALUES));
  PetscCall(VecAssemblyBegin(v));
  PetscCall(VecAssemblyEnd(v));
  PetscFunctionReturn(0);
}

// Local part of −f·u (u's owned array starting at block `first`).
double minus_dot(const SparseForce& f, const PetscScalar* u, PetscInt first) {
  double s = 0.0;
  for (std::size_t k = 0; k < f.block.size(); ++k) {
    const PetscScalar* x = u + 3 * (f.block[k] - first);
    s -= f.f[k][0] * x[0] + f.f[k][1] * x[1] + f.f[k][2] * x[2];
  }
  return s;
}

// Collective: each entry of `local` summed over the ranks (reproducible_sums, one term per rank).
std::vector<double> summed_entries(MPI_Comm comm, const std::vector<double>& local) {
  std::vector<std::span<const double>> spans;
  for (const double& x : local) spans.emplace_back(&x, 1);
  return reproducible_sums(comm, spans);
}

}  // namespace

TlsPairs tls_pairs(const TlsSet& t, const Box& box, double cutoff) {
  TlsPairs p;
  for (std::size_t i = 0; i < t.size(); ++i)
    for (std::size_t j = i + 1; j < t.size(); ++j) {
      const Vec3 r = box.minimum_image(t.center[j] - t.center[i]);
      if (r.norm() < cutoff) p.i.push_back(i), p.j.push_back(j), p.r.push_back(r);
    }
  return p;
}

double dipole_dipole(const Vec3& mi, const Vec3& mj, const Vec3& r, double eps) {
  const double d = r.norm();
  const Vec3 n = r / d;
  return (mi.dot(mj) - 3.0 * mi.dot(n) * mj.dot(n)) / (eps * d * d * d);
}

double dipole_dipole_periodic(const Vec3& mi, const Vec3& mj, const Vec3& r, const Box& box, double eps) {
  return -mi.dot(dipole_lattice_tensor(box, r) * mj) / eps;
}

std::vector<double> electric_couplings(PoissonGrid& grid, const Decomposition& decomp, const TlsSet& tls,
                                       std::span<const double> charge, const TlsPairs& pairs,
                                       std::vector<double>* transpose, const SolveProgress& progress) {
  const Box& box = decomp.box();
  const std::size_t n = tls.size();
  std::vector<PointCharges> dq(n);
  for (std::size_t k = 0; k < n; ++k) dq[k] = transition_charges(tls, k, charge, box);
  std::vector<std::vector<std::size_t>> as_second(n), as_first(n);
  for (std::size_t p = 0; p < pairs.size(); ++p) as_second[pairs.j[p]].push_back(p), as_first[pairs.i[p]].push_back(p);
  std::vector<double> j_el(pairs.size(), 0.0);
  if (transpose) transpose->assign(pairs.size(), 0.0);
  auto needed = [&](std::size_t k) { return !as_second[k].empty() || (!as_first[k].empty() && transpose); };
  std::size_t total = 0, done = 0;
  for (std::size_t k = 0; k < n; ++k) total += needed(k);
  for (std::size_t k = 0; k < n; ++k) {
    if (!needed(k)) continue;
    transition_field_integrals(grid, decomp, dq[k], tls.center[k], {});
    if (progress) progress(++done, total, grid.iterations());
    // φ_k at the charges of every partner: J(partner, k) for pairs (partner, k), the transpose for (k, partner).
    std::vector<Vec3> points;
    std::vector<std::pair<std::size_t, bool>> owner;  // pair, transpose?
    std::vector<std::size_t> first_point;
    auto add = [&](std::size_t p, std::size_t other, bool tr) {
      first_point.push_back(points.size());
      owner.emplace_back(p, tr);
      points.insert(points.end(), dq[other].pos.begin(), dq[other].pos.end());
    };
    for (std::size_t p : as_second[k]) add(p, pairs.i[p], false);
    if (transpose)
      for (std::size_t p : as_first[k]) add(p, pairs.j[p], true);
    first_point.push_back(points.size());
    const std::vector<double> phi = grid.sample_potential(points);
    for (std::size_t e = 0; e < owner.size(); ++e) {
      const auto [p, tr] = owner[e];
      const PointCharges& other = dq[tr ? pairs.j[p] : pairs.i[p]];
      double s = 0.0;
      for (std::size_t c = first_point[e]; c < first_point[e + 1]; ++c) s += other.q[c - first_point[e]] * phi[c];
      (tr ? (*transpose)[p] : j_el[p]) = s;
    }
  }
  return j_el;
}

double gamma_longitudinal(const Mat3& g) {
  if (!g.allFinite()) return std::numeric_limits<double>::quiet_NaN();
  const double t = g.trace(), t2 = (g * g).trace();
  return std::sqrt(std::max(0.0, (2.0 * t2 + t * t) / 15.0));
}

double gamma_transverse(const Mat3& g) {
  if (!g.allFinite()) return std::numeric_limits<double>::quiet_NaN();
  const double t = g.trace(), t2 = (g * g).trace();
  return std::sqrt(std::max(0.0, (3.0 * t2 - t * t) / 30.0));
}

MechResponse parse_mech_response(const std::string& name) {
  if (name == "held") return MechResponse::held;
  if (name == "pair") return MechResponse::pair;
  if (name == "source") return MechResponse::source;
  if (name == "whole") return MechResponse::whole;
  throw Error("interact.mech_response: unknown response \"" + name + "\" (held, pair, source, whole)");
}

namespace {

// Per TLS: |Σ f_k| / Σ|f_k| of its force dipole, ~0 when both states are force-free (what `held` needs).
std::vector<double> net_forces(MPI_Comm comm, const std::vector<SparseForce>& f) {
  const std::size_t n = f.size();
  std::vector<double> local(4 * n, 0.0);
  for (std::size_t k = 0; k < n; ++k)
    for (const Vec3& x : f[k].f)
      local[4 * k] += x[0], local[4 * k + 1] += x[1], local[4 * k + 2] += x[2], local[4 * k + 3] += x.norm();
  const std::vector<double> s = summed_entries(comm, local);
  std::vector<double> out;
  for (std::size_t k = 0; k < n; ++k)
    out.push_back(s[4 * k + 3] > 0.0 ? Vec3(s[4 * k], s[4 * k + 1], s[4 * k + 2]).norm() / s[4 * k + 3] : 0.0);
  return out;
}

// What every J_mech solve shares: the Hessian H, the force dipoles f, the solver and its vectors
// (b the right-hand side, u the solution).
struct MechSolver {
  MechSolver(const System& sys_, const TlsSet& tls_, const BeadNumbering& num_, const HessianOperator& h_,
             const std::vector<SparseForce>& f_)
      : sys(sys_), tls(tls_), num(num_), h(h_), f(f_), comm(sys_.comm()) {
    // Reference positions by owned block row (the numbering's order), for the dipole tensors.
    pos_of_row.resize(num.n_owned());
    const Beads& bb = sys.beads();
    const std::vector<std::int64_t> ids(bb.id.begin(), bb.id.begin() + bb.n_owned);
    const std::vector<PetscInt> rows = num.blocks_of(ids);
    for (int i = 0; i < bb.n_owned; ++i) pos_of_row[rows[i] - num.first()] = bb.pos[i];
  }

  // The vectors and the KSP (after the dipole tensors of the bare forces, as always).
  void set_up_solver() {
    petsc_check(MatCreateVecs(h.matrix(), u.out(), b.out()), "J_mech vectors");
    ksp = make_hessian_ksp(comm, h);
  }

  std::vector<std::int64_t> mobile(std::size_t k) const {
    return std::vector<std::int64_t>(tls.id.begin() + tls.begin(k), tls.id.begin() + tls.end(k));
  }

  // P_k = Σ_b F_b (x_b − c_k)ᵀ over the forces that drive the response (minimum image), summed over ranks.
  std::vector<Mat3> dipole_tensors(const std::vector<SparseForce>& forces) const {
    const std::size_t n = tls.size();
    std::vector<double> local(9 * n, 0.0);
    for (std::size_t k = 0; k < n; ++k)
      for (std::size_t e = 0; e < forces[k].block.size(); ++e) {
        const Vec3 x = sys.box().minimum_image(pos_of_row[forces[k].block[e] - num.first()] - tls.center[k]);
        for (int a = 0; a < 3; ++a)
          for (int c = 0; c < 3; ++c) local[9 * k + 3 * a + c] += forces[k].f[e][a] * x[c];
      }
    const std::vector<double> s = summed_entries(comm, local);
    std::vector<Mat3> out(n);
    for (std::size_t k = 0; k < n; ++k)
      for (int a = 0; a < 3; ++a)
        for (int c = 0; c < 3; ++c) out[k](a, c) = s[9 * k + 3 * a + c];
    return out;
  }

  // u = H_c⁻¹ f_k, H_c the Hessian with the given beads clamped (none: the null space is projected out).
  int solve(std::size_t k, const std::vector<std::int64_t>& clamped) {
    petsc_check(fill(b, f[k]), "J_mech right-hand side");
    if (!clamped.empty()) {
      clamped_h = h.clamped(num, clamped);
      petsc_check(KSPSetOperators(ksp, clamped_h->op(), clamped_h->matrix()), "J_mech operators");
    } else {
      MatNullSpace ns;
      petsc_check(MatGetNullSpace(h.op(), &ns), "J_mech null space");
      petsc_check(MatNullSpaceRemove(ns, b), "J_mech null space");  // Σ f = 0 only up to residual forces
    }
    return solve_checked(ksp, b, u, "J_mech solve");
  }

  // −g·x for each (g, x) (x: a solution vector), summed over ranks.
  std::vector<double> minus_dots(const std::vector<std::pair<const SparseForce*, Vec>>& terms) const {
    std::vector<double> local;
    for (const auto& [g, x] : terms) {
      const PetscScalar* a;
      petsc_check(VecGetArrayRead(x, &a), "J_mech");
      local.push_back(minus_dot(*g, a, num.first()));
      petsc_check(VecRestoreArrayRead(x, &a), "J_mech");
    }
    return summed_entries(comm, local);
  }

  const System& sys;
  const TlsSet& tls;
  const BeadNumbering& num;
  const HessianOperator& h;
  std::optional<HessianOperator> clamped_h;  // the operator of the last clamped solve
  const std::vector<SparseForce>& f;
  MPI_Comm comm;
  std::vector<Vec3> pos_of_row;
  VecHandle b, u;
  KSPHandle ksp;
};

// `pair`: one solve per pair, both mobile sets clamped.
void pair_couplings(MechSolver& ms, const TlsPairs& pairs, const SolveProgress& progress, MechResult& out) {
  std::size_t done = 0;
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    std::vector<std::int64_t> clamped = ms.mobile(pairs.i[p]);
    const auto mj = ms.mobile(pairs.j[p]);
    clamped.insert(clamped.end(), mj.begin(), mj.end());
    out.iterations[p] = ms.solve(pairs.i[p], clamped);
    out.j[p] = out.j_transpose[p] = ms.minus_dots({{&ms.f[pairs.j[p]], ms.u}})[0];
    if (progress) progress(++done, pairs.size(), out.iterations[p]);
  }
}

// `held`: u_k with M_k clamped, kept for every TLS; g_k = H u_k: f_k outside M_k (the clamped solve
// satisfies those rows) plus the reaction forces (H u_k) on M_k. J_ij = −g_j·u_i = −u_iᵀ H u_j.
void held_couplings(MechSolver& ms, const TlsPairs& pairs, const SolveProgress& progress, MechResult& out) {
  const std::size_t n = ms.tls.size();
  const BeadNumbering& num = ms.num;
  std::vector<VecHandle> sol(n);
  std::vector<SparseForce> g = ms.f;
  VecHandle hu;
  petsc_check(VecDuplicate(ms.u, hu.out()), "J_mech vectors");
  std::size_t done = 0;
  for (std::size_t k = 0; k < n; ++k) {  // every TLS: its u_k also gives its deformation potential
    const std::vector<std::int64_t> mk = ms.mobile(k);
    out.iterations[k] = ms.solve(k, mk);
    petsc_check(VecDuplicate(ms.u, sol[k].out()), "J_mech solution");
    petsc_check(VecCopy(ms.u, sol[k]), "J_mech solution");
    petsc_check(MatMult(ms.h.op(), ms.u, hu), "J_mech reaction forces");
    const std::vector<PetscInt> rows = num.blocks_of(mk);
    const PetscScalar* a;
    petsc_check(VecGetArrayRead(hu, &a), "J_mech");
    for (PetscInt r : rows)
      if (r >= num.first() && r < num.first() + num.n_owned()) {
        const PetscScalar* x = a + 3 * (r - num.first());
        g[k].block.push_back(r), g[k].f.push_back(Vec3(x[0], x[1], x[2]));
      }
    petsc_check(VecRestoreArrayRead(hu, &a), "J_mech");
    if (progress) progress(++done, n, out.iterations[k]);
  }
  out.elastic_dipole = ms.dipole_tensors(g);  // of the dressed forces: J_held = −g_iᵀ H⁺ g_j
  out.gamma = deformation_potentials(ms.sys, num, ms.tls, sol);
  std::vector<std::pair<const SparseForce*, Vec>> terms;
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    terms.emplace_back(&g[pairs.j[p]], sol[pairs.i[p]]);  // −g_j·u_i
    terms.emplace_back(&g[pairs.i[p]], sol[pairs.j[p]]);  // −g_i·u_j
  }
  const std::vector<double> sums = ms.minus_dots(terms);
  for (std::size_t p = 0; p < pairs.size(); ++p) out.j[p] = sums[2 * p], out.j_transpose[p] = sums[2 * p + 1];
}

// `source` and `whole`: one solve per TLS that is in some pair (its own mobile set clamped, or nothing).
void per_tls_couplings(MechSolver& ms, const TlsPairs& pairs, MechResponse mode, const SolveProgress& progress,
                       MechResult& out) {
  const std::size_t n = ms.tls.size();
  std::vector<std::vector<std::size_t>> as_first(n), as_second(n);
  for (std::size_t p = 0; p < pairs.size(); ++p) as_first[pairs.i[p]].push_back(p), as_second[pairs.j[p]].push_back(p);
  auto involved = [&](std::size_t k) { return !as_first[k].empty() || !as_second[k].empty(); };
  std::size_t total = 0, done = 0;
  for (std::size_t k = 0; k < n; ++k) total += involved(k);
  for (std::size_t k = 0; k < n; ++k) {
    if (!involved(k)) continue;
    out.iterations[k] = ms.solve(k, mode == MechResponse::source ? ms.mobile(k) : std::vector<std::int64_t>{});
    std::vector<std::pair<const SparseForce*, Vec>> terms;
    for (std::size_t p : as_first[k]) terms.emplace_back(&ms.f[pairs.j[p]], ms.u);   // −f_j·u_i
    for (std::size_t p : as_second[k]) terms.emplace_back(&ms.f[pairs.i[p]], ms.u);  // −f_i·u_j (transpose)
    const auto sums = ms.minus_dots(terms);
    std::size_t e = 0;
    for (std::size_t p : as_first[k]) out.j[p] = sums[e++];
    for (std::size_t p : as_second[k]) out.j_transpose[p] = sums[e++];
    if (progress) progress(++done, total, out.iterations[k]);
  }
}

}  // namespace

MechResult mechanical_couplings(System& sys, const TlsSet& tls, const TlsPairs& pairs, MechResponse mode,
                                const SolveProgress& progress) {
  const MPI_Comm comm = sys.comm();
  const std::size_t n = tls.size();
  sys.rebuild();
  sys.compute_forces();
  const BeadNumbering num(sys.beads(), comm);
  HessianOperator h(sys, num);
  if (mode == MechResponse::whole) h.attach_translation_null_space();
  std::vector<SparseForce> f(n);
  for (std::size_t k = 0; k < n; ++k) f[k] = force_dipole(sys, num, tls, k);
  sys.compute_forces();
  MechResult out;
  out.net_force = net_forces(comm, f);
  MechSolver ms(sys, tls, num, h, f);
  if (mode != MechResponse::held) out.elastic_dipole = ms.dipole_tensors(f);  // held: of the dressed forces

  out.j.assign(pairs.size(), 0.0);
  out.j_transpose.assign(pairs.size(), 0.0);
  out.iterations.assign(mode == MechResponse::pair ? pairs.size() : n, 0);
  ms.set_up_solver();
  if (mode == MechResponse::pair) pair_couplings(ms, pairs, progress, out);
  else if (mode == MechResponse::held) held_couplings(ms, pairs, progress, out);
  else per_tls_couplings(ms, pairs, mode, progress, out);
  return out;
}

namespace {

double max_free_force(const System& sys, const IdSet& hold) {
  const Beads& b = sys.beads();
  double fmax = 0.0;
  for (int i = 0; i < b.n_owned; ++i)
    if (!hold.count(b.id[i])) fmax = std::max(fmax, b.force[i].norm());
  MPI_Allreduce(MPI_IN_PLACE, &fmax, 1, MPI_DOUBLE, MPI_MAX, sys.comm());
  return fmax;
}

// FIRE 1.0 (Bitzek et al., PRL 97, 170201 (2006)) on the free beads until max |F| ≤ f_stop: brings
// a strongly perturbed environment near its minimum, where Newton converges quadratically.
void fire_holding(System& sys, const IdSet& hold, double f_stop, long max_steps) {
  FireParams p;
  p.variant = FireVariant::fire1;
  p.f_tol = f_stop;
  p.max_iter = max_steps;
  p.dt_start = 0.002;
  p.dt_max = 0.02;
  p.alpha_start = 0.1;
  p.held = &hold;
  minimize_fire(sys, p);
}

}  // namespace

// FIRE to max |F| ≤ 1e-3, then Newton with the exact Hessian of the free beads (held beads clamped). Safeguards, since away from
// the minimum the Hessian may be indefinite (compressed pairs have negative transverse stiffness):
// CG + GAMG, else MINRES unpreconditioned; a direction that is not downhill is replaced by the force;
// steps capped at 0.1 σ per bead and halved until the energy or the largest force decreases.
int relax_holding(System& sys, const std::vector<std::int64_t>& held, double f_tol) {
  const IdSet hold(held.begin(), held.end());
  const MPI_Comm comm = sys.comm();
  fire_holding(sys, hold, std::max(f_tol, 1e-3), 200000);
  sys.compute_forces();
  double fmax = max_free_force(sys, hold);
  for (int step = 0; step <= 60; ++step) {
    if (fmax <= f_tol) return step;
    Beads& b = sys.beads();
    const BeadNumbering num(b, comm);
    const HessianOperator h = HessianOperator(sys, num).clamped(num, held);
    VecHandle rhs, du;
    petsc_check(MatCreateVecs(h.matrix(), du.out(), rhs.out()), "relaxation vectors");
    PetscScalar* r;
    petsc_check(VecGetArray(rhs, &r), "relaxation");
    for (int i = 0; i < b.n_owned; ++i)
      for (int d = 0; d < 3; ++d) r[3 * i + d] = hold.count(b.id[i]) ? 0.0 : b.force[i][d];
    petsc_check(VecRestoreArray(rhs, &r), "relaxation");
    KSPHandle ksp = make_hessian_ksp(comm, h, 1e-12);
    try {
      solve_checked(ksp, rhs, du, "Newton relaxation");
    } catch (const Error&) {  // indefinite: MINRES needs no definiteness (and no SPD preconditioner here)
      PC pc;
      petsc_check(KSPSetType(ksp, KSPMINRES), "relaxation");
      petsc_check(KSPGetPC(ksp, &pc), "relaxation");
      petsc_check(PCSetType(pc, PCNONE), "relaxation");
      solve_checked(ksp, rhs, du, "Newton relaxation (MINRES)");
    }
    PetscScalar slope;
    petsc_check(VecDot(rhs, du, &slope), "relaxation");
    if (!(slope > 0.0)) petsc_check(VecCopy(rhs, du), "relaxation");  // not downhill: follow the force
    std::vector<std::int64_t> ids(b.id.begin(), b.id.begin() + b.n_owned);
    std::vector<Vec3> p0(b.pos.begin(), b.pos.begin() + b.n_owned), d(b.n_owned);
    const PetscScalar* x;
    petsc_check(VecGetArrayRead(du, &x), "relaxation");
    double dmax = 0.0;
    for (int i = 0; i < b.n_owned; ++i)
      d[i] = Vec3(x[3 * i], x[3 * i + 1], x[3 * i + 2]), dmax = std::max(dmax, d[i].norm());
    petsc_check(VecRestoreArrayRead(du, &x), "relaxation");
    MPI_Allreduce(MPI_IN_PLACE, &dmax, 1, MPI_DOUBLE, MPI_MAX, comm);
    const IdMap start = allgather_by_id(comm, ids, p0), dir = allgather_by_id(comm, ids, d);
    const double e0 = sys.potential_energy();
    double alpha = dmax > 0.1 ? 0.1 / dmax : 1.0;
    for (int t = 0; t < 30; ++t, alpha *= 0.5) {
      for (int i = 0; i < b.n_owned; ++i) b.pos[i] = start.at(b.id[i]) + alpha * dir.at(b.id[i]);
      sys.positions_changed();
      sys.compute_forces();
      const double f = max_free_force(sys, hold);
      if (sys.potential_energy() < e0 || f < fmax) {
        fmax = f;
        break;
      }
    }
  }
  throw Error("four-state relaxation: Newton iterations did not reach max |F| <= " + std::to_string(f_tol) +
              " in 60 steps");
}

double four_state_coupling(MPI_Comm comm, const Box& box, const Beads& beads, const Model& model, double skin,
                           Int3 proc_grid, const TlsSet& tls, std::size_t i, std::size_t j, double f_tol,
                           const std::optional<CoulombParams>& coulomb, double* direct) {
  std::vector<std::int64_t> held(tls.id.begin() + tls.begin(i), tls.id.begin() + tls.end(i));
  held.insert(held.end(), tls.id.begin() + tls.begin(j), tls.id.begin() + tls.end(j));
  double e[2][2], e0[2][2];
  for (int si = 0; si < 2; ++si)
    for (int sj = 0; sj < 2; ++sj) {
      const std::unique_ptr<System> sys = sample_system(comm, box, model, skin, proc_grid, beads, coulomb);
      System& s = *sys;
      IdMap target = state_positions(tls, i, si == 1);
      for (const auto& [id, x] : state_positions(tls, j, sj == 1)) target[id] = x;
      move_to(s, target, false);
      if (direct) {
        s.compute_forces();
        e0[si][sj] = s.potential_energy();
      }
      relax_holding(s, held, f_tol);
      e[si][sj] = s.potential_energy();
    }
  if (direct) *direct = e0[1][1] - e0[1][0] - e0[0][1] + e0[0][0];
  return e[1][1] - e[1][0] - e[0][1] + e[0][0];
}

}  // namespace tlsmap
