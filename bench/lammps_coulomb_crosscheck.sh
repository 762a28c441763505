#!/usr/bin/env bash
# Coulomb energy and forces of a charged glass, tlsmap's Ewald split against LAMMPS's Ewald sum.
#
#   bench/lammps_coulomb_crosscheck.sh [CONFIG]
#
# CONFIG: a charged H5MD file of ours or a LAMMPS data file (atom style charge); without it a KA
# glass of N beads is packed and charged first (`tlsmap pack`, `tlsmap charge` with ζ = ZETA).
# Environment: TLSMAP (executable, default build/tlsmap), MPIEXEC (mpiexec), N (1000), ZETA (0.1),
# RANKS (2), WORK (work directory, a new temp dir), ACCURACY (list of tlsmap accuracies, "1e-5 1e-7"),
# TOL_E (relative energy tolerance, 3e-6 at the default accuracy list), TOL_F (relative RMS force
# tolerance, 2e-5).
#
# LAMMPS runs `run 0` with pair_style lj/cut/coul/long (KA coefficients, LJ cutoffs 2.5 σ_αβ,
# shifted; Coulomb real-space cutoff r_c = half the shortest edge minus 0.3), `pair_modify table 0`
# (exact erfc instead of the interpolation table, ~1e-6 otherwise), and kspace_style ewald 1e-10
# (absolute force accuracy 1e-10 for unit charges at unit distance). Its pe = evdwl + ecoul + elong
# is compared with tlsmap's lj + coulomb; its total forces with ours (`--forces`): the LJ parts agree
# to round-off (bench/lammps_crosscheck.sh), so the difference is the Coulomb error, reported as
# RMS |ΔF| / RMS |F_Coulomb| next to tlsmap's own a-priori estimate. Exit 1 if the Coulomb energy
# differs by more than TOL_E relative or the forces by more than min(TOL_F, max(accuracy, 3e-7)) at
# any accuracy: LAMMPS's coul/long evaluates erfc by a polynomial (~1e-7 relative, also with table
# 0), which is its floor; below it our own Ewald reference judges (tests/test_coulomb.cpp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_ka.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
N=${N:-1000}
ZETA=${ZETA:-0.1}
RANKS=${RANKS:-2}
ACCURACY=${ACCURACY:-"1e-5 1e-7"}
TOL_E=${TOL_E:-3e-6}
TOL_F=${TOL_F:-2e-5}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
command -v lmp > /dev/null || { echo "lammps_coulomb_crosscheck: lmp (LAMMPS) not found" >&2; exit 2; }
run() { "${MPIEXEC:-mpiexec}" -n "$RANKS" "$@"; }
timed() {  # timed <file> <command...>: wall seconds of the command into <file>
  local out=$1 t0; shift
  t0=$(date +%s.%N)
  "$@"
  echo "$(date +%s.%N) - $t0" | bc > "$out"
}

config=${1:-}
if [[ -z $config ]]; then
  config=$WORK/glass.h5
  cat > "$WORK/glass.toml" <<EOF
[run]
output = "$config"
seed = 2024
log_every = 100000
[system]
n_beads = $N
[charge]
zeta = $ZETA
EOF
  run "$TLSMAP" pack "$WORK/glass.toml" > "$WORK/glass.log"
  run "$TLSMAP" charge "$WORK/glass.toml" >> "$WORK/glass.log"
  grep -E "inherent structure|net charge" "$WORK/glass.log" || true
fi

# The configuration as a LAMMPS data file, and tlsmap's numbers at each accuracy.
first=1
for acc in $ACCURACY; do
  extra=()
  [[ $first == 1 ]] && extra=(--lammps "$WORK/glass.data")
  timed "$WORK/time.$acc" run "$TLSMAP" energy "$config" --json --accuracy "$acc" \
    --forces "$WORK/tlsmap.$acc.forces" "${extra[@]}" > "$WORK/tlsmap.$acc.json"
  first=0
done
rc=$(/usr/bin/python3 - "$WORK/glass.data" <<'PY'
import sys
lo, hi = [], []
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) >= 4 and w[2].endswith("lo") and w[3].endswith("hi"):
        lo.append(float(w[0])); hi.append(float(w[1]))
print(f"{min(h - l for l, h in zip(lo, hi)) / 2 - 0.3:.6f}")
PY
)

cat > "$WORK/in.lammps" <<EOF
units           lj
atom_style      charge
boundary        p p p
read_data       $WORK/glass.data
$(lammps_ka_pair "lj/cut/coul/long 2.5 $rc" "table 0")
kspace_style    ewald 1.0e-10
neighbor        0.3 bin
thermo_style    custom step pe evdwl ecoul elong
thermo_modify   norm no format float %.17g
dump            f all custom 1 $WORK/lammps.forces id fx fy fz
dump_modify     f sort id format float %.17g
run             0
print           "RESULT pe \$(pe:%.17g) evdwl \$(evdwl:%.17g) ecoul \$(ecoul:%.17g) elong \$(elong:%.17g)"
EOF
timed "$WORK/time.lammps" run lmp -nocite -in "$WORK/in.lammps" -log "$WORK/log.lammps" -screen none

/usr/bin/python3 - "$WORK" "$TOL_E" "$TOL_F" $ACCURACY <<'PY'
import json, sys, numpy as np
work, tol_e, tol_f, accs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
res = [l.split() for l in open(f"{work}/log.lammps") if l.startswith("RESULT pe")][-1]
pe, evdwl, ecoul, elong = (float(res[k]) for k in (2, 4, 6, 8))
f_lmp = np.loadtxt(f"{work}/lammps.forces", skiprows=9)
t_lmp = float(open(f"{work}/time.lammps").read().split()[-1])
print(f"LAMMPS (ewald 1e-10, table 0): evdwl {evdwl:.12f}  coulomb {ecoul + elong:.12f}  ({t_lmp:.1f} s wall)")
ok = True
for acc in accs:
    ours = json.load(open(f"{work}/tlsmap.{acc}.json"))
    f = np.loadtxt(f"{work}/tlsmap.{acc}.forces")
    assert np.array_equal(f[:, 0], f_lmp[:, 0]), "bead ids differ"
    df = f[:, 1:] - f_lmp[:, 1:]
    rms_df = np.sqrt((df ** 2).sum(axis=1).mean())
    rel_f = rms_df / ours["coulomb_rms_force"]
    de_lj = abs(ours["lj"] - evdwl) / abs(evdwl)
    de_c = abs(ours["coulomb"] - (ecoul + elong)) / abs(ecoul + elong)
    t = float(open(f"{work}/time.{acc}").read().split()[-1])
    print(f"tlsmap accuracy {acc}: N={ours['n_beads']} grid {ours['grid']} r_c {ours['coulomb_cutoff']:.3f} "
          f"sigma {ours['coulomb_sigma']:.4f}  ({t:.1f} s wall incl. start-up)")
    print(f"   lj {ours['lj']:.12f} rel diff {de_lj:.1e} | coulomb {ours['coulomb']:.12f} rel diff {de_c:.2e}")
    print(f"   forces: RMS|dF|/RMS|F_C| {rel_f:.2e} (estimate {ours['accuracy_estimate']:.2e}), "
          f"max|dF| {np.abs(df).max():.2e}, RMS|F_C| {ours['coulomb_rms_force']:.4g}")
    # LAMMPS's own floor: coul/long evaluates erfc by a polynomial (Abramowitz & Stegun 7.1.26,
    # ~1e-7 relative) even with table 0, so below ~3e-7 it cannot judge (tests/test_coulomb.cpp does).
    ok &= de_lj <= 1e-10 and de_c <= tol_e and rel_f <= tol_f and rel_f <= max(float(acc), 3e-7)
print("RESULT", "agree" if ok else "DISAGREE",
      f"(tolerances: energy {tol_e:g}, forces min({tol_f:g}, max(accuracy, 3e-7)))")
sys.exit(0 if ok else 1)
PY
