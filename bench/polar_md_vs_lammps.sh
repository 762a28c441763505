#!/usr/bin/env bash
# MD throughput of the polar-dimer liquid with its charges acting, side by side with LAMMPS (issue 20).
#
#   bench/polar_md_vs_lammps.sh [N] [WORKDIR]     env: RANKS ("1 2"), STEPS (500), ZETA (0.05 e),
#                                                  ACCURACY (1e-5), PPPM ("1e-4 1e-5"), TLSMAP, MPIEXEC
#
# The same liquid in both codes: a tlsmap pack of N beads (N/2 dimers, density 1.1, as
# inputs/polar/zeta_sweep.toml) exported with `tlsmap energy --lammps` (atom_style full, with its
# Bonds). Both run STEPS steps of Langevin MD (γ = 1/τ, dt = 0.002) at T = 2 from it:
#   * tlsmap: `tlsmap pack`, timed by the equilibration stage in its progress line (MD only, after
#     the lattice start's overlap removal), the Coulomb split at `coulomb.accuracy` = ACCURACY with
#     the fft solver (P3M); a loose final minimisation (f_tol 1) and no stiffness share, so that the
#     pack is mostly the timed MD;
#   * LAMMPS: lj/cut/coul/long with the model's per-pair cut-offs (2.5 σ_ij, energy-shifted),
#     bond harmonic (K = k/2 = 1000, r0 = 0.8), special_bonds 0 0 0, the same real-space cut-off as
#     tlsmap's (1.2 √(−ln δ)), kspace pppm at each accuracy in PPPM; its "Loop time".
# N must leave the box's half edge above that cut plus the 0.3 skin (N ≳ 1200 at δ = 1e-5; tlsmap
# refuses a smaller box naming the cut-off).
# Equal accuracy is measured, not assumed: each setting's RMS force error on the exported liquid
# against LAMMPS's Ewald sum at 1e-10 (total forces: LJ, bonds and Coulomb), relative to the RMS
# Coulomb force of the same reference (pair lj/cut/coul/long with ε_LJ = 0, no bonds).
set -euo pipefail
n=${1:-4000}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/mpi_env.sh"
source "$here/../scripts/lammps_polar.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
MPIEXEC=${MPIEXEC:-mpiexec}
STEPS=${STEPS:-500}
RANKS=${RANKS:-"1 2"}
ZETA=${ZETA:-0.05}
ACCURACY=${ACCURACY:-1e-5}
PPPM=${PPPM:-"1e-4 1e-5"}
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
rc=$(/usr/bin/python3 -c "import math; print(f'{1.2 * math.sqrt(-math.log($ACCURACY)):.6f}')")

cat > polar.toml <<T
[run]
output = "polar.h5"
seed = 7
log_every = $STEPS
[system]
model = "polar-dimers"
n_beads = $n
density = 1.1
[charge]
mode = "active"
zeta = $ZETA
[coulomb]
accuracy = $ACCURACY
cutoff = $rc
solver = "fft"
[md]
dt = 0.002
[pack]
t_parent = 2.0
t_final = 2.0
equil_steps = $STEPS
quench_steps = 1
quench = "instant"
coulomb_share_strain = 0
[minimize]
f_tol = 1.0
T
# Seconds of the equilibration stage from tlsmap's progress line "equilibrate N/N ... X s elapsed".
md_seconds() { grep -E "equilibrate +$STEPS/$STEPS" "$1" | sed -E 's/.* ([0-9.]+) s elapsed.*/\1/'; }

# LAMMPS input: $1 data file, $2 kspace line, $3 extra lines (dumps, run).
lammps_input() {
  cat <<L
units lj
atom_style full
bond_style harmonic
read_data $1
$(lammps_polar_model "$rc")
$2
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
$3
L
}
lmp_run() { "$MPIEXEC" -n "$1" lmp -in "$2" -log "${2%.in}.log" -screen none; }

echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
first=1
for r in $RANKS; do
  "$MPIEXEC" -n "$r" "$TLSMAP" pack polar.toml > pack$r.log
  t_ours=$(md_seconds pack$r.log)
  if [[ $first == 1 ]]; then
    "$MPIEXEC" -n 1 "$TLSMAP" energy polar.h5 --model polar-dimers --lammps liquid.data > /dev/null
    # The accuracy of each setting on the liquid: forces of one evaluation against Ewald at 1e-10.
    lammps_input liquid.data "kspace_style ewald 1e-10" \
      "dump f all custom 1 ref.forces id fx fy fz
dump_modify f sort id format float %.15g
run 0" > ref.in
    lmp_run 1 ref.in
    lammps_input liquid.data "kspace_style ewald 1e-10" \
      "pair_coeff * * 0.0 1.0
bond_coeff 1 0.0 0.8
dump f all custom 1 coul.forces id fx fy fz
dump_modify f sort id format float %.15g
run 0" > coul.in
    lmp_run 1 coul.in
    for a in $PPPM; do
      lammps_input liquid.data "kspace_style pppm $a" \
        "dump f all custom 1 pppm$a.forces id fx fy fz
dump_modify f sort id format float %.15g
run 0" > acc$a.in
      lmp_run 1 acc$a.in
    done
    "$MPIEXEC" -n 1 "$TLSMAP" energy liquid.data --model polar-dimers --accuracy "$ACCURACY" --cutoff "$rc" \
      --forces ours.forces > /dev/null
    /usr/bin/python3 - "$PPPM" > errors.txt <<'PY'
import sys
import numpy as np
def dump(path):
    d = open(path).read().splitlines()
    return np.array([[float(v) for v in l.split()] for l in d[d.index("ITEM: ATOMS id fx fy fz") + 1:]])
ref, coul = dump("ref.forces"), dump("coul.forces")
scale = np.sqrt((coul[:, 1:] ** 2).sum(1).mean())
def err(f):
    assert (f[:, 0] == ref[:, 0]).all()
    return np.sqrt(((f[:, 1:] - ref[:, 1:]) ** 2).sum(1).mean()) / scale
print("tlsmap", f"{err(np.loadtxt('ours.forces', comments='#')):.2g}")
for a in sys.argv[1].split():
    print(a, f"{err(dump(f'pppm{a}.forces')):.2g}")
PY
    first=0
  fi
  echo
  echo "ranks $r, N = $n ($((n / 2)) dimers, ζ = $ZETA e), $STEPS steps of Langevin MD at T = 2, dt = 0.002, r_c(Coulomb) = $rc"
  echo "| code | Coulomb setting | RMS force error / RMS Coulomb force | seconds | steps/s | bead-steps/s | time / LAMMPS's |"
  echo "|---|---|---|---|---|---|---|"
  rows=""
  for a in $PPPM; do
    lammps_input liquid.data "kspace_style pppm $a" \
      "velocity all create 2.0 7 mom yes dist gaussian
fix 1 all nve
fix 2 all langevin 2.0 2.0 1.0 7
timestep 0.002
thermo $STEPS
run $STEPS" > md$a.in
    lmp_run "$r" md$a.in
    rows+="$a $(grep -m1 '^Loop time' md$a.log | awk '{print $4}') "
  done
  /usr/bin/python3 - "$n" "$STEPS" "$t_ours" "$ACCURACY" "$rows" <<'PY'
import sys
n, steps, t_ours, acc = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
w = sys.argv[5].split()
lmp = {w[k]: float(w[k + 1]) for k in range(0, len(w), 2)}
errors = dict(l.split() for l in open("errors.txt"))
print(f"| tlsmap | fft (P3M), δ = {acc} | {errors['tlsmap']} | {t_ours:.2f} | {steps / t_ours:.3g} | "
      f"{n * steps / t_ours:.3g} | " + " / ".join(f"{t_ours / t:.2f}" for t in lmp.values()) + " |")
for a, t in lmp.items():
    print(f"| LAMMPS | pppm {a} | {errors[a]} | {t:.2f} | {steps / t:.3g} | {n * steps / t:.3g} | |")
PY
done
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
