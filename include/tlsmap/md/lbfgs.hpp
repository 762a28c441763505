#pragma once
// Limited-memory BFGS minimiser (Nocedal, Math. Comp. 35, 773 (1980); Nocedal & Wright, Numerical
// Optimization, 2nd ed., Alg. 7.4/7.5): the direction is H·F from the two-loop recursion over the
// last `memory` step/gradient-change pairs, capped so that no bead moves more than max_step, then
// a backtracking line search from step length 1. The recursion runs on coefficients of the stored
// vectors, with all the dot products it needs computed in one reproducible sum per iteration
// (the "vector-free" form), instead of 2·memory sequential global sums. docs/minimizers.md has
// the comparison with FIRE.
//
// Line search: accept a trial step when the energy decreased enough (Armijo), or — because near a
// minimum the energy change of a step (~|F|²/k ~ 1e-20) is far below the round-off of the total
// energy — when the energy did not rise beyond round-off and the slope -F·d fell to at most
// (1 - 2 delta) of its start (Hager & Zhang's "approximate Wolfe" test, SIAM J. Optim. 16, 170
// (2005)). Otherwise the next trial length is the secant root of the slope, kept in [0.1, 0.5] of
// the last one. A direction that is not downhill, or a line search that fails, drops the history
// and retries along the force (steepest descent). If that fails too, the energy is not consistent
// with the forces on the scale of a step: a truncated Coulomb sum, for one, jumps by
// ~q² erfc(α r_c)/r_c whenever a pair crosses its cut-off, which near a minimum exceeds what a step
// gains. From then on a step is accepted on the slope test alone (a gradient-only line search:
// for a quadratic along the line, slope(a) ≤ (1 − 2 delta) |slope0| means E(a) < E(0)), and
// MinimizeResult::slopes_only_from records when; a failed steepest-descent search in that mode ends
// the run unconverged. Converged when max_i |F_i| <= f_tol.
//
// Bonds: a harmonic bond k = 2000 is 2k stiff along its stretch, far stiffer than the beads'
// surroundings (α ~ 1e2–1e3), and L-BFGS with H0 = γ I crawls on that spread of curvatures. With
// bond_precondition = α > 0 the recursion runs in coordinates z with x = T z, T = 1 − (1 − t) P per
// molecule (P the projector on the relative motion along the bond axis n, t = (1 + 2k/α)^(−1/2)), so
// H0 = γ T² = γ (1 + (2k/α) P)⁻¹. T is symmetric and fixed while the history lives: n is taken
// afresh whenever the history is empty, and the history is dropped every bond_axis_refresh steps
// so that n follows the molecules' rotation. A bead reads its partner's value from a ghost (one
// exchange per transform, two per iteration). Molecules with a held bead keep T = 1.
//
// Rank-count independence: every global quantity (the two-loop's dot products, slopes, energies)
// is a reproducible sum and every per-bead operation is the same on any decomposition, so the path
// and the minimum are bit for bit the same at any rank count. The per-bead history lives in
// Beads::extra and so travels with the beads when they migrate.
#include "tlsmap/md/fire.hpp"  // MinimizeResult
#include "tlsmap/md/system.hpp"

#include <functional>

namespace tlsmap {

struct LbfgsParams {
  double f_tol = 1e-10;           // on max_i |F_i| (ε/σ)
  long max_iter = 100000;         // accepted steps
  int memory = 8;                 // correction pairs kept
  double max_step = 0.1;          // cap on any bead's displacement per step (σ); below skin/2 = 0.15
  double c1 = 1e-4;               // Armijo sufficient-decrease constant
  double delta = 0.1;             // approximate-Wolfe slope test (see above)
  int max_backtrack = 40;         // trial steps per line search
  const HeldIds* held = nullptr;  // beads kept in place (fire.hpp; must outlive the call)
  // Bonded models: the bond-stretch preconditioner's estimate of the surroundings' stiffness α
  // (ε/σ²; 0 turns it off), and how often (accepted steps) its bond axes are renewed, which drops
  // the history. See "Bonds" above.
  double bond_precondition = 1000.0;
  long bond_axis_refresh = 100;
};

// Collective. Minimises the system in place; velocities are zeroed (a minimum is at rest).
// Beads::extra columns already in use are kept (this adds its own after them and removes them at
// the end). observer(iteration, energy, max_force) is called every `every` accepted steps.
MinimizeResult minimize_lbfgs(System& system, const LbfgsParams& p,
                              const std::function<void(long, double, double)>& observer = {}, long every = 0);

}  // namespace tlsmap
