#!/usr/bin/python3
"""J_mech of a tlsmap file against the continuum elastic dipole coupling in the same periodic box.

    /usr/bin/python3 bench/mech_continuum.py OUTPUT.h5 [--width 1.0]

For every pair of /interactions: J_c = −(1/V) Σ_{k≠0} (P_j k)·K(k)⁻¹(P_i k) cos(k·r) exp(−k²w²), with
P = /interactions/elastic_dipole (the dressed dipoles of the `held` response) and K_αγ(k) = A_αβγδ k_β k_δ,
A taken as the symmetrised /material/elastic_constants (the stress–strain coefficients B; the
difference from C + σ is O(pressure/modulus), ~1 % for the KA glass). The Gaussian of width w stands in
for the dipoles' finite extent, so only pairs with r ≫ w are meaningful. Prints J_mech/J_c in bins of r:
the ratio should tend to 1 as r grows (the test on an fcc crystal: tests/test_interact.cpp).
"""
import argparse
import sys

import h5py
import numpy as np

VOIGT = np.array([[0, 5, 4], [5, 1, 3], [4, 3, 2]])


def continuum(p_i, p_j, r, box, c6, width):
    c6 = 0.5 * (c6 + c6.T)
    a = c6[VOIGT[:, :, None, None], VOIGT[None, None, :, :]]  # A_αβγδ
    kmax = 6.0 / width
    n = np.ceil(kmax * box / (2 * np.pi)).astype(int)
    grid = np.stack(np.meshgrid(*[np.arange(-m, m + 1) for m in n], indexing="ij"), -1).reshape(-1, 3)
    k = 2 * np.pi * grid / box
    k2 = (k * k).sum(1)
    keep = (k2 > 0) & (k2 <= kmax * kmax)
    k, k2 = k[keep], k2[keep]
    kmat = np.einsum("abgd,nb,nd->nag", a, k, k)
    kinv = np.linalg.inv(kmat)
    damp = np.exp(-k2 * width * width)
    out = np.empty(len(r))
    for q in range(len(r)):
        vi = np.einsum("ab,nb->na", p_i[q], k)
        vj = np.einsum("ab,nb->na", p_j[q], k)
        out[q] = -(np.einsum("na,nag,ng->n", vj, kinv, vi) * np.cos(k @ r[q]) * damp).sum() / np.prod(box)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("file")
    ap.add_argument("--width", type=float, default=1.0)
    args = ap.parse_args()
    with h5py.File(args.file, "r") as f:
        if "interactions/elastic_dipole" not in f or "material/elastic_constants" not in f:
            sys.exit(f"{args.file}: needs /interactions/elastic_dipole and /material/elastic_constants (tlsmap interact)")
        g = f["interactions"]
        i, j, r, jm = g["i"][()], g["j"][()], g["r"][()], g["j_mech"][()]
        p = g["elastic_dipole"][()]
        box = f["particles/all/box/edges/value"][0] if f["particles/all/box/edges/value"].ndim == 2 else f["particles/all/box/edges/value"][()]
        c6 = f["material/elastic_constants"][()]
        mode = g.attrs.get("mech_response", b"?")
    jc = continuum(p[i], p[j], r, np.asarray(box, float), c6, args.width)
    d = np.linalg.norm(r, axis=1)
    print(f"{args.file}: {len(d)} pairs, mech_response {mode}, box {np.round(box, 3)}, w = {args.width}")
    print("   r range     pairs   median J_mech/J_c   IQR                 median |r^3 J_mech|")
    edges = np.array([0, 4, 6, 8, 10, 12, 15, 20, 30])
    for lo, hi in zip(edges[:-1], edges[1:]):
        s = (d >= lo) & (d < hi)
        if not s.any():
            continue
        ratio = jm[s] / jc[s]
        q1, q2, q3 = np.percentile(ratio, [25, 50, 75])
        print(f"  [{lo:4.1f}, {hi:4.1f})  {s.sum():6d}   {q2:10.3f}        [{q1:7.3f}, {q3:7.3f}]   {np.median(np.abs(jm[s]) * d[s] ** 3):.4g}")
    far = d >= 8
    if far.any():
        corr = np.corrcoef(jm[far], jc[far])[0, 1]
        slope = (jm[far] @ jc[far]) / (jc[far] @ jc[far])
        print(f"r >= 8: correlation(J_mech, J_c) = {corr:.4f}, least-squares J_mech/J_c = {slope:.4f}")


if __name__ == "__main__":
    main()
