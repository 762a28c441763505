#!/usr/bin/env bash
# `tlsmap pack` of polar dimers with active charges (system.model = "polar-dimers",
# charge.mode = "active") at 1, 2 and 4 ranks, checked from the file alone (h5py/numpy):
#  * /particles/all/bonds: 200 rows (2m−1, 2m), every bead once; species 0 carries +q, 1 carries −q;
#  * molecules whole in unwrapped coordinates (position + image · L): bond lengths within 0.1 of r0;
#  * /pack e_is_per_bead equals an independent energy of the written configuration: truncated-shifted
#    LJ over non-bonded pairs + harmonic bonds + a plain Ewald sum (numpy, converged to 1e-9) minus the
#    bonded pairs' q²/r, to 1e-5 of the Coulomb energy scale (the split's accuracy);
#  * the three rank counts make glasses of the same preparation: e_IS within 0.1 per bead (not the same
#    glass: the mesh sums differ in their last bits between rank counts, and MD is chaotic);
#  * /material (np1 only): the Coulomb share of the stiffness measured with the charges acting; its
#    coulomb_energy equals numpy's Ewald minus the bonded pairs to 1e-5 of the whole Ewald sum,
#    stress check ≤ 1e-5, its block against the Hessian route with the charges acting (the path
#    check) ≤ 1e-3, K, G > 0; its Born shares (the affine path) equal numpy's (polar_energy.born_moduli,
#    its own energies of the affinely strained glass) to 2 % of the Coulomb moduli's scale
#    (4/9)|E_c|/V over the total modulus;
#  * the peer: LAMMPS (lj/cut/coul/long, bond harmonic, Ewald 1e-10) gives the same e_IS of the np2
#    glass to 3e-7 per bead (1e-5 of its |Ewald energy| ≈ 0.03 per bead);
#  * the peer away from a minimum: the np2 glass with every bead moved by up to 0.05 σ, as LAMMPS
#    data; `tlsmap energy --model polar-dimers` (P3M at 1e-7) against LAMMPS (Ewald 1e-10): the
#    energy to 1e-7 of the whole Ewald sum (bonded pairs included), the forces to 1e-6 of their RMS;
#  * [pack] from the packed file reads its bonds back and gives the same e_IS (1e-9); a bonds table
#    with a bead bonded to itself is refused naming the row;
#  * refusals, one message each, no file left: polar-dimers with passive charges, active charges on
#    another model, an odd bead count, charge on a polar-dimer file, search on a sample
#    smaller than the local model's Coulomb reach.
source "$(dirname "$0")/common.bash"
input() {  # input <output> [model] [mode] [n]
  cat <<T
[run]
output = "$1"
seed = 5
log_every = 1000
[system]
model = "${2:-polar-dimers}"
n_beads = ${4:-400}
density = 1.0
[charge]
mode = "${3:-active}"
zeta = 0.01
[pack]
t_parent = 2.0
t_final = 1.0
equil_steps = 300
quench_steps = 300
[md]
dt = 0.002
T
}
for np in 1 2 4; do
  input np$np.h5 > in$np.toml
  # The Coulomb share of the stiffness (13 relaxations) at 1 rank only; test_coulomb_stiffness runs it
  # at 1, 2 and 4.
  [[ $np == 1 ]] || sed -i 's/^\[pack\]$/[pack]\ncoulomb_share_strain = 0/' in$np.toml
  timeout 600 "$MPIEXEC" -n $np "$TLSMAP" pack in$np.toml > pack$np.txt || { echo "FAIL: pack at $np ranks"; cat pack$np.txt; exit 1; }
  grep -q "active charges" pack$np.txt
done
cat pack2.txt

PYTHONPATH="$SRC/tests/tools" /usr/bin/python3 - <<'PY'
import h5py, numpy as np
import polar_energy

def energy(path):
    f = h5py.File(path, "r")
    a = f["particles/all"]
    x, sp, q, L, bonds = polar_energy.read_last_frame(path)
    ids = a["id/value"][-1]; img = a["image/value"][-1][np.argsort(ids)]; n = len(x)
    assert bonds.shape == (n // 2, 2), bonds.shape
    assert (bonds[:, 0] == np.arange(1, n, 2)).all() and (bonds[:, 1] == np.arange(2, n + 1, 2)).all()
    assert (sp[0::2] == 0).all() and (sp[1::2] == 1).all()
    qa = q[0]
    assert qa > 0 and np.allclose(q[0::2], qa, rtol=0, atol=1e-15) and np.allclose(q[1::2], -qa, rtol=0, atol=1e-15)
    u = x + img * L
    r_b = np.linalg.norm(u[0::2] - u[1::2], axis=1)
    assert np.abs(r_b - polar_energy.R0).max() < 0.1, np.abs(r_b - polar_energy.R0).max()
    total, e_ewald = polar_energy.energy(x, sp, q, L, bonds)
    return total / n, e_ewald / n, f["pack"].attrs["e_is_per_bead"], n, np.abs(r_b - polar_energy.R0).max()

vals = []
for npr in (1, 2, 4):
    ref, coul_scale, got, n, dev = energy(f"np{npr}.h5")
    print(f"np {npr}: e_IS {got:.10f}, independent {ref:.10f} (Ewald {coul_scale:.6f} per bead), "
          f"diff {got - ref:.2e}; max |r_bond - r0| {dev:.3f}")
    assert abs(got - ref) <= 1e-5 * abs(coul_scale) + 1e-9, (got, ref)
    vals.append(got)
# Not the same glass: the mesh sums differ in their last bits between rank counts and MD is chaotic
# (docs/polar.md); the same preparation, so the same energy to well within its glass-to-glass spread.
assert max(vals) - min(vals) <= 0.1, vals
print("polar-dimer packs: bonds, charges and energies check out")

# /material: the Coulomb share of the stiffness (np1 only). Its reference state is the glass
# re-relaxed with the split at 1e-7, so its Coulomb energy equals numpy's Ewald minus the bonded
# pairs of the stored glass (minimised at 1e-5) to 1e-5 of the whole Ewald sum; no plastic event (stress check); a stable glass.
for npr in (2, 4):
    assert "material" not in h5py.File(f"np{npr}.h5", "r"), npr
m = h5py.File("np1.h5", "r")["material"].attrs
x, sp, q, L, bonds = polar_energy.read_last_frame("np1.h5")
_, e_ewald = polar_energy.energy(x, sp, q, L, bonds)
bi, bj = bonds[:, 0] - 1, bonds[:, 1] - 1
d = x[bi] - x[bj]; d -= L * np.round(d / L)
e_c = e_ewald - (q[bi] * q[bj] / np.linalg.norm(d, axis=1)).sum()
k = m["bulk_modulus_pair_path"] + m["bulk_modulus_coulomb"]
g = m["shear_modulus_pair_path"] + m["shear_modulus_coulomb"]
print(f"np1 /material: coulomb_share {m['coulomb_share']:.4g}, E_c {m['coulomb_energy']:.8f} (numpy {e_c:.8f}), "
      f"K {k:.4g}, G {g:.4g}, stress check {m['coulomb_stress_check']:.2g}, path check {m['coulomb_path_check']:.2g}")
# The scale: the glass was minimised with the split at 1e-5, relative to the whole Ewald sum.
assert abs(m["coulomb_energy"] - e_c) <= 1e-5 * abs(e_ewald), (m["coulomb_energy"], e_c, e_ewald)
assert m["coulomb_stress_check"] <= 1e-5
assert m["coulomb_path_check"] <= 1e-3, m["coulomb_path_check"]
assert k > 0 and g > 0 and np.isfinite(m["coulomb_share"]) and abs(m["coulomb_share"]) < 1
# The Born shares (the affine path, no relaxation) against numpy's Born moduli of the stored glass
# (polar_energy.born_moduli: its own energies at the twelve affine strains). The stored glass and the
# re-relaxed reference differ by the 1e-5 vs 1e-7 split. The Coulomb Born moduli are sums of terms
# that cancel to ~1e-6 of the total here, so that small move shifts them by a fraction of their
# natural scale (4/9)|E_c|/V (K^c_uniform's closed form), not of the cancelled net: measured 0.6 %
# (K^c), 1.0 % (G^c) and 0.5 % (the sound combination, (K + 10G/3)/3) of that scale, the same at
# strain steps 1e-5 and 1.1e-5 (not round-off), while the shares themselves then differ by 0.6, 1.8
# and 2.5 %. Asserted: each Coulomb modulus to 2 % of the scale, i.e. each share to 2 % of the scale
# over the total modulus. A wrong factor in the Coulomb Born terms misses by ~100 % of the scale.
born = polar_energy.born_moduli(x, sp, q, L, bonds)
(_, _, kp, gp), (_, _, kc, gc) = born["pair"], born["coulomb"]
snd = lambda K, G: (K + 10 * G / 3) / 3
scale = 4.0 / 9.0 * abs(born["E_c"]) / L.prod()
ref = {"coulomb_share_affine_bulk": (kc / (kc + kp), scale / (kc + kp)),
       "coulomb_share_affine_shear": (gc / (gc + gp), scale / (gc + gp)),
       "coulomb_share_affine": (snd(kc, gc) / (snd(kc, gc) + snd(kp, gp)), snd(scale, scale) / (snd(kc, gc) + snd(kp, gp)))}
print("np1 Born shares: " + ", ".join(f"{n} {m[n]:.6g} (numpy {v:.6g}, off by {abs(m[n] - v) / w:.2%} of the scale)"
                                      for n, (v, w) in ref.items()) +
      f"; numpy K^c {kc:.6g} G^c {gc:.6g} K^pair {kp:.6g} G^pair {gp:.6g}, (4/9)|E_c|/V {scale:.6g}")
for n, (v, w) in ref.items():
    assert abs(m[n] - v) <= 0.02 * w, (n, m[n], v, w)
PY

# The peer: LAMMPS's energy of the np2 glass (lj/cut/coul/long with the model's per-pair cutoffs and
# shift, bond harmonic with K = k/2, special_bonds 0 0 0 (its default), Ewald at 1e-10), from a data
# file this script writes from the HDF5 file; it must equal /pack e_is_per_bead to 1e-5 of the
# Ewald energy per bead, as the numpy sum above.
if command -v "${TLSMAP_LMP:-lmp}" > /dev/null; then
  /usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = h5py.File("np2.h5", "r"); a = f["particles/all"]
ids = a["id/value"][-1]; o = np.argsort(ids)
x = a["position/value"][-1][o]; img = a["image/value"][-1][o]; sp = a["species/value"][-1][o]
q = a["charge/value"][-1][o]; lo = a["box/offset"][()]; L = a["box/edges/value"][-1]; bonds = a["bonds"][()]
n = len(x)
with open("np2.data", "w") as out:
    out.write(f"polar dimers\n\n{n} atoms\n2 atom types\n{len(bonds)} bonds\n1 bond types\n")
    for d, ax in enumerate("xyz"):
        out.write(f"{lo[d]!r} {lo[d] + L[d]!r} {ax}lo {ax}hi\n")
    out.write("\nMasses\n\n1 1.0\n2 1.0\n\nAtoms # full\n\n")
    for k in range(n):
        out.write(f"{k + 1} {k // 2 + 1} {sp[k] + 1} {q[k]!r} {x[k, 0]!r} {x[k, 1]!r} {x[k, 2]!r} {img[k, 0]} {img[k, 1]} {img[k, 2]}\n")
    out.write("\nBonds\n\n")
    for k, (i, j) in enumerate(bonds):
        out.write(f"{k + 1} 1 {i} {j}\n")
with open("pe.in", "w") as out:
    out.write("units lj\natom_style full\nbond_style harmonic\nread_data np2.data\nbond_coeff 1 1000.0 0.8\n"
              "pair_style lj/cut/coul/long 2.5 3.0\npair_coeff 1 1 1.0 1.0 2.5\npair_coeff 1 2 1.0 0.95 2.375\n"
              "pair_coeff 2 2 1.0 0.9 2.25\npair_modify shift yes\nkspace_style ewald 1e-10\n"
              "thermo_style custom step pe\nthermo_modify format float %.12f norm no\nrun 0\n")
PY
  env -i PATH=/usr/bin:/bin HOME=/tmp OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    timeout 120 "${TLSMAP_LMP:-lmp}" -in pe.in -log pe.log > /dev/null 2>&1 || { echo "FAIL: lmp"; cat pe.log; exit 1; }
  /usr/bin/python3 - <<'PY'
import h5py
lines = open("pe.log").read().splitlines()
i = next(k for k, l in enumerate(lines) if l.split()[:2] == ["Step", "PotEng"])
pe = float(lines[i + 1].split()[1])
f = h5py.File("np2.h5", "r"); n = len(f["particles/all/id/value"][-1])
ours = f["pack"].attrs["e_is_per_bead"]
print(f"LAMMPS: {pe / n:.10f} per bead, tlsmap e_IS {ours:.10f}, diff {ours - pe / n:.2e}")
assert abs(ours - pe / n) <= 1e-5 * 0.03 + 1e-9, (ours, pe / n)
PY
  # Energy and forces away from a minimum: the np2 glass with every bead moved by up to 0.05 σ
  # (seeded), as a LAMMPS data file; `tlsmap energy` (P3M at 1e-7) against LAMMPS (Ewald 1e-10).
  /usr/bin/python3 - <<'PY'
import numpy as np
lines = open("np2.data").read().splitlines()
a = lines.index("Atoms # full") + 2
rng = np.random.default_rng(7)
out = lines[:a]
k = a
while k < len(lines) and lines[k].strip():
    w = lines[k].split()
    x = np.array([float(v) for v in w[4:7]]) + rng.uniform(-0.05, 0.05, 3)
    out.append(" ".join(w[:4] + [repr(v) for v in x] + w[7:]))
    k += 1
open("pert.data", "w").write("\n".join(out + lines[k:]) + "\n")
open("pert.in", "w").write(open("pe.in").read().replace("np2.data", "pert.data").replace(
    "run 0", "dump f all custom 1 pert.forces id fx fy fz\ndump_modify f sort id format float %.15g\nrun 0").replace(
    "thermo_style custom step pe", "compute pv all pressure NULL virial\n"
    "thermo_style custom step pe c_pv[1] c_pv[2] c_pv[3] c_pv[4] c_pv[5] c_pv[6] vol"))
PY
  env -i PATH=/usr/bin:/bin HOME=/tmp OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    timeout 120 "${TLSMAP_LMP:-lmp}" -in pert.in -log pert.log > /dev/null 2>&1 || { echo "FAIL: lmp"; cat pert.log; exit 1; }
  timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" energy pert.data --model polar-dimers --accuracy 1e-7 --json \
    --forces ours.forces > energy.json || { echo "FAIL: tlsmap energy"; exit 1; }
  /usr/bin/python3 - <<'PY'
import json
import numpy as np
lines = open("pert.log").read().splitlines()
i = next(k for k, l in enumerate(lines) if l.split()[:2] == ["Step", "PotEng"])
pe = float(lines[i + 1].split()[1])
ours = json.load(open("energy.json"))
d = open("pert.forces").read().splitlines()
theirs = np.array([[float(v) for v in l.split()] for l in d[d.index("ITEM: ATOMS id fx fy fz") + 1:]])
mine = np.loadtxt("ours.forces", comments="#")
assert (theirs[:, 0] == mine[:, 0]).all()
err = np.sqrt(((theirs[:, 1:] - mine[:, 1:]) ** 2).sum(1).mean())
scale = np.sqrt((theirs[:, 1:] ** 2).sum(1).mean())
print(f"perturbed glass: energy {ours['total']:.10f} (LAMMPS {pe:.10f}, diff {ours['total'] - pe:.2e}); "
      f"RMS force diff {err:.2e} of RMS |F| {scale:.3g}; bonds {ours['bond']:.6f}, "
      f"bonded exclusion {ours['coulomb_bonded_exclusion']:.6f}")
# The split's scale: the whole Ewald sum, bonded pairs included (as test_bonds), times its accuracy.
ewald = abs(ours["coulomb"] - ours["coulomb_bonded_exclusion"])
print(f"energy tolerance 1e-7 x |Ewald sum| = {1e-7 * ewald:.2e}")
assert abs(ours["total"] - pe) <= 1e-7 * ewald, (ours["total"], pe)
assert err <= 1e-6 * scale, (err, scale)
# The virial tensor (xx yy zz xy xz yz of sum r_a f_b: LJ, bonds and the charges' whole tensor)
# against LAMMPS's virial pressure times the volume (Ewald's reciprocal tensor, pair and bond
# virials). Scale: the trace of the charges' part is their energy, so |Ewald sum| again.
row = [float(v) for v in lines[i + 1].split()]
theirs_w = np.array(row[2:8]) * row[8]
w = np.array(ours["virial"])
print(f"virial {np.array2string(w, precision=6)}; LAMMPS {np.array2string(theirs_w, precision=6)}; "
      f"max diff {np.max(np.abs(w - theirs_w)):.2e} (tolerance 1e-6 x |Ewald sum| = {1e-6 * ewald:.2e})")
assert np.max(np.abs(w - theirs_w)) <= 1e-6 * ewald, (w, theirs_w)
PY
elif [[ ${TLSMAP_REQUIRE_PEERS:-0} == 1 ]]; then
  echo "FAIL: ${TLSMAP_LMP:-lmp} not found and TLSMAP_REQUIRE_PEERS=1"; exit 1
else
  echo "SKIP LAMMPS cross-check: no ${TLSMAP_LMP:-lmp}"
fi

# Refusals: one clear message, exit 1, no file.
fail_with() {  # fail_with <np> <text> <args...>
  local np=$1 text=$2; shift 2
  if timeout 120 "$MPIEXEC" -n "$np" "$TLSMAP" "$@" > out.txt 2> err.txt; then echo "FAIL: $* succeeded"; exit 1; fi
  grep -qF -- "$text" err.txt || { echo "FAIL: no '$text'"; cat err.txt; exit 1; }
  [[ $(grep -c "tlsmap: error" err.txt) -eq 1 ]] || { echo "FAIL: not one error line"; cat err.txt; exit 1; }
  echo "ok   refused: $text"
}
input bad1.h5 polar-dimers passive > passive.toml
fail_with 2 'set charge.mode = "active"' pack passive.toml
input bad2.h5 kob-andersen active > ka_active.toml
fail_with 2 'active charges need a model' pack ka_active.toml
fail_with 2 'the charge stage gives a finished glass passive charges' charge ka_active.toml
input bad3.h5 polar-dimers active 401 > odd.toml
fail_with 2 'must be even' pack odd.toml
fail_with 2 "stage 'charge' does not support system.model = \"polar-dimers\"" charge in2.toml
fail_with 2 "must be at most half the box edge minus 0.5" search in2.toml
# Reading bonds back: [pack] from the np2 glass (H5MD with /particles/all/bonds) only minimises it
# again, to the same e_IS; a copy whose bonds table pairs a bead with itself is refused by row.
input again.h5 | sed 's/^\[pack\]$/[pack]\nfrom = "np2.h5"\ncoulomb_share_strain = 0/' > again.toml
timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" pack again.toml > again.txt || { echo "FAIL: pack from"; cat again.txt; exit 1; }
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
a, b = h5py.File("np2.h5", "r"), h5py.File("again.h5", "r")
assert (a["particles/all/bonds"][()] == b["particles/all/bonds"][()]).all()
ea, eb = a["pack"].attrs["e_is_per_bead"], b["pack"].attrs["e_is_per_bead"]
assert abs(ea - eb) <= 1e-9, (ea, eb)
print(f"ok   [pack] from a polar-dimer file: bonds kept, e_IS {eb:.10f} (was {ea:.10f})")
with h5py.File("selfbond.h5", "w") as out:
    a.copy("h5md", out); a.copy("particles", out)
    for k, v in a.attrs.items(): out.attrs[k] = v
    bonds = out["particles/all/bonds"]; row = bonds[3]; row[1] = row[0]; bonds[3] = row
PY
input bad4.h5 | sed 's/^\[pack\]$/[pack]\nfrom = "selfbond.h5"/' > selfbond.toml
fail_with 2 "/particles/all/bonds row 3 bonds ids" pack selfbond.toml
if ls bad*.h5 bad*.tmp > /dev/null 2>&1; then echo "FAIL: output left behind"; ls; exit 1; fi
