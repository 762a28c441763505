#!/usr/bin/python3
"""How much of the catalogue a cheap screen before the NEB would keep, and how many TLS it would lose.

  bench/screen_recall.py FILES_OR_DIRS...

Reads the /tls rows of searched files (unscreened runs: every pair went through NEB, levels and
classification), labelled by their class. For each screen, a rule on features known before the NEB,
prints the recall of class tls (tls rows kept / tls rows) and the fraction of rows kept (the NEB,
level and relaxation cost saved is roughly the fraction dropped). Features:
  |ε|          |E_B − E_A| of the two minima (the domain search knows it when the pair is found),
               in units of the file's max_splitting (the tls window, /tls attribute);
  n_moving     beads displaced by more than the mobile threshold;
  d_max        the largest bead displacement between the states (from position_a, position_b);
  Σ|d|²        d_l² × n_moving (d_l the rms displacement of the moving beads).
A tls row needs E_qs = E₁ − E₀ ≤ max_splitting, and with two wells E_qs ≥ |ε + ΔZPE_1D| (the
one-dimensional zero-point energies differ), so |ε| alone is a screen only with a margin for ΔZPE_1D;
the recall says how much margin the data need.
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "postprocess"))
from tlsmap_post.merge import collect_paths  # noqa: E402  (files and directories -> .h5 files)


def rows(path):
    with h5py.File(path, "r") as f:
        if "tls" not in f or "class" not in f["tls"]:
            return None
        t = f["tls"]
        cls = np.array([c.decode() if isinstance(c, bytes) else c for c in t["class"][()]])
        method = np.array([c.decode() if isinstance(c, bytes) else c for c in t["method"][()]])
        off = t["mobile_offset"][()]
        d = t["position_b"][()] - t["position_a"][()]
        edges = f["particles/all/box/edges/value"][0]
        d -= edges * np.round(d / edges)
        dmax = np.array([np.max(np.linalg.norm(d[off[k]:off[k + 1]], axis=1), initial=0)
                         for k in range(len(off) - 1)])
        return dict(cls=cls, method=method, asym=np.abs(t["asymmetry"][()]) / t.attrs["max_splitting"],
                    n_moving=t["n_moving"][()], d_max=dmax, sum_d2=t["d_l"][()] ** 2 * t["n_moving"][()])


def main(argv):
    parts = [r for r in (rows(p) for p in collect_paths(argv)) if r is not None]
    if not parts:
        print("screen_recall: no classified /tls in the files", file=sys.stderr)
        return 1
    R = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = R["method"] == "domain"
    R = {k: v[keep] for k, v in R.items()}
    tls = R["cls"] == "tls"
    n, n_tls = len(tls), int(tls.sum())
    print(f"{len(parts)} files, {n} rows of method domain, {n_tls} of class tls")
    if n_tls:
        for k in ("asym", "n_moving", "d_max", "sum_d2"):
            print(f"  tls rows {k}: {np.array2string(np.sort(R[k][tls]), precision=3)}")
    rules = [(f"|ε| ≤ {c:g} max_splitting", R["asym"] <= c) for c in (1, 2, 5, 10, 20, 50)]
    rules += [(f"|ε| ≤ 5 max_splitting and n_moving ≤ {m}", (R["asym"] <= 5) & (R["n_moving"] <= m))
              for m in (10, 30)]
    print(f"{'screen':<44} {'rows kept':>10} {'fraction':>9} {'tls kept':>9} {'recall':>7}")
    for name, mask in rules:
        kept_tls = int(np.sum(mask & tls))
        recall = f"{kept_tls / n_tls:.3f}" if n_tls else "n/a"
        print(f"{name:<44} {int(mask.sum()):>10} {mask.mean():>9.3f} {kept_tls:>9} {recall:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
