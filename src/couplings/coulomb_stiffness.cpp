// The Coulomb share of the stiffness by finite strain along the relaxed path (pair-relaxed for passive
// charges, fully relaxed for active ones)
// (include/tlsmap/couplings/coulomb_stiffness.hpp, docs/elastic.md).
#include "tlsmap/couplings/coulomb_stiffness.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/electrostatics/ewald.hpp"
#include "tlsmap/md/lbfgs.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>

namespace tlsmap {

namespace {

// Pair and Coulomb energy of one relaxed strained state, and the trace of the virial of the energy
// the relaxation minimised (for the stress check).
struct StateEnergy {
  double pair = 0.0, coulomb = 0.0, virial_trace = 0.0;
};

// The relaxed strained state: the pair energy alone (passive) or with the charges acting.
std::unique_ptr<System> relaxed_state(MPI_Comm comm, const Box& box, const Beads& beads, const Model& model,
                                      double skin, Int3 proc_grid, const Vec3& e, const CoulombStiffnessParams& p) {
  if (!p.active) return relax_strained(comm, box, beads, model, skin, proc_grid, e, p.f_tol);
  auto [strained_box, strained] = strained_copy(box, beads, e);
  auto sys = sample_system(comm, strained_box, model, skin, proc_grid, std::move(strained), p.active);
  LbfgsParams lp;
  lp.f_tol = p.f_tol;
  const MinimizeResult m = minimize_lbfgs(*sys, lp);
  if (!m.converged)
    throw Error(
        fmt::format("Coulomb share: the sample strained by ({:.3g}, {:.3g}, {:.3g}) did not relax with its "
                    "charges acting to max |F| <= {:.3g} (reached {:.3g})",
                    e[0], e[1], e[2], p.f_tol, m.max_force));
  sys->compute_forces();
  return sys;
}

// The bonded pairs' q_i q_j/(ε r), which the engine leaves out of the Coulomb energy (active_coulomb.hpp).
double bonded_coulomb(const GlobalBeads& g, std::span<const double> charge, const Box& box, double epsilon) {
  double sum = 0.0;
  for (std::size_t i = 0; i < g.partner.size(); ++i) {
    const std::int64_t j = g.partner[i] - 1;
    if (j <= static_cast<std::int64_t>(i)) continue;  // each bond once (and no partner: 0 → −1)
    sum += charge[i] * charge[j] / (epsilon * box.minimum_image(g.pos[j] - g.pos[i]).norm());
  }
  return sum;
}

StateEnergy state_energy(MPI_Comm comm, const Box& box, const Beads& beads, std::span<const double> charge,
                         const Model& model, double skin, Int3 proc_grid, const Vec3& e,
                         const CoulombStiffnessParams& p) {
  const std::unique_ptr<System> sys = relaxed_state(comm, box, beads, model, skin, proc_grid, e, p);
  StateEnergy out;
  out.virial_trace = sys->thermo().virial.trace();
  out.pair = sys->potential_energy();
  if (p.active) {  // the same positions without the charges: the pair and bond energy alone
    Beads owned = sys->beads();
    owned.clear_ghosts();
    const auto bare = sample_system(comm, sys->box(), model, skin, proc_grid, std::move(owned), std::nullopt);
    bare->compute_forces();
    out.pair = bare->potential_energy();
  }
  GlobalBeads g = gather_by_id(sys->beads(), comm);
  for (Vec3& x : g.pos) sys->box().wrap(x);
  const EwaldParams ep = ewald_params(sys->box(), p.ewald_accuracy, 0.0, p.epsilon);
  out.coulomb = ewald(g.pos, charge, sys->box(), ep).energy - bonded_coulomb(g, charge, sys->box(), p.epsilon);
  return out;
}

// The energies of the thirteen states of one part (pair or Coulomb), and what they give.
struct PathEnergies {
  double zero = 0.0;
  std::array<std::array<double, 2>, 3> uniaxial{};  // [a][+h, −h]
  std::array<std::array<double, 2>, 3> biaxial{};   // [pair (a, a+1)][+h, −h]
};

StiffnessPart differentiate(const PathEnergies& E, double h, double volume) {
  StiffnessPart part;
  for (int a = 0; a < 3; ++a) {
    const auto& u = E.uniaxial[a];
    part.stress[a] = (u[0] - u[1]) / (2.0 * h * volume);
    part.c(a, a) = (u[0] - 2.0 * E.zero + u[1]) / (h * h * volume) - part.stress[a];
  }
  for (int k = 0; k < 3; ++k) {
    const int a = k, b = (k + 1) % 3;
    const auto& u = E.biaxial[k];
    const double d2 = (u[0] - 2.0 * E.zero + u[1]) / (h * h * volume);
    part.c(a, b) = part.c(b, a) = 0.5 * (d2 - part.stress[a] - part.stress[b] - part.c(a, a) - part.c(b, b));
  }
  Mat6 c6 = Mat6::Zero();
  c6.topLeftCorner<3, 3>() = part.c;
  const Mat6 b6 = stress_strain_coefficients(c6, part.stress.asDiagonal().toDenseMatrix());
  part.bulk = voigt_bulk(b6);
  for (int k = 0; k < 3; ++k) {
    const int a = k, c = (k + 1) % 3;
    part.shear += (b6(a, a) + b6(c, c) - b6(a, c) - b6(c, a)) / 12.0;  // mean of three quarters
  }
  return part;
}

double share(double coulomb, double pair) { return coulomb / (pair + coulomb); }

}  // namespace

double sound_modulus(double bulk, double shear) { return (bulk + 10.0 * shear / 3.0) / 3.0; }

CoulombStiffness coulomb_stiffness(MPI_Comm comm, const Box& box, const Beads& beads,
                                   std::span<const double> charge_by_id, const Model& model, double skin,
                                   Int3 proc_grid, const CoulombStiffnessParams& p) {
  const double h = p.strain;
  CoulombStiffnessParams params = p;
  if (params.active) {  // the compressed states' list must still fit their box (System's check)
    const double fits = 0.5 * box.len.minCoeff() * (1.0 - 2.0 * h) - skin;
    params.active->cutoff = std::min(params.active->cutoff, fits);
  }
  PathEnergies pair, coulomb;
  double virial_trace = 0.0;
  auto record = [&](double& u, double& c, const Vec3& e) {
    const StateEnergy s = state_energy(comm, box, beads, charge_by_id, model, skin, proc_grid, e, params);
    u = s.pair, c = s.coulomb;
    if (e == Vec3::Zero()) virial_trace = s.virial_trace;
  };
  record(pair.zero, coulomb.zero, Vec3::Zero());
  for (int a = 0; a < 3; ++a)
    for (int sign = 0; sign < 2; ++sign) {
      const double step = sign == 0 ? h : -h;
      Vec3 e = Vec3::Zero();
      e[a] = step;
      record(pair.uniaxial[a][sign], coulomb.uniaxial[a][sign], e);
      e[(a + 1) % 3] = step;
      record(pair.biaxial[a][sign], coulomb.biaxial[a][sign], e);
    }
  CoulombStiffness out;
  out.strain = h;
  out.energy_coulomb = coulomb.zero;
  out.pair = differentiate(pair, h, box.volume());
  out.coulomb = differentiate(coulomb, h, box.volume());
  // The minimised energy's stress: its differences against its virial (−tr W/V), both exact for it.
  const double trace_diff = out.pair.stress.sum() + (p.active ? out.coulomb.stress.sum() : 0.0);
  const double scale = std::max((out.pair.c + out.coulomb.c).cwiseAbs().maxCoeff(), 1e-300);
  out.stress_check = std::abs(trace_diff + virial_trace / box.volume()) / scale;
  out.share_bulk = share(out.coulomb.bulk, out.pair.bulk);
  out.share_shear = share(out.coulomb.shear, out.pair.shear);
  out.share_sound =
      share(sound_modulus(out.coulomb.bulk, out.coulomb.shear), sound_modulus(out.pair.bulk, out.pair.shear));
  return out;
}

}  // namespace tlsmap
