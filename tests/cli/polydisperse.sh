#!/usr/bin/env bash
# Polydisperse soft spheres through the executable (docs/input.md, "The polydisperse soft-sphere model"):
#  1. an independent numpy evaluation, written here from the model's definition, of a random
#     configuration made here (343 beads on a jittered lattice at density 1, diameters drawn from
#     P(σ) ∝ σ⁻³, a LAMMPS data file with the diameters in the charge column) agrees with
#     `tlsmap energy --model polydisperse-soft-sphere --json`: energy and pressure to 1e-12 relative,
#     forces to 1e-10 of the largest component;
#  2. energy, pressure, max|F| and every force identical at 1, 2 and 4 ranks;
#  3. `tlsmap pack` of 500 beads with swap Monte Carlo (T_f = 0.2) at 1, 2 and 4 ranks: minimised to
#     max|F| <= 1e-10, /particles/all/diameter a permutation of the quantiles σ(k/N) of the law on
#     [0.73, 1.62] (1e-14) that swaps have moved (> 250 of 500 beads), acceptance in (0.05, 0.9),
#     /pack/decorrelation with C_σ < 0.99 at the end; positions, diameters, decorrelation and /pack
#     averages identical bit for bit at 1, 2 and 4 ranks; `tlsmap energy` of the file (model found from
#     its diameters) and of its LAMMPS export reproduce /pack e_is_per_bead to 1e-13;
#  4. `[pack] from` that export (diameters in the charge column) keeps the diameters;
#  5. the pipeline on the swap glass at 1, 2 and 4 ranks (charge, search, dipole, interact): bonds carry
#     ±q whatever the two diameters; packing, charges and catalogue identical bit for bit, dipoles,
#     J_el, J_mech and the elastic constants to solver tolerance; every row's two states, rebuilt from
#     /particles/all and its mobile beads, have energy_a and energy_b by a numpy soft-sphere energy
#     (1e-12); `tlsmap run` from scratch and the report complete (`tlsmap pairs`: test_polydisperse,
#     docs/stability.md).
source "$(dirname "$0")/common.bash"

# 1. A configuration and its energy, forces and pressure, by numpy.
/usr/bin/python3 - <<'PY'
import json, numpy as np
rng = np.random.default_rng(20240515)
n_side, L = 7, 7.0
s_min, s_max = 0.73, 1.62                               # Ninarello et al. 2017
u = rng.random(n_side**3)
d = 1 / np.sqrt(s_min**-2 - u * (s_min**-2 - s_max**-2))  # inverse CDF of P ∝ σ^-3
g = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3)
x = -L / 2 + (g + 0.5 + 0.3 * (rng.random(g.shape) - 0.5)) * (L / n_side)
with open("config.data", "w") as f:
    f.write("random polydisperse soft spheres; charge column = diameter\n\n")
    f.write(f"{len(d)} atoms\n1 atom types\n\n")
    for a in "xyz":
        f.write(f"{-L / 2!r} {L / 2!r} {a}lo {a}hi\n")
    f.write("\nMasses\n\n1 1.0\n\nAtoms # charge\n\n")
    for i, (di, xi) in enumerate(zip(d, x)):
        f.write(f"{i + 1} 1 {di!r} {xi[0]!r} {xi[1]!r} {xi[2]!r} 0 0 0\n")
# every pair i < j, minimum image
r = x[:, None, :] - x[None, :, :]
r -= L * np.round(r / L)
r2 = (r**2).sum(-1)
np.fill_diagonal(r2, np.inf)  # no self term
sig = 0.5 * (d[:, None] + d[None, :]) * (1 - 0.2 * np.abs(d[:, None] - d[None, :]))
y2 = r2 / sig**2
inside = y2 < 1.25**2
c0, c2, c4 = -28 / 1.25**12, 48 / 1.25**14, -21 / 1.25**16
v = np.where(inside, y2**-6 + c0 + c2 * y2 + c4 * y2**2, 0.0)
f_over_r = np.where(inside, (12 * y2**-7 - 2 * c2 - 4 * c4 * y2) / sig**2, 0.0)  # −v'(r)/r
energy = 0.5 * v.sum()
forces = (f_over_r[:, :, None] * r).sum(1)
pressure = 0.5 * (f_over_r * np.where(inside, r2, 0.0)).sum() / (3 * L**3)
json.dump({"energy": energy, "pressure": pressure, "forces": forces.tolist(), "mean_d": d.mean()},
          open("numpy.json", "w"))
print(f"ok   numpy: {len(d)} beads, e = {energy / len(d):.12f} per bead, P = {pressure:.10f}, "
      f"{int(inside.sum()) // 2} pairs inside the cutoff")
PY

# 2. tlsmap at 1, 2, 4 ranks.
for np_ in 1 2 4; do
  timeout 120 "$MPIEXEC" -n $np_ "$TLSMAP" energy config.data --model polydisperse-soft-sphere --json \
    --forces f$np_.txt > e$np_.json
done
/usr/bin/python3 - <<'PY'
import json, numpy as np
ref = json.load(open("numpy.json"))
runs = {n: json.load(open(f"e{n}.json")) for n in (1, 2, 4)}
forces = {n: np.loadtxt(f"f{n}.txt") for n in (1, 2, 4)}
a = runs[1]
assert a["model"] == "polydisperse-soft-sphere" and a["n_beads"] == 343 and a["coulomb"] == 0, a
assert a["pair"] == a["lj"] == a["total"]
rel = abs(a["total"] - ref["energy"]) / abs(ref["energy"])
assert rel <= 1e-12, ("energy", a["total"], ref["energy"], rel)
rel_p = abs(a["pressure"] - ref["pressure"]) / abs(ref["pressure"])
assert rel_p <= 1e-12, ("pressure", a["pressure"], ref["pressure"], rel_p)
f_ref = np.array(ref["forces"])
err_f = np.abs(forces[1][:, 1:] - f_ref).max() / np.abs(f_ref).max()
assert list(forces[1][:, 0]) == list(range(1, 344)) and err_f <= 1e-10, err_f
for n in (2, 4):
    for k in ("total", "pressure", "max_force"):
        assert runs[n][k] == a[k], (n, k, runs[n][k], a[k])
    assert np.array_equal(forces[n], forces[1]), f"forces differ between 1 and {n} ranks"
print(f"ok   energy vs numpy: {rel:.1e} (energy), {rel_p:.1e} (pressure), {err_f:.1e} (forces, of max); "
      "identical at 1, 2, 4 ranks")
PY

# 3. A small packing with swap Monte Carlo at 1, 2 and 4 ranks.
for np_ in 1 2 4; do
  { glass_input np$np_.h5 5 500 300 'model = "polydisperse-soft-sphere"
density = 1.0'; printf 'swap = true\nswap_every = 10\nt_final = 0.2\nquench = "instant"\n'; } > pack$np_.toml
  timeout 300 "$MPIEXEC" -n $np_ "$TLSMAP" pack pack$np_.toml > pack$np_.log || { cat pack$np_.log; exit 1; }
done
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" energy np1.h5 --json --lammps export.data > h5.json
timeout 120 "$MPIEXEC" -n 1 "$TLSMAP" energy export.data --model polydisperse-soft-sphere --json > export.json
/usr/bin/python3 - <<'PY'
import h5py, json, numpy as np
s_min, s_max = 0.73, 1.62
f, g, h = (h5py.File(f"np{n}.h5", "r") for n in (1, 2, 4))
d = f["particles/all/diameter/value"]
assert d.shape == (1, 500), d.shape
d = d[0]
# The pack's diameters are the quantiles σ(k/N) of P ∝ σ^-3 on [0.73, 1.62] (inverse CDF)...
a, b = s_min**-2, s_max**-2
quantiles = 1 / np.sqrt(a - np.arange(500) / 500 * (a - b))
assert np.allclose(np.sort(d), quantiles, rtol=1e-14, atol=0), np.abs(np.sort(d) - quantiles).max()
# ... which swap Monte Carlo has exchanged between beads (bead id k started with quantile k-1).
moved = np.count_nonzero(d != quantiles)
assert moved > 250, moved
p = f["pack"].attrs
assert p["swap"] == 1 and p["swap_every"] == 10 and p["t_f"] == 0.2, dict(p)
assert 0.05 < p["swap_acceptance"] < 0.9, p["swap_acceptance"]
dec = f["pack/decorrelation"][()]
assert dec.shape[1] == 4 and dec.shape[0] >= 10, dec.shape
assert dec[-1, 0] == 150 and f["pack/decorrelation"].attrs["window_start_step"] == 450 and dec[-1, 3] < 0.99 and 0 < dec[-1, 1], dec[-1]   # diameters decorrelating
assert p["max_force"] <= 1e-10, p["max_force"]
assert p["model"] in (b"polydisperse-soft-sphere", "polydisperse-soft-sphere")
for other in (g, h):
    for name in ("position", "image", "diameter"):
        assert np.array_equal(f[f"particles/all/{name}/value"][()], other[f"particles/all/{name}/value"][()]), name
    assert np.array_equal(dec, other["pack/decorrelation"][()])
    for k in ("swap_acceptance", "e_pot_t_f", "pressure_t_f", "e_is_per_bead"):
        assert p[k] == other["pack"].attrs[k], k
print(f"ok   swap pack: acceptance {p['swap_acceptance']:.4f}, {moved} of 500 beads changed diameter, C_sigma(150 steps) "
      f"= {dec[-1, 3]:.3f}; identical at 1, 2 and 4 ranks")
e_is = f["pack"].attrs["e_is_per_bead"]
assert e_is == g["pack"].attrs["e_is_per_bead"]
h5, ex = json.load(open("h5.json")), json.load(open("export.json"))
assert h5["model"] == "polydisperse-soft-sphere", h5["model"]
for r in (h5, ex):
    assert abs(r["per_bead"] - e_is) <= 1e-13 * abs(e_is), (r["per_bead"], e_is)
    assert r["max_force"] <= 1e-10, r["max_force"]
assert ex["total"] == h5["total"]
print(f"ok   pack: e_IS = {e_is:.10f} per bead, max|F| = {f['pack'].attrs['max_force']:.1e}, identical at 1, 2 and 4 "
      f"ranks; diameters in [{d.min():.4f}, {d.max():.4f}], mean {d.mean():.4f}")
PY

# 4. [pack] from the export: the charge column is read as the diameters.
glass_input from.h5 5 500 0 'model = "polydisperse-soft-sphere"' > from.toml
printf 'from = "export.data"\n' >> from.toml
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" pack from.toml > from.log || { cat from.log; exit 1; }
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
a, b = h5py.File("np1.h5", "r"), h5py.File("from.h5", "r")
assert np.array_equal(a["particles/all/diameter/value"][()], b["particles/all/diameter/value"][()])
assert np.all(b["particles/all/charge/value"][()] == 0)
print("ok   pack from LAMMPS data: diameters from the charge column, charges 0")
PY

# 5. The pipeline on the swap glass: charge, search, dipole, interact at 1, 2 and 4 ranks (each on its
#    own copy of np1.h5), `tlsmap run` from scratch, and the report.
fail=0
for np_ in 1 2 4; do
  cp np1.h5 pipe$np_.h5
  cat > pipe$np_.toml <<T
[run]
output = "pipe$np_.h5"
seed = 5
[system]
model = "polydisperse-soft-sphere"
n_beads = 500
density = 1.0
[charge]
zeta = 0.1
[search]
xi = 3.0
max_domains = 2
max_attempts = 3
stop_after_stale = 3
neb_images = 6
[dipole]
spacing = 0.4
convergence_tls = 0
T
  for stage in charge search dipole interact; do
    timeout 300 "$MPIEXEC" -n $np_ "$TLSMAP" $stage pipe$np_.toml > $stage$np_.log 2>&1 ||
      { echo "FAIL $stage at $np_ ranks"; cat $stage$np_.log; exit 1; }
  done
done
{ glass_input run.h5 5 500 300 'model = "polydisperse-soft-sphere"
density = 1.0'; sed -n '/^\[charge\]/,$p' pipe1.toml; } > run.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" run run.toml > run.log 2>&1 || { echo "FAIL tlsmap run"; cat run.log; exit 1; }
grep -q "\[interact\] updated run.h5" run.log
/usr/bin/python3 "$SRC/postprocess/tlsmap-report" report pipe1.h5 run.h5 > report.log 2>&1 ||
  { echo "FAIL report"; cat report.log; exit 1; }
grep -q "wrote report/report.md" report.log
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = {n: h5py.File(f"pipe{n}.h5", "r") for n in (1, 2, 4)}
ref = h5py.File("np1.h5", "r")
a = f[1]
x0, d = a["particles/all/position/value"][0], a["particles/all/diameter/value"][0]
L = a["particles/all/box/edges/value"][0]
assert np.array_equal(d, ref["particles/all/diameter/value"][0]) and np.array_equal(x0, ref["particles/all/position/value"][0])
# Charges: +-q on each bond, whatever the two diameters; 0 elsewhere; neutral.
q, bonds = a["particles/all/charge/value"][0], a["charge/bonds"][()]
qb = q[bonds - 1]
assert np.all(qb[:, 0] == -qb[:, 1]) and np.all(np.abs(qb) == abs(qb[0, 0])) and q.sum() == 0, qb[:5]
t = a["tls"]
n = t["energy_a"].shape[0]
assert n >= 1, "no rows in 2 domains: pick another seed"
s = lambda v: [x.decode() if isinstance(x, bytes) else x for x in v]
assert set(s(t["class"][()])) <= {"tls", "double_well", "single_well"}
# The packing, charges and catalogue identical at 1, 2, 4 ranks; dipoles, couplings, material to
# solver tolerance (the grid and Hessian solves' partitions differ).
solver = {"mu_eq13", "mu_eq13_debye", "mu_eq13_uncorrected", "mu_ratio", "dipole_convergence", "mu_eq13_radius",
          "gamma", "gamma_l", "gamma_t"}
for m in (2, 4):
    for grp in ("particles/all/position/value", "particles/all/charge/value", "particles/all/diameter/value", "charge/bonds"):
        assert np.array_equal(a[grp][()], f[m][grp][()]), (m, grp)
    for k, v in t.items():
        x, y = v[()], f[m]["tls"][k][()]
        if k in solver:
            assert np.allclose(x, y, rtol=1e-6, atol=1e-9, equal_nan=True), (m, k)
        else:
            assert x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), (m, k)
    for k in ("j_el", "j_mech"):
        x, y = a["interactions"][k][()], f[m]["interactions"][k][()]
        assert np.allclose(x, y, rtol=1e-5, atol=1e-9 * np.abs(x).max()), (m, k)
    for k in ("bulk_modulus", "shear_modulus"):
        assert abs(a["material"].attrs[k] - f[m]["material"].attrs[k]) <= 1e-7 * abs(a["material"].attrs[k]), (m, k)
# Each row's states rebuilt from /particles/all plus its mobile beads: the soft-sphere energy written
# here from the definition gives energy_a and energy_b to 1e-12 relative; mu_direct = sum q d.
def energy(x):
    r = x[:, None, :] - x[None, :, :]
    r -= L * np.round(r / L)
    r2 = (r**2).sum(-1)
    np.fill_diagonal(r2, np.inf)
    sig = 0.5 * (d[:, None] + d[None, :]) * (1 - 0.2 * np.abs(d[:, None] - d[None, :]))
    y2 = r2 / sig**2
    c0, c2, c4 = -28 / 1.25**12, 48 / 1.25**14, -21 / 1.25**16
    with np.errstate(invalid="ignore"):
        return 0.5 * np.where(y2 < 1.25**2, y2**-6 + c0 + c2 * y2 + c4 * y2**2, 0.0).sum()
off, ids = t["mobile_offset"][()], t["mobile_id"][()]
for k in range(n):
    sl = slice(off[k], off[k + 1])
    xa, xb = x0.copy(), x0.copy()
    xa[ids[sl] - 1], xb[ids[sl] - 1] = t["position_a"][sl], t["position_b"][sl]
    for x, e in ((xa, t["energy_a"][k]), (xb, t["energy_b"][k])):
        assert abs(energy(x) - e) <= 1e-12 * abs(e), (k, energy(x), e)
    dd = t["position_b"][sl] - t["position_a"][sl]
    dd -= L * np.round(dd / L)
    assert np.allclose((q[ids[sl] - 1][:, None] * dd).sum(0), t["mu_direct"][k], rtol=0, atol=1e-12)
assert np.all(np.isfinite(t["mu_eq13"][()])) and np.all(np.isfinite(a["interactions/j_mech"][()]))
gam = t["gamma"][()]  # deformation potentials (interact, held): symmetric, finite; the averages' closed forms
assert gam.shape == (n, 3, 3) and np.all(np.isfinite(gam)) and np.array_equal(gam, gam.transpose(0, 2, 1))
tr, tr2 = np.trace(gam, axis1=1, axis2=2), np.einsum("kab,kba->k", gam, gam)
assert np.allclose(t["gamma_l"][()], np.sqrt((2 * tr2 + tr**2) / 15), rtol=1e-12)
assert np.allclose(t["gamma_t"][()], np.sqrt((3 * tr2 - tr**2) / 30), rtol=1e-12)
for k in ("el", "dd", "mech"):  # the sigma^z sigma^z convention: a quarter of the four-state J, exactly
    assert np.array_equal(a[f"interactions/j_{k}_zz"][()], a[f"interactions/j_{k}"][()] / 4, equal_nan=True), k
mat = a["material"].attrs
assert 0 < mat["shear_modulus"] < mat["bulk_modulus"], dict(mat)
r = h5py.File("run.h5", "r")
assert r["tls/energy_a"].shape[0] >= 1 and "interactions" in r and "material" in r
print(f"ok   pipeline on the swap glass: {n} rows ({s(t['class'][()])}), identical at 1, 2, 4 ranks; row energies "
      f"= numpy soft spheres to 1e-12; K = {mat['bulk_modulus']:.4f}, G = {mat['shear_modulus']:.4f}; "
      f"`tlsmap run` from scratch: {r['tls/energy_a'].shape[0]} rows; report written")
PY

/usr/bin/python3 - <<'PY'  # the export without its charge column
lines, body = open("export.data").read().split("\n"), False
out = []
for l in lines:
    w = l.split()
    if l.startswith("Atoms"):
        body, l = True, "Atoms # atomic"
    elif body and len(w) == 9:
        l = " ".join(w[:2] + w[3:])
    out.append(l)
open("atomic.data", "w").write("\n".join(out))
PY
if timeout 60 "$MPIEXEC" -n 2 "$TLSMAP" energy atomic.data --model polydisperse-soft-sphere > out.txt 2> err.txt ||
   ! grep -qF "has no charge column" err.txt; then
  echo "FAIL energy of an atomic-style file with the polydisperse model"; cat out.txt err.txt; fail=1
else echo "ok   atomic style refused: $(grep 'tlsmap: error' err.txt)"; fi
exit $fail
