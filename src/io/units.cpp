#include "tlsmap/io/units.hpp"

#include "tlsmap/io/input.hpp"

#include <cmath>

namespace tlsmap {
namespace {
constexpr double kCoulombKelvinAngstrom = 167101.0;  // e² / (4π ε0 k_B) in K·Å (CODATA 2018: 167101.0)
constexpr double kDebyePerEAngstrom = 4.80320;       // 1 e·Å in debye
constexpr double kBoltzmann = 1.380649e-23;          // J/K
constexpr double kAtomicMass = 1.66053906660e-27;    // kg
}  // namespace

PhysicalUnits PhysicalUnits::from_input(const Input& in) {
  PhysicalUnits u;
  u.sigma_angstrom = in.get_double("units.sigma_angstrom");
  u.epsilon_kelvin = in.get_double("units.epsilon_kelvin");
  u.mass_amu = in.get_double("units.mass_amu");
  return u;
}

double PhysicalUnits::e_per_charge() const {
  return std::sqrt(sigma_angstrom * epsilon_kelvin / kCoulombKelvinAngstrom);
}

double PhysicalUnits::debye_per_dipole() const { return e_per_charge() * sigma_angstrom * kDebyePerEAngstrom; }

double PhysicalUnits::tau_ps() const {
  const double sigma_m = sigma_angstrom * 1e-10;
  return sigma_m * std::sqrt(mass_amu * kAtomicMass / (epsilon_kelvin * kBoltzmann)) * 1e12;
}

}  // namespace tlsmap
