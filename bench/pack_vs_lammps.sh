#!/usr/bin/env bash
# The pack protocol side by side in tlsmap (FIRE and L-BFGS) and LAMMPS.
#
#   bench/pack_vs_lammps.sh N RANKS [WORKDIR]
#
# Protocol (both codes): KA 80:20 at ρ = 1.2, Langevin (γ = 1/τ) with dt = 0.005: 2000 steps at
# T = 2.0, then 6000 steps with the target temperature ramped linearly to 0.3, then minimisation.
# tlsmap: `tlsmap pack` (simple-cubic lattice start) with minimize.method = fire and = lbfgs, to
# max_i |F_i| <= 1e-10. LAMMPS: fcc lattice start (N must be 4 c³: 4000, 32000), fix nve + fix
# langevin (its temperature ramp is linear over a run), then min_style fire (FIRE 2.0, default
# min_modify settings) with `minimize 0 1e-10 ...` — ftol on the 2-norm of the whole force vector,
# a stricter stop than ours (|F|_2 >= max_i |F_i|). The starts and random numbers differ, so the
# inherent-structure energies agree only statistically (glass-to-glass spread ~0.003 per bead at
# N = 4000). Times: wall time of the whole run (process start to exit, outside the code) and of the
# minimisation alone (tlsmap's own timer; LAMMPS's "Loop time" of the minimize command).
# Then, if this tlsmap has [pack] from, both tlsmap minimisers also start from LAMMPS's quenched
# state (written just before its minimize), so all three minimisers are compared from one state.
# Environment: TLSMAP (default build/tlsmap), MPIEXEC (mpiexec), SEED (2024), METHODS (tlsmap
# minimisers to run, "fire lbfgs"; at N = 32000 "lbfgs" saves the long tlsmap FIRE runs).
# Prints one markdown table row per code.
set -euo pipefail
n=${1:?usage: pack_vs_lammps.sh N RANKS [WORKDIR]}
ranks=${2:?RANKS}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_ka.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
SEED=${SEED:-2024}
work=${3:-$(mktemp -d)}
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
run() { "${MPIEXEC:-mpiexec}" -n "$ranks" "$@"; }
now() { date +%s.%N; }
cells=$(/usr/bin/python3 -c "c = round(($n / 4) ** (1 / 3)); print(c if 4 * c**3 == $n else 0)")
[[ $cells -gt 0 ]] || { echo "N = $n is not 4 c^3 (the LAMMPS fcc start)" >&2; exit 2; }

echo "| code | N | ranks | whole pack (s) | minimisation (s) | iterations | force calls | e_IS per bead | stop |"
echo "|---|---|---|---|---|---|---|---|---|"
# tlsmap_pack METHOD TAG [FROM]: one tlsmap pack (from FROM: minimisation only), one table row.
tlsmap_pack() {
  local method=$1 tag=$2 from=${3:-} out=$work/tlsmap_$2_$n.h5
  {
    printf '[run]\noutput = "%s"\nseed = %s\nlog_every = 100000\n' "$out" "$SEED"
    printf '[system]\nn_beads = %s\n[minimize]\nmethod = "%s"\n' "$n" "$method"
    [[ -z $from ]] || printf '[pack]\nfrom = "%s"\n' "$from"
  } > "$work/$tag.toml"
  local t0 t1
  t0=$(now)
  run "$TLSMAP" pack "$work/$tag.toml" > "$work/tlsmap_$tag.np$ranks.log"
  t1=$(now)
  /usr/bin/python3 - "$out" "$t0" "$t1" "$method" "$n" "$ranks" "$from" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")["pack"].attrs
wall = f"{float(sys.argv[3]) - float(sys.argv[2]):.1f}" if not sys.argv[7] else "–"
name = f"tlsmap {sys.argv[4]}" + (", LAMMPS's quenched state" if sys.argv[7] else "")
print(f"| {name} | {sys.argv[5]} | {sys.argv[6]} | {wall} | {f['minimizer_seconds']:.1f} | "
      f"{int(f['minimizer_iterations'])} | {int(f['minimizer_force_calls'])} | {f['e_is_per_bead']:.6f} | "
      f"max_i abs(F_i) = {f['max_force']:.1e} |")
PY
}
for method in ${METHODS:-fire lbfgs}; do tlsmap_pack $method $method; done

cat > "$work/in.pack" <<EOF
units           lj
atom_style      atomic
boundary        p p p
lattice         fcc 1.2
region          box block 0 $cells 0 $cells 0 $cells
create_box      2 box
create_atoms    1 box
set             type 1 type/ratio 2 0.2 $SEED
mass            * 1.0
$(lammps_ka_pair)
neighbor        0.3 bin
neigh_modify    every 1 delay 0 check yes
timestep        0.005
velocity        all create 2.0 $SEED dist gaussian mom yes
fix             nve all nve
fix             bath all langevin 2.0 2.0 1.0 $SEED
thermo          1000
run             2000
unfix           bath
fix             bath all langevin 2.0 0.3 1.0 $((SEED + 1))
run             6000
unfix           bath
unfix           nve
velocity        all set 0 0 0
write_data      $work/quenched.data
min_style       fire
thermo          10000
minimize        0.0 1e-10 10000000 100000000
print           "RESULT e_IS \$(pe:%.10f) fnorm \$(fnorm:%.3e) fmax \$(fmax:%.3e)"
EOF
t0=$(now)
run lmp -nocite -in "$work/in.pack" -log "$work/log.lammps.np$ranks" -screen none
t1=$(now)
awk -v n="$n" -v ranks="$ranks" -v wall="$(echo "$t1 - $t0" | bc)" '
  /^Loop time of/ {loop=$4}
  /Iterations, force evaluations/ {it=$(NF-1); calls=$NF}
  /^RESULT e_IS/ {e=$3; fnorm=$5}
  END {printf "| LAMMPS fire | %d | %d | %.1f | %.1f | %d | %d | %.6f | 2-norm abs(F) = %s |\n", n, ranks, wall, loop, it, calls, e, fnorm}
' "$work/log.lammps.np$ranks"
if [[ $("$TLSMAP" --help-input) == *"pack.from "* ]]; then
  for method in ${METHODS:-fire lbfgs}; do tlsmap_pack $method ${method}_from_lammps "$work/quenched.data"; done
fi
