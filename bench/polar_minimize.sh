#!/usr/bin/env bash
# Minimising a polar-dimer glass with the charges acting: tlsmap's L-BFGS with the bond-stretch
# preconditioner at several minimize.bond_precondition values (0 = off), and LAMMPS (min_style cg)
# from the same states, side by side.
#
#   bench/polar_minimize.sh [SEEDS] [ALPHAS] [WORKDIR]     (defaults "5 6 7", "0 200 1000")
#
# Starts: `tlsmap pack` of 1458 beads (ζ = 0.02 e, density 1; 200 + 200 Langevin steps from T = 2
# to 0.5, the glass of tests/cli/search_polar.sh) minimised only to max|F| ≤ 1 (preconditioner off),
# one start per seed. Each start is then minimised to max_i |F_i| ≤ 1e-6 by `tlsmap pack` with
# [pack] from (2 ranks, the Coulomb split at accuracy 1e-5), and by LAMMPS (2 ranks; lj/cut/coul/long
# + pppm 1e-5, bond harmonic, scripts/lammps_polar.sh) with `minimize 0 1e-6`, whose stop is on the
# 2-norm of the whole force vector (stricter than max_i |F_i|). Minima differ between runs (the
# landscape of an unconverged 400-step quench is rough, and each path ends in its own basin), so
# compare force calls over several seeds, not one.
# Environment: TLSMAP (default build/tlsmap), MPIEXEC (mpiexec), LMP (lmp; "none" skips LAMMPS).
# Prints one markdown table row per run.
set -euo pipefail
seeds=${1:-5 6 7}
alphas=${2:-0 200 1000}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_polar.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
LMP=${LMP:-lmp}
work=${3:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
run() { "${MPIEXEC:-mpiexec}" -n 2 "$@"; }

echo "| seed | minimiser | iterations | force calls | time (s) | e_IS per bead | stop |"
echo "|---|---|---|---|---|---|---|"
for seed in $seeds; do
  cat > start$seed.toml <<T
[run]
output = "start$seed.h5"
seed = $seed
log_every = 100000
[system]
model = "polar-dimers"
n_beads = 1458
density = 1.0
[charge]
mode = "active"
zeta = 0.02
[pack]
t_parent = 2.0
t_final = 0.5
equil_steps = 200
quench_steps = 200
coulomb_share_strain = 0
[md]
dt = 0.002
[minimize]
f_tol = 1
bond_precondition = 0
T
  run "$TLSMAP" pack start$seed.toml > start$seed.log
  run "$TLSMAP" energy start$seed.h5 --model polar-dimers --lammps start$seed.data > /dev/null
  for alpha in $alphas; do
    cat > min$seed-$alpha.toml <<T
[run]
output = "min$seed-$alpha.h5"
log_every = 100000
[system]
model = "polar-dimers"
[charge]
mode = "active"
[pack]
from = "start$seed.h5"
coulomb_share_strain = 0
[minimize]
f_tol = 1e-6
bond_precondition = $alpha
T
    line=$(run "$TLSMAP" pack min$seed-$alpha.toml | grep "inherent structure")
    # "... e_IS = E per bead, P = .., max|F| = .. after I L-BFGS iterations (C force calls, T s); total .."
    read -r e it calls t < <(echo "$line" | sed -E 's/.*e_IS = ([-0-9.e]+) per bead.* after ([0-9]+) L-BFGS iterations \(([0-9]+) force calls, ([0-9.]+) s\).*/\1 \2 \3 \4/')
    echo "| $seed | tlsmap L-BFGS, bond_precondition = $alpha | $it | $calls | $t | $e | max\|F\| ≤ 1e-6 |"
  done
  [[ $LMP == none ]] && continue
  cat > lmp$seed.in <<L
units           lj
atom_style      full
boundary        p p p
bond_style      harmonic
read_data       start$seed.data
$(lammps_polar_model 4.0)
kspace_style    pppm 1e-5
neighbor        0.3 bin
neigh_modify    every 1 delay 0 check yes
thermo          100000
min_style       cg
minimize        0 1e-6 100000 1000000
variable        e equal pe
print           "E_IS \${e}"
L
  run "$LMP" -in lmp$seed.in -log lmp$seed.log > /dev/null
  it=$(awk '/Iterations, force evaluations/ {print $5, $6}' lmp$seed.log)
  t=$(awk '/^Loop time/ {print $4; exit}' lmp$seed.log)
  e=$(awk '/^E_IS/ {print $2}' lmp$seed.log)
  stop=$(awk -F= '/Stopping criterion/ {gsub(/^ +/, "", $2); print $2}' lmp$seed.log)
  echo "| $seed | LAMMPS cg (pppm 1e-5) | ${it% *} | ${it#* } | $t | $(awk -v e="$e" 'BEGIN {printf "%.10f", e}') | $stop |"
done
