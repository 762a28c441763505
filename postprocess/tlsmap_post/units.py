"""Reduced Lennard-Jones units -> physical units.

Every number in a tlsmap file is in reduced units (σ, ε, m, τ, q* = sqrt(4π ε0 σ ε), dipoles in
q* σ; docs/file-format.md). The root attributes carry the mapping: sigma_angstrom, epsilon_kelvin,
e_per_reduced_charge, debye_per_reduced_dipole. This module only multiplies by them, so the
conversion used by the report is exactly the one the C++ stages wrote (include/tlsmap/io/units.hpp).
"""

K_B = 1.380649e-23          # J/K (exact, SI 2019)
ANGSTROM = 1e-10            # m
DEBYE_PER_E_ANGSTROM = 4.80320  # 1 e·Å in Debye (the paper quotes 4.8)


class Units:
    """The unit mapping of one sample (all from the file's root attributes)."""

    def __init__(self, sigma_angstrom, epsilon_kelvin, e_per_reduced_charge, debye_per_reduced_dipole):
        self.sigma_angstrom = float(sigma_angstrom)
        self.epsilon_kelvin = float(epsilon_kelvin)
        self.e_per_reduced_charge = float(e_per_reduced_charge)
        self.debye_per_reduced_dipole = float(debye_per_reduced_dipole)

    def key(self):
        return (self.sigma_angstrom, self.epsilon_kelvin, self.e_per_reduced_charge,
                self.debye_per_reduced_dipole)

    def debye(self, mu_reduced):
        """Dipole q* σ -> Debye."""
        return mu_reduced * self.debye_per_reduced_dipole

    def kelvin(self, e_reduced):
        """Energy ε -> kelvin (E / k_B)."""
        return e_reduced * self.epsilon_kelvin

    def angstrom(self, length_reduced):
        return length_reduced * self.sigma_angstrom

    def volume_m3(self, volume_reduced):
        """Volume σ³ -> m³."""
        return volume_reduced * (self.sigma_angstrom * ANGSTROM) ** 3

    def joule(self, e_reduced):
        return e_reduced * self.epsilon_kelvin * K_B

    def reduced_from_kelvin(self, e_kelvin):
        return e_kelvin / self.epsilon_kelvin

    def __repr__(self):
        return (f"Units(sigma={self.sigma_angstrom} Å, epsilon={self.epsilon_kelvin} K, "
                f"e/q*={self.e_per_reduced_charge:.6g}, D/(q*σ)={self.debye_per_reduced_dipole:.6g})")
