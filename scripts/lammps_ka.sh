# The Kob–Andersen model (tlsmap's system.model = "kob-andersen") as LAMMPS input lines, one
# definition for every script that runs LAMMPS on tlsmap's glasses: A–A ε 1, σ 1; A–B ε 1.5, σ 0.8;
# B–B ε 0.5, σ 0.88; cut-off 2.5 σ_αβ; energy-shifted. Source it, then in an input heredoc:
#   $(lammps_ka_pair)                                       pair_style lj/cut 2.5 ... pair_modify shift yes
#   $(lammps_ka_pair "lj/cut/coul/long 2.5 $rc" "table 0")  another pair style, extra pair_modify words
lammps_ka_pair() {
  printf 'pair_style      %s\n' "${1:-lj/cut 2.5}"
  printf 'pair_coeff      1 1 1.0 1.0  2.5\n'
  printf 'pair_coeff      1 2 1.5 0.8  2.0\n'
  printf 'pair_coeff      2 2 0.5 0.88 2.2\n'
  printf 'pair_modify     shift yes%s\n' "${2:+ $2}"
}
