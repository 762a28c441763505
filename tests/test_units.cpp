// Physical units (include/tlsmap/io/units.hpp, tunnelling.hpp) against CODATA 2018, typed in here:
// every expected value is computed in this file from the SI constants below, never taken from the
// code under test. Reduced LJ units: charge q* = sqrt(4π ε0 σ ε), dipole q* σ, energy ε, time
// τ = σ sqrt(m/ε), ħ* = ħ/(σ sqrt(m ε)).
//
// Tolerances (relative): the code stores e²/(4π ε0 k_B Å) = 167101.0 K·Å (CODATA: 167100.9469, 3.2e-7
// away) and 1 e·Å = 4.80320 D (CODATA: 4.8032047, 9.8e-7 away), so charges are asserted to 1e-6 and
// dipoles to 2e-6; ħ* (the code's ħ = 1.054571817e-34 has ten digits of h/2π: 6.1e-10 off) to 1e-9, and
// τ to 1e-12.
// A wrong constant (a factor 10 in the Coulomb constant gives √10 in every μ in debye), a
// swapped σ/ε, a missing √ or a wrong power of σ fails these by orders of magnitude.
#include "tlsmap/io/units.hpp"
#include "tlsmap/search/tunnelling.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

using namespace tlsmap;

namespace {

// CODATA 2018 (e, k_B, h exact in the 2019 SI; c exact).
constexpr double kElementaryCharge = 1.602176634e-19;              // C
constexpr double kVacuumPermittivity = 8.8541878128e-12;           // F/m
constexpr double kBoltzmann = 1.380649e-23;                        // J/K
constexpr double kHbar = 6.62607015e-34 / (2 * std::numbers::pi);  // J s
constexpr double kAtomicMassUnit = 1.66053906660e-27;              // kg
constexpr double kSpeedOfLight = 299792458.0;                      // m/s
constexpr double kDebye = 1e-21 / kSpeedOfLight;                   // C m
constexpr double kAngstrom = 1e-10;                                // m
constexpr double pi = std::numbers::pi;

PhysicalUnits argon() {
  PhysicalUnits u;
  u.sigma_angstrom = 3.4, u.epsilon_kelvin = 120.0, u.mass_amu = 39.948;
  return u;
}

// q* in coulomb: the charge whose Coulomb energy at distance σ is ε.
double reduced_charge_coulomb(const PhysicalUnits& u) {
  return std::sqrt(4 * pi * kVacuumPermittivity * u.sigma_angstrom * kAngstrom * u.epsilon_kelvin * kBoltzmann);
}

void expect_rel(double got, double want, double tol, const char* what) {
  EXPECT_LE(std::abs(got / want - 1), tol) << what << ": got " << got << ", CODATA " << want;
}

}  // namespace

TEST(Units, CoulombConstantInKelvinAngstrom) {
  // e²/(4π ε0 k_B · 1 Å) = 167100.947 K.
  const double want = kElementaryCharge * kElementaryCharge / (4 * pi * kVacuumPermittivity * kBoltzmann * kAngstrom);
  EXPECT_NEAR(want, 167100.947, 1e-3);  // the typed constants themselves
  // Through the code: two elementary charges 1 Å apart, in reduced units q_i q_j / r, times ε in K.
  for (const PhysicalUnits& u : {argon(), PhysicalUnits{1.0, 1.0, 1.0}, PhysicalUnits{2.7, 350.0, 18.0}}) {
    const double q = 1.0 / u.e_per_charge();  // one e in q*
    const double r = 1.0 / u.sigma_angstrom;  // 1 Å in σ
    expect_rel(q * q / r * u.epsilon_kelvin, want, 1e-6, "e^2/(4 pi eps0 kB A) through PhysicalUnits");
  }
}

TEST(Units, ElementaryChargesPerReducedCharge) {
  for (const PhysicalUnits& u : {argon(), PhysicalUnits{2.7, 350.0, 18.0}}) {
    const double want = reduced_charge_coulomb(u) / kElementaryCharge;
    expect_rel(u.e_per_charge(), want, 1e-6, "e per q*");
  }
  expect_rel(argon().e_per_charge(), 0.0494129322, 1e-6, "e per q*, argon");
}

TEST(Units, DebyePerReducedDipole) {
  for (const PhysicalUnits& u : {argon(), PhysicalUnits{2.7, 350.0, 18.0}}) {
    const double want = reduced_charge_coulomb(u) * u.sigma_angstrom * kAngstrom / kDebye;
    expect_rel(u.debye_per_dipole(), want, 2e-6, "debye per q* sigma");
  }
  // Argon: 0.80696 D per q*σ; 1 e·Å = 4.80320 D.
  expect_rel(argon().debye_per_dipole(), 0.806957458, 2e-6, "debye per q* sigma, argon");
  EXPECT_NEAR(kElementaryCharge * kAngstrom / kDebye, 4.8032047, 1e-6);
}

TEST(Units, ReducedHbarForArgon) {
  const PhysicalUnits u = argon();
  const double want =
      kHbar / (u.sigma_angstrom * kAngstrom * std::sqrt(u.mass_amu * kAtomicMassUnit * u.epsilon_kelvin * kBoltzmann));
  EXPECT_NEAR(want, 0.0295865, 1e-7);  // de Boer's Λ* = 2πħ* = 0.186 for argon
  expect_rel(hbar_reduced(u), want, 1e-9, "hbar*");
  const PhysicalUnits h2{2.928, 37.0, 2.016};  // H2 (de Boer's Λ* = 1.73)
  const double want_h2 = kHbar / (h2.sigma_angstrom * kAngstrom *
                                  std::sqrt(h2.mass_amu * kAtomicMassUnit * h2.epsilon_kelvin * kBoltzmann));
  expect_rel(hbar_reduced(h2), want_h2, 1e-9, "hbar*, H2");
  EXPECT_NEAR(2 * pi * want_h2, 1.73, 0.01);
}

TEST(Units, TimeUnitInPicoseconds) {
  const PhysicalUnits u = argon();
  const double want =
      u.sigma_angstrom * kAngstrom * std::sqrt(u.mass_amu * kAtomicMassUnit / (u.epsilon_kelvin * kBoltzmann)) * 1e12;
  EXPECT_NEAR(want, 2.1514, 1e-4);
  expect_rel(u.tau_ps(), want, 1e-12, "tau in ps");
}

TEST(Units, KelvinPerReducedEnergy) {
  // The tunnelling splitting in kelvin is Δ0[ε] × ε[K]: ħ*ω in ε, with ω in 1/τ, equals ħω in J / k_B
  // in K divided by ε[K]. A harmonic well of curvature k = 1 ε/σ² and mass m: ω = 1/τ, so ħ*·ε[K] must
  // be ħ/(τ k_B) in kelvin.
  const PhysicalUnits u = argon();
  const double tau_s =
      u.sigma_angstrom * kAngstrom * std::sqrt(u.mass_amu * kAtomicMassUnit / (u.epsilon_kelvin * kBoltzmann));
  expect_rel(hbar_reduced(u) * u.epsilon_kelvin, kHbar / (tau_s * kBoltzmann), 1e-9, "hbar omega in K");
}
