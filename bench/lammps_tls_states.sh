#!/usr/bin/env bash
# The two states of a TLS from the catalogue, recomputed by LAMMPS: whole-sample energies of state A
# and B against /tls/energy_a and /tls/energy_b (the frozen-shell states), and LAMMPS's whole-box
# minimisation from the same coordinates against /tls/energy_a_relaxed and energy_b_relaxed.
#
#   bench/lammps_tls_states.sh [FILE [ROW]]
#
# FILE: an HDF5 file with /tls (from `tlsmap search`); without it a KA glass of N beads is packed,
# charged and searched first (default [search] keys, max_domains = DOMAINS, max_attempts =
# ATTEMPTS). ROW: the /tls row to check (default: every row). Environment: TLSMAP (executable,
# default build/tlsmap), MPIEXEC (mpiexec), N (1000), DOMAINS (1), ATTEMPTS (10), RANKS (2),
# WORK (work directory, a new temp dir), TOL (1e-10), RELAX_TOL (1e-8 ε, absolute, per state),
# STYLES (LAMMPS minimisers to run, default "cg fire sd"; fire is the one compared).
#
# How: for each state, /particles/all of FILE with the mobile beads of the row moved to
# position_a (position_b) is written as an H5MD file (h5py); `tlsmap energy --lammps` turns it into
# a LAMMPS data file (lammps_data.hpp, shortest exact doubles) and also prints the engine's own energy;
# LAMMPS runs `run 0` with lj/cut and the Kob–Andersen coefficients (cutoffs 2.5 σ_αβ, shifted), and
# its total pe (thermo_modify norm no, %.17g) is compared with energy_a / energy_b (the search
# kernel's domain energy plus the sample's energy, search_stage.hpp). Then LAMMPS minimises the
# same state with every bead free (min_style cg, fire and sd, force-norm tolerance 1e-10) and its pe is compared
# with energy_*_relaxed (tlsmap's parallel FIRE, relax.hpp). On this potential (energy-shifted,
# so the force jumps at r_c) minimisers started from one configuration can end in different
# micro-minima ~1e-4 ε apart (docs/search.md), so the check is against LAMMPS's FIRE, which follows
# the same damped flow. When the search ran with `relax_radius` R > 0 (attribute of /search), LAMMPS
# holds (`fix setforce 0 0 0`) every bead farther than R from the row's mobile beads at their
# packing positions — a set computed here from the file, independently of relax.cpp — and its pe is
# still the whole box's: |E_relaxed − E_LAMMPS fire| <= RELAX_TOL per state; CG and steepest descent
# are printed for the spread. Exits 1 if any frozen-state relative difference exceeds TOL or any
# relaxed state differs by more than RELAX_TOL.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_ka.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
N=${N:-1000}
DOMAINS=${DOMAINS:-1}
ATTEMPTS=${ATTEMPTS:-10}
RANKS=${RANKS:-2}
TOL=${TOL:-1e-10}
RELAX_TOL=${RELAX_TOL:-1e-8}
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
    # The LAMMPS commands that hold the beads outside the relaxed region (none in whole-sample mode).
    /usr/bin/python3 - "$file" "$r" "$WORK/hold$r.lmp" <<'PY'
import sys, h5py, numpy as np
src, row, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with h5py.File(src, "r") as f:
    radius = float(f["search"].attrs.get("relax_radius", 0.0))
    lines = []
    if radius > 0:
        t = f["tls"]
        mob = t["mobile_id"][t["mobile_offset"][row]:t["mobile_offset"][row + 1]]
        x = f["particles/all/position/value"][0]
        L = f["particles/all/box/edges/value"][0]
        d = np.full(len(x), np.inf)
        for m in mob:
            dx = x - x[m - 1]
            dx -= L * np.round(dx / L)
            d = np.minimum(d, np.sqrt((dx * dx).sum(axis=1)))
        free = np.nonzero(d <= radius)[0] + 1
        lines = [f"group free id {' '.join(map(str, free[k:k + 200]))}" for k in range(0, len(free), 200)]
        lines += ["group held subtract all free", "fix hold held setforce 0.0 0.0 0.0"]
open(out, "w").write("\n".join(lines) + "\n")
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
write_restart   $WORK/tls$r$s.restart
EOF
    for style in ${STYLES:-cg fire sd}; do  # minimisers from the same start
      cat >> "$WORK/in.tls$r$s" <<EOF
clear
read_restart    $WORK/tls$r$s.restart
$(lammps_ka_pair)
neighbor        0.3 bin
include         $WORK/hold$r.lmp
thermo_modify   norm no format float %.17g
min_style       $style
minimize        0 1e-10 200000 2000000
print           "RESULT relaxed $style \$(pe:%.17g) fmax \$(fmax:%.3g)"
EOF
    done
    run lmp -nocite -in "$WORK/in.tls$r$s" -log "$WORK/log.tls$r$s" -screen none
  done
done

/usr/bin/python3 - "$file" "$WORK" "$TOL" "$RELAX_TOL" $rows <<'PY'
import json, math, sys, h5py
file, work, tol, rtol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
rows = [int(r) for r in sys.argv[5:]]
t = h5py.File(file, "r")["tls"]
ok, worst, worst_relaxed = True, 0.0, 0.0
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
        res = {l.split()[2]: (float(l.split()[3]), float(l.split()[5]))
               for l in open(f"{work}/log.tls{r}{s}") if l.startswith("RESULT relaxed")}
        e = sorted(v[0] for v in res.values())
        relaxed, spread, ours_r = res["fire"][0], e[-1] - e[0], t[f"energy_{s}_relaxed"][r]
        # Minimisers from one start can end in different micro-minima of the cut-off's force jump:
        # the catalogue's FIRE relaxation must reach LAMMPS FIRE's minimum (the damped flow's end);
        # CG and steepest descent are printed to show the spread between minimisers.
        allowed = rtol
        d_r = abs(ours_r - relaxed)
        worst_relaxed = max(worst_relaxed, d_r) if not math.isnan(d_r) else math.inf
        print(f"      relaxed: catalogue {ours_r:.17g}  LAMMPS " +
              ", ".join(f"{k} {v[0]:.17g} (fmax {v[1]:g})" for k, v in res.items()) +
              f"; |catalogue - LAMMPS fire| {d_r:.2e} eps (tolerance {allowed:g}), spread of LAMMPS's minimisers {spread:.2e}")
        ok &= d_r <= allowed
        lmp[s + "_relaxed"] = relaxed
    print(f"      asymmetry: catalogue {t['asymmetry'][r]:.12g}, LAMMPS E_B - E_A {lmp['b'] - lmp['a']:.12g}; "
          f"relaxed: catalogue {t['asymmetry_relaxed'][r]:.12g}, LAMMPS {lmp['b_relaxed'] - lmp['a_relaxed']:.12g}")
print("RESULT", "agree" if ok else "DISAGREE", f"(worst relative difference {worst:.2e}, tolerance {tol:g}; "
      f"relaxed states: worst {worst_relaxed:.2e} eps, tolerance {rtol:g} eps)")
sys.exit(0 if ok else 1)
PY
