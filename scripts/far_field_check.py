#!/usr/bin/env python3
"""Far-field TLS couplings recomputed from an interact output, independently of tlsmap's C++.

    python3 scripts/far_field_check.py FILE.h5 [--width W] [--min-separation F] [--json OUT]

From /tls (mobile rows, mu_direct, radius), /interactions (i, j, j_el, j_mech, elastic_dipole, exact) and
/material (elastic_constants = the stress-strain coefficients B, stress or else pressure) it computes with
numpy alone
  * the transition centres (|d|^2-weighted midpoints of the moves, minimum image about /tls/center);
  * J_el by the point dipoles mu_direct with the tin-foil periodic (Ewald) dipole tensor;
  * J_mech by the elastic dipoles in the periodic continuum with A = C + sigma_bd delta_ag, C = B minus the
    stress terms, the Gaussian width W (default: the file's /interactions far_width, else 1.0),
and compares them (docs/dipole.md, "Far field"):
  * with tlsmap's own j_el_dipole / j_mech_dipole when the file has them (the C++ kernels: should agree to
    the FFT table's interpolation error);
  * with the exact couplings (rows flagged exact_el / exact_mech, all rows in files without the flags) of
    the pairs whose transition centres are at least F (default 3) domain radii apart: slope of J_exact on
    J_dipole through the origin, correlation, count; and the same by separation bins.
Prints one table; --json writes the numbers. Exit 0 unless the file lacks what it needs.
"""
import argparse
import json
import math
import sys

import h5py
import numpy as np
from scipy.special import erfc

VOIGT = [(0, 0), (1, 1), (2, 2), (1, 2), (2, 0), (0, 1)]
V_INDEX = np.array([[0, 5, 4], [5, 1, 3], [4, 3, 2]])


def minimum_image(d, box):
    return d - box * np.round(d / box)


def transition_centres(t, box):
    off, ids = t["mobile_offset"][()], t["mobile_id"][()]
    pa, pb, centre = t["position_a"][()], t["position_b"][()], t["center"][()]
    out = centre.copy()
    for k in range(len(centre)):
        s = slice(off[k], off[k + 1])
        d = minimum_image(pb[s] - pa[s], box)
        w = (d * d).sum(axis=1)
        if w.sum() > 0:
            rel = minimum_image(pa[s] + 0.5 * d - centre[k], box)
            out[k] = centre[k] + (w[:, None] * rel).sum(axis=0) / w.sum()
    return out


def wave_vectors(box, kmax):
    """The reciprocal vectors 0 < |k| <= kmax of the periodic box, and their squared norms."""
    n = [int(math.ceil(kmax * L / (2 * math.pi))) for L in box]
    g = np.stack(np.meshgrid(*[np.arange(-m, m + 1) for m in n], indexing="ij"), -1).reshape(-1, 3)
    k = 2 * math.pi * g / box
    k2 = (k * k).sum(axis=1)
    keep = (k2 > 0) & (k2 <= kmax**2)
    return k[keep], k2[keep]


def ewald_dipole_hessian(r, box, alpha=None):
    """grad grad psi(r) of the tin-foil periodic 1/r (sum over images, k-space, no k = 0), per row of r."""
    vol = box.prod()
    alpha = alpha or 5.0 / box.min()
    out = np.zeros((len(r), 3, 3))
    rc = 6.0 / alpha  # erfc(6) = 2e-17: the real-space sum is complete with these images
    nimg = [int(math.ceil(rc / L)) + 1 for L in box]
    for a in range(-nimg[0], nimg[0] + 1):
        for b in range(-nimg[1], nimg[1] + 1):
            for c in range(-nimg[2], nimg[2] + 1):
                x = r + np.array([a, b, c]) * box
                d = np.linalg.norm(x, axis=1)
                e = np.exp(-(alpha * d) ** 2)
                bb = (erfc(alpha * d) + 2 * alpha * d / math.sqrt(math.pi) * e) / d**3
                cc = (3 * erfc(alpha * d) + 2 * alpha * d / math.sqrt(math.pi) * (3 + 2 * (alpha * d) ** 2) * e) / d**5
                out += cc[:, None, None] * x[:, :, None] * x[:, None, :] - bb[:, None, None] * np.eye(3)
    kmax = 2 * alpha * 6.0  # exp(-k^2/4a^2) < 1e-15
    k, k2 = wave_vectors(box, kmax)
    f = 4 * math.pi / vol * np.exp(-k2 / (4 * alpha**2)) / k2
    cos = np.cos(r @ k.T)  # pairs x k
    out -= np.einsum("pk,k,ka,kb->pab", cos, f, k, k)
    return out


def stress_strain_full(b6, stress):
    """A_abgd = C_abgd + sigma_bd delta_ag, with C = B - (stress terms of B) (src/md/material.cpp)."""
    delta = np.eye(3)
    c6 = np.array(b6, dtype=float)
    for I, (i, j) in enumerate(VOIGT):
        for J, (k, l) in enumerate(VOIGT):
            c6[I, J] -= 0.5 * (stress[i, k] * delta[j, l] + stress[i, l] * delta[j, k] + stress[j, k] * delta[i, l]
                               + stress[j, l] * delta[i, k]) - stress[i, j] * delta[k, l]
    a = np.zeros((3, 3, 3, 3))
    for al in range(3):
        for be in range(3):
            for ga in range(3):
                for de in range(3):
                    a[al, be, ga, de] = c6[V_INDEX[al, be], V_INDEX[ga, de]] + (stress[be, de] if al == ga else 0.0)
    return a


def continuum_couplings(p_i, p_j, r, box, a, width):
    """-(1/V) sum_{k != 0} (P_j k).K(k)^-1 (P_i k) cos(k.r) exp(-k^2 w^2), K_ag = A_abgd k_b k_d."""
    kmax = 6.5 / width
    k, k2 = wave_vectors(box, kmax)
    out = np.zeros(len(r))
    for s in range(0, len(k), 20000):
        kc, k2c = k[s:s + 20000], k2[s:s + 20000]
        kk = np.einsum("abgd,kb,kd->kag", a, kc, kc)
        gi = np.linalg.inv(kk) * (np.exp(-k2c * width**2) / box.prod())[:, None, None]
        u = np.einsum("pab,kb->pka", p_j, kc)  # P_j k
        v = np.einsum("pgd,kd->pkg", p_i, kc)  # P_i k
        out -= np.einsum("pka,kag,pkg,pk->p", u, gi, v, np.cos(r @ kc.T))
    return out


def fit(exact, dipole):
    """Slope of exact on dipole through the origin, correlation, and count."""
    if len(exact) < 2:
        return {"n": int(len(exact)), "slope": float("nan"), "correlation": float("nan")}
    slope = float(exact @ dipole / (dipole @ dipole))
    return {"n": int(len(exact)), "slope": slope, "correlation": float(np.corrcoef(exact, dipole)[0, 1])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--width", type=float)
    ap.add_argument("--min-separation", type=float, default=3.0, help="in domain radii (default 3)")
    ap.add_argument("--json")
    args = ap.parse_args()
    f = h5py.File(args.file, "r")
    for need in ("tls/mu_direct", "interactions/elastic_dipole", "material/elastic_constants"):
        if need not in f:
            sys.exit(f"far_field_check: {args.file} has no /{need} (run tlsmap dipole and interact first)")
    box = f["particles/all/box/edges/value"][0]
    t, ia = f["tls"], f["interactions"]
    i, j = ia["i"][()], ia["j"][()]
    width = args.width or float(ia.attrs.get("far_width", 1.0))
    eps = float(ia.attrs.get("epsilon", 1.0))
    centre = transition_centres(t, box)
    r = minimum_image(centre[j] - centre[i], box)
    mu = t["mu_direct"][()]
    hess = ewald_dipole_hessian(r, box)
    j_el = -np.einsum("pa,pab,pb->p", mu[i], hess, mu[j]) / eps
    stress = f["material/stress"][()] if "material/stress" in f else -float(f["material"].attrs["pressure"]) * np.eye(3)
    a = stress_strain_full(f["material/elastic_constants"][()], stress)
    p = ia["elastic_dipole"][()]
    j_mech = continuum_couplings(p[i], p[j], r, box, a, width)
    out = {"file": args.file, "pairs": int(len(i)), "width": width}
    if "j_el_dipole" in ia:
        out["r_transition_max_dev"] = float(np.abs(ia["r_transition"][()] - r).max())
        for name, mine in (("j_el_dipole", j_el), ("j_mech_dipole", j_mech)):
            theirs = ia[name][()]
            out[name + "_max_rel_dev"] = float(np.abs(theirs - mine).max() / np.abs(mine).max())
    ones = np.ones(len(i), bool)
    exact_el = ia["exact_el"][()].astype(bool) if "exact_el" in ia else ones
    exact_mech = ia["exact_mech"][()].astype(bool) if "exact_mech" in ia else ones
    radius = t["radius"][()]
    dist = np.linalg.norm(r, axis=1)
    far = dist >= args.min_separation * np.maximum(radius[i], radius[j])
    out["far_pairs"] = int(far.sum())
    out["j_el_vs_dipole"] = fit(ia["j_el"][()][far & exact_el], j_el[far & exact_el])
    out["j_mech_vs_dipole"] = fit(ia["j_mech"][()][far & exact_mech], j_mech[far & exact_mech])
    print(f"{args.file}: {out['pairs']} pairs, {out['far_pairs']} at >= {args.min_separation:g} domain radii; "
          f"width {width:g}")
    for key in ("j_el_vs_dipole", "j_mech_vs_dipole"):
        v = out[key]
        print(f"  {key:18s} slope {v['slope']:.4f}  correlation {v['correlation']:.4f}  ({v['n']} exact pairs)")
    # By separation: where does each dipole kernel become a good pair-by-pair approximation?
    edges = np.unique(np.r_[0.0, args.min_separation * radius.max() * np.array([0.5, 1.0, 4 / 3, 5 / 3, 2.0]), np.inf])
    out["bins"] = []
    print("  r (transition centres)   n   J_el: slope  corr  rms ratio | J_mech: slope  corr  rms ratio  same sign")
    for lo, hi in zip(edges[:-1], edges[1:]):
        s_el, s_m = (dist >= lo) & (dist < hi) & exact_el, (dist >= lo) & (dist < hi) & exact_mech
        if s_el.sum() < 3 and s_m.sum() < 3:
            continue
        row = {"r_min": float(lo), "r_max": float(hi), "el": fit(ia["j_el"][()][s_el], j_el[s_el]),
               "mech": fit(ia["j_mech"][()][s_m], j_mech[s_m])}
        rms = lambda x: float(np.sqrt(np.mean(x ** 2))) if len(x) else float("nan")
        row["el"]["rms_ratio"] = rms(ia["j_el"][()][s_el]) / rms(j_el[s_el])
        row["mech"]["rms_ratio"] = rms(ia["j_mech"][()][s_m]) / rms(j_mech[s_m])
        row["mech"]["same_sign"] = float(np.mean(np.sign(ia["j_mech"][()][s_m]) == np.sign(j_mech[s_m])))
        out["bins"].append(row)
        e, m = row["el"], row["mech"]
        print(f"  [{lo:5.1f}, {hi:5.1f})  {max(e['n'], m['n']):5d}   {e['slope']:10.3f} {e['correlation']:5.2f} "
              f"{e['rms_ratio']:9.3f} | {m['slope']:12.3f} {m['correlation']:5.2f} {m['rms_ratio']:9.3f} "
              f"{m['same_sign']:9.2f}")
    for key in ("r_transition_max_dev", "j_el_dipole_max_rel_dev", "j_mech_dipole_max_rel_dev"):
        if key in out:
            print(f"  tlsmap vs numpy {key}: {out[key]:.3e}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
            fh.write("\n")
    return out


if __name__ == "__main__":
    main()
