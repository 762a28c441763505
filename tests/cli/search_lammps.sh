#!/usr/bin/env bash
# The catalogue's states against LAMMPS on a small glass (500 KA beads, 2 domains): for the first
# /tls row, the frozen-shell energies of A and B equal LAMMPS `run 0` to 1e-10 relative, and
# the energies relaxed with every bead free equal LAMMPS FIRE's whole-box minimisation from the
# same coordinates to 1e-8 ε per state (bench/lammps_tls_states.sh does the work). Then, on a glass
# of 800 beads (big enough that some beads are left out), the search with `relax_radius = 1.0`: beads within 1 σ of a row's mobile beads free, the next
# r_c + 1 σ held, the corners of the box left out of the minimisation; the relaxed energies equal
# LAMMPS FIRE with every bead beyond 1 σ held by `fix setforce` to 1e-8 ε per state (the held
# set computed in the bench from the file, not by tlsmap). Without `lmp`
# the test is skipped (exit 77), or fails when TLSMAP_REQUIRE_PEERS=1 (CI).
source "$(dirname "$0")/common.bash"
if ! command -v lmp > /dev/null; then
  [[ ${TLSMAP_REQUIRE_PEERS:-0} == 1 ]] && { echo "FAIL: lmp (LAMMPS) not found and TLSMAP_REQUIRE_PEERS=1"; exit 1; }
  echo "SKIP: lmp (LAMMPS) not found"; exit 77
fi
{ glass_input glass.h5 11 500 300; printf '[charge]\nzeta = 0.1\n[search]\nxi = 3.5\nspacing = 3.7\nmax_domains = 2\nmax_attempts = 2\nstop_after_stale = 2\nneb_images = 6\n'; } > in.toml
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" pack in.toml > pack.txt
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" charge in.toml > charge.txt
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search in.toml > search.txt
rows=$(/usr/bin/python3 -c "import h5py; print(min(1, h5py.File('glass.h5', 'r')['tls/domain'].shape[0]))")
[[ $rows -ge 1 ]] || { echo "FAIL: no /tls row to check"; cat search.txt; exit 1; }
for r in $(seq 0 $((rows - 1))); do
  STYLES=fire TLSMAP=$TLSMAP MPIEXEC=$MPIEXEC RANKS=2 WORK=$PWD/lmp$r timeout 300 bash "$SRC/bench/lammps_tls_states.sh" glass.h5 "$r" | tee check$r.txt
  grep -q "^RESULT agree" check$r.txt
done

# Region mode, on a glass of 800 beads (in 500 the corners are within r_c + 1 σ of the region).
{ glass_input region.h5 11 800 300; printf '[charge]\nzeta = 0.1\n[search]\nrelax_radius = 1.0\nxi = 3.5\nspacing = 3.7\nmax_domains = 1\nmax_attempts = 2\nstop_after_stale = 2\nneb_images = 6\n'; } > region.toml
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" pack region.toml > pack_region.txt
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" charge region.toml > charge_region.txt
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search region.toml > search_region.txt
grep -q "with the beads within 1 sigma of the mobile ones free" search_region.txt || { echo "FAIL: region relaxation not reported"; cat search_region.txt; exit 1; }
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = h5py.File("region.h5", "r")
assert f["search"].attrs["relax_radius"] == 1.0
t = f["tls"]
assert t["energy_a"].shape[0] >= 1, "no row"
mob = t["mobile_id"][t["mobile_offset"][0]:t["mobile_offset"][1]]
x, L = f["particles/all/position/value"][0], f["particles/all/box/edges/value"][0]
d = np.full(len(x), np.inf)
for m in mob:
    dx = x - x[m - 1]; dx -= L * np.round(dx / L); d = np.minimum(d, np.sqrt((dx * dx).sum(1)))
free, held, out = (d <= 1.0).sum(), ((d > 1.0) & (d <= 4.5)).sum(), (d > 4.5).sum()
print(f"region of row 0: {free} free, {held} held, {out} left out (of {len(x)})")
assert free > len(mob) and held > 0 and out > 0, "the test must exercise free, held and left-out beads"
assert np.isfinite(t["energy_b_relaxed"][0]) and t["energy_b_relaxed"][0] <= t["energy_b"][0] + 1e-9
PY
STYLES=fire TLSMAP=$TLSMAP MPIEXEC=$MPIEXEC RANKS=2 WORK=$PWD/lmpr timeout 300 bash "$SRC/bench/lammps_tls_states.sh" region.h5 0 | tee check_region.txt
grep -q "^RESULT agree" check_region.txt
