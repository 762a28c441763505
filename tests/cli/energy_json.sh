#!/usr/bin/env bash
# `tlsmap energy FILE --json` is one valid JSON object (python's json.loads of the whole stdout),
# also when the file name needs escaping: the name holds a double quote, a backslash, a tab and a
# non-ASCII character, and "file" must read back as exactly that name. The configuration is a
# 40-bead Kob–Andersen sample with ±0.3 charges in a 7³ box, written here as a LAMMPS data file.
# Checks, at 2 ranks:
#  * every number of the JSON equals (exactly, as a double) the one the text output of the same
#    command prints with %.17g (pair, coulomb and its three parts, total, per bead, pressure,
#    max |F_i|); the P3M mesh equals the text's integers (fft, the default solver: no iterations);
#    cutoff, sigma, accuracy and RMS |F_C| equal the text's rounded values (%.6g / %.3g) when
#    rounded the same way;
#  * the pair energy, the pair-virial pressure and the `virial` tensor (xx yy zz xy xz yz; the pair
#    virial only: these charges are passive) agree with numpy (all pairs, minimum image, KA
#    parameters, truncated and shifted at 2.5 sigma_ab) to 1e-12 relative (the tensor: of its largest
#    component);
#  * total = pair + coulomb and coulomb = real + reciprocal + self to 1e-12 relative, per_bead =
#    total / 40, n_beads = 40, the documented keys in the documented order.
# Needs no peer code: never skipped (exit 77 is not used).
set -u
TLSMAP=$1 MPIEXEC=$2 SRC=$3
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT && cd "$work"
fail=0
name=$(printf 'we"ird\\na\tme \xc3\xa9.data')  # we"ird\na<TAB>me é.data (a literal backslash-n)

/usr/bin/python3 - "$name" <<'PY' || { echo "FAIL writing the configuration"; exit 1; }
import sys, numpy as np
rng = np.random.default_rng(7)
L, n = 7.0, 40
sites = np.array([(i, j, k) for i in range(4) for j in range(4) for k in range(4)], float) * (L / 4)
pos = sites[rng.choice(len(sites), n, replace=False)] + rng.uniform(-0.1, 0.1, (n, 3))
types = np.where(np.arange(n) < 32, 1, 2)
q = np.where(np.arange(n) % 2 == 0, 0.3, -0.3)
with open(sys.argv[1], "w") as f:
    f.write(f"energy_json test\n\n{n} atoms\n2 atom types\n\n")
    f.write(f"0 {L!r} xlo xhi\n0 {L!r} ylo yhi\n0 {L!r} zlo zhi\n\nAtoms # charge\n\n")
    for i in range(n):
        f.write(f"{i + 1} {types[i]} {q[i]!r} {pos[i, 0]!r} {pos[i, 1]!r} {pos[i, 2]!r}\n")
PY

timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" energy "$name" --json > out.json 2> err.json &&
  timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" energy "$name" > out.txt 2> err.txt ||
  { echo "FAIL tlsmap energy on the configuration"; cat err.json err.txt; exit 1; }

/usr/bin/python3 - "$name" <<'PY' || fail=1
import json, re, sys, numpy as np
name = sys.argv[1]
raw = open("out.json", encoding="utf-8").read()
j = json.loads(raw)  # the whole stdout: one object, nothing else; malformed JSON fails here
keys = ["file", "format", "model", "n_beads", "pair", "lj", "coulomb", "coulomb_real", "coulomb_reciprocal",
        "coulomb_self", "total", "per_bead", "pressure", "max_force", "accuracy", "accuracy_estimate",
        "coulomb_rms_force", "coulomb_cutoff", "coulomb_sigma", "grid", "solver_iterations", "note", "bond",
        "coulomb_bonded_exclusion", "virial"]
assert list(j) == keys, f"keys {list(j)}"
assert j["file"] == name, f"file {j['file']!r}, want {name!r}"
assert j["format"] == "lammps-data" and j["model"] == "kob-andersen", (j["format"], j["model"])
assert j["n_beads"] == 40 and isinstance(j["n_beads"], int)

# The text output of the same command: the same doubles at %.17g.
text = open("out.txt", encoding="utf-8").read()
def field(label):
    m = re.search(r"^" + re.escape(label) + r"\s+(\S+)", text, re.M)
    assert m, f"text output lacks '{label}'"
    return float(m.group(1))
assert text.startswith(f"configuration  {name} (lammps-data), 40 beads"), text.splitlines()[0]
exact = {"lj": "lj", "coulomb": "coulomb", "coulomb_real": "  real", "coulomb_reciprocal": "  reciprocal",
         "coulomb_self": "  self", "total": "total", "per_bead": "per bead", "pressure": "pressure",
         "max_force": "max |F_i|"}
for key, label in exact.items():
    assert j[key] == field(label), (key, j[key], field(label))
assert j["pair"] == j["lj"]
m = re.search(r"r_c = (\S+), alpha = \S+\)", text)
assert m and f"{j['coulomb_cutoff']:.6g}" == m.group(1), ("coulomb_cutoff", j["coulomb_cutoff"], m and m.group(1))
# The default solver is fft (P3M: a mesh, no iterations); mg prints its grid and CG iterations.
m = re.search(r"\(P3M mesh (\d+) x (\d+) x (\d+), sigma = (\S+), B-spline order \d+, optimal influence function\)", text)
assert m, "text output lacks the reciprocal-space line of the fft solver"
assert j["grid"] == [int(m.group(k)) for k in (1, 2, 3)], (j["grid"], m.groups())
assert f"{j['coulomb_sigma']:.6g}" == m.group(4) and j["solver_iterations"] == 0, (m.groups(), j["solver_iterations"])
m = re.search(r"requested (\S+), estimated (\S+) \(.*RMS \|F_C\| (\S+)\)", text)
assert m and (f"{j['accuracy']:.3g}", f"{j['accuracy_estimate']:.3g}", f"{j['coulomb_rms_force']:.6g}") == m.groups(), \
    ("accuracy", j["accuracy"], j["accuracy_estimate"], j["coulomb_rms_force"], m and m.groups())
assert j["accuracy"] == 1e-5 and j["coulomb"] != 0

# Identities among the numbers.
assert abs(j["total"] - j["lj"] - j["coulomb"]) <= 1e-12 * abs(j["total"]), (j["total"], j["lj"], j["coulomb"])
parts = j["coulomb_real"] + j["coulomb_reciprocal"] + j["coulomb_self"]
assert abs(parts - j["coulomb"]) <= 1e-12 * abs(j["coulomb_self"]), (parts, j["coulomb"])
assert j["per_bead"] == j["total"] / 40

# numpy: the pair energy and the pair-virial pressure, all pairs, minimum image.
L, pos, typ = None, [], []
for line in open(name, encoding="utf-8"):
    w = line.split()
    if len(w) == 4 and w[2] == "xlo": L = float(w[1])
    if len(w) == 6 and w[0].isdigit(): typ.append(int(w[1]) - 1), pos.append([float(x) for x in w[3:]])
pos, typ = np.array(pos), np.array(typ)
eps = np.array([[1.0, 1.5], [1.5, 0.5]]); sig = np.array([[1.0, 0.8], [0.8, 0.88]])
e = vir = 0.0
W = np.zeros((3, 3))  # the pair virial tensor, sum d_a f_b
for a in range(len(pos)):
    for b in range(a + 1, len(pos)):
        d = pos[a] - pos[b]; d -= L * np.round(d / L)
        r = np.sqrt(d @ d); ep, s = eps[typ[a], typ[b]], sig[typ[a], typ[b]]; rc = 2.5 * s
        if r < rc:
            e += 4 * ep * ((s / r) ** 12 - (s / r) ** 6) - 4 * ep * ((s / rc) ** 12 - (s / rc) ** 6)
            vir += 24 * ep * (2 * (s / r) ** 12 - (s / r) ** 6)
            W += np.outer(d, d) * 24 * ep * (2 * (s / r) ** 12 - (s / r) ** 6) / r ** 2
p = vir / (3 * L ** 3)
assert abs(j["lj"] - e) <= 1e-12 * abs(e), ("lj", j["lj"], e)
assert abs(j["pressure"] - p) <= 1e-12 * abs(p), ("pressure", j["pressure"], p)
w = np.array(j["virial"])  # xx yy zz xy xz yz; passive charges: the pair virial only, as the pressure
ref = np.array([W[0, 0], W[1, 1], W[2, 2], W[0, 1], W[0, 2], W[1, 2]])
assert np.max(np.abs(w - ref)) <= 1e-12 * np.max(np.abs(ref)), ("virial", w, ref)
print(f"ok   energy --json: valid JSON, file name {name!r} read back, values equal the text output, "
      f"pair {j['lj']:.12g} and pressure {j['pressure']:.12g} agree with numpy (rel. {abs(j['lj'] - e) / abs(e):.1e}, "
      f"{abs(j['pressure'] - p) / abs(p):.1e})")
PY
[[ $fail == 0 ]] || { echo "--- JSON output:"; cat out.json; echo "--- text output:"; cat out.txt; }
exit $fail
