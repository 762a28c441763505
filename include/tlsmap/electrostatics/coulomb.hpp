#pragma once
// Coulomb energy and forces of the bead charges by an Ewald-type split (docs/electrostatics.md §6), in Gaussian
// reduced units (pair energy q_i q_j /(ε r), as LAMMPS `units lj`), periodic, conducting boundary:
//
//   E = ½ Σ_cells Q φ − C Σ_i q_i²                          grid part: Gaussian charges of width σ
//     + ½ Σ_i Σ_{j: r_ij < r_c} q_i q_j erfc(α r_ij)/(ε r_ij)       real space, α = 1/(2σ)
//     − α/(ε √π) Σ_i q_i²                                   self term
//
// Two Gaussians of width σ interact by erf(r/2σ)/r, so grid + real space is the whole 1/r, and the
// grid energy includes each Gaussian's self energy q²/(2√π σ ε) = α q²/(√π ε), which the self term
// removes. C = (2π/Vε) Σ_{k≠0} (G_h(k) − 1/k²) e^{−k²σ²} is the grid's own error in that self
// energy (G_h below): a constant, so it changes no force. The grid part is PoissonGrid with a high-order (default 16th) central-difference
// Laplacian: its interpolated field is the exact gradient of ½ΣQφ, so forces are energy-
// consistent; as h → 0 and r_c → ∞ everything converges to the Ewald sum (ewald.hpp).
//
// The real-space sum (its kernel tabulated in r² to ≤ 1e-13 relative: real_space_table.hpp) runs
// over a full neighbour list with cutoff ≥ r_c over owned beads and ghosts (System's
// coulomb_list()); rows come in canonical order and per-bead energies are summed with
// reproducible_sums, so the real and self parts are bitwise independent of the rank count, and
// the grid part is independent to the solver tolerance.
//
// Accuracy. The knob is δ, the wanted RMS force error relative to the RMS Coulomb force. The rule
// (coulomb_params): s = √(−ln δ); r_c = 1.2 s (σ = 0.6) unless given, capped by the box; α = s/r_c;
// the smallest σ/h in steps of 1/8 from 1.25 whose a-priori grid error (below) is ≤ δ/3 of the grid
// force; the kernel support c σ with 8 e^{−(c − h/σ)²/2} = δ/3. Reported with each result:
//   real space (Kolafa & Perram, Mol. Sim. 9, 351 (1992)):  ΔF_r = 2 Q² e^{−α²r_c²} / (ε √(N r_c V))
//   grid: ΔF_g = √(Q²/N) √Q² (4π/Vε) [Σ_k k² (G_h(k) − 1/k²)² e^{−2k²σ²}]^{1/2}, G_h the discrete
//         Green's function (1/symbol of the Laplacian, 0 outside the grid's Brillouin zone)
//   kernel truncation: 8 e^{−c'²/2} × the grid force (the same formula with 1/k² for ΔG), c' =
//         (s − 1) h/σ the support reached on the short side (an empirical bound: the weight of a
//         node jumps as it enters or leaves the support; measured 1–8 × e^{−c'²/2}),
// all for uncorrelated charges (conservative for neutral bonded pairs), combined in quadrature and
// divided by the measured RMS Coulomb force.
//
// Reciprocal part: two solvers (CoulombParams::solver). `mg`: the Gaussian grid charges above on
// PoissonGrid (CG + multigrid), the only one that can carry a spatially varying ε. `fft`: P3M with
// the optimal influence function on PETSc's FFTW interface (fft_coulomb.hpp; uniform ε only), the
// same real-space and self terms, its mesh chosen by the Deserno–Holm estimate so that the mesh
// error is ≤ δ/3 of the reciprocal force.
#include "tlsmap/electrostatics/fft_coulomb.hpp"
#include "tlsmap/electrostatics/poisson_grid.hpp"
#include "tlsmap/electrostatics/real_space_table.hpp"
#include "tlsmap/parallel/beads.hpp"
#include "tlsmap/parallel/decomposition.hpp"
#include "tlsmap/parallel/neighbor_list.hpp"

#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tlsmap {

// The reciprocal-part solver: fft (P3M, uniform ε) or mg (PoissonGrid, any ε).
enum class CoulombSolver { fft, mg };

// "fft" or "mg" (input key coulomb.solver, `tlsmap energy --coulomb-solver`); variable_epsilon: a
// spatially varying ε is in use, which "fft" cannot carry (Error). Throws Error for other names.
CoulombSolver coulomb_solver_by_name(const std::string& name, bool variable_epsilon = false);
const char* coulomb_solver_name(CoulombSolver s);

struct CoulombParams {
  double accuracy = 1e-5;                    // requested relative RMS force error δ
  double cutoff = 0.0;                       // real-space cutoff r_c
  double alpha = 0.0;                        // splitting parameter α = 1/(2σ)
  double sigma = 0.0;                        // Gaussian width of the grid charges
  double spacing = 0.0;                      // requested grid spacing h (the grid may be finer)
  double kernel_cutoff = 4.0;                // spreading support in units of σ
  int order = 16;                            // finite-difference order of the grid Laplacian
  double epsilon = 1.0;                      // uniform dielectric constant
  double rtol = 1e-10;                       // KSP relative tolerance (the rule: 1e-3 δ within [1e-12, 1e-8])
  CoulombSolver solver = CoulombSolver::mg;  // reciprocal part
  Int3 mesh{0, 0, 0};                        // fft: mesh nodes per dimension
  int assignment_order = 0;                  // fft: charge assignment order p
  double drift = 0.0;  // beads may lie this far outside their rank's subdomain (half the list skin in MD)
};

// Parameters from the rule above. cutoff > 0 fixes r_c; otherwise r_c = 1.2 s, at most max_cutoff.
// Throws Error for δ outside (0, 0.01], ε ≤ 0, or a given cutoff above max_cutoff.
CoulombParams coulomb_params(const Box& box, double accuracy, double cutoff = 0.0, double epsilon = 1.0,
                             double max_cutoff = std::numeric_limits<double>::infinity(), int order = 16,
                             CoulombSolver solver = CoulombSolver::mg);

struct CoulombErrorEstimate {
  double real = 0.0, grid = 0.0, kernel = 0.0;  // absolute RMS force errors (see the head comment)
  double grid_force = 0.0;                      // RMS grid force for uncorrelated charges
  double total() const;
};

// A-priori estimate for n charges with Σq² = q2 in `box`, grid spacings h (per dimension).
CoulombErrorEstimate coulomb_error_estimate(const CoulombParams& p, const Box& box, const Vec3& h, double n, double q2);

struct CoulombResult {
  double real = 0.0, reciprocal = 0.0, self = 0.0, total = 0.0;  // energies; reciprocal = grid part
  double rms_force = 0.0;                                        // RMS over beads of |F_i| (Coulomb only)
  double max_force = 0.0;                                        // max over beads of |F_i| (Coulomb only)
  CoulombErrorEstimate estimate;                                 // absolute
  double relative_error = 0.0;  // estimate.total() / rms_force: the achieved-accuracy estimate
  int iterations = 0;           // KSP iterations of the grid solve (0 with fft)
  // The virial Σ r_a f_b of real + reciprocal (self has no strain dependence), summed over ranks:
  // only when compute() was asked for it and the solver is fft (the multigrid part has no tensor).
  std::optional<Mat3> virial;
};

class Coulomb {
 public:
  // Collective over decomp.comm(); decomp must outlive this. Builds the grid (PoissonGrid errors
  // propagate: e.g. too many ranks for the kernel support).
  Coulomb(const Decomposition& decomp, const CoulombParams& p);

  // Collective. Energies and forces of the owned beads' charges; `list` must be a full list with
  // cutoff ≥ r_c over beads (owned + ghosts), built at the current positions or within its skin.
  // force[i] (i < n_owned) receives the Coulomb force on owned bead i.
  // virial: also the tensor (CoulombResult::virial; fft only), at the cost of six more sums per pair
  // (docs/electrostatics.md §11: about 1.2× the evaluation without).
  CoulombResult compute(const Beads& beads, const NeighborList& list, std::vector<Vec3>& force, bool virial = false);

  // Collective. The reciprocal (grid or mesh) part alone: its forces q_i E(r_i) on the given
  // beads of this rank (within the subdomain + drift), and its energy before the constant self
  // correction. Smooth in the positions (no cutoff), hence the matrix-free Hessian product of the
  // split (couplings/coulomb_hessian.hpp) by central differences of it. virial: the mesh's virial
  // tensor too (fft only; FftCoulomb::compute).
  double reciprocal(std::span<const Vec3> pos, std::span<const double> q, std::vector<Vec3>& force,
                    bool virial = false);

  // Collective. The reciprocal part's strain derivatives (FftCoulomb::strain_derivatives) for these
  // beads of this rank; fft only (throws Error for the multigrid part, whose grid is not strained).
  MeshStrainDerivatives reciprocal_strain_derivatives(std::span<const Vec3> pos, std::span<const double> q);

  const CoulombParams& params() const { return p_; }
  const PoissonGrid& grid() const { return *grid_; }  // mg only
  Int3 mesh() const { return grid_ ? grid_->n_nodes() : fft_->mesh(); }

 private:
  const Decomposition& decomp_;
  CoulombParams p_;
  RealSpaceTable kernel_;                           // erfc(αr)/r and its force, tabulated in r²
  std::unique_ptr<PoissonGrid> grid_;               // mg
  std::unique_ptr<FftCoulomb> fft_;                 // fft
  double fft_err_sum_ = 0.0, fft_ref_sum_ = 0.0;    // fft: the estimate's k sums (fft_error_sums)
  double grid_err_sum_ = 0.0, grid_ref_sum_ = 0.0;  // the estimate's k sums for this box and grid
  double grid_self_sum_ = 0.0;                      // the self-energy correction's k sum
  double kernel_reach_ = 0.0;                       // (s − 1) h_min/σ: the kernel's shortest reach
};

}  // namespace tlsmap
