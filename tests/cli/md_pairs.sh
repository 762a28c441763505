#!/usr/bin/env bash
# `tlsmap search` with search.method = "md-pairs" on a 256-bead KA glass: 2 replicas of 400 MD
# steps at T = 0.25, a quench every 200 steps, at 1, 2 and 4 ranks (the replicas on 1 or 2 groups).
#  * /tls and /search are bitwise identical at every rank count (at 2 ranks with run.heartbeat = 1e-3 s:
#    the pair analysis prints NEB heartbeat lines naming the pair; none at the default 60 s);
#  * the quench record is consistent, and the candidate pairs are exactly the consecutive distinct
#    structures of each replica (the rule recomputed here from /search/quench_structure), each
#    unordered pair once, the glass as state A when it takes part;
#  * every row has method "md-pairs" and lists every bead; rebuilding its states from the row gives
#    two whole-sample minima (numpy KA forces <= 1e-6) whose numpy energies are energy_a and
#    energy_b (1e-9 relative) and /search/structure_energy of the candidate's structures;
#    mu_direct = sum q (x_B - x_A); state A of a row with involves_occupied is /particles/all;
#  * pairs.core_threshold = 0.1 starts the region around the core (fewer mobile beads), same energies;
#  * resumable: a run killed after its first checkpoint and rerun, and a record grown from 1 to 2
#    replicas, end with the one-go /tls and /search (bitwise);
#  * bad input (no md_temperature, quench_every > md_steps, no Langevin thermostat) exits 1 with one
#    message naming the key and leaves the file as it was.
source "$(dirname "$0")/common.bash"
input() {  # input <output file> [extra [search] lines]
  glass_input "$1" 5 256 1000
  cat <<T
[charge]
zeta = 0.1
[search]
method = "md-pairs"
md_temperature = 0.25
md_steps = 400
quench_every = 200
replicas = 2
neb_images = 8
${2:-}
[pairs]
neb = "shell"
T
}
input base.h5 > base.toml
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" pack base.toml > pack.txt
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" charge base.toml > charge.txt
for np in 1 2 4; do
  cp base.h5 np$np.h5 && input np$np.h5 > in$np.toml
  # At 2 ranks a heartbeat line at every beat (run.heartbeat = 1e-3 s); /tls and /search must not change.
  [[ $np == 2 ]] && sed -i 's/^\[run\]/[run]\nheartbeat = 0.001/' in$np.toml
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" search in$np.toml > search$np.txt
  grep -q "wrote /tls (.*) and /search to np$np.h5" search$np.txt
done
grep -v " s in: " search2.txt
# run.heartbeat: the pair analysis names its phase and pair; the NEB's band beats.
grep -Eq '^\[search\] analyse of pair [0-9]+ \(rank [01]\), [0-9]+ s in: NEB step [0-9]+, max\|F\| ' search2.txt ||
  { echo "FAIL: no heartbeat from a pair's NEB at run.heartbeat = 0.001"; grep " s in: " search2.txt | head; exit 1; }
if grep -q " s in: " search1.txt search4.txt; then echo "FAIL: heartbeat lines at the default run.heartbeat"; exit 1; fi
same_as() {  # same_as FILE REFERENCE: /tls and /search bitwise (datasets and attributes)
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for g in ("tls", "search"):
    assert set(a[g]) == set(b[g]), (g, set(a[g]) ^ set(b[g]))
    for k in a[g]:
        x, y = a[g][k][()], b[g][k][()]
        assert x.shape == y.shape and (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f"
                                       else np.array_equal(x, y)), (sys.argv[1], g, k)
    assert set(a[g].attrs) == set(b[g].attrs), (g, set(a[g].attrs) ^ set(b[g].attrs))
    for k in b[g].attrs:
        assert np.array_equal(a[g].attrs[k], b[g].attrs[k]), (g, k, a[g].attrs[k], b[g].attrs[k])
PY
}
same_as np2.h5 np1.h5
same_as np4.h5 np1.h5

/usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = h5py.File("np1.h5", "r")
t, s = f["tls"], f["search"]
assert s.attrs["method"] in (b"md-pairs", "md-pairs")
R, N = int(s.attrs["replicas"]), int(s.attrs["n_beads"])
assert R == 2 and N == 256
off = s["quench_offset"][()]
assert list(off) == [0, 2, 4], off  # 400 steps / 200 per quench, per replica
assert np.array_equal(s["quench_step"][()], [200, 400, 200, 400])
conv, st = s["quench_converged"][()], s["quench_structure"][()]
assert np.all(conv == 1), conv
ns = s["structure_energy"].shape[0]
assert int(s.attrs["n_structures"]) == ns and st.max() < ns
# The pairing rule, recomputed: consecutive distinct structures per replica, from the glass (0).
want = []
for r in range(R):
    prev = 0
    for k in range(off[r], off[r + 1]):
        if st[k] != prev:
            a, b = (prev, st[k]) if st[k] != 0 else (0, prev)
            if (a, b) not in want and (b, a) not in want:
                want.append((a, b))
        prev = st[k]
cand = [tuple(p) for p in s["candidate_structures"][()]]
assert cand == want, (cand, want)
assert len(cand) >= 1, "expected at least one transition at T = 0.25"
crow = s["candidate_row"][()]
n = t["energy_a"].shape[0]
assert sorted(crow[crow >= 0]) == list(range(n)) and int(s.attrs["n_pairs"]) == n
# Structure 0 is the glass; a structure's energy is that of its first quench.
assert s["structure_energy"][0] == s.attrs["e_sample"]
method = [m.decode() if isinstance(m, bytes) else m for m in t["method"][()]]
assert set(method) == {"md-pairs"}, method
mo, ids = t["mobile_offset"][()], t["mobile_id"][()]
assert np.array_equal(np.diff(mo), np.full(n, N)), np.diff(mo)

# Kob-Andersen energy and forces (lj/cut, cutoffs 2.5 sigma_ab, shifted), numpy.
species = f["particles/all/species/value"][0]
q = f["particles/all/charge/value"][0]
L = f["particles/all/box/edges/value"][0]
glass = f["particles/all/position/value"][0]
EPS, SIG = np.array([[1.0, 1.5], [1.5, 0.5]]), np.array([[1.0, 0.8], [0.8, 0.88]])
e, s2 = EPS[species][:, species], SIG[species][:, species] ** 2
def energy_forces(x):
    d = x[:, None, :] - x[None, :, :]
    d -= L * np.round(d / L)
    r2 = (d ** 2).sum(-1)
    np.fill_diagonal(r2, np.inf)
    m = r2 < 6.25 * s2
    sr6 = np.where(m, (s2 / r2) ** 3, 0.0)
    shift = 4 * e * ((1 / 6.25) ** 6 - (1 / 6.25) ** 3)
    en = 0.5 * np.sum(np.where(m, 4 * e * (sr6 ** 2 - sr6) - shift, 0.0))
    fr = np.where(m, 24 * e * (2 * sr6 ** 2 - sr6) / r2, 0.0)  # F_i = sum_j fr (x_i - x_j)
    return float(en), (fr[:, :, None] * d).sum(1)
se = s["structure_energy"][()]
sp = s["structure_position"][()]
g0 = sp[0] - glass
g0 -= L * np.round(g0 / L)
assert sp.shape == (ns, N, 3) and np.abs(g0).max() <= 1e-12, np.abs(g0).max()  # the glass, wrapped into the box
assert s.attrs["complete"] == 1 and s.attrs["replicas_done"] == 2
fr, fk = s["structure_replica"][()], s["structure_quench"][()]
assert fr[0] == -1 and all(st[off[fr[j]] + fk[j]] == j for j in range(1, ns)), (fr, fk, st)
for k in range(n):
    sl = slice(mo[k], mo[k + 1])
    assert np.array_equal(ids[sl], np.arange(1, N + 1))
    xa, xb = t["position_a"][sl], t["position_b"][sl]
    (ea, fa), (eb, fb) = energy_forces(xa), energy_forces(xb)
    assert abs(ea - t["energy_a"][k]) <= 1e-9 * abs(ea), (k, ea, t["energy_a"][k])
    assert abs(eb - t["energy_b"][k]) <= 1e-9 * abs(eb), (k, eb, t["energy_b"][k])
    assert np.abs(fa).max() <= 1e-6 and np.abs(fb).max() <= 1e-6, (k, np.abs(fa).max(), np.abs(fb).max())
    assert abs(t["asymmetry"][k] - (t["energy_b"][k] - t["energy_a"][k])) <= 1e-12 * abs(ea)
    c = int(np.nonzero(crow == k)[0][0])
    sa, sb = cand[c]
    assert t["energy_a"][k] == se[sa] and t["energy_b"][k] == se[sb], (k, sa, sb)
    assert t["involves_occupied"][k] == (1 if sa == 0 else 0)
    d = xb - xa
    d -= L * np.round(d / L)
    assert np.allclose((q[:, None] * d).sum(0), t["mu_direct"][k], rtol=0, atol=1e-12)
    assert np.array_equal(xa, sp[sa]) and np.array_equal(xb, sp[sb])
    if sa == 0:
        g = xa - glass
        g -= L * np.round(g / L)
        assert np.abs(g).max() <= 1e-12, np.abs(g).max()
print(f"md-pairs: {len(cand)} candidate pairs, {n} rows; structures {ns}; OK")
PY

# Resumed: a run killed (SIGKILL, the whole job) after its first checkpoint, rerun, ends with the
# one-go file; so does a record extended from 1 to 2 replicas. Both compared with np1.h5 (np 1).
cp base.h5 killed.h5 && input killed.h5 > killed.toml
setsid "$MPIEXEC" -n 1 "$TLSMAP" search killed.toml > killed.txt 2>&1 &
job=$!
for i in $(seq 1 1200); do grep -q "checkpoint: 1 of 2" killed.txt && break; sleep 0.05; done
kill -9 -- -$job 2> /dev/null || true
wait $job 2> /dev/null || true
grep -q "checkpoint: 1 of 2" killed.txt
! grep -q "wrote /tls" killed.txt || { echo "FAIL: the run ended before it was killed"; exit 1; }
timeout 300 "$MPIEXEC" -n 1 "$TLSMAP" search killed.toml > rerun.txt
grep -q "1 to run now, 1 already in the file" rerun.txt
same_as killed.h5 np1.h5
cp base.h5 grown.h5
input grown.h5 | sed 's/replicas = 2/replicas = 1/' > grown1.toml
input grown.h5 > grown2.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search grown1.toml > grown1.txt
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search grown2.toml > grown2.txt
grep -q "1 to run now, 1 already in the file" grown2.txt
same_as grown.h5 np1.h5

# pairs.core_threshold = 0.1: the region starts around the rearranging core (fewer mobile beads than
# the whole sample's 255) and grows until B is stable; the rows' whole-sample energies are unchanged.
cp base.h5 core.h5
input core.h5 | sed 's/^neb = "shell"/neb = "shell"\ncore_threshold = 0.1/' > core.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" search core.toml > core.txt
first=$(grep -m1 -o "region radius [0-9.]* sigma, [0-9]* mobile beads" core.txt | awk '{print $5}')
[[ -n $first && $first -lt 255 ]] || { echo "FAIL: core_threshold region: '$first' mobile beads"; cat core.txt; exit 1; }
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
a, b = h5py.File("core.h5", "r")["tls"], h5py.File("np1.h5", "r")["tls"]
for k in ("energy_a", "energy_b", "asymmetry", "mu_direct", "position_a", "position_b"):
    assert np.array_equal(a[k][()], b[k][()]), k
PY

# Bad input: one message naming the key, the file untouched.
before=$(md5sum < np2.h5)
bad() {  # bad <needle> <sed expression>
  input np2.h5 | sed "$2" > bad.toml
  if timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" search bad.toml > bad.txt 2>&1; then echo "FAIL: accepted ($2)"; exit 1; fi
  grep -q "$1" bad.txt || { echo "FAIL: no '$1' in:"; cat bad.txt; exit 1; }
  [[ $(grep -c "error" bad.txt) == 1 ]] || { echo "FAIL: not one message:"; cat bad.txt; exit 1; }
}
bad search.md_temperature '/md_temperature/d'
bad search.quench_every 's/quench_every = 200/quench_every = 500/'
bad md.thermostat 's/^\[pairs\]/[md]\nthermostat = "none"\n[pairs]/'
[[ $(md5sum < np2.h5) == "$before" ]] || { echo "FAIL bad input changed np2.h5"; exit 1; }
echo "md_pairs: OK"
