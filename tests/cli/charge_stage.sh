#!/usr/bin/env bash
# `tlsmap pack` + `tlsmap charge` on a tiny glass at 1, 2 and 4 ranks: /particles/all/charge and
# /charge identical across rank counts, ±q per bond, net charge exactly 0 (h5py); `tlsmap run`
# gives the same file; a rerun replaces /charge; failed runs exit 1 with one clear message and
# leave the previous file byte for byte, with no temp file.
source "$(dirname "$0")/common.bash"
input() {  # input <output file> [extra [charge] lines]
  glass_input "$1" 3 300 200
  cat <<T
[search]
xi = 3.5
max_domains = 1
max_attempts = 2
[charge]
zeta = 0.1
${2:-}
T
}
for np in 1 2 4; do
  input np$np.h5 > in$np.toml
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" pack in$np.toml > pack$np.txt
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" charge in$np.toml > charge$np.txt
  grep -q "updated np$np.h5" charge$np.txt
  grep -q "net charge 0$" charge$np.txt
done
input run.h5 > run.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" run run.toml > run.txt
grep -q "\[charge\] updated run.h5" run.txt
cp np2.h5 rerun.h5 && input rerun.h5 > rerun.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" charge rerun.toml > rerun.txt
cat charge1.txt

/usr/bin/python3 - <<'PY'
import math
import h5py, numpy as np
names = ["np1.h5", "np2.h5", "np4.h5", "run.h5", "rerun.h5"]
files = {n: h5py.File(n, "r") for n in names}
f = files["np1.h5"]
q = f["particles/all/charge/value"][0]
bonds = f["charge/bonds"][()]
length = f["charge/bond_length"][()]
c = f["charge"].attrs
qr = c["charge_reduced"]
assert q.shape == (300,) and bonds.shape == (150, 2) and bonds.dtype == np.int64, (q.shape, bonds.shape)
assert np.all(bonds[:, 0] < bonds[:, 1]) and sorted(bonds.ravel().tolist()) == list(range(1, 301))
assert np.all(np.abs(q) == qr), "every bead carries +-zeta q"
assert np.all(q[bonds[:, 0] - 1] == -q[bonds[:, 1] - 1]), "each bond is +q, -q"
assert math.fsum(q) == 0.0 and c["net_charge"] == 0.0
assert abs(qr - 0.1 / f.attrs["e_per_reduced_charge"]) < 1e-12 * qr
assert np.all(length < c["bond_cutoff_used"]) and c["n_unpaired"] == 0 and f["charge/unpaired"].shape == (0,)
pos = f["particles/all/position/value"][0]
edges = f["particles/all/box/edges/value"][0]
d = pos[bonds[:, 0] - 1] - pos[bonds[:, 1] - 1]
d -= edges * np.round(d / edges)
assert np.allclose(np.linalg.norm(d, axis=1), length, rtol=1e-14, atol=0)
assert abs(c["bond_length_mean"] - length.mean()) < 1e-12
assert abs(c["mu_mol_reduced"] - qr * length.mean()) < 1e-12
assert abs(c["mu_mol_debye"] - c["mu_mol_reduced"] * f.attrs["debye_per_reduced_dipole"]) < 1e-12
assert f["charge/bond_length_histogram"][()].sum() == 150
for n in names[1:]:
    g = files[n]
    assert np.array_equal(g["particles/all/charge/value"][()], f["particles/all/charge/value"][()]), n
    assert np.array_equal(g["charge/bonds"][()], bonds), n
    assert np.array_equal(g["charge/bond_length"][()], length), n
    assert np.array_equal(g["particles/all/position/value"][()], f["particles/all/position/value"][()]), n
print(f"charge files identical at 1, 2, 4 ranks, run and rerun: bond length {length.mean():.4f} +- {length.std():.4f},"
      f" mu_mol = {c['mu_mol_reduced']:.4f} q* sigma = {c['mu_mol_debye']:.4f} D")
PY

fail=0
expect_error() {  # expect_error <name> <np> <text> <input>; the file named in the input must not change
  local name=$1 np=$2 text=$3 in=$4 before
  before=$(md5sum np1.h5)
  set +e
  timeout 120 "$MPIEXEC" -n "$np" "$TLSMAP" charge "$in" > out.txt 2> err.txt
  local got=$?
  set -e
  if [[ $got -ne 1 ]]; then echo "FAIL $name (np $np): exit $got, want 1"; cat out.txt err.txt; fail=1; return; fi
  if ! grep -qF -- "$text" err.txt; then echo "FAIL $name (np $np): no '$text'"; cat err.txt; fail=1; return; fi
  if [[ $(grep -c "tlsmap: error" err.txt) -ne 1 ]]; then echo "FAIL $name (np $np): not one error line"; cat err.txt; fail=1; return; fi
  if ls ./*.tmp > /dev/null 2>&1; then echo "FAIL $name (np $np): temp file left"; ls; fail=1; return; fi
  if [[ $(md5sum np1.h5) != "$before" ]]; then echo "FAIL $name (np $np): np1.h5 changed"; fail=1; return; fi
  echo "ok   $name (np $np)"
}
input missing.h5 > missing.toml
input np1.h5 "bond_cutoff = 0.3
max_bond_cutoff = 0.3" > unpairable.toml
input np1.h5 "bond_cutoff = 1.5
max_bond_cutoff = 1.0" > inverted.toml
input np1.h5 "[units]
sigma_angstrom = 3.0" > units.toml
for np in 1 2 4; do
  expect_error missing-file $np "missing.h5: no such file" missing.toml
  expect_error unpairable $np "beads stay unpaired even with bond cutoff 0.3" unpairable.toml
  expect_error inverted-cutoffs $np "key 'charge.max_bond_cutoff' = 1.0" inverted.toml
  expect_error other-units $np "was written with e_per_reduced_charge" units.toml
done
exit $fail
