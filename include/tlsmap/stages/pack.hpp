#pragma once
// Stage 1, pack: an amorphous bead packing (docs/architecture.md, "The pipeline"; keys: docs/input.md).
//   lattice start (beads on a simple-cubic lattice in random order, species by id) →
//   liquid equilibration at t_parent (Langevin) → quench to t_final (linear ramp or instant) →
//   L-BFGS or FIRE to the inherent structure (max |F_i| <= f_tol).
// A lattice start needs no overlap removal: at ρ = 1.2 the nearest distance is 0.94 σ_AA, where
// KA forces are finite (≲ 70 ε/σ), and the first MD steps at t_parent melt it.
// Polydisperse soft spheres (system.model = "polydisperse-soft-sphere"): the same lattice start,
// one species, diameters by bead id (assign_diameters); large beads on neighbouring sites
// overlap, so a step-capped L-BFGS first brings max|F| below 10 ε/σ. With pack.swap, a sweep of
// swap Monte Carlo (swap_monte_carlo.hpp) follows every swap_every MD steps, at the bath temperature.
#include "tlsmap/core/progress.hpp"
#include "tlsmap/couplings/coulomb_stiffness.hpp"
#include "tlsmap/md/fire.hpp"
#include "tlsmap/md/lbfgs.hpp"
#include "tlsmap/md/system.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tlsmap {

class Input;

struct PackParams {
  std::string output;  // run.output, the file pack creates
  std::string from;    // pack.from: a glass made elsewhere, only minimised ("": a lattice start)
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
  bool swap = false;  // swap Monte Carlo between MD blocks (models with diameters only)
  // Active charges (system.model = "polar-dimers", charge.mode = "active"): ±charge (q*) on the A
  // and B beads, acting through the Coulomb split with these [coulomb] settings.
  bool active_charges = false;
  double charge = 0.0;
  double coulomb_accuracy = 1e-5, coulomb_cutoff = 0.0, coulomb_epsilon = 1.0;
  std::string coulomb_solver = "fft";
  CoulombStiffnessParams share;      // active charges: the Coulomb share measured on the glass
  std::int64_t share_max_beads = 0;  // larger samples skip it (pack.coulomb_share_max_beads)
  long swap_every = 10;              // MD steps per block
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

// Decorrelation over the second half of the quench stage (the liquid at T_f with quench = "instant";
// the first half is left to age), from its first step (t = 0), displacements taken relative to the
// centre of mass: the mean-square displacement, the self-intermediate scattering function
// F_s(q, t) = ⟨cos(q Δx_a)⟩ over beads and the three axes a at q = 2π (one mean diameter), and, with
// per-bead diameters, the diameter autocorrelation C_σ(t) = ⟨δσ_i(t) δσ_i(0)⟩ / ⟨δσ_i(0)²⟩,
// δσ = σ − mean σ, which only swaps move.
struct Decorrelation {
  std::vector<double> step, msd, fs, c_diameter;
};

struct PackResult {
  QuenchTrace trace;
  Decorrelation decorrelation;
  std::int64_t swap_attempted = 0, swap_accepted = 0;              // whole run
  std::int64_t swap_attempted_final = 0, swap_accepted_final = 0;  // quench stage
  MinimizeResult minimum;
  double e_per_bead = 0.0;
  double pressure = 0.0;
  double seconds = 0.0;
  double minimize_seconds = 0.0;
};

// Collective: n/2 polar dimers (model "polar-dimers") on rank 0, other ranks get none. Molecule
// centres are lattice_start's n/2 sites; molecule m is the A bead 2m − 1 (charge +charge) and the B
// bead 2m (−charge), ±r0/2 along an axis drawn from (seed, Stream::packing, m, 1); partners set,
// image flags such that each molecule is whole in unwrapped coordinates.
Beads dimer_start(MPI_Comm comm, std::int64_t n, const Box& box, double charge, std::uint64_t seed);

// Box of volume n/density with edges in the ratio `aspect`.
Box packing_box(std::int64_t n, double density, const Vec3& aspect);
// Collective. The lattice start: rank 0 creates every bead (ids 1..n; species by id in the model's
// composition, e.g. ids 1..0.8n are A), on lattice sites shuffled by the seed; other ranks none.
Beads lattice_start(MPI_Comm comm, std::int64_t n, const Box& box, const std::vector<double>& composition,
                    std::uint64_t seed);
// Diameters of the polydisperse soft spheres for the owned beads (sets has_diameter): bead id k of
// n_global gets the quantile σ((k − 1)/n_global) of P(σ) ∝ σ^-3 (PolydisperseSoftSphere::
// diameter_at), as the published configurations of this model do; the lattice start places ids on
// shuffled sites, so the sizes are spatially random. No random draw: every sample has the same set of
// diameters, whatever the seed or the rank count.
void assign_diameters(Beads& beads, std::int64_t n_global);
// Collective. Equilibrate, quench and minimise `system` in place.
PackResult make_glass(System& system, const PackParams& p, Progress& progress);

// The `tlsmap pack` stage: builds the system from the input, makes the glass, writes the output file.
void run_pack(const Input& in, MPI_Comm comm);

}  // namespace tlsmap
