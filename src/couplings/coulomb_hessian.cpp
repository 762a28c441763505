// The Hessian of the active Coulomb split (see include/tlsmap/couplings/coulomb_hessian.hpp).
#include "tlsmap/couplings/coulomb_hessian.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/core/voigt.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

namespace tlsmap {

namespace {

// u'/r and u'' of q_i q_j erfc(αr)/(ε r), per unit q_i q_j/ε.
PairCurvature erfc_curvature(double r2, double alpha) {
  const double r = std::sqrt(r2), erfc_r = std::erfc(alpha * r),
               g = 2.0 * alpha / std::sqrt(std::numbers::pi) * std::exp(-alpha * alpha * r2);
  return {-(erfc_r / (r2 * r) + g / r2), 2.0 * erfc_r / (r2 * r) + 2.0 * g / r2 + 2.0 * alpha * alpha * g};
}

// visit(j, r, r2, c) for owned bead i's pairs in the split's real space: the Coulomb list within r_c
// with u = q_i q_j erfc(αr)/(ε r), then its bonded partner once more with the exclusion
// u = −q_i q_j/(ε r) (u'/r = qq/r³, u'' = −2qq/r³). The Hessian's blocks and the elastic part's sums
// both walk it.
template <class Visit>
void for_each_real_curvature(const System& sys, const NeighborList& list, const CoulombParams& p, int i,
                             Visit&& visit) {
  const Beads& b = sys.beads();
  const double qi = b.charge[i];
  if (qi == 0.0) return;
  const double rc2 = p.cutoff * p.cutoff, inv_eps = 1.0 / p.epsilon;
  for (const int* pj = list.row_begin(i); pj != list.row_end(i); ++pj) {
    const double qq = qi * b.charge[*pj] * inv_eps;
    const Vec3 r = b.pos[i] - b.pos[*pj];
    const double r2 = r.squaredNorm();
    if (qq == 0.0 || r2 >= rc2) continue;
    const PairCurvature c = erfc_curvature(r2, p.alpha);
    visit(*pj, r, r2, PairCurvature{qq * c.u1_over_r, qq * c.u2});
  }
  const int j = sys.bond_partner().empty() ? -1 : sys.bond_partner()[i];
  if (j < 0) return;
  const double qq = qi * b.charge[j] * inv_eps;
  const Vec3 r = b.pos[i] - b.pos[j];
  const double r2 = r.squaredNorm(), r3 = r2 * std::sqrt(r2);
  if (qq != 0.0) visit(j, r, r2, PairCurvature{qq / r3, -2.0 * qq / r3});
}

// The System's Coulomb list, or Error naming `what`.
const NeighborList& coulomb_list_of(const System& sys, const char* what) {
  const NeighborList* list = sys.coulomb_list();
  if (!list) throw Error(std::string(what) + ": the System has no Coulomb neighbour list");
  return *list;
}

class CoulombHessianPart : public HessianPart {
 public:
  CoulombHessianPart(Coulomb& coulomb, const System& sys, const BeadNumbering& num)
      : coulomb_(coulomb), comm_(sys.comm()) {
    const Beads& b = sys.beads();
    if (num.n_owned() != b.n_owned) throw Error("Coulomb Hessian: the numbering is not of the System's owned beads");
    pos_.assign(b.pos.begin(), b.pos.begin() + b.n_owned);
    q_.assign(b.charge.begin(), b.charge.begin() + b.n_owned);
    blocks_ = assemble_real(sys, num);
  }

  MatHandle blocks() override { return std::move(blocks_); }

  void add_product(Vec x, Vec y) override {
    const int n = static_cast<int>(pos_.size());
    const PetscScalar* a;
    petsc_check(VecGetArrayRead(x, &a), "Coulomb Hessian product");
    std::vector<Vec3> dx(n);
    double m = 0.0;
    for (int i = 0; i < n; ++i) dx[i] = Vec3(a[3 * i], a[3 * i + 1], a[3 * i + 2]), m = std::max(m, dx[i].norm());
    petsc_check(VecRestoreArrayRead(x, &a), "Coulomb Hessian product");
    MPI_Allreduce(MPI_IN_PLACE, &m, 1, MPI_DOUBLE, MPI_MAX, comm_);
    if (m == 0.0) return;
    const double s = kCoulombHessianStep / m;
    std::vector<Vec3> plus(n), minus(n), f_plus, f_minus;
    for (int i = 0; i < n; ++i) plus[i] = pos_[i] + s * dx[i], minus[i] = pos_[i] - s * dx[i];
    coulomb_.reciprocal(plus, q_, f_plus);
    coulomb_.reciprocal(minus, q_, f_minus);
    PetscScalar* out;
    petsc_check(VecGetArray(y, &out), "Coulomb Hessian product");
    const double inv = -0.5 / s;
    for (int i = 0; i < n; ++i)
      for (int d = 0; d < 3; ++d) out[3 * i + d] += inv * (f_plus[i][d] - f_minus[i][d]);
    petsc_check(VecRestoreArray(y, &out), "Coulomb Hessian product");
  }

 private:
  // The real-space blocks over the Coulomb list, the bonded pairs' exclusion subtracted (assembled
  // with ADD_VALUES, so the partner's two visits sum).
  MatHandle assemble_real(const System& sys, const BeadNumbering& num) const {
    const NeighborList& list = coulomb_list_of(sys, "Coulomb Hessian");
    return assemble_blocks(sys, num, [&](int i, const BlockVisitor& visit) {
      for_each_real_curvature(
          sys, list, coulomb_.params(), i,
          [&](int j, const Vec3& r, double r2, const PairCurvature& c) { visit(j, pair_block(r, r2, c)); });
    });
  }

  Coulomb& coulomb_;
  MPI_Comm comm_;
  std::vector<Vec3> pos_;  // owned beads in the numbering's order
  std::vector<double> q_;
  MatHandle blocks_;
};

}  // namespace

ElasticPart coulomb_elastic_part(Coulomb& coulomb, const System& sys) {
  const NeighborList& list = coulomb_list_of(sys, "Coulomb elastic constants");
  const Beads& b = sys.beads();
  const int n = b.n_owned;
  PairElasticSums pairs(n);
  for (int i = 0; i < n; ++i)
    for_each_real_curvature(sys, list, coulomb.params(), i,
                            [&](int, const Vec3& r, double r2, const PairCurvature& c) { pairs.add(i, r, r2, c); });
  ElasticPart out = pairs.finish(sys.comm());

  const std::vector<Vec3> pos(b.pos.begin(), b.pos.begin() + n);
  const std::vector<double> q(b.charge.begin(), b.charge.begin() + n);
  const MeshStrainDerivatives mesh = coulomb.reciprocal_strain_derivatives(pos, q);
  out.born += mesh.second;
  for (int a = 0; a < 6; ++a) {
    const int k = kVoigt[a][0], l = kVoigt[a][1];
    out.stress_volume(k, l) += mesh.first[a];
    if (k != l) out.stress_volume(l, k) += mesh.first[a];
  }
  for (int a = 0; a < 6; ++a) {
    const Mat3 eps = voigt_unit_strain(a);
    for (int i = 0; i < n; ++i)
      out.xi[6 * static_cast<std::size_t>(i) + a] += q[i] * mesh.strain_field[a][i] - eps * (q[i] * mesh.field[i]);
  }
  return out;
}

std::shared_ptr<HessianPart> coulomb_hessian_part(Coulomb& coulomb, const System& sys, const BeadNumbering& num) {
  return std::make_shared<CoulombHessianPart>(coulomb, sys, num);
}

}  // namespace tlsmap
