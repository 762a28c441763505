#!/usr/bin/env bash
# The two states of a TLS from the catalogue, recomputed by LAMMPS: whole-sample energies of state A
# and B against /tls/energy_a and /tls/energy_b.
#
#   bench/lammps_tls_states.sh [FILE [ROW]]
#
# FILE: an HDF5 file with /tls (from `tlsmap search`); without it a KA glass of N beads is packed,
# charged and searched first (default [search] keys, max_domains = DOMAINS, max_attempts =
# ATTEMPTS). ROW: the /tls row to check (default: every row). Environment: TLSMAP (executable,
# default build/tlsmap), MPIEXEC (mpiexec), N (1000), DOMAINS (1), ATTEMPTS (10), RANKS (2),
# WORK (work directory, a new temp dir), TOL (1e-10).
#
# How: for each state, /particles/all of FILE with the mobile beads of the row moved to
# position_a (position_b) is written as an H5MD file (h5py); `tlsmap energy --lammps` turns it into
# a LAMMPS data file (lammps_data.hpp, shortest exact doubles) and also prints the engine's own energy;
# LAMMPS runs `run 0` with lj/cut and the Kob–Andersen coefficients (cutoffs 2.5 σ_αβ, shifted), and
# its total pe (thermo_modify norm no, %.17g) is compared with energy_a / energy_b (the search
# kernel's domain energy plus the sample's energy, search_stage.hpp). Exits 1 if any relative
# difference exceeds TOL.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_ka.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
N=${N:-1000}
DOMAINS=${DOMAINS:-1}
ATTEMPTS=${ATTEMPTS:-10}
RANKS=${RANKS:-2}
TOL=${TOL:-1e-10}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
command -v lmp > /dev/null || { echo "lammps_tls_states: lmp (LAMMPS) not found" >&2; exit 2; }
run() { "${MPIEXEC:-mpiexec}" -n "$RANKS" "$@"; }

file=${1:-}
row=${2:-}
if [[ -z $file ]]; then
  file=$WORK/glass.h5
  cat > "$WORK/in.toml" <<EOF
[run]
output = "$file"
seed = 2026
log_every = 100000
[system]
n_beads = $N
[search]
max_domains = $DOMAINS
max_attempts = $ATTEMPTS
EOF
  run "$TLSMAP" pack "$WORK/in.toml" > "$WORK/pack.log"
  run "$TLSMAP" charge "$WORK/in.toml" > "$WORK/charge.log"
  run "$TLSMAP" search "$WORK/in.toml" | tee "$WORK/search.log" | tail -1
fi
rows=$(/usr/bin/python3 -c "import h5py; n = h5py.File('$file', 'r')['tls/energy_a'].shape[0]; print(*range(n))")
[[ -n $row ]] && rows=$row
[[ -n $rows ]] || { echo "lammps_tls_states: $file has no TLS" >&2; exit 2; }

for r in $rows; do
  for s in a b; do
    /usr/bin/python3 - "$file" "$r" "$s" "$WORK/tls$r$s.h5" <<'PY'
import shutil, sys, h5py
src, row, state, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
shutil.copy(src, out)
with h5py.File(out, "r+") as f:
    t = f["tls"]
    lo, hi = t["mobile_offset"][row], t["mobile_offset"][row + 1]
    ids = t["mobile_id"][lo:hi]
    pos = f["particles/all/position/value"][()]
    pos[0, ids - 1] = t[f"position_{state}"][lo:hi]
    f["particles/all/position/value"][...] = pos
PY
    run "$TLSMAP" energy "$WORK/tls$r$s.h5" --json --lammps "$WORK/tls$r$s.data" > "$WORK/tls$r$s.tlsmap.json"
    cat > "$WORK/in.tls$r$s" <<EOF
units           lj
atom_style      charge
boundary        p p p
read_data       $WORK/tls$r$s.data
$(lammps_ka_pair)
neighbor        0.3 bin
thermo_style    custom step pe
thermo_modify   norm no format float %.17g
run             0
print           "RESULT pe \$(pe:%.17g)"
EOF
    run lmp -nocite -in "$WORK/in.tls$r$s" -log "$WORK/log.tls$r$s" -screen none
  done
done

/usr/bin/python3 - "$file" "$WORK" "$TOL" $rows <<'PY'
import json, sys, h5py
file, work, tol, rows = sys.argv[1], sys.argv[2], float(sys.argv[3]), [int(r) for r in sys.argv[4:]]
t = h5py.File(file, "r")["tls"]
ok, worst = True, 0.0
for r in rows:
    lmp = {}
    for s in "ab":
        ours = t[f"energy_{s}"][r]
        eng = json.load(open(f"{work}/tls{r}{s}.tlsmap.json"))["lj"]
        pe = float([l.split() for l in open(f"{work}/log.tls{r}{s}") if l.startswith("RESULT pe")][-1][2])
        d_lmp, d_eng = abs(ours - pe) / abs(pe), abs(ours - eng) / abs(eng)
        worst = max(worst, d_lmp)
        lmp[s] = pe
        print(f"TLS {r} (domain {t['domain'][r]}) state {s.upper()}: catalogue {ours:.17g}  LAMMPS {pe:.17g}"
              f"  rel diff {d_lmp:.2e}; tlsmap energy {eng:.17g} rel diff {d_eng:.2e}")
        ok &= d_lmp <= tol and d_eng <= tol
    print(f"      asymmetry: catalogue {t['asymmetry'][r]:.12g}, LAMMPS E_B - E_A {lmp['b'] - lmp['a']:.12g}")
print("RESULT", "agree" if ok else "DISAGREE", f"(worst relative difference {worst:.2e}, tolerance {tol:g})")
sys.exit(0 if ok else 1)
PY
