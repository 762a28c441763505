#!/usr/bin/env bash
# The catalogue's states against LAMMPS on a small glass (500 KA beads, 2 domains): for the first
# two /tls rows, the frozen-shell energies of A and B equal LAMMPS `run 0` to 1e-10 relative, and
# the energies relaxed with every bead free equal LAMMPS FIRE's whole-box minimisation from the
# same coordinates to 1e-8 ε per state (bench/lammps_tls_states.sh does the work). Without `lmp`
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
rows=$(/usr/bin/python3 -c "import h5py; print(min(2, h5py.File('glass.h5', 'r')['tls/domain'].shape[0]))")
[[ $rows -ge 1 ]] || { echo "FAIL: no /tls row to check"; cat search.txt; exit 1; }
for r in $(seq 0 $((rows - 1))); do
  TLSMAP=$TLSMAP MPIEXEC=$MPIEXEC RANKS=2 WORK=$PWD/lmp$r timeout 300 bash "$SRC/bench/lammps_tls_states.sh" glass.h5 "$r" | tee check$r.txt
  grep -q "^RESULT agree" check$r.txt
done
