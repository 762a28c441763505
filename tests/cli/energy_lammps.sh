#!/usr/bin/env bash
# `tlsmap energy`: bad arguments and files give one message and exit 1; the JSON has its keys;
# H5MD and the exported LAMMPS data file give the same numbers at 1 and 2 ranks; and LAMMPS agrees
# on a small glass (bench/lammps_crosscheck.sh): energies to 1e-10 relative, forces of a shaken copy
# to 1e-10 · max|F|. The LAMMPS part is skipped (with a message) if lmp is not installed.
set -u
TLSMAP=$1 MPIEXEC=$2 SRC=$3
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT && cd "$work"
fail=0
expect_error() {  # expect_error <substring> <args...>
  local text=$1; shift
  timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" energy "$@" > out.txt 2> err.txt
  local got=$? n; n=$(grep -c "tlsmap: error" err.txt)
  if [[ $got -ne 1 || $n -ne 1 ]] || ! grep -qF -- "$text" err.txt; then
    echo "FAIL energy $*: exit $got, $n error lines, want 1 with '$text'"; cat out.txt err.txt; fail=1
  else echo "ok   energy $* -> $text"; fi
}
echo "not a data file" > bad.data
expect_error "nothere.h5: no such file" nothere.h5
expect_error "bad.data" bad.data
expect_error "unknown option '--bogus'" bad.data --bogus
expect_error "no configuration file" --json

cat > in.toml <<'T'
[run]
output = "glass.h5"
seed = 11
log_every = 100000
[system]
n_beads = 500
[pack]
equil_steps = 500
quench_steps = 500
[minimize]
method = "lbfgs"
T
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" pack in.toml > pack.log || { echo "FAIL pack"; cat pack.log; exit 1; }
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" energy glass.h5 --json --forces f2.txt --lammps glass.data > e2.json &&
  timeout 120 "$MPIEXEC" -n 1 "$TLSMAP" energy glass.data --json --forces f1.txt > e1.json ||
  { echo "FAIL energy on glass.h5 / glass.data"; fail=1; }
/usr/bin/python3 - <<'PY' || fail=1
import json, numpy as np
a, b = json.load(open("e2.json")), json.load(open("e1.json"))
for k in ("lj", "coulomb", "total", "n_beads", "max_force", "pressure"):
    assert k in a, f"JSON lacks {k}"
assert a["n_beads"] == 500 and a["coulomb"] == 0 and a["total"] == a["lj"]
assert a["max_force"] <= 1e-10, a["max_force"]
for k in ("lj", "pressure", "max_force"):  # same doubles from H5MD at 2 ranks and LAMMPS data at 1
    assert a[k] == b[k], (k, a[k], b[k])
f2, f1 = np.loadtxt("f2.txt"), np.loadtxt("f1.txt")
assert f2.shape == (500, 4) and list(f2[:, 0]) == list(range(1, 501))
assert np.array_equal(f1, f2), "forces differ between H5MD (2 ranks) and LAMMPS data (1 rank)"
print("ok   energy: JSON keys, H5MD vs LAMMPS data, 1 vs 2 ranks identical; e =", a["total"] / 500)
PY

if ! command -v lmp > /dev/null; then
  echo "SKIP LAMMPS cross-check: lmp not found"
  exit $fail
fi
MPIEXEC=$MPIEXEC TLSMAP=$TLSMAP RANKS=2 WORK=$work/cc timeout 300 bash "$SRC/bench/lammps_crosscheck.sh" glass.h5 || fail=1
exit $fail
