// The Coulomb share of the stiffness by finite strain along the relaxed path (pair-relaxed for passive
// charges, fully relaxed for active ones)
// (include/tlsmap/couplings/coulomb_stiffness.hpp, docs/elastic.md).
#include "tlsmap/couplings/coulomb_stiffness.hpp"

#include "tlsmap/core/error.hpp"
#include "tlsmap/couplings/active_coulomb.hpp"
#include "tlsmap/electrostatics/ewald.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

namespace tlsmap {

namespace {

// Pair and Coulomb energy of one relaxed strained state, and the trace of the virial of the energy
// the relaxation minimised (for the stress check).
struct StateEnergy {
  double pair = 0.0, coulomb = 0.0, virial_trace = 0.0;
  long iterations = 0;  // of its relaxation
};

// Where each relaxation starts. The reference state (e = 0) starts from the sample; once relaxed it is
// the base of the strained ones, so that all twelve differ from one minimum. A strained state starts
// from the base's affine map plus the predicted non-affine displacement Σ_a e_a u_a, with u_a the
// relaxed response per unit stretch along axis a, learnt from the state stretched by +h along a alone.
// The start is then O(h²) from the minimum instead of O(h): the nine states after the first three take
// about half the L-BFGS iterations at f_tol 1e-10 (docs/elastic.md §4). The relaxation still decides the state (to
// f_tol); the start only makes it the minimum the linear response leads to, which an affine start can
// miss (docs/polar.md).
class StrainedStarts {
 public:
  StrainedStarts(MPI_Comm comm, const Box& box, const Beads& sample) : comm_(comm), box_(box), base_(sample) {
    base_.clear_ghosts();
  }

  std::pair<Box, Beads> start(const Vec3& e) const {
    auto [strained_box, copy] = strained_copy(box_, base_, e);
    for (int a = 0; a < 3; ++a) {
      if (e[a] == 0.0 || per_unit_[a].empty()) continue;
      for (int i = 0; i < copy.n_owned; ++i) copy.pos[i] += e[a] * per_unit_[a][copy.id[i] - 1];
    }
    return {strained_box, std::move(copy)};
  }

  // The reference state strained affinely by e, without any relaxation (the Born path).
  std::pair<Box, Beads> affine(const Vec3& e) const { return strained_copy(box_, base_, e); }

  // Whether start(e) adds the predicted non-affine displacement (every axis e stretches is learnt).
  bool predicts(const Vec3& e) const {
    if (e == Vec3::Zero()) return false;
    for (int a = 0; a < 3; ++a)
      if (e[a] != 0.0 && per_unit_[a].empty()) return false;
    return true;
  }

  // The relaxed state strained by e: the base (e = 0) or u_a (e = h along a alone, h > 0).
  void learn(const Vec3& e, const System& relaxed) {
    if (e == Vec3::Zero()) {
      base_ = relaxed.beads();
      base_.clear_ghosts();
      base_by_id_ = gather_by_id(base_, comm_).pos;
      for (Vec3& x : base_by_id_) box_.wrap(x);
      for (auto& u : per_unit_) u.clear();
      return;
    }
    int axis = 0;
    if ((e.array() != 0.0).count() != 1 || e.maxCoeff(&axis) <= 0.0 || base_by_id_.empty()) return;
    const GlobalBeads g = gather_by_id(relaxed.beads(), comm_);
    const Vec3 s = Vec3::Ones() + e;
    std::vector<Vec3>& u = per_unit_[axis];
    u.resize(base_by_id_.size());
    for (std::size_t k = 0; k < u.size(); ++k) {
      const Vec3 affine = relaxed.box().lo + (base_by_id_[k] - box_.lo).cwiseProduct(s);
      u[k] = relaxed.box().minimum_image(g.pos[k] - affine) / e[axis];
    }
  }

 private:
  MPI_Comm comm_;
  Box box_;
  Beads base_;                                 // owned beads of the reference state
  std::vector<Vec3> base_by_id_;               // its positions by id, wrapped (once relaxed)
  std::array<std::vector<Vec3>, 3> per_unit_;  // u_a by id; empty until learnt
};

// The relaxed strained state: the pair energy alone (passive) or with the charges acting.
std::unique_ptr<System> relaxed_state(MPI_Comm comm, const Model& model, double skin, Int3 proc_grid, const Vec3& e,
                                      const CoulombStiffnessParams& p, const StrainedStarts& starts, long* iterations) {
  auto [strained_box, start] = starts.start(e);
  auto sys = sample_system(comm, strained_box, model, skin, proc_grid, std::move(start), p.active);
  *iterations = relax_strained_state(*sys, e, p.f_tol, "Coulomb share", p.active ? " with its charges acting" : "");
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

// The Coulomb energy of a configuration: the plain Ewald sum, the bonded pairs' q_i q_j/(ε r) left out
// (as the engine's split).
double coulomb_energy(const Beads& beads, const Box& box, MPI_Comm comm, std::span<const double> charge,
                      const CoulombStiffnessParams& p) {
  GlobalBeads g = gather_by_id(beads, comm);
  for (Vec3& x : g.pos) box.wrap(x);
  const EwaldParams ep = ewald_params(box, p.ewald_accuracy, 0.0, p.epsilon);
  return ewald(g.pos, charge, box, ep).energy - bonded_coulomb(g, charge, box, p.epsilon);
}

// The pair (and bond) energy of owned beads in a box, without any charges acting.
double pair_energy(MPI_Comm comm, const Box& box, const Model& model, double skin, Int3 proc_grid, Beads owned) {
  const auto sys = sample_system(comm, box, model, skin, proc_grid, std::move(owned), std::nullopt);
  sys->compute_forces();
  return sys->potential_energy();
}

// The energies of the reference state strained affinely by e (no relaxation).
StateEnergy affine_energy(MPI_Comm comm, std::span<const double> charge, const Model& model, double skin,
                          Int3 proc_grid, const Vec3& e, const CoulombStiffnessParams& p,
                          const StrainedStarts& starts) {
  auto [strained_box, beads] = starts.affine(e);
  StateEnergy out;
  out.coulomb = coulomb_energy(beads, strained_box, comm, charge, p);
  out.pair = pair_energy(comm, strained_box, model, skin, proc_grid, std::move(beads));
  return out;
}

// The energies of one relaxed strained state (which `starts` learns from).
StateEnergy state_energy(MPI_Comm comm, std::span<const double> charge, const Model& model, double skin, Int3 proc_grid,
                         const Vec3& e, const CoulombStiffnessParams& p, StrainedStarts& starts) {
  StateEnergy out;
  const std::unique_ptr<System> sys = relaxed_state(comm, model, skin, proc_grid, e, p, starts, &out.iterations);
  starts.learn(e, *sys);
  out.virial_trace = sys->thermo().virial.trace();
  out.pair = sys->potential_energy();
  if (p.active) {  // the same positions without the charges: the pair and bond energy alone
    Beads owned = sys->beads();
    owned.clear_ghosts();
    out.pair = pair_energy(comm, sys->box(), model, skin, proc_grid, std::move(owned));
  }
  out.coulomb = coulomb_energy(sys->beads(), sys->box(), comm, charge, p);
  return out;
}

// The energies of the thirteen states of one part (pair or Coulomb), and what they give.
struct PathEnergies {
  double zero = 0.0;
  std::array<std::array<double, 2>, 3> uniaxial{};  // [a][+h, −h]
  std::array<std::array<double, 2>, 3> biaxial{};   // [pair (a, a+1)][+h, −h]
};

// One of the twelve strained states: stretch by ±h along axis a (uniaxial) or along a and a + 1.
struct StrainedState {
  bool biaxial;
  int a, sign;  // sign 0: +h, 1: −h
  Vec3 e;
  double& in(PathEnergies& E) const { return biaxial ? E.biaxial[a][sign] : E.uniaxial[a][sign]; }
};

// The twelve in the order the relaxations need: the three +h stretches first (they teach
// StrainedStarts the non-affine response the other nine start from).
std::vector<StrainedState> twelve_strains(double h) {
  std::vector<StrainedState> out;
  for (int a = 0; a < 3; ++a) out.push_back({false, a, 0, h * Vec3::Unit(a)});
  for (int a = 0; a < 3; ++a)
    for (int sign = 0; sign < 2; ++sign) {
      const double step = sign == 0 ? h : -h;
      if (sign == 1) out.push_back({false, a, 1, step * Vec3::Unit(a)});
      out.push_back({true, a, sign, step * (Vec3::Unit(a) + Vec3::Unit((a + 1) % 3))});
    }
  return out;
}

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

// The three shares of two parts: K, G and ρc_s².
void shares(const StiffnessPart& coulomb, const StiffnessPart& pair, double& bulk, double& shear, double& sound) {
  bulk = share(coulomb.bulk, pair.bulk);
  shear = share(coulomb.shear, pair.shear);
  sound = share(sound_modulus(coulomb.bulk, coulomb.shear), sound_modulus(pair.bulk, pair.shear));
}

}  // namespace

std::string relaxation_summary(const CoulombStiffness& c) {
  return fmt::format(
      "  L-BFGS iterations: {} for the reference and the three +h stretches, {} for the nine started "
      "from their linear response",
      c.iterations_full, c.iterations_predicted);
}

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
  StrainedStarts starts(comm, box, beads);
  long iterations[2] = {0, 0};  // the four states without a predicted start, the nine with one
  auto record = [&](double& u, double& c, const Vec3& e) {
    const bool predicted = starts.predicts(e);
    const StateEnergy s = state_energy(comm, charge_by_id, model, skin, proc_grid, e, params, starts);
    u = s.pair, c = s.coulomb;
    if (e == Vec3::Zero()) virial_trace = s.virial_trace;
    iterations[predicted ? 1 : 0] += s.iterations;
  };
  record(pair.zero, coulomb.zero, Vec3::Zero());
  const std::vector<StrainedState> strains = twelve_strains(h);
  for (const StrainedState& st : strains) record(st.in(pair), st.in(coulomb), st.e);
  // The Born path: the relaxed reference strained affinely, the same twelve strains, no relaxation.
  PathEnergies pair_affine = pair, coulomb_affine = coulomb;
  for (const StrainedState& st : strains) {
    const StateEnergy s = affine_energy(comm, charge_by_id, model, skin, proc_grid, st.e, params, starts);
    st.in(pair_affine) = s.pair, st.in(coulomb_affine) = s.coulomb;
  }
  CoulombStiffness out;
  out.strain = h;
  out.iterations_full = iterations[0], out.iterations_predicted = iterations[1];
  out.energy_coulomb = coulomb.zero;
  out.pair = differentiate(pair, h, box.volume());
  out.coulomb = differentiate(coulomb, h, box.volume());
  out.pair_affine = differentiate(pair_affine, h, box.volume());
  out.coulomb_affine = differentiate(coulomb_affine, h, box.volume());
  // The minimised energy's stress: its differences against its virial (−tr W/V), both exact for it.
  const double trace_diff = out.pair.stress.sum() + (p.active ? out.coulomb.stress.sum() : 0.0);
  const double scale = std::max((out.pair.c + out.coulomb.c).cwiseAbs().maxCoeff(), 1e-300);
  out.stress_check = std::abs(trace_diff + virial_trace / box.volume()) / scale;
  shares(out.coulomb, out.pair, out.share_bulk, out.share_shear, out.share_sound);
  shares(out.coulomb_affine, out.pair_affine, out.affine_share_bulk, out.affine_share_shear, out.affine_share_sound);
  return out;
}

}  // namespace tlsmap
