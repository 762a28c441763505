#pragma once
// The Hessian of the pair energy as a distributed PETSc matrix (MATMPIAIJ with block size 3;
// PETSc 3.18's GAMG cannot build its graph from BAIJ), for the
// linear response of a whole sample (TLS–TLS elastic couplings, non-affine elastic constants) and
// for Newton relaxations.
//
// Numbering: one 3×3 block row per bead. Rank r owns the block rows [first, first + n_owned) of its
// owned beads, in their local order when the numbering is made, so the matrix and vector layout is
// the bead decomposition itself and assembly is purely local (full neighbour lists: every owned row
// sees all its neighbours, no off-process entries). Ghosts and arbitrary bead ids are mapped to block
// rows through a memory-scalable PETSc AO (application ordering "id − 1" → block row).
//
// Blocks, for a pair potential u(r) between beads a ≠ b at separation r = x_a − x_b (r̂ = r/|r|):
//     K_ab = u''(r) r̂r̂ᵀ + (u'(r)/r) (I − r̂r̂ᵀ),     H_ab = −K_ab,     H_aa = Σ_b K_ab.
// For LJ: u'/r = −(f/r) of the force kernel, u'' = 4ε(156 (σ/r)¹² − 42 (σ/r)⁶)/r²; for the soft
// spheres (per-bead diameters, σ_ij by the mixing rule) the derivatives of y⁻¹² + c0 + c2 y² + c4 y⁴,
// y = r/σ_ij; for the bonded pair of a bonded model those of the bond ½ k (r − r0)², which replaces
// its pair term. The shift of the truncated LJ does not enter; its force jump at r_c (a δ-function
// in u'') is left out, as in every MD Hessian (the soft spheres have none: v, v', v'' vanish
// there). Periodic self-images add K and −K to the same diagonal block and cancel.
//
// The translations are the null space of the whole-sample Hessian (three orthonormal vectors,
// attach_translation_null_space); clamping beads (clamp_beads: identity rows/columns) removes it.
#include "tlsmap/core/petsc_util.hpp"  // PetscHandle, petsc_check
#include "tlsmap/md/system.hpp"

#include <petscao.h>
#include <petscksp.h>
#include <petscmat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace tlsmap {

using AOHandle = PetscHandle<AO, AODestroy>;
using MatNullSpaceHandle = PetscHandle<MatNullSpace, MatNullSpaceDestroy>;

class BeadNumbering {
 public:
  // Collective: numbers the owned beads of `beads` (ids must be 1..N over all ranks).
  BeadNumbering(const Beads& beads, MPI_Comm comm);
  MPI_Comm comm() const { return comm_; }
  PetscInt first() const { return first_; }
  PetscInt n_owned() const { return n_owned_; }
  PetscInt n_global() const { return n_global_; }
  // Collective: the block row of each id (any ids, on any rank).
  std::vector<PetscInt> blocks_of(const std::vector<std::int64_t>& ids) const;

 private:
  MPI_Comm comm_;
  PetscInt first_ = 0, n_owned_ = 0, n_global_ = 0;
  AOHandle ao_;
};

// Local. The radial derivatives of one LJ pair at r² < rc² (the kernel of every Hessian block and
// of the Born elastic constants, material.hpp): u'(r)/r and u''(r).
struct PairCurvature {
  double u1_over_r = 0.0, u2 = 0.0;
};
PairCurvature lj_pair_curvature(double r2, const LennardJones::Params& p);
// The same for two soft spheres of mixed diameter sigma_ij (pair_potential.hpp), r² < 1.25² σ_ij².
PairCurvature soft_sphere_pair_curvature(double r2, double sigma_ij);
// Local. The pair of local beads (i, j) of `sys` at squared distance r2 by the system's model (its
// species table, or the soft spheres with the two beads' diameters): false beyond the pair's
// cutoff, else *c set.
bool pair_curvature(const System& sys, int i, int j, double r2, PairCurvature* c);
// Local. The harmonic bond ½ k (r − r0)²: u'/r = k (r − r0)/r, u'' = k.
PairCurvature bond_curvature(double r2, const HarmonicBond& bond);
// Local. The one pair loop of the Hessian and the elastic constants: visit(j, r, r2, c) for every
// neighbour j (local index) of the owned bead i within the pair's cutoff, in neighbour-list order,
// with r = x_i − x_j, r2 = |r|² and c the pair's u'/r, u''. Bonded models: the bond partner's copy
// that the forces use (System::bond_partner) comes with the bond's curvature instead of the pair
// model's, as md/bonds.hpp excludes the bonded pair from the pair forces. The neighbour list must
// cover the current positions.
template <class Visit>
void for_each_pair_curvature(const System& sys, int i, Visit&& visit) {
  const Beads& b = sys.beads();
  const NeighborList& list = sys.neighbor_list();
  const int partner = sys.bond_partner().empty() ? -1 : sys.bond_partner()[i];
  for (const int* j = list.row_begin(i); j < list.row_end(i); ++j) {
    const Vec3 r = b.pos[i] - b.pos[*j];
    const double r2 = r.squaredNorm();
    PairCurvature c;
    if (*j == partner) visit(*j, r, r2, bond_curvature(r2, *sys.model().bond));
    else if (pair_curvature(sys, i, *j, r2, &c)) visit(*j, r, r2, c);
  }
}
// Local. The block K_ab above for separation r = x_a − x_b, r2 = |r|² inside the cutoff.
Mat3 pair_block(const Vec3& r, double r2, const PairCurvature& c);
inline Mat3 pair_block(const Vec3& r, double r2, const LennardJones::Params& p) {
  return pair_block(r, r2, lj_pair_curvature(r2, p));
}

// Collective. A symmetric block matrix in `num`'s layout (AIJ, block size 3) from pair blocks:
// rows(i, visit) calls visit(j, K) for the pairs (i, j) of owned bead i (j a local index, owned or
// ghost; every pair seen from both sides), and the matrix gets H_ij = −K, H_ii = Σ_j K. The one
// assembly of the pair Hessian and of the force terms' explicit blocks.
using BlockVisitor = std::function<void(int, const Mat3&)>;
using BlockRows = std::function<void(int, const BlockVisitor&)>;
MatHandle assemble_blocks(const System& sys, const BeadNumbering& num, const BlockRows& rows);

// Collective. The Hessian of the pair model and the bonds at the system's current positions; its
// neighbour list must cover them (call after positions_changed() or rebuild()). Rows in `num`'s
// layout, which must number the system's current owned beads. The System's force terms (active
// charges) are not in it: HessianOperator adds them.
MatHandle assemble_hessian(const System& sys, const BeadNumbering& num);

// A force term's part of the Hessian (ForceTerm::hessian_part): explicit blocks of its short-range
// part, which join the assembled matrix, and a matrix-free product for the rest.
class HessianPart {
 public:
  virtual ~HessianPart() = default;
  // Collective. The explicit blocks, assembled in the numbering's layout (an empty handle: none).
  virtual MatHandle blocks() = 0;
  // Collective. y += H_rest x, x and y in the numbering's layout.
  virtual void add_product(Vec x, Vec y) = 0;
};

// The whole Hessian of a System: the assembled matrix (pair model, bonds and the force terms'
// blocks), the preconditioner's matrix, and, when a force term has a matrix-free part (the
// Coulomb grid part of active charges), a MatShell that adds it. Clamped beads (clamped()) get
// identity rows and columns in both; the matrix-free part sees and returns zeros there.
class HessianOperator {
 public:
  // Collective: as assemble_hessian, plus every force term's part (Error naming a term without one).
  HessianOperator(const System& sys, const BeadNumbering& num);
  ~HessianOperator();
  HessianOperator(HessianOperator&&) noexcept;
  HessianOperator& operator=(HessianOperator&&) noexcept;

  Mat matrix() const;  // the assembled part (the preconditioner's matrix)
  Mat op() const;      // the whole Hessian: matrix() itself, or the shell with the matrix-free parts
  bool matrix_free() const;
  // Collective. A copy with the given beads' rows and columns clamped (identity).
  HessianOperator clamped(const BeadNumbering& num, const std::vector<std::int64_t>& ids) const;
  // Collective. The three unit translations as null space of op() (and near null space of matrix()).
  void attach_translation_null_space();

 private:
  struct Impl;
  explicit HessianOperator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Collective. The three unit translations as null space (and near null space, for GAMG).
void attach_translation_null_space(Mat h);

// Collective. Replaces the rows and columns of the given beads' blocks by the identity (any rank
// may list any ids; each bead's rows are cleared once).
void clamp_beads(Mat h, const BeadNumbering& num, const std::vector<std::int64_t>& ids);

// Collective. A KSP for the Hessian with options prefix "hessian_": CG + GAMG, rtol 1e-10 by
// default, overridable (-hessian_ksp_type, -hessian_pc_type, -hessian_ksp_monitor, ...).
KSPHandle make_hessian_ksp(MPI_Comm comm, Mat h, double rtol = 1e-10);
// The same for a HessianOperator: operator op(), preconditioner built from matrix(). With a
// matrix-free part GMRES instead of CG: that product is symmetric only to the accuracy of the
// Coulomb split (docs/dipole.md, "J_mech with bonds and active charges").
KSPHandle make_hessian_ksp(MPI_Comm comm, const HessianOperator& h, double rtol = 1e-10);
// Collective. Solves h x = b; throws Error if the KSP diverged. Returns the iteration count.
int solve_checked(KSP ksp, Vec b, Vec x, const char* what);

}  // namespace tlsmap
