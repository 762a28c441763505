#pragma once
// Serial optimisers on a LocalModel: a local minimiser, a first-order saddle converger
// (eigenvector following), and the Hessian spectrum used to verify both.
//
// Minimiser: L-BFGS (Nocedal & Wright, Alg. 7.4) with a per-bead step cap and a backtracking line
// search that accepts a step when the energy decreased (Armijo) or, once energy changes are below
// round-off, when it did not rise beyond round-off; then — because L-BFGS crawls at |F| ~ 1e-9 on
// the shallow glass modes — a Newton "polish" on the dense Hessian (in the internal coordinates of
// a free cluster), which takes max|F| from ~1e-4 to ~1e-13 in two or three steps. A minimum is
// claimed only with max|F_i| <= f_tol (default 1e-10) and a positive-definite Hessian.
//
// Saddle converger: eigenvector following in the Hessian eigenbasis (Cerjan & Miller, J. Chem. Phys.
// 75, 2800 (1981); Wales, J. Chem. Soc. Faraday Trans. 88, 653 (1992) — the step used in OPTIM):
// per mode i with eigenvalue b_i and gradient component g_i,
//     h_i = ± 2 g_i / (|b_i| (1 + sqrt(1 + 4 g_i² / b_i²))),
// uphill (+) along the followed mode, downhill (−) along all others. Far from the stationary point
// it moves ~1 σ per mode (then scaled to the trust radius); close to it it is the Newton step, so
// convergence is quadratic and |F| reaches 1e-10 or better. The followed mode is the lowest
// eigenvector (mode following by overlap with the previous step's is used while climbing).
// That needs the full eigen-decomposition every step, O((3n)³) with vectors (~0.2 s at 600 dof).
// Large domains (more than dense_limit dof, frozen beads present) take a cheaper step with the
// same limit: the lowest eigenpair from Lanczos on the dense Hessian (~40 products), then
//     h = +2g₁/(|λ₁| + sqrt(λ₁² + 4g₁²)) v₁  −  H̃⁻¹ g⊥,   H̃ = H + (|λ₁| − λ₁) v₁v₁ᵀ (Cholesky),
// i.e. the same uphill step along v₁ and a Newton step across it (H̃ equals H across v₁ and is
// positive definite when only λ₁ may be negative); when H̃ is not (other negative modes, e.g.
// compressed stiff bonds after a push) the step across v₁ is the Levenberg step −(H̃ + μI)⁻¹ g⊥,
// μ doubled from max(−2λ₂, 1) until Cholesky succeeds. Near the saddle this is Newton's step, so
// both paths converge to the same point quadratically; the index is verified at the end with the
// full spectrum, once.
#include "tlsmap/search/local_model.hpp"

namespace tlsmap {

struct MinimizerParams {
  double f_tol = 1e-10;        // max_i |F_i| at convergence (ε/σ)
  long max_iter = 20000;       // L-BFGS steps
  int memory = 10;             // L-BFGS correction pairs
  double max_step = 0.1;       // cap on any bead's displacement per step (σ)
  double polish_below = 1e-3;  // start Newton polishing on the dense Hessian below this max|F|
};

struct MinimizeOutcome {
  LocalModel::Vector x;
  double energy = 0.0;
  double max_force = 0.0;
  long iterations = 0;
  bool converged = false;  // max|F| <= f_tol (the Hessian check is separate: see spectrum())
};

// Minimise from x. Deterministic (same x ⇒ same result, bit for bit).
MinimizeOutcome minimize_local(const LocalModel& model, LocalModel::Vector x, const MinimizerParams& p);

// Eigenvalues (ascending) of the Hessian at x, with the six rigid-body zero modes removed for a
// free cluster (eigen-analysis in LocalModel::rigid_body_complement); vectors in full coordinates,
// unit norm, one column per eigenvalue. Dense SelfAdjointEigenSolver: O((3n)³).
struct Spectrum {
  Eigen::VectorXd values;
  LocalModel::Matrix vectors;
  // Number of eigenvalues below −tol, and whether none lies in [−tol, tol] (a degenerate point).
  int n_negative(double tol) const;
  bool nondegenerate(double tol) const;
};
Spectrum spectrum(const LocalModel& model, const LocalModel::Vector& x, bool with_vectors = true);

// Lowest eigenpair of a symmetric matrix by Lanczos with full re-orthogonalisation and restarts
// from the Ritz vector (deterministic; `start` may be empty). Returns the eigenvalue; `vec` gets the
// unit eigenvector; `second` (if not null) the next Ritz value.
double lowest_eigenpair(const LocalModel::Matrix& h, const LocalModel::Vector& start, LocalModel::Vector& vec,
                        double* second = nullptr);

struct SaddleParams {
  double f_tol = 1e-9;           // max_i |F_i| at convergence (ε/σ); the spec asks for ~1e-8 or better
  int max_steps = 400;           // eigenvector-following steps
  double trust_radius = 0.1;     // largest bead displacement per step (σ)
  double eigenvalue_tol = 1e-6;  // |λ| below this counts as zero (not a valid index) (ε/σ²)
  int dense_limit = 150;         // above this many dof (and with frozen beads) use the Lanczos path
  int max_convex_steps = 30;     // give up after this many consecutive steps with λ₁ >= 0 (fell back
                                 // into a basin; ARTn restarts in that case too)
  int track_modes = 3;           // while λ₁ > 0 the followed mode is, among this many lowest, the one
                                 // overlapping most with the previous (dense path only)
  bool track_always = false;     // keep tracking after λ₁ < 0 (following a higher mode from a minimum)
  // Lanczos path: the verification's full spectrum also gives the exact lowest eigenvector as the
  // mode. Without it (callers that do not use the mode) only eigenvalues are computed, and the
  // mode is the last step's Lanczos estimate: a dense eigen-decomposition without vectors costs
  // about a third as much (the whole-sample band of cli_pairs_stage, 2997 dof: 58 s → 40 s).
  bool exact_mode = true;
};

struct SaddleOutcome {
  LocalModel::Vector x;
  double energy = 0.0;
  double max_force = 0.0;
  double lowest_eigenvalue = 0.0;  // the negative mode's curvature at convergence
  double second_eigenvalue = 0.0;
  LocalModel::Vector mode;  // unit eigenvector of the lowest eigenvalue
  int n_negative = -1;      // Hessian index at x
  int steps = 0;
  bool converged = false;  // max|F| <= f_tol AND exactly one negative eigenvalue
};

// Converge to a first-order saddle from x by eigenvector following (uphill along the lowest mode,
// or along the mode overlapping most with `follow` when it is non-empty, downhill along the rest).
SaddleOutcome converge_saddle(const LocalModel& model, LocalModel::Vector x, const SaddleParams& p,
                              const LocalModel::Vector& follow = {});

}  // namespace tlsmap
