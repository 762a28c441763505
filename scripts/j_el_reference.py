#!/usr/bin/env python3
"""J_el of an interact output recomputed by Ewald sums, independently of tlsmap's C++ and its grid.

    python3 scripts/j_el_reference.py FILE.h5 [--alpha A] [--json OUT]

For every pair (i, j) of /interactions the transition charges of TLS i (its moving beads: +q at
position_b, -q at position_a, from the CSR rows of /tls and /particles/all/charge) meet those of TLS j
in the four-state combination J = E_BB - E_BA - E_AB + E_AA (the convention of the j_el column),
periodic, tin-foil, uniform epsilon (/interactions epsilon). Two references:
  * gauss: every charge a Gaussian of width sigma (/tls dipole_sigma), every pair of charges included,
    a bead met in both TLS too. This is what the grid solve approximates; j_el - gauss is its
    discretisation error, O(h^2/sigma^2).
  * point: point charges, the pairs of one bead with itself left out (a bead moving in both TLS has no
    four-state energy of its own: the shared beads are counted and printed). This is the coupling of
    the point-charge model; gauss - point is the Gaussian width's part.
Both by one Ewald split (--alpha, default 1.5 per sigma of the model; minimum-image real space, k-space
to 13 alpha): each part converged to ~1e-11 of its terms for boxes of edge >= 6.4 (2.2/alpha per 1.5).
The result must not depend on alpha: tests/cli/interact_far.sh compares two.
Prints one line per pair and the median and largest relative differences over the pairs of TLS of
different domains (same-domain pairs share most beads and are not independent TLS). Exit 0 unless the
file lacks what it needs.
"""
import argparse
import json
import sys

import h5py
import numpy as np
from scipy.special import erf, erfc

from far_field_check import wave_vectors  # the reciprocal vectors 0 < |k| <= kmax (scripts/)



def load(path):
    f = h5py.File(path, "r")
    for need in ("tls/mobile_offset", "interactions/j_el", "particles/all/charge"):
        if need not in f:
            sys.exit(f"j_el_reference: {path} has no /{need}")
    box = f["particles/all/box/edges"]
    L = np.asarray(box["value"][-1] if isinstance(box, h5py.Group) else box[()], float).reshape(-1)
    ch = f["particles/all/charge"]
    q = np.asarray(ch["value"][-1] if isinstance(ch, h5py.Group) else ch[()], float)
    return f, L, q


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--alpha", type=float, default=1.5, help="Ewald split parameter (default 1.5)")
    ap.add_argument("--json")
    a = ap.parse_args()
    ALPHA = a.alpha
    f, L, q = load(a.file)
    t, inter = f["tls"], f["interactions"]
    sigma = float(t.attrs["dipole_sigma"])
    eps = float(inter.attrs["epsilon"])
    ptr = t["mobile_offset"][()]
    # a file without /tls/domain (a synthetic catalogue): every row its own domain
    domain = t["domain"][()] if "domain" in t else np.arange(len(ptr) - 1)
    V = float(np.prod(L))

    K, k2 = wave_vectors(L, 13.0 * ALPHA)
    w = 4 * np.pi / (eps * V) * np.exp(-k2 / (4 * ALPHA**2)) / k2  # erf(alpha r)/r, periodic

    def charges(k):  # bead ids, positions (B then A), charges (+q, -q)
        s = slice(ptr[k], ptr[k + 1])
        ids = t["mobile_id"][s] - 1
        xa, xb = t["position_a"][s], t["position_b"][s]
        return np.concatenate([ids, ids]), np.concatenate([xb, xa]), np.concatenate([q[ids], -q[ids]])

    def structure(x, qq):
        s = np.zeros(len(K), complex)
        for c in range(0, len(x), 16):
            s += (qq[None, c:c + 16] * np.exp(1j * K @ x[c:c + 16].T)).sum(1)
        return s

    cache = {}
    rows = []
    for r in range(len(inter["i"])):
        i, j = int(inter["i"][r]), int(inter["j"][r])
        for k in (i, j):
            if k not in cache:
                ids, x, qq = charges(k)
                cache[k] = (ids, x, qq, structure(x, qq))
        idi, xi, qi, si = cache[i]
        idj, xj, qj, sj = cache[j]
        d = xi[:, None, :] - xj[None, :, :]
        d -= L * np.round(d / L)
        rr = np.linalg.norm(d, axis=2)
        qq = qi[:, None] * qj[None, :]
        same = idi[:, None] == idj[None, :]
        k_all = float((w * (si * sj.conj()).real).sum())
        tiny = rr < 1e-12
        with np.errstate(invalid="ignore", divide="ignore"):
            # Gaussians of width sigma each: erf(r/2sigma)/r = [erf(r/2sigma) - erf(alpha r)]/r + smooth part
            g_real = np.where(tiny, 2 / np.sqrt(np.pi) * (1 / (2 * sigma) - ALPHA), (erf(rr / (2 * sigma)) - erf(ALPHA * rr)) / rr)
            p_real = np.where(tiny | same, 0.0, erfc(ALPHA * rr) / rr)
        gauss = k_all + float((qq * g_real).sum()) / eps
        # point: the smooth part of the same-bead pairs taken out again, exactly (they are few)
        smooth_same = 0.0
        for a_, b_ in zip(*np.nonzero(same)):
            smooth_same += qq[a_, b_] * float((w * np.cos(K @ d[a_, b_])).sum())
        point = k_all - smooth_same + float((qq * p_real).sum()) / eps
        shared = len(np.intersect1d(idi, idj))
        rows.append(dict(i=i, j=j, domains=(int(domain[i]), int(domain[j])), shared=shared,
                         j_el=float(inter["j_el"][r]), gauss=gauss, point=point))

    print(f"{a.file}: sigma {sigma}, epsilon {eps}, box {L}, grid spacing {inter.attrs.get('grid_spacing', float('nan')):.4g}")
    print("   i    j  shared        j_el       gauss   (j_el-g)/|g|       point   (j_el-p)/|p|")
    for x in rows:
        print(f"{x['i']:4d} {x['j']:4d} {x['shared']:7d} {x['j_el']: .4e} {x['gauss']: .4e} {(x['j_el'] - x['gauss']) / abs(x['gauss']): 13.2e}"
              f" {x['point']: .4e} {(x['j_el'] - x['point']) / abs(x['point']): 13.2e}")
    apart = [x for x in rows if x["domains"][0] != x["domains"][1]]
    summary = {}
    if apart:
        for key in ("gauss", "point"):
            e = np.array([abs(x["j_el"] - x[key]) / abs(x[key]) for x in apart])
            summary[key] = dict(median=float(np.median(e)), max=float(e.max()), pairs=len(apart))
            print(f"pairs of different domains ({len(apart)}): |j_el - {key}|/|{key}| median {np.median(e):.2e}, largest {e.max():.2e}")
        e = np.array([abs(x["gauss"] - x["point"]) / abs(x["point"]) for x in apart])
        print(f"  the Gaussian width alone, |gauss - point|/|point|: median {np.median(e):.2e}, largest {e.max():.2e}")
        summary["gauss_vs_point"] = dict(median=float(np.median(e)), max=float(e.max()))
    if a.json:
        with open(a.json, "w") as out:
            json.dump(dict(rows=rows, summary=summary), out, indent=1)


if __name__ == "__main__":
    main()
