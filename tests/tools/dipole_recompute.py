#!/usr/bin/env python3
"""Recompute the dipole stage's per-TLS columns from the raw data of a tlsmap file and compare.

usage: dipole_recompute.py FILE.h5

Inputs used (nothing else): /particles/all/{box,charge}, /charge/bonds, the /charge attribute zeta,
the root unit attributes sigma_angstrom and epsilon_kelvin, and /tls/{mobile_offset, mobile_id,
position_a, position_b, center, mu_eq13_radius} and the /tls attribute dipole_sigma. Recomputed
here, independently of src/couplings/dipole.cpp (by looping over the bonds of /charge/bonds rather
than over the mobile rows, and with the unit conversions from CODATA 2018):

  mu_direct        Σ_i q_i (r_i^B − r_i^A), minimum image                  rtol 1e-12 (+ 1e-15 abs)
  n_bonds_moving   bonds of /charge/bonds with a bead whose r_B ≠ r_A       exact
  bond_dmu2_sum    Σ_b |q_a Δr_a + q_b Δr_b|²                               rtol 1e-12
  g_kirkwood       |μ_direct|² / Σ_b |Δμ_b|²                               rtol 1e-12
  d_l_dipole       rms |r_B − r_A| over the TLS's mobile rows               rtol 1e-12
  mu_eq1           ζ (in q*) · √N_d · d_L                                   rtol 2e-6 (ζ from CODATA)
  n_transition_charges  mobile beads with q ≠ 0 that moved                  exact
  mu_ratio         μ_eq13·μ_direct / |μ_direct|²                            rtol 1e-12
                   and, for uniform ε, −1/3 within 2 % + the leaked dipole (of the transition
                   charges' Gaussian parts outside /tls/mu_eq13_radius around /tls/center, relative
                   to |μ_direct|); how many rows had a leak ≤ 1 % is printed
  mu_direct_debye, mu_eq13_debye  |μ| in D, D per q*σ from CODATA           rtol 2e-6
  charges          every bond ±ζ e in q*: ζ e / sqrt(4π ε0 σ k_B ε)         rtol 1e-6
and the search stage's /tls/d_l (rms over beads moving more than 0.02 σ) and /tls/n_moving from the
same stored states (d_l rtol 1e-9: the search stores positions, it computed d_l from displacements).
The code's unit constants are 167101.0 K·Å (CODATA 167100.947) and 4.80320 D per e·Å (CODATA
4.8032047), hence 1e-6 on charges and 2e-6 on debye. Exit status 0 if all agree, 1 otherwise.
"""
import math
import sys

import h5py
import numpy as np

# CODATA 2018
E_CHARGE = 1.602176634e-19      # C
EPS0 = 8.8541878128e-12         # F/m
K_B = 1.380649e-23              # J/K
DEBYE = 1e-21 / 299792458.0     # C m
ANGSTROM = 1e-10                # m
MOVING = 0.02                   # σ: the search's moving_threshold (docs/file-format.md, n_moving)

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL", what)


def close(got, want, rtol, atol=0.0):
    return abs(got - want) <= rtol * abs(want) + atol


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def outside_fraction(r, radius, width):
    """Share of a 3D Gaussian charge (width `width`, centre at distance r from the sphere's centre)
    that lies outside the sphere of `radius`: the survival function of the noncentral χ with 3
    degrees of freedom."""
    a, b = (radius - r) / width, (radius + r) / width
    if r < 1e-12 * width:
        inside = math.erf(radius / (math.sqrt(2) * width)) - math.sqrt(2 / math.pi) * (radius / width) * math.exp(
            -0.5 * (radius / width) ** 2)
    else:
        inside = 0.5 * (math.erf(a / math.sqrt(2)) + math.erf(b / math.sqrt(2))) - (width / r) / math.sqrt(
            2 * math.pi) * (math.exp(-0.5 * a * a) - math.exp(-0.5 * b * b))
    return 1.0 - inside


def main(path):
    f = h5py.File(path, "r")
    box = f["particles/all/box/edges/value"][0]
    q = f["particles/all/charge/value"][0]
    bonds = f["charge/bonds"][()].reshape(-1, 2)
    zeta = float(f["charge"].attrs["zeta"])
    sigma_a, eps_k = float(f.attrs["sigma_angstrom"]), float(f.attrs["epsilon_kelvin"])
    q_star = math.sqrt(4 * math.pi * EPS0 * sigma_a * ANGSTROM * eps_k * K_B)  # C
    zeta_reduced = zeta * E_CHARGE / q_star
    debye_per_dipole = q_star * sigma_a * ANGSTROM / DEBYE
    t = f["tls"]
    off, ids = t["mobile_offset"][()], t["mobile_id"][()]
    pa, pb = t["position_a"][()], t["position_b"][()]
    n = len(off) - 1
    check(n >= 1, f"no TLS in {path}: nothing to recompute")

    # Charges: ±ζ per bond, zero elsewhere.
    check(close(float(f["charge"].attrs["charge_reduced"]), zeta_reduced, 1e-6),
          f"/charge charge_reduced {f['charge'].attrs['charge_reduced']} vs CODATA {zeta_reduced}")
    qa, qb = q[bonds[:, 0] - 1], q[bonds[:, 1] - 1]
    check(np.all(qa == -qb), "a bond whose beads do not carry opposite charges")
    check(np.allclose(np.abs(qa), zeta_reduced, rtol=1e-6, atol=0), "bond charges are not ζ e in q* (CODATA)")
    bonded = np.zeros(len(q), bool)
    bonded[bonds.ravel() - 1] = True
    check(np.all(q[~bonded] == 0), "an unbonded bead carries a charge")
    check(np.array_equal(np.sort(bonds.ravel()), np.unique(bonds.ravel())), "a bead in two bonds")
    check(close(float(f["tls"].attrs["debye_per_reduced_dipole"]), debye_per_dipole, 2e-6),
          f"/tls debye_per_reduced_dipole {f['tls'].attrs['debye_per_reduced_dipole']} vs CODATA {debye_per_dipole}")

    summary, ratio_checked = [], []
    for k in range(n):
        rows = slice(off[k], off[k + 1])
        d = pb[rows] - pa[rows]
        d -= box * np.round(d / box)
        disp = {int(i): d[r] for r, i in enumerate(ids[rows])}
        moved = {i for i, v in disp.items() if np.any(v != 0)}

        mu = (q[ids[rows] - 1][:, None] * d).sum(axis=0)
        n_charges = sum(1 for i in moved if q[i - 1] != 0)
        n_d, dmu2 = 0, 0.0
        for a, b in bonds:
            if a in moved or b in moved:
                zero = np.zeros(3)
                dmu = q[a - 1] * disp.get(a, zero) + q[b - 1] * disp.get(b, zero)
                n_d += 1
                dmu2 += dmu @ dmu
        g = mu @ mu / dmu2 if dmu2 > 0 else 0.0
        d2 = (d * d).sum(axis=1)
        d_l = math.sqrt(d2.mean()) if len(d2) else 0.0
        mv = d2 > MOVING * MOVING
        d_l_search = math.sqrt(d2[mv].mean()) if mv.any() else 0.0
        mu_eq1 = zeta_reduced * math.sqrt(n_d) * d_l
        mu13 = t["mu_eq13"][k]

        check(np.allclose(t["mu_direct"][k], mu, rtol=1e-12, atol=1e-15), f"TLS {k}: mu_direct {t['mu_direct'][k]} vs {mu}")
        check(int(t["n_bonds_moving"][k]) == n_d, f"TLS {k}: n_bonds_moving {t['n_bonds_moving'][k]} vs {n_d}")
        check(int(t["n_transition_charges"][k]) == n_charges,
              f"TLS {k}: n_transition_charges {t['n_transition_charges'][k]} vs {n_charges}")
        check(close(t["bond_dmu2_sum"][k], dmu2, 1e-12), f"TLS {k}: bond_dmu2_sum {t['bond_dmu2_sum'][k]} vs {dmu2}")
        check(close(t["g_kirkwood"][k], g, 1e-12), f"TLS {k}: g_kirkwood {t['g_kirkwood'][k]} vs {g}")
        check(close(t["d_l_dipole"][k], d_l, 1e-12), f"TLS {k}: d_l_dipole {t['d_l_dipole'][k]} vs {d_l}")
        check(close(t["mu_eq1"][k], mu_eq1, 2e-6), f"TLS {k}: mu_eq1 {t['mu_eq1'][k]} vs {mu_eq1}")
        check(close(t["mu_direct_debye"][k], np.linalg.norm(mu) * debye_per_dipole, 2e-6),
              f"TLS {k}: mu_direct_debye {t['mu_direct_debye'][k]} vs {np.linalg.norm(mu) * debye_per_dipole}")
        check(close(t["mu_eq13_debye"][k], np.linalg.norm(mu13) * debye_per_dipole, 2e-6),
              f"TLS {k}: mu_eq13_debye {t['mu_eq13_debye'][k]} vs {np.linalg.norm(mu13) * debye_per_dipole}")
        ratio = mu13 @ mu / (mu @ mu) if mu @ mu > 0 else 0.0
        check(close(t["mu_ratio"][k], ratio, 1e-12, 1e-15), f"TLS {k}: mu_ratio {t['mu_ratio'][k]} vs {ratio}")
        # Eq. 13 on the real glass, uniform ε: −1/3 within 2 % plus the "leaked" dipole. A transition
        # charge whose Gaussian straddles the sphere's surface shifts the ratio (docs/dipole.md; the
        # centres inside, n_charges_outside = 0, is not enough): its part outside is integrated with
        # the weight (R/|x|)³ instead of 1. The leaked dipole, Σ q_i (f_B x_B − f_A x_A) with f the share
        # of bead i's Gaussian outside the sphere at that position (x from the centre), bounds that
        # shift in practice (measured shift 0.2–0.4 of its projection on μ, on the CLI test's glass and
        # a 700-bead LJ glass at radius factor 1). Measured on cli_dipole_recompute: shifts 0.01–0.74 %
        # at leaks 0.2–8 %. A wrong prefactor is off by ≥ 10 % on every row with a small leak; a
        # missing image correction (~2 %) on the rows whose leak is below ~1 %.
        eps_ext = float(t.attrs["dipole_epsilon"])
        radius, width = float(t["mu_eq13_radius"][k]), float(t.attrs["dipole_sigma"])
        leak = np.zeros(3)
        for i in moved:
            r = np.nonzero(ids[rows] == i)[0][0]
            arm = []
            for x in (pa[rows][r], pb[rows][r]):
                c = x - t["center"][k]
                c -= box * np.round(c / box)
                arm.append(outside_fraction(float(np.linalg.norm(c)), radius, width) * c)
            leak += q[i - 1] * (arm[1] - arm[0])
        if eps_ext == float(t.attrs["dipole_epsilon_in"]) and mu @ mu > 0:
            leaked = float(np.linalg.norm(leak) / np.linalg.norm(mu))
            ratio_checked.append(leaked)
            check(abs(3 * ratio + 1) <= 0.02 + leaked,
                  f"TLS {k}: mu_eq13/mu_direct {ratio} vs -1/3 (uniform eps) within {0.02 + leaked:.3g} relative "
                  f"(2 % + the leaked dipole {leaked:.3g} of |mu_direct|)")
        # The search stage's own columns from the same states (threshold cases would be ambiguous).
        if not np.any(np.abs(np.sqrt(d2) - MOVING) < 1e-9):
            check(int(t["n_moving"][k]) == int(mv.sum()), f"TLS {k}: n_moving {t['n_moving'][k]} vs {mv.sum()}")
            check(close(t["d_l"][k], d_l_search, 1e-9, 1e-15), f"TLS {k}: d_l {t['d_l'][k]} vs {d_l_search}")
        summary.append(f"TLS {k}: {off[k + 1] - off[k]} mobile, N_d {n_d}, g {g:.4g}, d_L {d_l:.3e}, "
                       f"|mu| {np.linalg.norm(mu) * debye_per_dipole:.4g} D, mu_eq13/mu_direct {ratio:.4f}")
    print("\n".join(summary))
    if ratio_checked:
        tight = sum(1 for v in ratio_checked if v <= 0.01)
        print(f"-1/3 law (uniform eps) checked on {len(ratio_checked)} of {n} TLS, {tight} of them with a leaked "
              f"dipole <= 1 % of |mu_direct| (tolerance <= 3 %); leaks {np.round(ratio_checked, 4).tolist()}")
    return n


if __name__ == "__main__":
    n = main(sys.argv[1])
    if failures:
        print(f"{len(failures)} mismatches")
        sys.exit(1)
    print(f"ok   {n} TLS: mu_direct, n_bonds_moving, bond_dmu2_sum, g, d_L, mu_eq1, debye columns, mu_ratio, "
          f"search d_l and n_moving recomputed from /charge/bonds and the stored states")
