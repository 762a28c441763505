#!/usr/bin/env bash
# MD and swap throughput of the polydisperse soft spheres, side by side with LAMMPS (issue 15).
#
#   bench/swap_md_vs_lammps.sh [N] [WORKDIR]          env: RANKS ("1 2"), STEPS (5000), TLSMAP, MPIEXEC
#
# LAMMPS in Debian has no pair style with a continuous per-atom diameter, so the comparison with
# LAMMPS goes through Kob–Andersen: the same N, the same Langevin MD (γ = 1/τ) in both codes from
# the same KA liquid (a tlsmap KA pack exported with `tlsmap energy --lammps`), which gives the
# tlsmap/LAMMPS ratio on KA; tlsmap's polydisperse MD is then timed in the same run, and its
# LAMMPS-equivalent throughput is the KA ratio applied to it (the two models differ in neighbour
# count: KA at ρ = 1.2 with r_c = 2.5 σ_αβ has about twice the pairs of the soft spheres at ρ = 1
# with r_c = 1.25 σ_ij). Rows:
#   tlsmap KA MD, LAMMPS KA MD (lj/cut), tlsmap polydisperse MD (no swap), tlsmap polydisperse MD
#   with a swap sweep every 10 steps; swap attempts per second = N · sweeps / (time with swaps −
#   time without). Times: tlsmap's progress line at the end of its equilibration stage (MD only,
#   after the lattice start's overlap removal), LAMMPS's "Loop time".
set -euo pipefail
n=${1:-1500}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_ka.sh"
source "$here/../scripts/mpi_env.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
STEPS=${STEPS:-5000}
RANKS=${RANKS:-"1 2"}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"

# pack_input OUT MODEL DENSITY T SWAP: STEPS MD steps at T (the stage we time), a 1-step quench.
pack_input() {
  cat <<T
[run]
output = "$1"
seed = 7
log_every = $STEPS
[system]
model = "$2"
n_beads = $n
density = $3
[md]
dt = $([[ $2 == kob-andersen ]] && echo 0.005 || echo 0.01)
[pack]
t_parent = $4
equil_steps = $STEPS
quench_steps = 1
t_final = $4
quench = "instant"
swap = $5
T
}
# Seconds of the equilibration stage from tlsmap's progress line "equilibrate N/N ... X s elapsed".
md_seconds() { grep -E "equilibrate +$STEPS/$STEPS" "$1" | sed -E 's/.* ([0-9.]+) s elapsed.*/\1/'; }

echo "| code | model | N | ranks | MD steps | seconds | bead-steps/s | vs LAMMPS KA | swap attempts/s |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in $RANKS; do
  pack_input ka.h5 kob-andersen 1.2 1.0 false > ka.toml
  "${MPIEXEC:-mpiexec}" -n "$r" "$TLSMAP" pack ka.toml > ka.log
  t_ka=$(md_seconds ka.log)
  "${MPIEXEC:-mpiexec}" -n 1 "$TLSMAP" energy ka.h5 --lammps ka.data > /dev/null
  cat > ka.lmp <<L
units lj
atom_style charge
read_data ka.data
$(lammps_ka_pair)
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
velocity all create 1.0 7 mom yes dist gaussian
fix 1 all nve
fix 2 all langevin 1.0 1.0 1.0 7
timestep 0.005
thermo $STEPS
run $STEPS
L
  "${MPIEXEC:-mpiexec}" -n "$r" lmp -in ka.lmp -log lammps.log -screen none
  t_lmp=$(grep -m1 "^Loop time" lammps.log | awk '{print $4}')
  pack_input poly.h5 polydisperse-soft-sphere 1.0 0.3 false > poly.toml
  "${MPIEXEC:-mpiexec}" -n "$r" "$TLSMAP" pack poly.toml > poly.log
  t_poly=$(md_seconds poly.log)
  pack_input swap.h5 polydisperse-soft-sphere 1.0 0.3 true > swap.toml
  "${MPIEXEC:-mpiexec}" -n "$r" "$TLSMAP" pack swap.toml > swap.log
  t_swap=$(md_seconds swap.log)
  /usr/bin/python3 - "$n" "$r" "$STEPS" "$t_ka" "$t_lmp" "$t_poly" "$t_swap" <<'PY'
import sys
n, r, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t_ka, t_lmp, t_poly, t_swap = map(float, sys.argv[4:8])
rate = lambda t: n * steps / t
ratio = t_lmp / t_ka  # tlsmap KA speed relative to LAMMPS KA
sweeps = steps // 10
print(f"| tlsmap | kob-andersen | {n} | {r} | {steps} | {t_ka:.2f} | {rate(t_ka):.3g} | {ratio:.2f} | |")
print(f"| LAMMPS lj/cut | kob-andersen | {n} | {r} | {steps} | {t_lmp:.2f} | {rate(t_lmp):.3g} | 1.00 | |")
print(f"| tlsmap | polydisperse (MD) | {n} | {r} | {steps} | {t_poly:.2f} | {rate(t_poly):.3g} | "
      f"{t_lmp / t_poly:.2f} (LAMMPS KA time / this) | |")
extra = t_swap - t_poly
print(f"| tlsmap | polydisperse (MD + swap every 10) | {n} | {r} | {steps} | {t_swap:.2f} | {rate(t_swap):.3g} | "
      f"{t_lmp / t_swap:.2f} | {n * sweeps / extra if extra > 0 else float('nan'):.3g} |")
PY
done
