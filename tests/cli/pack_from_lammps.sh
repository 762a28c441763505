#!/usr/bin/env bash
# Bringing a glass from LAMMPS: LAMMPS makes a small KA configuration (random start, short soft
# minimisation), writes a data file; `tlsmap pack` with [pack] from = that file minimises it to
# max|F| <= 1e-10 at 1, 2 and 4 ranks with identical results, and `tlsmap energy` agrees.
# Without lmp: exit 77 (CTest: "Skipped"), or a failure if TLSMAP_REQUIRE_PEERS=1 (CI). TLSMAP_LMP
# names the lmp to look for (default: lmp on PATH).
set -eu
TLSMAP=$1 MPIEXEC=$2 SRC=$3
if ! command -v "${TLSMAP_LMP:-lmp}" > /dev/null; then
  [[ ${TLSMAP_REQUIRE_PEERS:-0} == 1 ]] && { echo "FAIL: ${TLSMAP_LMP:-lmp} not installed and TLSMAP_REQUIRE_PEERS=1"; exit 1; }
  echo "SKIP: ${TLSMAP_LMP:-lmp} not installed"; exit 77
fi
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT && cd "$work"
cat > make.lmp <<'L'
units lj
atom_style atomic
region box block 0 7.2 0 7.2 0 7.2
create_box 2 box
create_atoms 1 random 358 4711 box
create_atoms 2 random 90 4712 box
mass * 1.0
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
pair_coeff 1 2 1.5 0.8 2.0
pair_coeff 2 2 0.5 0.88 2.2
pair_modify shift yes
minimize 1e-4 1e-4 2000 20000
write_data lammps_glass.data
L
"${TLSMAP_LMP:-lmp}" -in make.lmp -log none -screen none
for np in 1 2 4; do
  cat > in$np.toml <<T
[run]
output = "np$np.h5"
[system]
n_beads = 448
[pack]
from = "lammps_glass.data"
[minimize]
method = "lbfgs"
T
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" pack in$np.toml > log$np.txt
  grep -q "read from lammps_glass.data" log$np.txt
done
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" energy np1.h5 --json > e.json
/usr/bin/python3 - <<'PY'
import h5py, json, numpy as np
f = [h5py.File(f"np{n}.h5", "r") for n in (1, 2, 4)]
assert f[0]["particles/all/position/value"].shape == (1, 448, 3)
assert f[0]["pack"].attrs["max_force"] <= 1e-10
for g in f[1:]:
    assert np.array_equal(f[0]["particles/all/position/value"][()], g["particles/all/position/value"][()])
e = json.load(open("e.json"))
e_is = f[0]["pack"].attrs["e_is_per_bead"] * 448
assert abs(e["lj"] - e_is) <= 1e-10 * abs(e_is), (e["lj"], e_is)
print("LAMMPS glass minimised identically at 1, 2, 4 ranks: e_IS/N =", e_is / 448)
PY
