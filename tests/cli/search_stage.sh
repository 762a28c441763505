#!/usr/bin/env bash
# `tlsmap search` on a tiny glass (500 KA beads, 2 of 8 domains, small budget) at 1, 2 and 4 ranks:
# /tls and /search have the documented datasets and shapes (h5py), the catalogue is identical at
# every rank count (bitwise, except the wall times in /search/seconds), E_A <= E_B, whole-sample
# energies consistent with /search/e_sample; a search resumed domain by domain equals the one-go
# search; a rerun of a finished search leaves the file byte for byte; bad [search] input exits 1
# with one clear message and leaves the file as it was.
source "$(dirname "$0")/common.bash"
input() {  # input <output file> [extra [search] lines]
  glass_input "$1" 5 500 300
  cat <<T
[charge]
zeta = 0.1
[search]
xi = 3.5
spacing = 3.7
max_domains = 2
max_attempts = 2
stop_after_stale = 2
neb_images = 6
${2:-}
T
}
input base.h5 > base.toml
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" pack base.toml > pack.txt
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" charge base.toml > charge.txt
for np in 1 2 4; do
  cp base.h5 np$np.h5 && input np$np.h5 > in$np.toml
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" search in$np.toml > search$np.txt
  grep -q "wrote /tls and /search to np$np.h5" search$np.txt
done
cat search2.txt
# Resumed: one domain, then the second (max_domains raised), checkpoint after every domain.
cp base.h5 resumed.h5
input resumed.h5 "checkpoint_every = 1" | sed 's/max_domains = 2/max_domains = 1/' > resume1.toml
input resumed.h5 "checkpoint_every = 1" > resume2.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search resume1.toml > resume1.txt
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search resume2.toml > resume2.txt
grep -q "1 to search now, 1 already in the file" resume2.txt
# A finished search: nothing to do, file untouched.
before=$(md5sum < np2.h5)
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search in2.toml > rerun.txt
grep -q "0 to search now, 2 already in the file" rerun.txt
[[ $(md5sum < np2.h5) == "$before" ]] || { echo "FAIL rerun changed np2.h5"; exit 1; }

/usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = h5py.File("np1.h5", "r")
t, s = f["tls"], f["search"]
n = t["energy_a"].shape[0]
D = int(s.attrs["n_domains"])
assert D == 8 and s.attrs["n_done"] == 2, (D, s.attrs["n_done"])
assert list(s["domain_done"][()]) == [1, 1, 0, 0, 0, 0, 0, 0]
assert 1 <= n <= 2, f"expected a pair in at least one of the 2 domains, got {n}"
m = int(t["mobile_offset"][-1])
shapes = {"center": (n, 3), "radius": (n,), "energy_a": (n,), "energy_b": (n,), "asymmetry": (n,),
          "barrier": (n,), "d_l": (n,), "n_moving": (n,), "participation": (n,), "splitting": (n,),
          "mu_direct": (n, 3), "mu_eq13": (n, 3), "mobile_offset": (n + 1,), "mobile_id": (m,),
          "position_a": (m, 3), "position_b": (m, 3), "domain": (n,), "path_length": (n,),
          "profile_offset": (n + 1,), "splitting_kelvin": (n,), "intermediate_minima": (n,)}
for k, shape in shapes.items():
    assert t[k].shape == shape, (k, t[k].shape, shape)
for k in ["domain_center", "domain_done", "n_mobile", "n_frozen", "n_attempts", "n_minima", "n_saddles",
          "tls_row", "seconds", "minima_offset", "saddle_offset"]:
    assert s[k].shape[0] in (D, D + 1), k
assert s["minima_energy"].shape == (s["minima_offset"][-1],)
assert t["energy_a"].attrs["unit"] == b"epsilon" or t["energy_a"].attrs["unit"] == "epsilon"
ea, eb = t["energy_a"][()], t["energy_b"][()]
assert np.all(ea <= eb) and np.allclose(eb - ea, t["asymmetry"][()], rtol=0, atol=1e-9)
assert np.all(t["barrier"][()] >= t["asymmetry"][()] - 1e-9)
assert np.all(np.isnan(t["mu_eq13"][()]))
e0 = s.attrs["e_sample"]
# Every domain's lowest minimum is at or below the packing's energy (the start is a minimum).
for d in range(2):
    e = s["minima_energy"][s["minima_offset"][d]:s["minima_offset"][d + 1]]
    assert e.size >= 1 and e.min() <= e0 + 1e-9, (d, e, e0)
# mu_direct = sum q (r_B - r_A), minimum image, recomputed from the stored states.
q = f["particles/all/charge/value"][0]
L = f["particles/all/box/edges/value"][0]
off, ids = t["mobile_offset"][()], t["mobile_id"][()]
for k in range(n):
    sl = slice(off[k], off[k + 1])
    d = t["position_b"][sl] - t["position_a"][sl]
    d -= L * np.round(d / L)
    assert np.allclose((q[ids[sl] - 1][:, None] * d).sum(0), t["mu_direct"][k], rtol=0, atol=1e-12)
    moving = np.linalg.norm(d, axis=1) > 0.02  # the kernel's moving threshold (docs/search.md)
    assert moving.sum() == t["n_moving"][k], (k, moving.sum(), t["n_moving"][k])
    d_l = np.sqrt(np.mean(np.sum(d[moving]**2, 1))) if moving.any() else 0.0
    assert abs(d_l - t["d_l"][k]) < 1e-9, (k, d_l, t["d_l"][k])
def same(a, b, name):
    for grp in ["tls", "search"]:
        for k in a[grp]:
            if k == "seconds":
                continue
            x, y = a[grp][k][()], b[grp][k][()]
            assert x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=(x.dtype.kind == "f")), (name, grp, k)
for other in ["np2.h5", "np4.h5", "resumed.h5"]:
    same(f, h5py.File(other, "r"), other)
print(f"search: {n} TLS in 2 domains, identical at 1, 2, 4 ranks and resumed; asymmetry {t['asymmetry'][()]}, "
      f"barrier {t['barrier'][()]}, d_L {t['d_l'][()]}, minima per domain {s['n_minima'][:2]}")
PY

fail=0
expect_error() {  # expect_error <name> <np> <text> <input>; np2.h5 must not change
  local name=$1 np=$2 text=$3 in=$4 before
  before=$(md5sum < np2.h5)
  set +e
  timeout 120 "$MPIEXEC" -n "$np" "$TLSMAP" search "$in" > out.txt 2> err.txt
  local got=$?
  set -e
  if [[ $got -ne 1 ]]; then echo "FAIL $name (np $np): exit $got, want 1"; cat out.txt err.txt; fail=1; return; fi
  if ! grep -qF -- "$text" err.txt; then echo "FAIL $name (np $np): no '$text'"; cat err.txt; fail=1; return; fi
  if [[ $(grep -c "tlsmap: error" err.txt) -ne 1 ]]; then echo "FAIL $name (np $np): not one error line"; cat err.txt; fail=1; return; fi
  if ls ./*.tmp > /dev/null 2>&1; then echo "FAIL $name (np $np): temp file left"; ls; fail=1; return; fi
  if [[ $(md5sum < np2.h5) != "$before" ]]; then echo "FAIL $name (np $np): np2.h5 changed"; fail=1; return; fi
  echo "ok   $name (np $np)"
}
input np2.h5 "max_attempt = 3" > typo.toml
input np2.h5 "shell = 2.0" > shell.toml
input np2.h5 | sed 's/xi = 3.5/xi = 8.0/' > big.toml
input np2.h5 | sed 's/max_attempts = 2/max_attempts = 0/' > zero.toml
for np in 1 2; do
  expect_error unknown-key $np "unknown key 'search.max_attempt'; did you mean 'search.max_attempts'" typo.toml
  expect_error thin-shell $np "key 'search.shell' = 2.0: must be at least 2 r_c" shell.toml
  expect_error big-domain $np "is not below half the shortest box edge" big.toml
  expect_error zero-budget $np "key 'search.max_attempts' = 0 is out of range" zero.toml
done
exit $fail
