#!/usr/bin/env bash
# Energy, forces and pressure of one of our glasses computed by LAMMPS and by tlsmap, compared.
#
#   bench/lammps_crosscheck.sh [CONFIG]
#
# CONFIG: an H5MD file of ours or a LAMMPS data file; without it a KA glass of N beads is packed
# first (`tlsmap pack`, default protocol). Charges, if any, are set to zero: this is the
# Lennard-Jones check (bench/lammps_coulomb_crosscheck.sh compares the Coulomb part). Environment: TLSMAP (executable, default
# build/tlsmap), MPIEXEC (mpiexec), N (4000), RANKS (ranks for both codes, 2), WORK (work
# directory, a new temp dir), TOL (1e-10).
#
# Two configurations are compared: the glass itself (an inherent structure: every |F_i| is below
# 1e-10, so forces there are round-off and only their absolute difference means something) and a
# "shaken" copy, every coordinate displaced by a uniform random amount in ±0.05 σ, where forces are
# O(10-100) ε/σ and a relative comparison is meaningful. LAMMPS runs `run 0` with lj/cut and the KA
# coefficients (cutoffs 2.5 σ_αβ, shifted); its energy, pressure and forces are printed with
# %.17g. Prints the relative differences; exits 1 if an energy or pressure differs by more than
# TOL relative, or a force by more than TOL · max|F| (shaken copy) — the check the CTest
# tests/cli/energy_lammps.sh runs at small N.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_ka.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
N=${N:-4000}
RANKS=${RANKS:-2}
TOL=${TOL:-1e-10}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
command -v lmp > /dev/null || { echo "lammps_crosscheck: lmp (LAMMPS) not found" >&2; exit 2; }
run() { "${MPIEXEC:-mpiexec}" -n "$RANKS" "$@"; }

config=${1:-}
if [[ -z $config ]]; then
  config=$WORK/glass.h5
  cat > "$WORK/pack.toml" <<EOF
[run]
output = "$config"
seed = 2024
log_every = 100000
[system]
n_beads = $N
EOF
  run "$TLSMAP" pack "$WORK/pack.toml" > "$WORK/pack.log"
  grep "inherent structure" "$WORK/pack.log"
fi

# The configuration as a LAMMPS data file (shortest exact doubles), its charges set to zero: this
# is the Lennard-Jones check (with charges, tlsmap's forces include Coulomb, which
# bench/lammps_coulomb_crosscheck.sh compares); and the shaken copy.
run "$TLSMAP" energy "$config" --lammps "$WORK/glass.data" > /dev/null
/usr/bin/python3 - "$WORK/glass.data" "$WORK/shaken.data" <<'PY'
import sys, numpy as np
# Zero the charge column of the Atoms section; in the copy, displace every coordinate by
# U(-0.05, 0.05) sigma (fixed seed).
lines = open(sys.argv[1]).read().split("\n")
rng = np.random.default_rng(7)
glass, shaken, in_atoms = [], [], False
for line in lines:
    w = line.split()
    if line.startswith("Atoms"):
        in_atoms = True
    elif in_atoms and w and not w[0].isdigit():
        in_atoms = False
    if in_atoms and len(w) >= 6 and w[0].isdigit():  # id type q x y z [ix iy iz]
        w[2] = "0"
        glass.append(" ".join(w))
        x = np.array([float(v) for v in w[3:6]]) + rng.uniform(-0.05, 0.05, 3)
        w[3:6] = [repr(float(v)) for v in x]
        shaken.append(" ".join(w))
    else:
        glass.append(line)
        shaken.append(line)
open(sys.argv[1], "w").write("\n".join(glass))
open(sys.argv[2], "w").write("\n".join(shaken))
PY
for name in glass shaken; do
  run "$TLSMAP" energy "$WORK/$name.data" --json --forces "$WORK/$name.tlsmap.forces" > "$WORK/$name.tlsmap.json"
done

for name in glass shaken; do
  cat > "$WORK/in.$name" <<EOF
units           lj
atom_style      charge
boundary        p p p
read_data       $WORK/$name.data
$(lammps_ka_pair)
neighbor        0.3 bin
thermo_style    custom step pe press
thermo_modify   norm no format float %.17g
dump            f all custom 1 $WORK/$name.lammps.forces id fx fy fz
dump_modify     f sort id format float %.17g
run             0
print           "RESULT pe \$(pe:%.17g) press \$(press:%.17g)"
EOF
  run lmp -nocite -in "$WORK/in.$name" -log "$WORK/log.$name" -screen none
done

/usr/bin/python3 - "$WORK" "$TOL" <<'PY'
import json, sys, numpy as np
work, tol = sys.argv[1], float(sys.argv[2])
ok = True
for name in ("glass", "shaken"):
    ours = json.load(open(f"{work}/{name}.tlsmap.json"))
    res = [l.split() for l in open(f"{work}/log.{name}") if l.startswith("RESULT pe")][-1]
    pe, press = float(res[2]), float(res[4])
    f_ours = np.loadtxt(f"{work}/{name}.tlsmap.forces")
    f_lmp = np.loadtxt(f"{work}/{name}.lammps.forces", skiprows=9)
    assert np.array_equal(f_ours[:, 0], f_lmp[:, 0]), "bead ids differ"
    df = np.abs(f_ours[:, 1:] - f_lmp[:, 1:]).max()
    fmax = np.abs(f_lmp[:, 1:]).max()
    de = abs(ours["lj"] - pe) / abs(pe)
    dp = abs(ours["pressure"] - press) / max(abs(press), 1.0)  # relative, or absolute near P = 0
    print(f"{name:7s} N={ours['n_beads']}  E tlsmap {ours['lj']:.17g}  LAMMPS {pe:.17g}  rel diff {de:.2e}")
    print(f"{'':7s} P tlsmap {ours['pressure']:.17g}  LAMMPS {press:.17g}  rel diff {dp:.2e}")
    print(f"{'':7s} forces: max|dF| {df:.2e}, max|F| {fmax:.2e}, max|dF|/max|F| {df / fmax:.2e}")
    ok &= de <= tol and dp <= tol
    if name == "shaken":
        ok &= df <= tol * fmax
    else:
        ok &= df <= tol  # forces at a minimum are round-off: absolute check
print("RESULT", "agree" if ok else "DISAGREE", f"(tolerance {tol:g})")
sys.exit(0 if ok else 1)
PY
