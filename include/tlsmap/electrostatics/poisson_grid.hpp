#pragma once
// Grid Poisson solver for ∇·(ε(r)∇φ) = −4πρ in a periodic box (Gaussian reduced units and why a grid:
// docs/electrostatics.md, "Units and conventions"; the solver in detail: §2 there).
//
// The grid: n_d nodes per dimension at x_i = lo + L i/n (spacing ≤ the requested h, n a multiple of
// 2^(levels−1) so that multigrid can halve it), each node the centre of a finite-volume cell. Two
// periodic DMDAs share one ownership: the solver's (star stencil, width 1) and the spreading one
// (box stencil, width = kernel support), both with process counts dims[0..2] of the bead
// Decomposition and ownership ranges cut at the subdomain boundaries, so a rank owns exactly the
// nodes inside its bead subdomain (asserted at set-up).
//
// Operator: 7-point finite volumes, A φ = 4π Q with (A φ)_i = Σ_faces ε_f a_f/h_f (φ_i − φ_nb) (a_f the
// face area), Q the charge in each cell, ε_f the harmonic mean of the two cell values (dielectric.hpp).
// A is symmetric positive semi-definite with the constants as null space: the RHS is made exactly
// neutral (mean subtracted), the constant MatNullSpace is attached on every multigrid level, and φ is
// returned with zero mean — the Ewald convention.
// Solver: KSP with prefix "poisson_", default CG + geometric multigrid (PCMG on the DMDA hierarchy,
// operators re-discretised per level, Chebyshev/Jacobi smoothers, coarse problem by SVD since it is
// singular), rtol 1e-10; the fine-level operators are set explicitly (DM inactive);
// every option can be overridden (-poisson_ksp_type, -poisson_pc_type, -poisson_ksp_monitor, ...).
// Higher order (order = 4, 6, ..., 16; uniform ε only): the operator is ε h³ times the central-
// difference Laplacian of that order along each axis, (A φ)_i = ε h³ Σ_d Σ_m c_m (2φ_i − φ_{i±m e_d})/h_d²,
// applied matrix-free (MatShell) through the wide ghosts; the preconditioner is still multigrid on the
// 7-point operator, which is spectrally equivalent (symbol ratio in [1, π²/4]), so CG keeps its
// iteration count while the symbol error falls from (kh)²/12 to O((kh)^order). This is what the
// bead Coulomb split (coulomb.hpp) needs: 1e-5..1e-8 relative forces at σ/h ≈ 1.25..2.5.
//
// Charges: a normalised Gaussian of width σ on the nodes within kernel_cutoff·σ per dimension
// (separable, periodic images by unwrapped indices), the discrete weights divided by their sum so
// the grid holds exactly the bead's charge. A rank spreads the beads it owns; contributions to other
// ranks' nodes travel through DMLocalToGlobal(ADD_VALUES). The potential at a point is interpolated
// with the same weights, and the field at a point is minus the gradient of that interpolant — the
// exact derivative of the discrete energy ½ Σ Q φ, so forces q E are energy-conserving.
// On the grid, E = −∇φ by central differences (used for volume integrals).
#include "tlsmap/core/petsc_util.hpp"  // PetscHandle, petsc_check
#include "tlsmap/electrostatics/dielectric.hpp"
#include "tlsmap/parallel/decomposition.hpp"

#include <petscdmda.h>
#include <petscksp.h>

#include <functional>
#include <span>
#include <vector>

namespace tlsmap {

struct PoissonGridOptions {
  double spacing = 0.5;         // requested maximum grid spacing h
  double sigma = 1.0;           // Gaussian spreading width σ (should be ≳ h)
  double kernel_cutoff = 5.0;   // kernel support: nodes within kernel_cutoff·σ per dimension
  double rtol = 1e-10;          // default KSP relative tolerance (options may override)
  int levels = 0;               // multigrid levels; 0 = as many as the grid allows
  int order = 2;                // 2: finite volumes, any ε; 4..16 (even): central differences, uniform ε
  bool reuse_solution = false;  // start each solve from the previous φ (KSPSetInitialGuessNonzero)
  double drift = 0.0;           // beads may lie this far outside their rank's subdomain (spread, field_at)
};

// Coefficients c_1..c_p of the central second difference of order 2p: −f'' ≈ Σ_m c_m (2f_0 − f_m − f_−m)/h².
std::vector<double> central_difference_coefficients(int order);

class PoissonGrid {
 public:
  // Collective over decomp.comm(); decomp must outlive the grid. Throws Error if a rank's share of
  // the grid is narrower than the kernel support (use a coarser spacing, a smaller σ or fewer ranks).
  PoissonGrid(const Decomposition& decomp, const PoissonGridOptions& opt, const Dielectric& eps = Dielectric());
  PoissonGrid(const PoissonGrid&) = delete;
  PoissonGrid& operator=(const PoissonGrid&) = delete;

  const Int3& n_nodes() const { return n_; }
  Vec3 spacing() const { return h_; }
  int levels() const { return levels_; }
  int stencil_width() const { return s_; }
  int order() const { return order_; }
  Vec3 node(const Int3& i) const;  // position of node i (indices may lie outside 0..n−1)

  // Collective. Replace the grid charges by the Gaussian-spread charges of this rank's owned
  // beads (every position must lie in this rank's subdomain; throws Error otherwise).
  void spread(std::span<const Vec3> pos, std::span<const double> q);
  // Local. Replace the grid charges by ρ(x_node) · cell volume (for tests with a given density).
  void set_density(const std::function<double(const Vec3&)>& rho);

  // Collective. Solve for φ; throws Error if the KSP diverged.
  void solve();
  int iterations() const { return iterations_; }
  KSPConvergedReason reason() const { return reason_; }
  KSP ksp() const { return ksp_; }

  // Collective: ½ Σ_cells Q φ (includes the discrete self energy of each Gaussian).
  double energy() const;
  // Local: interpolated φ and E = −∇φ at points inside this rank's subdomain (owned beads).
  std::vector<double> potential_at(std::span<const Vec3> pos) const;
  std::vector<Vec3> field_at(std::span<const Vec3> pos) const;
  // Collective: φ at any points (each evaluated by its owner); the same result on every rank.
  std::vector<double> sample_potential(std::span<const Vec3> points) const;
  // Collective: ∫_sphere E dV with E from central differences, cells cut by the sphere weighted by
  // their volume fraction inside (4×4×4 sub-samples); reproducible sum over ranks.
  Vec3 sphere_field_integral(const Vec3& centre, double radius) const;
  // Local: f(node index, position, φ) for every owned node.
  void for_each_owned_node(const std::function<void(const Int3&, const Vec3&, double)>& f) const;

 private:
  PetscErrorCode set_up(const PoissonGridOptions& opt);
  PetscErrorCode set_up_grids();  // set_up's steps, in order
  PetscErrorCode set_up_solver(const PoissonGridOptions& opt);
  PetscErrorCode spread_impl(std::span<const Vec3> pos, std::span<const double> q, bool& inside);
  PetscErrorCode solve_impl();
  static PetscErrorCode compute_operators(KSP ksp, Mat A, Mat P, void* ctx);
  static PetscErrorCode apply_high_order(Mat A, Vec x, Vec y);

  struct Weights1D {
    int first = 0;              // first node index (unwrapped)
    std::vector<double> w, dw;  // normalised weights and d/dx of the bead coordinate
  };
  Weights1D weights(int d, double x, bool derivative) const;
  bool in_ghost_range(const Weights1D (&w)[3]) const;
  // One value per point from the wide potential: kernel(w, a) with the point's weights w (d/dx
  // weights too when `derivative`) and the ghosted potential array a; Error naming `what` if a point
  // lies outside this rank's ghost range.
  template <class Out, class Kernel>
  std::vector<Out> interpolate(std::span<const Vec3> pos, bool derivative, const char* what, Kernel kernel) const;

  const Decomposition& decomp_;
  Dielectric eps_;
  Int3 n_{0, 0, 0};
  Vec3 h_ = Vec3::Zero();
  double sigma_ = 1.0;
  int s_ = 1;  // kernel support (nodes)
  int w_ = 1;  // spreading DM ghost width: s_ plus the drift allowance (nodes)
  int levels_ = 1;
  int order_ = 2;
  std::vector<double> coef_;       // central-difference coefficients (order > 2)
  Int3 lo_{0, 0, 0}, m_{0, 0, 0};  // owned node range [lo_, lo_ + m_)
  DMHandle da_, da_wide_;
  KSPHandle ksp_;
  MatHandle op_, pre_;              // operator (assembled, or MatShell for order > 2), preconditioner
  VecHandle rhs_, sol_;             // 4π Q − mean, and the KSP solution (kept for reuse)
  VecHandle work_wide_;             // ghosted scratch of the MatShell
  VecHandle charge_;                // Q per cell (global, either DM's layout)
  VecHandle phi_;                   // solution (global)
  VecHandle phi_local_, phi_wide_;  // ghosted copies (width 1 and s)
  int iterations_ = 0;
  KSPConvergedReason reason_ = KSP_CONVERGED_ITERATING;
};

}  // namespace tlsmap
