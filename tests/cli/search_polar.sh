#!/usr/bin/env bash
# The TLS search and the dipole stage on a polar-dimer glass with active charges (docs/polar.md):
# pack 1458 beads (729 molecules, ζ = 0.02 e), then two domains searched at 1, 2 and 4 ranks.
#  * the three rank counts give the same rows (the local model is serial; only the sample's energy
#    and forces come from the parallel Ewald split): same count, positions to 1e-8, energies to 1e-8;
#  * the local model's approximation, checked on the output by an independent numpy energy
#    (tests/tools/polar_energy.py: LJ + bonds + plain Ewald − bonded q²/r) of both whole-sample
#    states (the packing with the row's mobile beads at position_a / position_b): energy_a within
#    1e-3 ε, and the asymmetry's error below 3e-3 ε per σ² of Σ|d_i|² (second order in the
#    displacement; measured up to 1.5e-3 on rows that flip a molecule, docs/polar.md);
#  * every mobile bead's partner is mobile (molecules move whole);
#  * the dipole stage takes the molecules as its bonds: n_bonds_moving > 0 and μ_direct = Σ q_i d_i
#    (numpy) to 1e-10;
#  * tlsmap-report's polar section on the same file: its row count, ⟨|μ_T|²⟩ and g equal the
#    numbers from /tls alone (to the digits printed);
#  * the polar file read with system.model = "kob-andersen" is refused, one error line, file unchanged.
# The glass is minimised to max|F| ≤ 1e-6: `pairs` and md-pairs below take it as a whole-sample minimum.
# Bands to neb_tol = 1e-3 (search and pairs): no check here reads the band, and a row's barrier is
# its refined saddle's.
# Which glass comes out is chaotic in the last bits of the forces (the 2600–4000 L-BFGS iterations of
# the pack amplify them): when the Coulomb kernel was tabulated (1e-14 changes), domain 0 of the new
# glass gave no event in 12 attempts, domain 1 three. Two domains, so that the rows this test needs
# do not hang on one region of one glass.
# The whole-sample relaxation with active charges is tested in test_local_coulomb.
# Then `tlsmap pairs` and search.method = "md-pairs" on the same glass (docs/polar.md):
#  * pairs: state B is the glass with the molecule nearest the box centre flipped (its two beads'
#    positions swapped, the dipole reversed), minimised by `tlsmap pack` with [pack] from = its LAMMPS
#    data file (with bonds). At 1, 2 and 4 ranks: the same row (1e-8); energy_a and energy_b against
#    numpy energies of the two minima (1e-6 of the Ewald sum; measured 1.1e-7); the frozen-shell B
#    (/pairs/asymmetry_shell) against a numpy energy of the glass with the row's B positions (3e-3 ε
#    per σ² of Σ|d_i|², the local model's bound above; measured 1.8e-3); the flipped beads each
#    within 0.3 σ of the other's A position; mu_direct = Σ q d (1e-10); molecules whole; bonds kept;
#    refused with one error line and no file: the states read as Kob–Andersen, a state with other bonds;
#  * md-pairs: one quench after 10 MD steps at T = 0.05 with the charges acting, at 1, 2 and 4 ranks:
#    it lands in the glass's basin (no new structure), with the glass's numpy energy to 1e-3 ε (the
#    charges' part of the energy is −3.8 ε, so a quench without them would be far off), the three rank counts' quench
#    energies within 1e-6 ε.
source "$(dirname "$0")/common.bash"
cat > in.toml <<T
[run]
output = "glass.h5"
seed = 5
log_every = 100000
[system]
model = "polar-dimers"
n_beads = 1458
density = 1.0
[charge]
mode = "active"
zeta = 0.02
[pack]
t_parent = 2.0
t_final = 0.5
equil_steps = 200
quench_steps = 200
coulomb_share_strain = 0
[md]
dt = 0.002
[search]
max_domains = 2
max_attempts = 4
neb_images = 5
neb_tol = 1e-3
relax = false
[minimize]
T
echo "f_tol = 1e-6" >> in.toml
cp in.toml pack.toml
timeout 600 "$MPIEXEC" -n 2 "$TLSMAP" pack pack.toml > pack.txt || { echo "FAIL: pack"; cat pack.txt; exit 1; }
for np in 1 2 4; do
  cp glass.h5 np$np.h5
  sed "s/glass.h5/np$np.h5/" in.toml > in$np.toml
  timeout 600 "$MPIEXEC" -n $np "$TLSMAP" search in$np.toml > search$np.txt ||
    { echo "FAIL: search at $np ranks"; cat search$np.txt; exit 1; }
done
cat search2.txt
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" dipole in2.toml > dipole2.txt || { echo "FAIL: dipole"; cat dipole2.txt; exit 1; }

PYTHONPATH="$SRC/tests/tools:$SRC/postprocess" /usr/bin/python3 - <<'PY'
import h5py, numpy as np
import polar_energy

def rows(path):
    t = h5py.File(path, "r")["tls"]
    ptr = t["mobile_offset"][()]
    return [dict(ids=t["mobile_id"][ptr[k]:ptr[k + 1]], a=t["position_a"][ptr[k]:ptr[k + 1]],
                 b=t["position_b"][ptr[k]:ptr[k + 1]], ea=t["energy_a"][k], eb=t["energy_b"][k])
            for k in range(len(ptr) - 1)]

r = {n: rows(f"np{n}.h5") for n in (1, 2, 4)}
assert len(r[1]) >= 1, "no row: the test needs at least one pair"
for n in (2, 4):
    assert len(r[n]) == len(r[1]), (n, len(r[n]), len(r[1]))
    for p, q in zip(r[1], r[n]):
        assert (p["ids"] == q["ids"]).all()
        assert np.abs(p["a"] - q["a"]).max() <= 1e-8 and np.abs(p["b"] - q["b"]).max() <= 1e-8
        assert abs(p["ea"] - q["ea"]) <= 1e-8 and abs(p["eb"] - q["eb"]) <= 1e-8, (p["ea"], q["ea"], p["eb"], q["eb"])
print(f"1, 2, 4 ranks: the same {len(r[1])} row(s)")

x, sp, q, L, bonds = polar_energy.read_last_frame("np2.h5")
partner = np.zeros(len(x) + 1, int)
partner[bonds[:, 0]] = bonds[:, 1]; partner[bonds[:, 1]] = bonds[:, 0]
for k, row in enumerate(r[2]):
    assert set(partner[row["ids"]]) <= set(row["ids"]), f"row {k}: a molecule is cut by the domain"
    xa, xb = x.copy(), x.copy()
    xa[row["ids"] - 1] = row["a"]; xb[row["ids"] - 1] = row["b"]
    ea, _ = polar_energy.energy(xa, sp, q, L, bonds)
    eb, _ = polar_energy.energy(xb, sp, q, L, bonds)
    ea0, _ = polar_energy.energy(xa, sp, 0 * q, L, bonds)
    eb0, _ = polar_energy.energy(xb, sp, 0 * q, L, bonds)
    coulomb = (eb - ea) - (eb0 - ea0)
    err = (row["eb"] - row["ea"]) - (eb - ea)
    d = row["b"] - row["a"]; d -= L * np.round(d / L)
    d2 = (d ** 2).sum()
    print(f"row {k}: {len(row['ids'])} mobile, sum |d|^2 {d2:.3f}, max |d| {np.sqrt((d ** 2).sum(1)).max():.3f}; "
          f"E_A {row['ea']:.8f} numpy {ea:.8f} ({row['ea'] - ea:.2e}); asymmetry {row['eb'] - row['ea']:.6f}, "
          f"numpy {eb - ea:.6f}, its Coulomb part {coulomb:.6f}, error {err:.2e} ({err / d2:.2e} per sigma^2)")
    assert abs(row["ea"] - ea) <= 1e-3, (row["ea"], ea)
    assert abs(err) <= 3e-3 * d2, (err, d2)

t = h5py.File("np2.h5", "r")["tls"]
for k, row in enumerate(r[2]):
    d = row["b"] - row["a"]; d -= L * np.round(d / L)
    mu = (q[row["ids"] - 1][:, None] * d).sum(0)
    assert t["n_bonds_moving"][k] > 0
    assert np.abs(t["mu_direct"][k] - mu).max() <= 1e-10, (t["mu_direct"][k], mu)
    print(f"row {k}: |mu_direct| {np.linalg.norm(mu):.6f} q*sigma, {t['n_bonds_moving'][k]} molecules moved, "
          f"g {t['g_kirkwood'][k]:.3f}")

# The report's polar analysis (postprocess/tlsmap_post/polar.py) reads the same rows: its per-row g
# (molecular dipole changes from the CSR rows and /particles/all/bonds) equals the dipole stage's.
from tlsmap_post import polar
changes = polar.row_bond_changes("np2.h5")
assert len(changes) == len(r[2])
for k, c in enumerate(changes):
    g = np.sum(c.sum(0) ** 2) / np.sum(c ** 2)
    assert abs(g - t["g_kirkwood"][k]) <= 1e-10 * g, (k, g, t["g_kirkwood"][k])
print(f"tlsmap_post.polar: the dipole stage's g on all {len(changes)} rows")
PY

# The report's polar section, end to end through tlsmap-report: its row for this glass against
# numbers read here from /tls alone (the dipole stage's mu_direct and per-row g, so Σ_b|Δμ_b|² =
# |μ_T|²/g): the row count, ⟨|μ_T|²⟩ and g = ⟨|μ_T|²⟩/⟨Σ_b|Δμ_b|²⟩, to the 3 digits printed.
/usr/bin/python3 "$SRC/postprocess/tlsmap-report" report np2.h5 > report.log 2>&1 || { echo "FAIL: tlsmap-report"; cat report.log; exit 1; }
/usr/bin/python3 - <<'PY'
import re
import h5py, numpy as np
text = open("report/report.md").read()
assert "## Polar glasses: what the charges acting change" in text, "no polar section"
sec = text[text.index("## Polar glasses"):]
head = next(l for l in sec.splitlines() if l.startswith("| group"))
row = sec.splitlines()[sec.splitlines().index(head) + 2]
cut = lambda line: [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
cells = dict(zip(cut(head), cut(row)))  # markdown cells: "\|" is a literal bar
t = h5py.File("np2.h5", "r")["tls"]
mu2 = (t["mu_direct"][()] ** 2).sum(1)
g = mu2.mean() / (mu2 / t["g_kirkwood"][()]).mean()
print(f"report polar row: {cells}")
print(f"from /tls: {len(mu2)} rows, <|mu_T|^2> {mu2.mean():.3g}, g {g:.3g}")
assert int(cells["rows"]) == len(mu2), cells["rows"]
assert cells["ζ (e)"] == "0.02", cells["ζ (e)"]
assert float(cells["⟨|μ_T|²⟩ (q*σ)²"]) == float(f"{mu2.mean():.3g}"), cells
assert float(cells["g"].split()[0]) == float(f"{g:.3g}"), cells["g"]
PY

# The polar file read as Kob–Andersen is refused before anything is written.
sed 's/model = "polar-dimers"/model = "kob-andersen"/; s/mode = "active"/mode = "passive"/' in2.toml > ka.toml
sum=$(md5sum < np2.h5)
if timeout 60 "$MPIEXEC" -n 2 "$TLSMAP" search ka.toml > ka.txt 2> ka.err; then echo "FAIL: accepted"; exit 1; fi
grep -qF 'has bonds, which system.model = "kob-andersen" does not have' ka.err || { cat ka.err; exit 1; }
[[ $(grep -c "tlsmap: error" ka.err) -eq 1 && $(md5sum < np2.h5) == "$sum" ]] || { echo "FAIL: refusal"; cat ka.err; exit 1; }

# ---- tlsmap pairs: the glass and the glass with one molecule flipped --------------------------------
PYTHONPATH="$SRC/tests/tools" /usr/bin/python3 - <<'PY'
import numpy as np
import polar_energy
x, sp, q, L, bonds = polar_energy.read_last_frame("glass.h5")
m = np.argmin(((x[bonds[:, 0] - 1] - L / 2) ** 2).sum(1))
i, j = bonds[m] - 1
xb = x.copy()
xb[i], xb[j] = x[j].copy(), x[i].copy()
mol = np.zeros(len(x) + 1, int)
for k, (a, b) in enumerate(bonds):
    mol[a] = mol[b] = k + 1
with open("flipped.data", "w") as f:
    f.write(f"glass with molecule {m + 1} flipped\n\n{len(x)} atoms\n2 atom types\n{len(bonds)} bonds\n1 bond types\n\n")
    for d, a in enumerate("xyz"):
        f.write(f"0 {L[d]!r} {a}lo {a}hi\n")
    f.write("\nMasses\n\n1 1\n2 1\n\nAtoms # full\n\n")
    for k in range(len(x)):
        f.write(f"{k + 1} {mol[k + 1]} {sp[k] + 1} {q[k]!r} {xb[k, 0]!r} {xb[k, 1]!r} {xb[k, 2]!r}\n")
    f.write("\nBonds\n\n")
    for k, (a, b) in enumerate(bonds):
        f.write(f"{k + 1} 1 {a} {b}\n")
open("flipped.txt", "w").write(f"{i + 1} {j + 1}\n")
PY
sed 's/glass.h5/flipped.h5/; s/^\[pack\]/[pack]\nfrom = "flipped.data"/; s/equil_steps = 200/equil_steps = 0/; s/quench_steps = 200/quench_steps = 0/' \
  pack.toml > flip.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" pack flip.toml > flip.txt || { echo "FAIL: pack of the flipped glass"; cat flip.txt; exit 1; }
echo "glass.h5 flipped.h5" > pairs.txt
for np in 1 2 4; do
  cat > pairs$np.toml <<T
[run]
output = "pairs$np.h5"
[system]
model = "polar-dimers"
[charge]
mode = "active"
[pairs]
list = "pairs.txt"
neb = "shell"
core_threshold = 0.1
[search]
neb_images = 6
neb_tol = 1e-3
dedup_distance = 0.2
[minimize]
f_tol = 1e-6
T
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" pairs pairs$np.toml > pairs$np.txt ||
    { echo "FAIL: pairs at $np ranks"; cat pairs$np.txt; exit 1; }
done
cat pairs2.txt
PYTHONPATH="$SRC/tests/tools" /usr/bin/python3 - <<'PY'
import h5py, numpy as np
import polar_energy
xa, sp, q, L, bonds = polar_energy.read_last_frame("glass.h5")
xb, *_ = polar_energy.read_last_frame("flipped.h5")
ea, ewald = polar_energy.energy(xa, sp, q, L, bonds)
eb, _ = polar_energy.energy(xb, sp, q, L, bonds)
i, j = (int(v) for v in open("flipped.txt").read().split())
partner = np.zeros(len(xa) + 1, int)
partner[bonds[:, 0]] = bonds[:, 1]; partner[bonds[:, 1]] = bonds[:, 0]
mi = lambda d: d - L * np.round(d / L)

def row(path):
    f = h5py.File(path, "r")
    t = f["tls"]
    assert len(t["energy_a"]) == 1, path
    p = t["mobile_offset"][()]
    return dict(ids=t["mobile_id"][p[0]:p[1]], a=t["position_a"][p[0]:p[1]], b=t["position_b"][p[0]:p[1]],
                ea=t["energy_a"][0], eb=t["energy_b"][0], barrier=t["barrier"][0], mu=t["mu_direct"][0],
                shell=f["pairs/asymmetry_shell"][0], bonds=f["particles/all/bonds"][()], cls=t["class"][0])

r = {n: row(f"pairs{n}.h5") for n in (1, 2, 4)}
for n in (2, 4):
    assert (r[n]["ids"] == r[1]["ids"]).all(), n
    for k in ("a", "b"):
        assert np.abs(mi(r[n][k] - r[1][k])).max() <= 1e-8, (n, k, np.abs(mi(r[n][k] - r[1][k])).max())
    for k in ("ea", "eb", "barrier", "shell"):
        assert abs(r[n][k] - r[1][k]) <= 1e-8, (n, k, r[n][k], r[1][k])
print(f"pairs at 1, 2, 4 ranks: the same row ({len(r[1]['ids'])} beads, class {r[1]['cls'].decode()}, "
      f"barrier {r[1]['barrier']:.4f})")
w = r[2]
print(f"E_A {w['ea']:.8f} numpy {ea:.8f}; E_B {w['eb']:.8f} numpy {eb:.8f}; Ewald sum {ewald:.3f}")
assert abs(w["ea"] - ea) <= 1e-6 * abs(ewald) and abs(w["eb"] - eb) <= 1e-6 * abs(ewald)
assert (np.sort(w["bonds"], axis=1) == np.sort(bonds, axis=1)).all(), "bonds of /particles/all changed"
assert set(partner[w["ids"]]) <= set(w["ids"]), "a molecule is cut by the region"
pos = dict(zip(w["ids"], range(len(w["ids"]))))
for u, v in ((i, j), (j, i)):
    gap = np.linalg.norm(mi(w["b"][pos[u]] - xa[v - 1]))
    assert gap <= 0.3, f"bead {u} in B is {gap:.3f} sigma from bead {v} in A: not the flip"
xs = xa.copy(); xs[w["ids"] - 1] = w["b"]
es, _ = polar_energy.energy(xs, sp, q, L, bonds)
d = mi(w["b"] - w["a"]); d2 = (d ** 2).sum()
err = w["shell"] - (es - ea)
print(f"frozen-shell asymmetry {w['shell']:.6f}, numpy {es - ea:.6f}: error {err:.2e} ({err / d2:.2e} per sigma^2 "
      f"of sum |d|^2 = {d2:.3f}); whole-sample asymmetry {w['eb'] - w['ea']:.6f}")
assert abs(err) <= 3e-3 * d2, (err, d2)
mu = (q[w["ids"] - 1][:, None] * d).sum(0)
assert np.abs(w["mu"] - mu).max() <= 1e-10, (w["mu"], mu)
print(f"mu_direct {w['mu']} = sum q d")
PY

# Refusals before any minimisation, one error line, no output file: the polar states read as
# Kob–Andersen, and a state whose bonds differ from the first state's.
sed 's/model = "polar-dimers"/model = "kob-andersen"/; s/mode = "active"/mode = "passive"/; s/pairs2.h5/refused.h5/' \
  pairs2.toml > ka_pairs.toml
awk '/^Bonds/ {b = 1} b && $1 == 1 {$4 = 4} b && $1 == 2 {$4 = 2} {print}' flipped.data > rebonded.data
echo "glass.h5 rebonded.data" > rebonded.txt
sed 's/pairs.txt/rebonded.txt/; s/pairs2.h5/refused.h5/' pairs2.toml > rebonded.toml
for case in "ka_pairs.toml|has bonds, which system.model = \"kob-andersen\" does not have" \
            "rebonded.toml|rebonded.data: bead 1 has bond partner 4, in glass.h5 2"; do
  toml=${case%%|*} message=${case#*|}
  if timeout 60 "$MPIEXEC" -n 2 "$TLSMAP" pairs "$toml" > refused.txt 2> refused.err; then echo "FAIL: $toml accepted"; exit 1; fi
  grep -qF "$message" refused.err && [[ $(grep -c "tlsmap: error" refused.err) -eq 1 && ! -e refused.h5 ]] ||
    { echo "FAIL: $toml: expected one error with: $message"; cat refused.err; exit 1; }
done

# ---- md-pairs: one quench with the charges acting ---------------------------------------------------
for np in 1 2 4; do
  cp glass.h5 md$np.h5
  sed "s/glass.h5/md$np.h5/; s/^dt = 0.002/dt = 0.002\nthermostat = \"langevin\"\nfriction = 1.0/; s/f_tol = 1e-6/f_tol = 1e-4/
       s/^\[search\]/[search]\nmethod = \"md-pairs\"\nmd_temperature = 0.05\nmd_steps = 10\nquench_every = 10\nreplicas = 1/" \
    pack.toml > md$np.toml
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" search md$np.toml > md$np.txt ||
    { echo "FAIL: md-pairs at $np ranks"; cat md$np.txt; exit 1; }
done
cat md2.txt
PYTHONPATH="$SRC/tests/tools" /usr/bin/python3 - <<'PY'
import h5py, numpy as np
import polar_energy
x, sp, q, L, bonds = polar_energy.read_last_frame("glass.h5")
e, ewald = polar_energy.energy(x, sp, q, L, bonds)
eq = {}
for n in (1, 2, 4):
    s = h5py.File(f"md{n}.h5", "r")["search"]
    assert s.attrs["n_structures"] == 1 and s["quench_converged"][()].tolist() == [1], n
    eq[n] = s["quench_energy"][0]
    print(f"{n} ranks: quench energy {eq[n]:.8f}, the glass (numpy) {e:.8f}, its Ewald sum {ewald:.3f}")
    assert abs(eq[n] - e) <= 1e-3, (n, eq[n], e)
assert max(eq.values()) - min(eq.values()) <= 1e-6, eq
PY
echo "polar search, pairs and md-pairs: rows, energies and dipoles check out"
