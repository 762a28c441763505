#!/usr/bin/env bash
# `tlsmap pairs` on state pairs made by LAMMPS. A 1000-bead KA glass (`tlsmap pack`, charged) is
# exported as a LAMMPS data file; LAMMPS runs NVT MD at T = 0.25 and minimises a copy every 10 steps
# until the inherent structure has changed (the first rearrangement; seeds are tried until it is a
# local one: moving beads within 3 sigma of their centroid), and makes a second copy of the glass's
# own state (every bead displaced by 1e-5 sigma, minimised again). The list (in states/, paths
# relative to it) pairs the H5MD glass with B, and the LAMMPS copy of the glass with B.
# At 1, 2 and 4 ranks (neb = "shell"): /tls, /pairs and /particles are identical bitwise; every row has method "given", domain -1, an allowed class,
# whole-sample energies (energy_*_relaxed equal to them, asymmetry = E_B - E_A); /particles/all is
# the glass; rebuilding each row's states from /particles/all plus its mobile beads gives E_A =
# energy_a and E_B - E_A = /pairs/asymmetry_shell (a numpy KA energy, 1e-9); the second row (state A
# not bitwise /particles/all) lists every bead that differs and repeats the first row's barrier.
# search.neb_max_iter = 20 (2 ranks): every row has neb_converged = 0, where the default budget gives 1.
# Whole sample vs shell (the first pair again with neb = "auto" and check_whole, 2 ranks, against
# LAMMPS below): the whole-sample band joins the same minima (asymmetry_whole = asymmetry to 1e-9),
# and its barrier is not above the shell's (a frozen shell can
# only raise the pass; docs/pairs.md has the size of the difference). Bad input — a missing file, a
# state with another bead count, another box, two states of one structure, a malformed list line, no
# [pairs] list, [run] output naming a state — exits 1 with one message naming the file, and writes
# nothing.
# Without lmp: exit 77 (CTest: "Skipped"), or a failure if TLSMAP_REQUIRE_PEERS=1 (CI); TLSMAP_LMP
# names the lmp to use (default: lmp on PATH).
set -eu
TLSMAP=$1 MPIEXEC=$2 SRC=$3
LMP=${TLSMAP_LMP:-lmp}
if ! command -v "$LMP" > /dev/null; then
  [[ ${TLSMAP_REQUIRE_PEERS:-0} == 1 ]] && { echo "FAIL: $LMP not installed and TLSMAP_REQUIRE_PEERS=1"; exit 1; }
  echo "SKIP: $LMP not installed"; exit 77
fi
source "$(dirname "$0")/common.bash"
source "$SRC/scripts/lammps_ka.sh"

glass_input glass.h5 5 1000 1000 > glass.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" pack glass.toml > pack.txt
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" charge glass.toml > charge.txt
mkdir states
timeout 120 "$MPIEXEC" -n 1 "$TLSMAP" energy glass.h5 --lammps states/glass.data > /dev/null
cp glass.h5 states/glass.h5

lammps_head() {
  cat <<L
units           lj
atom_style      charge
atom_modify     map array sort 0 0.0
boundary        p p p
read_data       states/glass.data
$(lammps_ka_pair)
neighbor        0.3 bin
timestep        0.005
L
}
# The first rearrangement of an MD run at T = 0.25 from the glass, as a minimised data file.
{ lammps_head; cat <<'L'
compute         d all displace/atom
compute         dmax all reduce max c_d[4]
thermo_style    custom step pe c_dmax
velocity        all create 0.25 ${seed} dist gaussian mom yes
fix             bath all nvt temp 0.25 0.25 0.5
dump            traj all custom 10 traj.dump id type x y z ix iy iz
dump_modify     traj sort id format float %.17g
run             300
undump          traj
unfix           bath
min_style       cg
variable        k loop 1 30
label           frame
variable        s equal ${k}*10
read_dump       traj.dump ${s} x y z ix iy iz box no
minimize        0 1e-10 20000 200000
variable        m equal c_dmax
if "${m} > 0.1" then "write_data states/b.data nocoeff" "jump SELF done"
next            k
jump            SELF frame
label           done
L
} > first_event.lmp
local_event() {  # the moving beads of states/b.data (|d| > 0.02) lie within 3 sigma of their centroid
  /usr/bin/python3 - <<'PY'
import sys, numpy as np
def atoms(path):
    lines = open(path).read().split("\n")
    box = [float(l.split()[1]) - float(l.split()[0]) for l in lines if l.endswith("xhi")][0]
    i = next(k for k, l in enumerate(lines) if l.startswith("Atoms"))
    rows = []
    for l in lines[i + 2:]:
        if not l.strip():
            break
        rows.append([float(w) for w in l.split()[:6]])
    a = np.array(rows)
    return a[np.argsort(a[:, 0])][:, 3:6], box
a, L = atoms("states/glass.data")
b, _ = atoms("states/b.data")
d = b - a
d -= L * np.round(d / L)
moving = np.linalg.norm(d, axis=1) > 0.02
r = a[moving] - a[moving][0]
r -= L * np.round(r / L)
r -= r.mean(0)
ok = 0 < moving.sum() and np.linalg.norm(r, axis=1).max() < 3.0
print(f"first rearrangement: {moving.sum()} beads move more than 0.02 sigma, within "
      f"{np.linalg.norm(r, axis=1).max():.2f} sigma of their centroid: {'local' if ok else 'not local'}")
sys.exit(0 if ok else 1)
PY
}
found=0
for seed in 1 2 3 4 5 6; do
  rm -f states/b.data
  timeout 120 "$LMP" -nocite -var seed $seed -in first_event.lmp -log first_event.log -screen none
  [[ -s states/b.data ]] && local_event && { found=1; break; }
done
[[ $found == 1 ]] || { echo "FAIL: no local rearrangement in 6 MD runs"; exit 1; }
# The glass's own state once more, from LAMMPS: same structure, not the same doubles.
{ lammps_head; cat <<'L'
displace_atoms  all random 1e-5 1e-5 1e-5 9 units box
min_style       cg
minimize        0 1e-10 20000 200000
write_data      states/a.data nocoeff
L
} > jiggle.lmp
timeout 120 "$LMP" -nocite -in jiggle.lmp -log jiggle.log -screen none
printf '# state A, state B (relative to this file)\nglass.h5 b.data\n\na.data   b.data  # the glass again, from LAMMPS\n' > states/pairs.txt

pairs_input() {  # pairs_input <output> <list> [extra [pairs] lines]
  cat <<T
[run]
output = "$1"
[pairs]
list = "$2"
${3:-}
[search]
neb_images = 7
neb_tol = 1e-4
T
}
for np in 1 2 4; do
  pairs_input np$np.h5 states/pairs.txt 'neb = "shell"' > in$np.toml
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" pairs in$np.toml > pairs$np.txt
  grep -q "and /pairs to np$np.h5" pairs$np.txt
done
cat pairs2.txt
# search.neb_max_iter reaches the pairs stage: with a budget of 20 FIRE steps no band converges, where
# the default budget converges every one.
pairs_input budget.h5 states/pairs.txt 'neb = "shell"' | sed 's/^\[search\]$/[search]\nneb_max_iter = 20/' > budget.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" pairs budget.toml > budget.txt
/usr/bin/python3 -c '
import h5py
full, short = (h5py.File(f, "r")["tls/neb_converged"][()].tolist() for f in ("np2.h5", "budget.h5"))
print(f"neb_converged: default budget {full}, neb_max_iter = 20 {short}")
assert full == [1] * len(full) and short == [0] * len(full), (full, short)'

/usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = {n: h5py.File(f"np{n}.h5", "r") for n in (1, 2, 4)}
t, p = f[1]["tls"], f[1]["pairs"]
n = t["energy_a"].shape[0]
assert n == 2, n
s = lambda v: [x.decode() if isinstance(x, bytes) else x for x in v]
assert s(t["method"][()]) == ["given"] * n and list(t["domain"][()]) == [-1] * n
assert set(s(t["class"][()])) <= {"tls", "double_well", "single_well"}, s(t["class"][()])
assert list(t["involves_occupied"][()]) == [1] * n and list(t["n_merged"][()]) == [0] * n
assert s(p["state_a"][()]) == ["states/glass.h5", "states/a.data"], s(p["state_a"][()])
assert s(p["state_b"][()]) == ["states/b.data"] * 2
ea, eb = t["energy_a"][()], t["energy_b"][()]
for k in ("a", "b"):
    assert np.array_equal(t[f"energy_{k}"][()], t[f"energy_{k}_relaxed"][()])
assert np.array_equal(t["asymmetry"][()], eb - ea) and np.array_equal(t["asymmetry_relaxed"][()], eb - ea)
assert np.all(np.isnan(t["mu_eq13"][()]))
# Identical at 1, 2, 4 ranks.
for m in (2, 4):
    for grp in ("tls", "particles/all/position", "particles/all/charge", "particles/all/species", "pairs"):
        g0, g1 = f[1][grp], f[m][grp]
        for k in g0:
            if not isinstance(g0[k], h5py.Dataset):
                continue
            x, y = g0[k][()], g1[k][()]
            assert x.shape == y.shape and np.array_equal(x, y, equal_nan=(x.dtype.kind == "f")), (m, grp, k)
# /particles/all is the glass (already a minimum: the re-minimisation leaves it).
g = h5py.File("glass.h5", "r")
L = g["particles/all/box/edges/value"][0]
dx = f[1]["particles/all/position/value"][0] - g["particles/all/position/value"][0]
dx -= L * np.round(dx / L)
assert np.abs(dx).max() <= 1e-9, np.abs(dx).max()
assert np.array_equal(f[1]["particles/all/charge/value"][()], g["particles/all/charge/value"][()])

# Kob-Andersen energy (lj/cut, cutoffs 2.5 sigma_ab, shifted) of a configuration, numpy.
species = f[1]["particles/all/species/value"][0]
q = f[1]["particles/all/charge/value"][0]
EPS, SIG = np.array([[1.0, 1.5], [1.5, 0.5]]), np.array([[1.0, 0.8], [0.8, 0.88]])
def energy(x):
    d = x[:, None, :] - x[None, :, :]
    d -= L * np.round(d / L)
    r2 = (d ** 2).sum(-1)
    e, s2 = EPS[species][:, species], SIG[species][:, species] ** 2
    rc2 = 6.25 * s2
    iu = np.triu_indices(len(x), 1)
    r2, e, s2, rc2 = r2[iu], e[iu], s2[iu], rc2[iu]
    m = r2 < rc2
    lj = lambda z: 4 * e[m] * ((s2[m] / z) ** 6 - (s2[m] / z) ** 3)
    return float(np.sum(lj(r2[m]) - lj(rc2[m])))
ref = f[1]["particles/all/position/value"][0]
off, ids = t["mobile_offset"][()], t["mobile_id"][()]
for k in range(n):
    sl = slice(off[k], off[k + 1])
    xa, xb = ref.copy(), ref.copy()
    xa[ids[sl] - 1], xb[ids[sl] - 1] = t["position_a"][sl], t["position_b"][sl]
    e_a, e_b = energy(xa), energy(xb)
    assert abs(e_a - ea[k]) <= 1e-9 * abs(ea[k]), (k, e_a, ea[k])
    assert abs((e_b - e_a) - p["asymmetry_shell"][k]) <= 1e-9 * abs(ea[k]), (k, e_b - e_a, p["asymmetry_shell"][k])
    d = t["position_b"][sl] - t["position_a"][sl]
    d -= L * np.round(d / L)
    assert np.allclose((q[ids[sl] - 1][:, None] * d).sum(0), t["mu_direct"][k], rtol=0, atol=1e-12)
# Row 1: the same rearrangement from a state A that differs from /particles/all in the last digits.
assert list(p["shares_reference"][()]) == [1, 0]
assert off[1] - off[0] == p["n_region"][0] and off[2] - off[1] > p["n_region"][1], (off, p["n_region"][()])
assert abs(t["barrier"][1] - t["barrier"][0]) <= 1e-7, t["barrier"][()]
assert abs(t["asymmetry"][1] - t["asymmetry"][0]) <= 1e-7 and s(t["class"][()])[0] == s(t["class"][()])[1]
# The shell's own band (the whole-sample band and barrier: whole.h5 below): a frozen shell can only
# raise the energy of B relative to A's relaxed state, and no whole-sample band without check_whole.
As = p["asymmetry_shell"][()]
assert np.all(As >= t["asymmetry"][()] - 1e-9), (As, t["asymmetry"][()])
assert np.isnan(p["barrier_whole"][()]).all()
print(f"pairs: {n} rows identical at 1, 2, 4 ranks; class {s(t['class'][()])}, adjacent {t['adjacent'][()]}, "
      f"region {p['n_region'][0]} beads; barrier (shell) {t['barrier'][0]:.6g}; asymmetry shell {As[0]:.6g} / "
      f"relaxed {t['asymmetry'][0]:.6g}")
PY

# The production mode on this sample: neb = "auto" runs every pair on the whole sample (N - 1 <=
# max_mobile), and its barrier is LAMMPS's: the same pair through LAMMPS's climbing-image NEB
# (REPLICA package, 7 replicas, one rank each, oversubscribed; FIRE, spring 5, stop at max atom force
# 1e-4). Tolerances: barrier vs LAMMPS EBF 1e-3 relative (measured 1.3e-4; the shell mode above is
# 13 % off on this pair); refined saddle vs the whole-sample band's top (check_whole) 1e-4 relative.
[[ $("$LMP" -h) == *" REPLICA "* ]] || { echo "FAIL: $LMP lacks the REPLICA package (neb)"; exit 1; }
printf 'glass.h5 b.data\n' > states/one.txt
pairs_input whole.h5 states/one.txt 'check_whole = true' > whole.toml
timeout 900 "$MPIEXEC" -n 2 "$TLSMAP" pairs whole.toml > whole.txt
grep -q "NEB on the whole sample" whole.txt || { echo "FAIL: auto did not choose the whole sample"; cat whole.txt; exit 1; }
/usr/bin/python3 - <<'PY'
import numpy as np
def atoms(path):
    lines = open(path).read().split("\n")
    L = [float(l.split()[1]) - float(l.split()[0]) for l in lines if l.endswith("xhi")][0]
    i = next(k for k, l in enumerate(lines) if l.startswith("Atoms"))
    rows = []
    for l in lines[i + 2:]:
        if not l.strip():
            break
        rows.append([float(w) for w in l.split()[:6]])
    a = np.array(rows)
    return a[np.argsort(a[:, 0])], L
a, L = atoms("states/glass.data")
b, _ = atoms("states/b.data")
d = b[:, 3:6] - a[:, 3:6]
d -= L * np.round(d / L)
with open("neb_final.txt", "w") as o:  # B as the nearest image of A, bead by bead
    o.write(f"{len(a)}\n")
    for i in range(len(a)):
        x = a[i, 3:6] + d[i]
        o.write(f"{int(a[i, 0])} {x[0]!r} {x[1]!r} {x[2]!r}\n")
PY
{ lammps_head; cat <<'L'
variable        u uloop 7
fix             band all neb 5.0 parallel neigh
thermo_modify   norm no
min_style       fire
min_modify      norm max dmax 0.05
thermo          100000
neb             0.0 1e-4 3000 3000 100 final neb_final.txt
L
} > neb.lmp
timeout 900 "$MPIEXEC" -n 7 "$LMP" -nocite -partition 7x1 -in neb.lmp -log neb.log -screen none -plog none \
  -pscreen none > neb.out 2>&1 || { echo "FAIL: LAMMPS NEB"; tail neb.out neb.log; exit 1; }
/usr/bin/python3 - <<'PY'
import re, h5py, numpy as np
last = None
for line in open("neb.log"):
    w = line.split()
    if w and re.fullmatch(r"\d+", w[0]) and len(w) > 9:
        last = [float(v) for v in w]
ebf, atom_force = last[6], last[2]
w, shell = h5py.File("whole.h5", "r"), h5py.File("np1.h5", "r")
t, p = w["tls"], w["pairs"]
s = lambda v: v.decode() if isinstance(v, bytes) else v
assert s(p.attrs["neb"]) == "whole" and s(shell["pairs"].attrs["neb"]) == "shell"
n = len(w["particles/all/species/value"][0])
assert p["n_region"][0] == n - 1, p["n_region"][()]
barrier, band = t["barrier"][0], p["barrier_whole"][0]
# Whole sample vs shell: the whole-sample band (check_whole) converged and joins the same minima
# (asymmetry_whole = the rows' asymmetry to 1e-9); its pass is not above the shell's (below).
assert p["neb_converged_whole"][0] == 1, p["neb_converged_whole"][()]
assert abs(p["asymmetry_whole"][0] - t["asymmetry"][0]) <= 1e-9, (p["asymmetry_whole"][0], t["asymmetry"][0])
assert atom_force <= 1e-4, f"LAMMPS NEB unconverged: max atom force {atom_force}"
assert abs(barrier - ebf) <= 1e-3 * ebf, (barrier, ebf)
assert abs(barrier - band) <= 1e-4 * band, (barrier, band)
assert abs(t["asymmetry"][0] - shell["tls/asymmetry"][0]) <= 1e-9, (t["asymmetry"][0], shell["tls/asymmetry"][0])
assert shell["tls/barrier"][0] >= barrier, (shell["tls/barrier"][0], barrier)
# The row lists the region's beads only (the far field stays out, so interact sees it), at their
# whole-sample positions; mu_direct is theirs.
off, ids = t["mobile_offset"][()], t["mobile_id"][()]
m = off[1] - off[0]
assert 0 < m < n - 1 and t["n_moving"][0] <= m, (m, t["n_moving"][0])
q = w["particles/all/charge/value"][0]
L = w["particles/all/box/edges/value"][0]
dd = t["position_b"][: off[1]] - t["position_a"][: off[1]]
dd -= L * np.round(dd / L)
assert np.allclose((q[ids[: off[1]] - 1][:, None] * dd).sum(0), t["mu_direct"][0], rtol=0, atol=1e-12)
print(f"whole sample: barrier {barrier:.7g} (band {band:.7g}), LAMMPS NEB {ebf:.7g} (rel. {abs(barrier - ebf) / ebf:.2g}); "
      f"shell {shell['tls/barrier'][0]:.7g}; class {s(t['class'][0])}, E_qs {t['e_qs_kelvin'][0]:.4g} K "
      f"(shell {shell['tls/e_qs_kelvin'][0]:.4g} K); {m} beads listed")
PY

fail=0
run_bad() {  # run_bad <name> <text> <input>: exit 1, one message naming <text>, no output, states untouched
  local name=$1 text=$2 in=$3 before
  before=$(cat states/* | md5sum)
  set +e
  timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" pairs "$in" > out.txt 2> err.txt
  local got=$?
  set -e
  if [[ $got -ne 1 ]]; then echo "FAIL $name: exit $got, want 1"; cat out.txt err.txt; fail=1; return; fi
  if ! grep -qF -- "$text" err.txt; then echo "FAIL $name: no '$text'"; cat err.txt; fail=1; return; fi
  if [[ $(grep -c "tlsmap: error" err.txt) -ne 1 ]]; then echo "FAIL $name: not one error line"; cat err.txt; fail=1; return; fi
  if ls bad.h5* states/*.tmp > /dev/null 2>&1; then echo "FAIL $name: output written"; ls . states; fail=1; return; fi
  if [[ $(cat states/* | md5sum) != "$before" ]]; then echo "FAIL $name: a state file changed"; fail=1; return; fi
  echo "ok   $name: $(grep "tlsmap: error" err.txt)"
}
expect_error() {  # expect_error <name> <text> <list file>
  pairs_input bad.h5 "$3" > bad.toml
  run_bad "$1" "$2" bad.toml
}
/usr/bin/python3 - <<'PY'
lines = open("states/b.data").read().split("\n")
n = int(next(l.split()[0] for l in lines if l.endswith(" atoms")))
drop = lambda l: l.split()[:1] == [str(n)] and len(l.split()) > 3  # the Atoms and Velocities lines of id N
fewer = [l.replace(f"{n} atoms", f"{n - 1} atoms") if l.endswith(" atoms") else l for l in lines if not drop(l)]
open("states/fewer.data", "w").write("\n".join(fewer))
wider = [" ".join([l.split()[0], repr(float(l.split()[1]) * 1.01)] + l.split()[2:]) if l.endswith("xhi") else l
         for l in lines]
open("states/wider.data", "w").write("\n".join(wider))
PY
printf 'glass.h5 b.data\nglass.h5 nothere.data\n' > states/missing.txt
printf 'glass.h5 fewer.data\n' > states/fewer.txt
printf 'glass.h5 wider.data\n' > states/wider.txt
printf 'glass.h5 glass.data\n' > states/same.txt
printf 'glass.h5 b.data a.data\n' > states/three.txt
expect_error "missing file" "states/nothere.data: no such file" states/missing.txt
expect_error "bead count" "states/fewer.data: 999 beads, but states/glass.h5 has 1000" states/fewer.txt
expect_error "box" "states/wider.data: box edge 0" states/wider.txt
expect_error "same structure" "states/glass.h5 and states/glass.data minimise to the same structure" states/same.txt
expect_error "list line" "states/three.txt:1: expected two paths" states/three.txt
pairs_input bad.h5 x | sed '/^list = /d' > nolist.toml
run_bad "no [pairs] list" "key 'pairs.list'" nolist.toml
pairs_input states/glass.h5 states/pairs.txt > clobber.toml
run_bad "output is a state" "states/glass.h5: is [run] output too" clobber.toml
exit $fail
