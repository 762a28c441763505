#pragma once
// Physical units behind the reduced Lennard-Jones units of every number tlsmap stores.
// Lengths in σ, energies in ε, masses in m, time in τ = σ sqrt(m/ε), charges in the LAMMPS `units lj`
// charge unit q* = sqrt(4π ε0 σ ε) (so Coulomb energies are q_i q_j / r in ε), dipoles in q* σ.
// The input's [units] table maps σ, ε, m to Å, K, u; from them:
//   e / q* = sqrt(e² / (4π ε0 k_B · Å · K) / (σ[Å] ε[K])) = sqrt(167101.0 / (σ[Å] ε[K])),
//   1 e·Å = 4.80320 D.
// The metadata a configuration file stores from them is config_meta() of the I/O layer.
#include <string>

namespace tlsmap {

class Input;

struct PhysicalUnits {
  double sigma_angstrom = 3.4, epsilon_kelvin = 120.0, mass_amu = 39.948;

  static PhysicalUnits from_input(const Input& in);
  // Elementary charges per reduced charge unit q*.
  double e_per_charge() const;
  // Debye per reduced dipole unit q* σ.
  double debye_per_dipole() const;
  // Picoseconds per τ.
  double tau_ps() const;
};

}  // namespace tlsmap
