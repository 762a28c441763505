#!/usr/bin/env bash
# `tlsmap run` (pack, charge, search, dipole, interact) in a non-cubic box (aspect 1 : 1.3 : 1.8) at 1,
# 2 and 4 ranks: every stage completes; the box and the domain tiling follow the aspect; the packing,
# charges and catalogue are bitwise identical at every rank count; dipoles, J_el, J_mech and the elastic
# constants agree to solver tolerance; the image tensor logged is anisotropic with trace 4π/V.
# Grid spacing 0.45, not 0.4: at 0.4 the aspect leaves multigrid two levels and a 1120-node coarsest
# grid whose dense SVD (PCSVD) costs ~12 s per grid set-up (28 s at 4 ranks); at 0.45 it has 756.
source "$(dirname "$0")/common.bash"
for np in 1 2 4; do
  { glass_input np$np.h5 3 600 300 "box_aspect = [1.0, 1.3, 1.8]" && cat <<T; } > in$np.toml
[charge]
zeta = 0.1
[search]
xi = 3.5
max_domains = 2
max_attempts = 2
stop_after_stale = 2
neb_images = 6
[dipole]
spacing = 0.45
convergence_tls = 0
T
  timeout 600 "$MPIEXEC" -n $np "$TLSMAP" run in$np.toml > run$np.txt
  grep -q "\[interact\] updated np$np.h5" run$np.txt
done
grep "images: T = diag" run1.txt
/usr/bin/python3 - <<'PY'
import re, h5py, numpy as np
f = {np_: h5py.File(f"np{np_}.h5", "r") for np_ in (1, 2, 4)}
a = f[1]
edges = a["particles/all/box/edges/value"][0]
assert np.allclose(edges / edges[0], [1.0, 1.3, 1.8], rtol=1e-12), edges
assert np.isclose(600 / np.prod(edges), 1.2, rtol=1e-12)
# Domains tile the whole box, more of them along the longer edges.
centres, lo = a["search/domain_center"][()], a["particles/all/box/offset"][()]
assert np.all(centres >= lo) and np.all(centres <= lo + edges), centres
per_dim = [len(np.unique(np.round(centres[:, d], 9))) for d in range(3)]
assert per_dim[0] <= per_dim[1] <= per_dim[2] and per_dim[2] > per_dim[0], per_dim
n = a["tls/energy_a"].shape[0]
assert n >= 1, "no TLS pair in 2 domains: pick another seed"
# The image tensor of the log: diagonal anisotropic (longest edge smallest), trace/3 = 4π/3V.
line = open("run1.txt").read()
m = re.search(r"T = diag\(([^,]+), ([^,]+), ([^)]+)\) \(trace/3 = 4pi/3V = ([^)]+)\)", line)
t = [float(m.group(k)) for k in (1, 2, 3)]
assert abs(sum(t) / 3 - float(m.group(4))) < 1e-5 * float(m.group(4)), t
assert t[0] > t[1] > t[2], t
# Units on the datasets of every stage's group.
unit = lambda k: (lambda u: u.decode() if isinstance(u, bytes) else u)(a[k].attrs["unit"])
assert unit("tls/energy_a") == "epsilon" and unit("interactions/r") == "sigma" and unit("interactions/j_mech") == "epsilon"
assert unit("material/elastic_constants") == "epsilon/sigma^3"
# Rank-count independence.
exact = ["particles/all/position/value", "particles/all/charge/value", "charge/bonds", "tls/energy_a",
         "tls/energy_b", "tls/barrier", "tls/position_a", "tls/position_b", "tls/mobile_id", "tls/splitting"]
close = {"tls/mu_eq13": 1e-9, "tls/mu_direct": 1e-12, "interactions/j_el": 1e-8, "interactions/j_mech": 1e-6,
         "material/elastic_constants": 1e-7, "tls/gamma": 1e-6}
for np_ in (2, 4):
    b = f[np_]
    for k in exact:
        assert np.array_equal(a[k][()], b[k][()]), (np_, k)
    for k, tol in close.items():
        x, y = a[k][()], b[k][()]
        scale = np.abs(x).max()
        assert np.abs(x - y).max() <= tol * scale, (np_, k, np.abs(x - y).max(), scale)
print(f"non-cubic box {edges}: {n} TLS, {a['interactions/j_el'].shape[0]} pairs; 1/2/4 ranks agree")
PY
