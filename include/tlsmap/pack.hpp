#pragma once
// Stage 1, pack: an amorphous bead packing (DESIGN.md §2).
//   lattice start (beads on a simple-cubic lattice in random order, species by id) →
//   liquid equilibration at t_parent (Langevin) → quench to t_final (linear ramp or instant) →
//   L-BFGS or FIRE to the inherent structure (max |F_i| <= f_tol).
// A lattice start needs no overlap removal: at ρ = 1.2 the nearest distance is 0.94 σ_AA, where
// KA forces are finite (≲ 70 ε/σ), and the first MD steps at t_parent melt it.
// Polydisperse soft spheres (system.model = "polydisperse-soft-sphere"): the same lattice start,
// one species, diameters drawn per bead id (draw_diameters); large beads on neighbouring sites
// overlap, so a step-capped L-BFGS first brings max|F| below 10 ε/σ; no swap Monte Carlo yet.
#include "tlsmap/fire.hpp"
#include "tlsmap/lbfgs.hpp"
#include "tlsmap/progress.hpp"
#include "tlsmap/system.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tlsmap {

class Input;

struct PackParams {
  std::int64_t n_beads = 4000;
  double density = 1.2;
  Vec3 aspect = Vec3::Ones();
  std::string model = "kob-andersen";
  double skin = 0.3;
  Int3 proc_grid{0, 0, 0};
  std::uint64_t seed = 12345;
  double dt = 0.005, friction = 1.0;
  double t_parent = 2.0, t_final = 0.3;
  long equil_steps = 2000, quench_steps = 6000;
  bool linear_quench = true;
  long log_every = 1000;
  std::string minimizer = "lbfgs";  // "lbfgs" or "fire" (minimize.method)
  FireParams fire;
  LbfgsParams lbfgs;

  static PackParams from_input(const Input& in);
};

// One row per logged MD step of equilibration and quench: the energy–temperature trace used later
// to estimate T_g (the kink of e(T) at the glass transition).
struct QuenchTrace {
  std::vector<double> step, t_target, t_kinetic, e_pot, pressure;  // e_pot per bead
};

struct PackResult {
  QuenchTrace trace;
  MinimizeResult minimum;
  double e_per_bead = 0.0;
  double pressure = 0.0;
  double seconds = 0.0;
  double minimize_seconds = 0.0;
};

// Box of volume n/density with edges in the ratio `aspect`.
Box packing_box(std::int64_t n, double density, const Vec3& aspect);
// Collective. The lattice start: rank 0 creates every bead (ids 1..n; species by id in the model's
// composition, e.g. ids 1..0.8n are A), on lattice sites shuffled by the seed; other ranks none.
Beads lattice_start(MPI_Comm comm, std::int64_t n, const Box& box, const std::vector<double>& composition,
                    std::uint64_t seed);
// Diameters of the polydisperse soft spheres for the owned beads (sets has_diameter): the quantile
// of P(σ) ∝ σ^-3 (PolydisperseSoftSphere::diameter_at) at a uniform number keyed by
// (seed, Stream::diameter, bead id), so the draw does not depend on the rank count.
void draw_diameters(Beads& beads, std::uint64_t seed);
// Collective. Equilibrate, quench and minimise `system` in place.
PackResult make_glass(System& system, const PackParams& p, Progress& progress);

// The `tlsmap pack` stage: builds the system from the input, makes the glass, writes the output file.
void run_pack(const Input& in, MPI_Comm comm);

}  // namespace tlsmap
