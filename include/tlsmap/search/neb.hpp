#pragma once
// Climbing-image nudged elastic band between two minima of a LocalModel.
//
// Henkelman, Uberuaga & Jónsson, J. Chem. Phys. 113, 9901 (2000) (climbing image) with the
// improved tangent of Henkelman & Jónsson, J. Chem. Phys. 113, 9978 (2000). Images start on the
// straight line A → B, or on a broken line through known waypoints (mobile coordinates; for a free
// cluster B and the waypoints are first rotated and translated onto A). The band is relaxed on the
// NEB force of all interior images (below). After `climb_after` steps, or once max|F_NEB| < 10 tol,
// the highest image climbs. Converged when max over images and beads of |F_NEB,i| <= f_tol.
// Each image keeps its own copy of the model so its pair list stays valid (no thrashing).
//
// The energy profile, the arc length along the band (mass-weighted = Cartesian at m = 1) and the
// tangential derivative dE/ds at each image are kept: they define the 1D path potential V(s) used
// for the tunnelling splitting (cubic Hermite interpolation between images).
//
// Two optimisers for the band, both on the NEB force of all interior images as one vector and both
// stopping on the same criterion (where a band has several fixed points, e.g. nearly equal saddles,
// they may reach different ones):
//  * fire: FIRE 1.0 (Bitzek et al., PRL 97, 170201 (2006));
//  * lbfgs: the "global L-BFGS" of Sheppard, Terrell & Henkelman, J. Chem. Phys. 128, 134106 (2008):
//    d = H F by the two-loop recursion over the pairs (Δx, −ΔF), no line search (the NEB force is
//    not a gradient), the step capped at max_step per bead, the history dropped whenever d is not
//    along F and whenever the climbing image changes (the force's definition changes); FIRE takes
//    over if it blows up or stalls (lbfgs_blowup, lbfgs_stall).
// docs/minimizers.md ("The NEB's optimiser") has the measured costs.
#include "tlsmap/search/local_model.hpp"

#include <vector>

namespace tlsmap {

enum class NebOptimizer { fire, lbfgs };

struct NebParams {
  int n_images = 16;       // images including both end points (>= 3)
  double spring = 5.0;     // spring constant between neighbouring images (ε/σ²)
  double f_tol = 1e-3;     // max|F_NEB,i| at convergence (ε/σ); the top is refined to a saddle
                           // anyway, and Δ0 moves by < 1e-3 relative from 1e-3 to 1e-5 (docs/search.md)
  long max_iter = 5000;    // optimiser steps (then reported unconverged)
  bool climbing = true;    // climbing image on
  long climb_after = 200;  // steps before the highest image starts to climb (or when near tol)
  double max_step = 0.05;  // cap on any bead's displacement per step (σ)
  NebOptimizer optimizer = NebOptimizer::lbfgs;  // the input's default too (search.neb_optimizer)
  int memory = 10;                               // lbfgs: correction pairs kept
  // lbfgs: FIRE takes over for good, from the band with the lowest max|F| so far, when max|F| rises
  // past lbfgs_blowup times that lowest value or has not improved for lbfgs_stall steps.
  double lbfgs_blowup = 100.0;
  long lbfgs_stall = 300;
  int end_levels = 3;  // refine_band_ends: halvings of the spacing at each end (search.neb_end_levels)
};

struct NebResult {
  std::vector<LocalModel::Vector> images;  // n_images configurations, images[0] = A, back() = B
  std::vector<double> energy;              // E of each image (domain energy, ε)
  std::vector<double> arc;                 // cumulative path length s at each image (σ √m)
  std::vector<double> slope;               // dE/ds at each image along the tangent (ε / (σ √m))
  int highest = 0;                         // index of the highest image
  int n_intermediate_minima = 0;           // interior images lower than both neighbours
  double max_force = 0.0;
  long iterations = 0;
  long energy_calls = 0;  // energy/gradient evaluations over all images
  bool converged = false;
  bool fell_back = false;      // lbfgs: FIRE took over (blow-up or stall)
  int end_levels[2] = {0, 0};  // refine_band_ends: refinements done at A's end and at B's
};

// `via` (optional waypoints, e.g. the known saddles and intermediate minima of a chain of events
// from a to b): the band starts on the broken line a → via... → b (images evenly spaced in arc
// length) if its highest image is lower than the straight line's, else on the straight line. The
// broken line avoids pushing beads through each other when a and b differ by an exchange; the
// straight line wins when the chain is a detour (the direct path was never an event).
NebResult nudged_elastic_band(const LocalModel& model, const LocalModel::Vector& a, const LocalModel::Vector& b,
                              const NebParams& p, const std::vector<LocalModel::Vector>& via = {});

// The band with its ends refined: `p.end_levels` times at each end, a 5-image band without a
// climbing image from the end minimum to the band's third node, started on the band, replaces the
// first two segments (four segments of half the length; the third node is kept as it is). Each level
// halves the spacing at the minimum, so after L levels the end segment is 2^−L of the band's.
//
// Why: the 1D levels (schrodinger.hpp) live in the wells, within a zero-point length sqrt(ħ/ω) of
// the minima, which is about one segment of a 16-image band on glass rows. The minimum-energy path
// turns on every scale as it nears a minimum, so the levels need the band resolved out to that
// length, and the search takes each well's axis at that scale (event_search.cpp). On the default glass,
// E_qs then moves by a median 0.2 % from 3 to 6 levels and 0.4 % from 16 to 32 images, where without
// the refinement 16 images were 7 % high; doubling all images costs 4×, refining the ends little
// (docs/search.md, "Cost").
//
// A level is not done at an end whose band top is within its first two segments (the sub-band
// would cut the top), nor after a sub-band that did not converge (energy_calls and iterations count
// it all the same). The top, n_intermediate_minima, max_force and converged stay the band's; arc,
// highest and end_levels are those of the refined band.
NebResult refine_band_ends(const LocalModel& model, const NebResult& band, const NebParams& p);

// For a free cluster: b rotated and translated to best overlay a (Kabsch, no permutation). For a
// domain with frozen beads: b unchanged.
LocalModel::Vector align_to(const LocalModel& model, const LocalModel::Vector& a, const LocalModel::Vector& b);

}  // namespace tlsmap
