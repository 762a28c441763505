# The polar-dimer model (tlsmap's system.model = "polar-dimers") as LAMMPS input lines after
# read_data (atom_style full, bond_style harmonic before it), one definition for the scripts that run
# LAMMPS on it: bond K = k/2 = 1000, r0 = 0.8; LJ ε 1 with σ 1 / 0.95 / 0.9 (A–A, A–B, B–B), cut at
# 2.5 σ_ij, energy-shifted; Coulomb lj/cut/coul/long with real-space cut RC; special_bonds stays at
# LAMMPS's default 0 0 0 (bonded pairs neither LJ nor Coulomb). Source it, then in a heredoc:
#   $(lammps_polar_model 3.0)
lammps_polar_model() {
  printf 'bond_coeff      1 1000.0 0.8\n'
  printf 'pair_style      lj/cut/coul/long 2.5 %s\n' "$1"
  printf 'pair_coeff      1 1 1.0 1.0 2.5\n'
  printf 'pair_coeff      1 2 1.0 0.95 2.375\n'
  printf 'pair_coeff      2 2 1.0 0.9 2.25\n'
  printf 'pair_modify     shift yes table 0\n'
}
