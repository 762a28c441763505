// The Coulomb share of the stiffness by finite strain along the pair-relaxed path
// (include/tlsmap/couplings/coulomb_stiffness.hpp, docs/elastic.md).
#include "tlsmap/couplings/coulomb_stiffness.hpp"

#include "tlsmap/electrostatics/ewald.hpp"
#include "tlsmap/parallel/gather.hpp"

#include <array>

namespace tlsmap {

namespace {

// Pair and Coulomb energy of one relaxed strained state.
struct StateEnergy {
  double pair = 0.0, coulomb = 0.0;
};

StateEnergy state_energy(MPI_Comm comm, const Box& box, const Beads& beads, std::span<const double> charge,
                         const Model& model, double skin, Int3 proc_grid, const Vec3& e,
                         const CoulombStiffnessParams& p) {
  const std::unique_ptr<System> sys = relax_strained(comm, box, beads, model, skin, proc_grid, e, p.f_tol);
  GlobalBeads g = gather_by_id(sys->beads(), comm);
  for (Vec3& x : g.pos) sys->box().wrap(x);
  const EwaldParams ep = ewald_params(sys->box(), p.ewald_accuracy, 0.0, p.epsilon);
  return {sys->potential_energy(), ewald(g.pos, charge, sys->box(), ep).energy};
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
  PathEnergies pair, coulomb;
  auto record = [&](double& u, double& c, const Vec3& e) {
    const StateEnergy s = state_energy(comm, box, beads, charge_by_id, model, skin, proc_grid, e, p);
    u = s.pair, c = s.coulomb;
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
  out.share_bulk = share(out.coulomb.bulk, out.pair.bulk);
  out.share_shear = share(out.coulomb.shear, out.pair.shear);
  out.share_sound =
      share(sound_modulus(out.coulomb.bulk, out.coulomb.shear), sound_modulus(out.pair.bulk, out.pair.shear));
  return out;
}

}  // namespace tlsmap
