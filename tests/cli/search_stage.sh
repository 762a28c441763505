#!/usr/bin/env bash
# `tlsmap search` on a tiny glass (500 KA beads, 2 of 8 domains, small budget) at 1, 2 and 4 ranks:
# /tls and /search have the documented datasets and shapes (h5py), the catalogue is identical at
# every rank count (bitwise, except the wall times in /search/seconds); every row's state A is the
# occupied state (E_A = /search/e_sample, also after relaxation with every bead free), the
# asymmetry is signed, classes follow the documented rule (tls rows adjacent, E_qs within the
# threshold), no rearrangement is listed twice; /search counts every attempt once (n_events +
# n_failed_exits + n_failed_climbs = n_attempts); a search resumed domain by domain equals the one-go
# search, also from a /search written before the failure counts (they read −1); a rerun of a
# finished search leaves the file byte for byte; with search.neb_max_iter = 50 no band converges
# (/tls/neb_converged); search.neb_optimizer = "fire" gives a catalogue identical at 1, 2 and 4
# ranks with the default L-BFGS's rows; bad [search] and [tls] input
# exits 1 with one clear message and leaves the file as it was; run.heartbeat = 1e-3 s (at 4 ranks)
# prints lines naming the domain and each of the search's loops, and lines from the rows' whole-sample
# relaxation, and changes nothing in the catalogue; the default (60 s) prints none on these short runs.
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
  # At 4 ranks a heartbeat line at every beat (run.heartbeat = 1e-3 s); the catalogue must not change.
  [[ $np == 4 ]] && sed -i 's/^\[run\]/[run]\nheartbeat = 0.001/' in$np.toml
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" search in$np.toml > search$np.txt
  grep -q "wrote /tls and /search to np$np.h5" search$np.txt
done
# run.heartbeat: lines from the ranks working on the two domains, from each loop of the search; none
# at the default 60 s (a domain here takes well under a minute).
beats='^\[search\] domain [01] \(rank [0-3]\), [0-9]+ s in: (search attempt|minimisation|saddle convergence|NEB) step [0-9]+, '
for loop in "search attempt" minimisation "saddle convergence" NEB; do
  grep -Eq "${beats}" search4.txt && grep -E "$beats" search4.txt | grep -q ": $loop step" ||
    { echo "FAIL: no heartbeat from the $loop loop at run.heartbeat = 0.001"; grep "s in:" search4.txt | head; exit 1; }
done
grep -E "$beats" search4.txt | grep -Eq "^\[search\] domain 0 " && grep -E "$beats" search4.txt | grep -Eq "^\[search\] domain 1 " ||
  { echo "FAIL: heartbeat lines do not name both domains"; exit 1; }
grep -Eq '^\[search\] relaxing both states of each new row: [1-9][0-9]* of [0-9]+ done, [0-9]+ s$' search4.txt ||
  { echo "FAIL: no heartbeat from the relaxation of the rows"; grep "relax" search4.txt; exit 1; }
if grep -q " s in: \|relaxing both states" search1.txt search2.txt; then echo "FAIL: heartbeat lines at the default run.heartbeat"; exit 1; fi
cat search2.txt
# Resumed: one domain, then the second (max_domains raised), checkpoint after every domain.
cp base.h5 resumed.h5
input resumed.h5 "checkpoint_every = 1" | sed 's/max_domains = 2/max_domains = 1/' > resume1.toml
input resumed.h5 "checkpoint_every = 1" > resume2.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search resume1.toml > resume1.txt
cp resumed.h5 older.h5
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search resume2.toml > resume2.txt
grep -q "1 to search now, 1 already in the file" resume2.txt
# A /search from before the failure counts (2026-12-07) is resumed: its domain gets −1 (not recorded),
# the new domain its counts, and the rows are the same as resumed.h5's.
/usr/bin/python3 -c '
import h5py
with h5py.File("older.h5", "a") as f:
    del f["search/n_failed_exits"], f["search/n_failed_climbs"]'
sed 's/resumed.h5/older.h5/' resume2.toml > older.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search older.toml > older.txt
grep -q "1 to search now, 1 already in the file" older.txt || { echo "FAIL: the older /search was not resumed"; cat older.txt; exit 1; }
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
old, new = h5py.File("older.h5", "r"), h5py.File("resumed.h5", "r")
so, sn = old["search"], new["search"]
assert so["n_failed_exits"][0] == -1 and so["n_failed_climbs"][0] == -1, (so["n_failed_exits"][()], so["n_failed_climbs"][()])
for k in ("n_failed_exits", "n_failed_climbs", "n_attempts", "n_events"):
    assert so[k][1] == sn[k][1], k
assert np.array_equal(old["tls/position_b"][()], new["tls/position_b"][()])
print("older /search resumed: failure counts", so["n_failed_exits"][()], so["n_failed_climbs"][()])
PY
# A finished search: nothing to do, file untouched.
before=$(md5sum < np2.h5)
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search in2.toml > rerun.txt
grep -q "0 to search now, 2 already in the file" rerun.txt
[[ $(md5sum < np2.h5) == "$before" ]] || { echo "FAIL rerun changed np2.h5"; exit 1; }
# The NEB's step budget (search.neb_max_iter): 50 steps (of the default L-BFGS) leave every band above neb_tol.
cp base.h5 short.h5
input short.h5 "neb_max_iter = 50" > short.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search short.toml > short.txt
/usr/bin/python3 - <<'PY'
import h5py
full, short = h5py.File("np2.h5", "r"), h5py.File("short.h5", "r")
assert full["search"].attrs["neb_max_iter"] == 5000 and short["search"].attrs["neb_max_iter"] == 50
c_full, c_short = full["tls/neb_converged"][()], short["tls/neb_converged"][()]
assert c_full.any(), c_full
assert len(c_short) >= 1 and not c_short.any(), c_short
print(f"neb_max_iter: converged bands {c_full.sum()} of {len(c_full)} at 5000 steps, {c_short.sum()} of {len(c_short)} at 50")
PY
# search.neb_optimizer = "fire" at 1, 2 and 4 ranks: the catalogue identical at every rank count
# (bitwise, wall times aside), the same rows as the default L-BFGS's (the events do not depend on the
# band: states, energies and classes equal; barriers within 1e-4 ε, a climber may reach a neighbouring
# saddle, docs/minimizers.md), and the optimiser recorded in /search. fi2 starts from np2.h5, L-BFGS's
# finished catalogue: another optimiser changes the fingerprint, so the search starts over.
for np in 1 2 4; do
  if [[ $np == 2 ]]; then cp np2.h5 fi2.h5; else cp base.h5 fi$np.h5; fi
  input fi$np.h5 'neb_optimizer = "fire"' > fi$np.toml
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" search fi$np.toml > fi$np.txt
done
grep -q "2 to search now, 0 already in the file" fi2.txt || { echo "FAIL: another neb_optimizer resumed L-BFGS's catalogue"; cat fi2.txt; exit 1; }
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
fi, lbfgs = {n: h5py.File(f"fi{n}.h5", "r") for n in (1, 2, 4)}, h5py.File("np1.h5", "r")
for n in (2, 4):
    for grp in ["tls", "search"]:
        for k in fi[1][grp]:
            if k == "seconds":
                continue
            x, y = fi[1][grp][k][()], fi[n][grp][k][()]
            assert x.shape == y.shape and np.array_equal(x, y, equal_nan=(x.dtype.kind == "f")), (n, grp, k)
attr = lambda f: f["search"].attrs["neb_optimizer"]
assert [attr(lbfgs)] + [attr(fi[n]) for n in (1, 2, 4)] in (["lbfgs"] + ["fire"] * 3, [b"lbfgs"] + [b"fire"] * 3)
a, b = fi[1]["tls"], lbfgs["tls"]
assert len(a["energy_a"]) == len(b["energy_a"]), (len(a["energy_a"]), len(b["energy_a"]))
for k in ["energy_a", "energy_b", "mobile_id", "position_a", "position_b", "class", "adjacent"]:
    assert np.array_equal(a[k][()], b[k][()]), k
db = np.abs(a["barrier"][()] - b["barrier"][()])
assert db.max() <= 1e-4, db
conv = (a["neb_converged"][()].sum(), b["neb_converged"][()].sum())
print(f"neb_optimizer fire: identical at 1, 2, 4 ranks; the same {len(db)} rows as L-BFGS, barriers within {db.max():.1e}; "
      f"bands converged FIRE {conv[0]}, L-BFGS {conv[1]}")
PY

/usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = h5py.File("np1.h5", "r")
t, s = f["tls"], f["search"]
n = t["energy_a"].shape[0]
D = int(s.attrs["n_domains"])
assert D == 8 and s.attrs["n_done"] == 2, (D, s.attrs["n_done"])
assert list(s["domain_done"][()]) == [1, 1, 0, 0, 0, 0, 0, 0]
assert n >= 1, f"expected at least one pair adjacent to the occupied state in 2 domains, got {n}"
m = int(t["mobile_offset"][-1])
shapes = {"center": (n, 3), "radius": (n,), "energy_a": (n,), "energy_b": (n,), "asymmetry": (n,),
          "barrier": (n,), "d_l": (n,), "n_moving": (n,), "participation": (n,), "splitting": (n,),
          "mu_direct": (n, 3), "mu_eq13": (n, 3), "mobile_offset": (n + 1,), "mobile_id": (m,),
          "position_a": (m, 3), "position_b": (m, 3), "domain": (n,), "path_length": (n,),
          "profile_offset": (n + 1,), "splitting_kelvin": (n,), "intermediate_minima": (n,),
          "class": (n,), "method": (n,), "e_qs": (n,), "e_qs_kelvin": (n,), "e_qs_mirror": (n,),
          "energy_a_relaxed": (n,), "energy_b_relaxed": (n,), "asymmetry_relaxed": (n,),
          "relaxed_adjacent": (n,), "delta_zpe": (n,), "involves_occupied": (n,), "adjacent": (n,),
          "n_merged": (n,)}
for k, shape in shapes.items():
    assert t[k].shape == shape, (k, t[k].shape, shape)
for k in ["domain_center", "domain_done", "n_mobile", "n_frozen", "n_attempts", "n_minima", "n_saddles",
          "seconds", "minima_offset", "saddle_offset", "pair_offset", "missing_mass", "n_singletons",
          "n_failed_exits", "n_failed_climbs"]:
    assert s[k].shape[0] in (D, D + 1), k
# Every attempt is counted once: a verified saddle, no way out of the basin, or an unconverged climb.
ne, nx, nc = s["n_events"][()], s["n_failed_exits"][()], s["n_failed_climbs"][()]
assert np.array_equal(s["n_attempts"][()], ne + nx + nc) and (nx >= 0).all() and (nc >= 0).all(), (ne, nx, nc)
assert s["minima_energy"].shape == (s["minima_offset"][-1],)
# Convergence (Good-Turing): n_singletons / n_attempts per searched domain, NaN for the others; at
# most every minimum other than O is a singleton.
done = s["domain_done"][()] == 1
miss, n1, na = s["missing_mass"][()], s["n_singletons"][()], s["n_attempts"][()]
# (NaN also for a done domain with no attempt: its starting minimum did not verify.)
expect = np.where(na > 0, n1 / np.maximum(na, 1), np.nan)
assert np.all(np.isnan(miss[~done])) and np.array_equal(miss[done], expect[done], equal_nan=True), (miss, n1, na)
assert np.all(n1 <= np.maximum(s["n_minima"][()] - 1, 0)), (n1, s["n_minima"][()])
assert t["energy_a"].attrs["unit"] == b"epsilon" or t["energy_a"].attrs["unit"] == "epsilon"
cls = np.array([c.decode() for c in t["class"][()]])
method = np.array([c.decode() for c in t["method"][()]])
assert set(cls) <= {"tls", "double_well", "single_well"} and set(method) == {"domain"}, (set(cls), set(method))
e0 = s.attrs["e_sample"]
ea, eb = t["energy_a"][()], t["energy_b"][()]
# State A is the occupied state: the packing's energy, frozen shell and relaxed alike.
assert np.all(t["involves_occupied"][()] == 1)
assert np.allclose(ea, e0, rtol=0, atol=1e-8 * abs(e0)), (ea, e0)
assert np.allclose(t["energy_a_relaxed"][()], e0, rtol=0, atol=1e-8 * abs(e0))
assert np.allclose(eb - ea, t["asymmetry"][()], rtol=0, atol=1e-9)  # signed
assert np.allclose(t["energy_b_relaxed"][()] - t["energy_a_relaxed"][()], t["asymmetry_relaxed"][()], rtol=0, atol=1e-9)
# Relaxing with every bead free never raises a state's energy above its frozen-shell value.
assert np.all(t["energy_b_relaxed"][()] <= eb + 1e-9)
assert np.all(t["barrier"][()] >= np.maximum(t["asymmetry"][()], 0) - 1e-9)
assert np.all(np.isnan(t["mu_eq13"][()]))
# Classes: the documented rule on the stored columns.
ms, ek = t.attrs["max_splitting"], f.attrs["epsilon_kelvin"]
assert abs(ms * ek - 1.0) < 1e-12, (ms, ek)  # default: 1 K
assert np.allclose(t["e_qs_kelvin"][()], t["e_qs"][()] * ek, rtol=1e-14, atol=0)
adj = t["adjacent"][()] == 1
assert np.array_equal(
    adj, (t["saddle_verified"][()] == 1) & (t["saddle_connects"][()] == 1) & (t["intermediate_minima"][()] == 0))
assert np.all(t["saddle_connects"][()] <= t["saddle_verified"][()])
is_tls = adj & (t["e_qs"][()] <= ms)
assert np.array_equal(cls == "tls", is_tls), (cls, t["e_qs"][()])
assert np.all(t["e_qs"][()] > 0)
# E_qs cannot be below the asymmetry of the two wells by more than the barrier allows: for a
# well-separated pair E_qs ~ min(hbar omega, |eps|) > 0; and hbar* is the argon value.
assert abs(t.attrs["hbar_reduced"] - 0.0295865) < 1e-6, t.attrs["hbar_reduced"]
# /search/pair_row: every row listed by its domain, merged copies pointing at their row.
po, pr = s["pair_offset"][()], s["pair_row"][()]
assert po[0] == 0 and po[-1] == pr.size and np.all(np.diff(po) >= 0)
assert set(pr) == set(range(n)), (pr, n)
assert int(t["n_merged"][()].sum()) == int(t.attrs["n_merged"]) == pr.size - n
for k in range(n):
    d = t["domain"][k]
    assert k in pr[po[d]:po[d + 1]], (k, d)
# Every domain's lowest minimum is at or below the packing's energy (the start is a minimum).
for d in range(2):
    e = s["minima_energy"][s["minima_offset"][d]:s["minima_offset"][d + 1]]
    assert e.size >= 1 and e.min() <= e0 + 1e-9, (d, e, e0)
# mu_direct = sum q (r_B - r_A), minimum image, recomputed from the stored states; no rearrangement twice.
q = f["particles/all/charge/value"][0]
L = f["particles/all/box/edges/value"][0]
off, ids = t["mobile_offset"][()], t["mobile_id"][()]
fields = []
for k in range(n):
    sl = slice(off[k], off[k + 1])
    d = t["position_b"][sl] - t["position_a"][sl]
    d -= L * np.round(d / L)
    assert np.allclose((q[ids[sl] - 1][:, None] * d).sum(0), t["mu_direct"][k], rtol=0, atol=1e-12)
    moving = np.linalg.norm(d, axis=1) > 0.02  # the kernel's moving threshold (docs/search.md)
    assert moving.sum() == t["n_moving"][k], (k, moving.sum(), t["n_moving"][k])
    d_l = np.sqrt(np.mean(np.sum(d[moving]**2, 1))) if moving.any() else 0.0
    assert abs(d_l - t["d_l"][k]) < 1e-9, (k, d_l, t["d_l"][k])
    fields.append((set(ids[sl][moving]), dict(zip(ids[sl], d))))
for a in range(n):
    for b in range(a + 1, n):
        if fields[a][0] != fields[b][0]:
            continue
        common = set(fields[a][1]) | set(fields[b][1])
        z = np.zeros(3)
        diff = max(np.linalg.norm(fields[a][1].get(i, z) - fields[b][1].get(i, z)) for i in common)
        assert diff > 0.05, f"rows {a} and {b} are one rearrangement (max displacement difference {diff})"
def same(a, b, name):
    for grp in ["tls", "search"]:
        for k in a[grp]:
            if k == "seconds":
                continue
            x, y = a[grp][k][()], b[grp][k][()]
            assert x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=(x.dtype.kind == "f")), (name, grp, k)
for other in ["np2.h5", "np4.h5", "resumed.h5"]:
    same(f, h5py.File(other, "r"), other)
print(f"search: {n} rows in 2 domains ({dict(zip(*np.unique(cls, return_counts=True)))}), identical at 1, 2, 4 ranks "
      f"and resumed; asymmetry {t['asymmetry'][()]}, relaxed {t['asymmetry_relaxed'][()]}, E_qs {t['e_qs'][()]}, "
      f"barrier {t['barrier'][()]}, minima per domain {s['n_minima'][:2]}")
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
{ input np2.h5; printf '[tls]\nmax_splitting = 2.0\nmax_splitting_epsilon = 0.01\n'; } > twice.toml
{ input np2.h5; printf '[tls]\nmax_splitting = -1.0\n'; } > negative.toml
for np in 1 2; do
  expect_error unknown-key $np "unknown key 'search.max_attempt'; did you mean 'search.max_attempts'" typo.toml
  expect_error thin-shell $np "key 'search.shell' = 2.0: must be at least 2 r_c" shell.toml
  expect_error big-domain $np "is not below half the shortest box edge" big.toml
  expect_error zero-budget $np "key 'search.max_attempts' = 0 is out of range" zero.toml
  expect_error threshold-twice $np "give the threshold once" twice.toml
  expect_error negative-threshold $np "key 'tls.max_splitting' = -1.0 is out of range" negative.toml
done
exit $fail
