#!/usr/bin/python3
"""Numbers of docs/study.md that tlsmap-report does not print: per-sample counts, CPU by stage,
the ζ scaling pair by pair, the sample-to-sample spread of the main ratios, and the geometry of
the domains (overlap, separations). Reads OUT/zeta-*/seed-*/sample.h5 and OUT/timings.tsv.

    /usr/bin/python3 docs/study/study_numbers.py /tmp/study > numbers.md
"""

import collections
import glob
import os
import sys

import h5py
import numpy as np


def load(path):
    with h5py.File(path, "r") as f:
        d = dict(path=path, zeta=float(f["charge"].attrs["zeta"]),
                 debye=float(f.attrs["debye_per_reduced_dipole"]), eps_K=float(f.attrs["epsilon_kelvin"]),
                 box=np.asarray(f["particles/all/box/edges/value"][0], float),
                 e_is=float(f["pack"].attrs["e_is_per_bead"]))
        t = f["tls"]
        for k in ("mu_direct", "mu_eq13", "asymmetry", "barrier", "d_l", "n_moving", "radius", "g_kirkwood",
                  "bond_dmu2_sum", "mobile_offset", "mobile_id", "splitting_kelvin", "neb_converged",
                  "saddle_verified", "intermediate_minima", "domain", "center", "energy_a", "energy_b"):
            d[k] = t[k][...]
        d["n_tls"] = len(d["asymmetry"])
        if "interactions" in f:
            g = f["interactions"]
            for k in ("i", "j", "r", "j_el", "j_dd", "j_dd_periodic", "j_mech"):
                d["I_" + k] = g[k][...]
            d["mech_response"] = g.attrs.get("mech_response", b"?")
            d["mech_response"] = d["mech_response"].decode() if isinstance(d["mech_response"], bytes) \
                else str(d["mech_response"])
            d["n_pairs"] = len(g["i"])
            d["four_state"] = g["check_j_four_state"][...] if "check_j_four_state" in g else np.zeros(0)
            d["net_force"] = g["mech_net_force"][...] if "mech_net_force" in g else np.zeros(0)
        else:
            d["n_pairs"] = 0
        if "material" in f:
            d["material"] = dict(f["material"].attrs)
    return d


def exchange_only(f, k, dedup=0.05):
    """TLS k of file f is a relabelling of identical beads (A and B the same structure): every mobile
    bead's B position is within dedup of some same-species bead's A position (minimum image)."""
    t = f["tls"]
    o = t["mobile_offset"][k:k + 2]
    ids = t["mobile_id"][o[0]:o[1]]
    pa, pb = t["position_a"][o[0]:o[1]], t["position_b"][o[0]:o[1]]
    L = np.asarray(f["particles/all/box/edges/value"][0], float)
    sp = f["particles/all/species/value"][0][ids - 1]
    for i in range(len(ids)):
        d = pa[sp == sp[i]] - pb[i]
        d -= L * np.round(d / L)
        if np.min(np.linalg.norm(d, axis=1)) > dedup:
            return False
    return True


def jackknife(cols, sample, fn):
    """Pooled statistic fn(cols) and its delete-one-sample jackknife SE (as tlsmap-report)."""
    theta = fn(cols)
    ids = np.unique(sample)
    th = np.array([fn({k: v[sample != s] for k, v in cols.items()}) for s in ids])
    S = len(ids)
    return theta, np.sqrt((S - 1) / S * np.sum((th - th.mean()) ** 2))


def mean_se(x):
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return f"{x.mean():.3g}" if len(x) else "–"
    return f"{x.mean():.3g} ± {x.std(ddof=1) / np.sqrt(len(x)):.2g}"


def main(out):
    files = sorted(glob.glob(os.path.join(out, "zeta-*", "seed-*", "sample.h5")))
    S = []
    for p in files:
        with h5py.File(p, "r") as f:
            if "tls" not in f or "mu_eq13" not in f["tls"]:
                print(f"(skipped {p}: no /tls or no dipole stage yet)")
                continue
        S.append(load(p))
    for s in S:
        s["seed"] = int(os.path.basename(os.path.dirname(s["path"])).split("-")[1])
    zetas = sorted({s["zeta"] for s in S})
    seeds = sorted({s["seed"] for s in S})
    by = {(s["zeta"], s["seed"]): s for s in S}

    print("## Samples\n")
    print("| ζ | seed | e_IS (ε/bead) | TLS | NEB converged | saddle verified | pairs | J_mech mode |")
    print("|---|---|---|---|---|---|---|---|")
    for s in S:
        print(f"| {s['zeta']:g} | {s['seed']} | {s['e_is']:.4f} | {s['n_tls']} | {int(s['neb_converged'].sum())} | "
              f"{int(s['saddle_verified'].sum())} | {s['n_pairs']} | {s.get('mech_response', '–')} |")
    for z in zetas:
        ss = [s for s in S if s["zeta"] == z]
        print(f"\nζ = {z:g}: {len(ss)} samples, {sum(s['n_tls'] for s in ss)} TLS, "
              f"{sum(s['n_pairs'] for s in ss)} TLS pairs.")

    tsv = os.path.join(out, "timings.tsv")
    if os.path.exists(tsv):
        rows = [line.rstrip("\n").split("\t") for line in open(tsv)][1:]
        cpu, wall = collections.defaultdict(float), collections.defaultdict(float)
        for r in rows:
            r[2] = r[2] + {"pair": " (pair check)", "budget": " (budget check)"}.get(r[0], "")
            cpu[r[2]] += float(r[4])
            wall[r[2]] += float(r[3])
        print("\n## CPU time (all ranks, from /usr/bin/time on mpiexec)\n")
        print("| stage | runs | CPU (s) | wall (s) |")
        print("|---|---|---|---|")
        count = collections.Counter(r[2] for r in rows)
        for st in cpu:
            print(f"| {st} | {count[st]} | {cpu[st]:.0f} | {wall[st]:.0f} |")
        print(f"| total | {len(rows)} | {sum(cpu.values()):.0f} ({sum(cpu.values()) / 60:.1f} core-min) | "
              f"{sum(wall.values()):.0f} |")

    # Per-sample values of the main ratios: their spread is what the report's jackknife bars summarise.
    print("\n## Per-sample values (ζ-independent ones from the first ζ)\n")
    print("| ζ | seed | rms μ_T (D) | ⟨μ_T²⟩/⟨(ζq d_L)² n_mov/2⟩ | ⟨μ_T²⟩/⟨Σ|Δμ|²⟩ | Eq. 13 slope | ⟨d_L⟩ (σ) | "
          "⟨n_moving⟩ | ⟨ε⟩ (K) | rms r³J_el / rms r³J_mech |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    per = collections.defaultdict(list)
    for s in S:
        mu = s["mu_direct"]
        mu2 = np.einsum("ij,ij->i", mu, mu)
        with h5py.File(s["path"], "r") as f:
            zq = float(f["charge"].attrs["charge_reduced"])
        est2 = (zq * s["d_l"]) ** 2 * s["n_moving"] / 2
        m13 = s["mu_eq13"]
        slope = float(np.sum(mu * m13) / np.sum(mu * mu))
        vals = dict(rms=np.sqrt(mu2.mean()) * s["debye"], eq6=mu2.mean() / est2.mean(),
                    g=mu2.mean() / s["bond_dmu2_sum"].mean(), slope=slope, dl=s["d_l"].mean(),
                    nm=s["n_moving"].mean(), asym=np.abs(s["asymmetry"]).mean() * s["eps_K"])
        if s["n_pairs"]:
            r3 = np.linalg.norm(s["I_r"], axis=1) ** 3
            vals["el_mech"] = np.sqrt(np.mean((r3 * s["I_j_el"]) ** 2) / np.mean((r3 * s["I_j_mech"]) ** 2))
        for k, v in vals.items():
            per[(s["zeta"], k)].append(v)
        print(f"| {s['zeta']:g} | {s['seed']} | {vals['rms']:.3g} | {vals['eq6']:.3g} | {vals['g']:.3g} | "
              f"{vals['slope']:.4f} | {vals['dl']:.3f} | {vals['nm']:.1f} | {vals['asym']:.0f} | "
              f"{vals.get('el_mech', float('nan')):.3g} |")
    print("\nMean ± standard error of the per-sample values (S samples, std/√S):\n")
    print("| ζ | rms μ_T (D) | Eq. 6 ratio | g ratio | Eq. 13 slope | ⟨ε⟩ (K) | J_el/J_mech |")
    print("|---|---|---|---|---|---|---|")
    for z in zetas:
        print(f"| {z:g} | " + " | ".join(mean_se(per[(z, k)]) for k in ("rms", "eq6", "g", "slope", "asym", "el_mech"))
              + " |")

    # Robustness: the report's numbers without TLS whose A and B are the same structure (a swap of
    # two identical beads; in the passive-charge model still a charge change, but no LJ event).
    print("\n## Without same-structure pairs (bead exchanges)\n")
    for z in zetas:
        cols = collections.defaultdict(list)
        flagged = []
        for s in [x for x in S if x["zeta"] == z]:
            with h5py.File(s["path"], "r") as f:
                zq = float(f["charge"].attrs["charge_reduced"])
                ex = np.array([exchange_only(f, k) for k in range(s["n_tls"])], bool)
            flagged += [f"seed {s['seed']} TLS {k} (n_moving {s['n_moving'][k]}, d_L {s['d_l'][k]:.3f} σ, "
                        f"ε {abs(s['asymmetry'][k]) * s['eps_K']:.2g} K, |μ_T| "
                        f"{np.linalg.norm(s['mu_direct'][k]) * s['debye']:.3g} D)" for k in np.flatnonzero(ex)]
            keep = ~ex
            mu2 = np.einsum("ij,ij->i", s["mu_direct"], s["mu_direct"])[keep]
            cols["mu2"] += list(mu2 * s["debye"] ** 2)
            cols["est2"] += list(((zq * s["d_l"]) ** 2 * s["n_moving"] / 2)[keep] * s["debye"] ** 2)
            cols["sum"] += list(s["bond_dmu2_sum"][keep] * s["debye"] ** 2)
            cols["dl"] += list(s["d_l"][keep])
            cols["bracket"] += list((np.sqrt(s["n_moving"] / 2) * s["d_l"] / (1000 / np.prod(s["box"])) ** (-1 / 3))[keep])
            cols["asym"] += list(np.abs(s["asymmetry"][keep]) * s["eps_K"])
            cols["sample"] += [s["seed"]] * int(keep.sum())
        c = {k: np.asarray(v, float) for k, v in cols.items()}
        smp = c.pop("sample")
        res = dict(
            rms=jackknife(c, smp, lambda c: np.sqrt(np.mean(c["mu2"]))),
            eq6=jackknife(c, smp, lambda c: np.mean(c["mu2"]) / np.mean(c["est2"])),
            g=jackknife(c, smp, lambda c: np.mean(c["mu2"]) / np.mean(c["sum"])),
            step=jackknife(c, smp, lambda c: np.mean(c["sum"]) / np.mean(c["est2"])),
            dl=jackknife(c, smp, lambda c: np.mean(c["dl"])),
            bracket=jackknife(c, smp, lambda c: np.mean(c["bracket"])),
            asym=jackknife(c, smp, lambda c: np.mean(c["asym"])),
            below10=jackknife(c, smp, lambda c: float(np.sum(c["asym"] <= 10.0))))
        print(f"ζ = {z:g}: excluded {len(flagged)}: " + ("; ".join(flagged) if flagged else "none"))
        print(f"  {len(smp)} TLS: rms μ_T {res['rms'][0]:.3g} ± {res['rms'][1]:.2g} D; Eq. 6 ratio "
              f"{res['eq6'][0]:.3g} ± {res['eq6'][1]:.2g}; ⟨μ_T²⟩/⟨Σ|Δμ|²⟩ {res['g'][0]:.3g} ± {res['g'][1]:.2g}; "
              f"bond-step ratio {res['step'][0]:.3g} ± {res['step'][1]:.2g}; ⟨d_L⟩ {res['dl'][0]:.3g} ± "
              f"{res['dl'][1]:.2g} σ; bracket per TLS {res['bracket'][0]:.3g} ± {res['bracket'][1]:.2g}; "
              f"⟨ε⟩ {res['asym'][0]:.3g} ± {res['asym'][1]:.2g} K; TLS with ε ≤ 10 K: {int(res['below10'][0])}")
    a_all = np.concatenate([np.abs(x["asymmetry"]) * x["eps_K"] for x in S if x["zeta"] == zetas[0]])
    print(f"asymmetry quantiles (K, all {len(a_all)}): " + ", ".join(
        f"{q:.0%} {np.quantile(a_all, q):.3g}" for q in (0.1, 0.25, 0.5, 0.75, 0.9)))

    # g under the model's own null: bond signs independent, so E_signs[μ_T²] = Σ|Δμ_b|² exactly.
    # Redraw every bond's sign 2000 times and see where the measured ⟨μ_T²⟩/⟨Σ|Δμ_b|²⟩ falls.
    rng = np.random.default_rng(12345)
    V = []
    for s in [x for x in S if x["zeta"] == zetas[0]]:
        with h5py.File(s["path"], "r") as f:
            q = f["particles/all/charge/value"][0]
            bonds = f["charge/bonds"][...]
            L = np.asarray(f["particles/all/box/edges/value"][0], float)
            t = f["tls"]
            off = t["mobile_offset"][...]
            for k in range(s["n_tls"]):
                ids = t["mobile_id"][off[k]:off[k + 1]]
                d = t["position_b"][off[k]:off[k + 1]] - t["position_a"][off[k]:off[k + 1]]
                d -= L * np.round(d / L)
                disp = np.zeros((len(q) + 1, 3))
                disp[ids] = d
                v = q[bonds[:, 0] - 1, None] * disp[bonds[:, 0]] + q[bonds[:, 1] - 1, None] * disp[bonds[:, 1]]
                V.append(v[np.any(v != 0, axis=1)])
    tot = sum(float(np.sum(v * v)) for v in V)
    meas = sum(float(np.sum(v.sum(axis=0) ** 2)) for v in V) / tot
    null = np.empty(2000)
    for it in range(len(null)):
        null[it] = sum(float(np.sum((rng.choice((-1.0, 1.0), len(v))[:, None] * v).sum(axis=0) ** 2)) for v in V) / tot
    print(f"\n## g under random bond signs (the model's null, {len(V)} TLS)\n")
    print(f"measured ⟨μ_T²⟩/⟨Σ|Δμ_b|²⟩ = {meas:.3g}; with every bond sign redrawn (2000 draws): mean "
          f"{null.mean():.3g}, std {null.std():.2g}, 2.5–97.5 % {np.quantile(null, 0.025):.3g}–"
          f"{np.quantile(null, 0.975):.3g}; fraction of draws ≤ measured {np.mean(null <= meas):.2g}")

    # ζ scaling, TLS by TLS and pair by pair (same glass, same catalogue, charges × ζ2/ζ1).
    if len(zetas) >= 2:
        z1, z2 = zetas[0], zetas[-1]
        rmu, rel, rmech = [], [], []
        for seed in seeds:
            a, b = by.get((z1, seed)), by.get((z2, seed))
            if a is None or b is None:
                continue
            rmu += list(np.linalg.norm(b["mu_direct"], axis=1) / np.linalg.norm(a["mu_direct"], axis=1))
            if a["n_pairs"] and b["n_pairs"]:
                rel += list(b["I_j_el"] / a["I_j_el"])
                rmech += list(b["I_j_mech"] / a["I_j_mech"])
        print(f"\n## ζ scaling, ζ = {z2:g} over ζ = {z1:g} (same TLS, same pairs)\n")
        print(f"|μ_T| ratio per TLS: min {min(rmu):.12g}, max {max(rmu):.12g} (ζ ratio {z2 / z1:g})")
        if rel:
            print(f"J_el ratio per pair: min {min(rel):.9g}, max {max(rel):.9g} ((ζ ratio)² {(z2 / z1) ** 2:g})")
            print(f"J_mech ratio per pair: min {min(rmech):.9g}, max {max(rmech):.9g}")

    # Geometry: the domains of a 1000-bead box.
    s = S[0]
    R = float(np.mean(s["radius"]))
    L = s["box"]
    print("\n## Domain geometry\n")
    print(f"box edges {L[0]:.4f} σ; domain radius R = {R:.4f} σ (2R = {2 * R:.3f} σ)")
    allr = np.concatenate([np.linalg.norm(x["I_r"], axis=1) for x in S if x["n_pairs"]]) if any(
        x["n_pairs"] for x in S) else np.zeros(0)
    if len(allr):
        vals, counts = np.unique(np.round(allr, 3), return_counts=True)
        print("pair separations (σ): " + ", ".join(f"{v:g} ({c} pairs)" for v, c in zip(vals, counts)))
        print(f"pairs with r < 2R (domain spheres overlap): {int(np.sum(allr < 2 * R))} of {len(allr)}")
    shared = []
    for x in S:
        if x["zeta"] != zetas[0] or not x["n_pairs"]:
            continue
        off, ids = x["mobile_offset"], x["mobile_id"]
        sets = [set(ids[off[k]:off[k + 1]].tolist()) for k in range(x["n_tls"])]
        for i, j in zip(x["I_i"], x["I_j"]):
            shared.append(len(sets[i] & sets[j]))
    if shared:
        print(f"mobile beads shared by the two TLS of a pair: median {np.median(shared):.0f}, "
              f"min {min(shared)}, max {max(shared)}")
    # J_el against the point-dipole forms: minimum image and the periodic (Ewald) sum.
    sel = [x for x in S if x["n_pairs"]]
    if sel:
        el = np.concatenate([x["I_j_el"] for x in sel])
        dd = np.concatenate([x["I_j_dd"] for x in sel])
        ddp = np.concatenate([x["I_j_dd_periodic"] for x in sel])
        ok = np.isfinite(el) & np.isfinite(dd) & np.isfinite(ddp)  # same-domain rows (r = 0) have no J_dd
        el, dd, ddp = el[ok], dd[ok], ddp[ok]
        corr = lambda u, v: np.corrcoef(u, v)[0, 1]
        print(f"J_el vs J_dd (minimum image): slope {np.sum(el * dd) / np.sum(dd * dd):.3g}, "
              f"correlation {corr(el, dd):.2f}; vs J_dd periodic: slope {np.sum(el * ddp) / np.sum(ddp * ddp):.3g}, "
              f"correlation {corr(el, ddp):.2f}; rms J_el / rms J_dd_periodic "
              f"{np.sqrt(np.mean(el ** 2) / np.mean(ddp ** 2)):.3g}")
        fs = np.concatenate([x["four_state"] for x in sel])
        print(f"four-state checks run: {len(fs)}")
        nf = np.concatenate([x["net_force"] for x in sel])
        if len(nf):
            print(f"force dipoles: largest |Σf|/Σ|f| {nf.max():.2g} (held assumes force-free TLS)")
    # "held" (default) against the exact pair-clamped J_mech on the same pairs.
    held, pair = [], []
    for x in S:
        if x["zeta"] != zetas[0] or not x["n_pairs"]:
            continue
        p = os.path.join(out, "pair", f"seed-{x['seed']}", "sample.h5")
        if not os.path.exists(p):
            continue
        with h5py.File(p, "r") as f:
            if "interactions" not in f or f["interactions"].attrs.get("mech_response", b"") not in (b"pair", "pair"):
                continue
            held.append(x["I_j_mech"])
            pair.append(f["interactions/j_mech"][...])
    if held:
        h, q = np.concatenate(held), np.concatenate(pair)
        rel = np.abs(h - q) / np.abs(q)
        print(f"\nJ_mech held vs pair ({len(h)} pairs, {len(held)} samples): slope held/pair "
              f"{np.sum(h * q) / np.sum(q * q):.3g}, correlation {np.corrcoef(h, q)[0, 1]:.2f}, "
              f"rms held / rms pair {np.sqrt(np.mean(h ** 2) / np.mean(q ** 2)):.3g}, "
              f"median |held − pair|/|pair| {np.median(rel):.2g}, same sign {np.mean(np.sign(h) == np.sign(q)):.0%}")
        allr = np.concatenate([np.linalg.norm(x["I_r"], axis=1) for x in S
                               if x["zeta"] == zetas[0] and x["n_pairs"] and
                               os.path.exists(os.path.join(out, "pair", f"seed-{x['seed']}", "sample.h5"))])
        for rv in np.unique(np.round(allr, 3)):
            m = np.round(allr, 3) == rv
            print(f"  r = {rv:g} σ: {m.sum()} pairs, rms held / rms pair "
                  f"{np.sqrt(np.mean(h[m] ** 2) / np.mean(q[m] ** 2)):.3g}, median rel. difference {np.median(rel[m]):.2g}")
    # Search budget: the same glasses searched again with more attempts per domain.
    bud = sorted(glob.glob(os.path.join(out, "budget", "seed-*", "sample.h5")))
    rows = []
    for p in bud:
        seed = int(os.path.basename(os.path.dirname(p)).split("-")[1])
        base = by.get((zetas[0], seed))
        if base is None:
            continue
        with h5py.File(p, "r") as f:
            if "tls" not in f or "search" not in f:
                continue
            a = f["search"].attrs
            if a.get("max_attempts", 10) == 10 or a.get("n_done", 0) != a.get("n_domains", -1):
                continue    # still the copy of the 10-attempt file, or unfinished
            att = int(a["max_attempts"])
            t = {k: f["tls/" + k][...] for k in ("domain", "asymmetry", "energy_a", "energy_b", "n_moving", "d_l",
                                                  "mu_direct", "barrier")}
            nmin1 = f["search/n_minima"][...]
            exch = [exchange_only(f, k) for k in range(len(t["domain"]))]
        with h5py.File(base["path"], "r") as f:
            nmin0 = f["search/n_minima"][...]
        # Per domain (a domain has one row per pair adjacent to its occupied state): the rows found,
        # the lowest |ε| among them, and whether that lowest-|ε| pair is the same pair of minima.
        for dom in np.unique(t["domain"]):
            j = np.flatnonzero(base["domain"] == dom)
            k = np.flatnonzero(t["domain"] == dom)
            if not len(j) or not len(k):
                continue
            j0 = j[np.argmin(np.abs(base["asymmetry"][j]))]
            k0 = k[np.argmin(np.abs(t["asymmetry"][k]))]
            same = (abs(t["energy_a"][k0] - base["energy_a"][j0]) < 1e-6
                    and abs(t["energy_b"][k0] - base["energy_b"][j0]) < 1e-6)
            rows.append((seed, int(dom), f"{nmin0[dom]} → {nmin1[dom]}", f"{len(j)} → {len(k)}",
                         abs(base["asymmetry"][j0]) * base["eps_K"], abs(t["asymmetry"][k0]) * base["eps_K"],
                         (t["energy_a"][k0] - base["energy_a"][j0]) * base["eps_K"], same,
                         int(base["n_moving"][j0]), int(t["n_moving"][k0]),
                         np.linalg.norm(base["mu_direct"][j0]) * base["debye"],
                         np.linalg.norm(t["mu_direct"][k0]) * base["debye"], bool(exch[k0]),
                         np.abs(base["asymmetry"][j]) * base["eps_K"], np.abs(t["asymmetry"][k]) * base["eps_K"]))
    if rows:
        print(f"\n## Search budget: the same domains with 10 and {att} attempts\n")
        print("Per domain: the lowest-|ε| row of the domain's catalogue (its rows are the pairs adjacent to the "
              "occupied state).\n")
        print("| seed | domain | minima found | rows | lowest \\|ε\\| (K) | E_A shift (K) | same pair | n_moving | "
              "|μ_T| (D, ζ = 0.1) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.3g} → {r[5]:.3g}{' (bead exchange)' if r[12] else ''} | "
                  f"{r[6]:.3g} | {'yes' if r[7] else 'no'} | {r[8]} → {r[9]} | {r[10]:.3g} → {r[11]:.3g} |")
        e0 = np.array([r[4] for r in rows]); e1 = np.array([r[5] for r in rows])
        all0 = np.concatenate([r[13] for r in rows]); all1 = np.concatenate([r[14] for r in rows])
        print(f"\n{len(rows)} domains: lowest-|ε| pair the same in {sum(r[7] for r in rows)}; occupied state A "
              f"lower in {sum(r[6] < -1e-6 for r in rows)}; lowest |ε| per domain: mean {e0.mean():.3g} → "
              f"{e1.mean():.3g} K, median {np.median(e0):.3g} → {np.median(e1):.3g} K; rows {len(all0)} → {len(all1)}, "
              f"median |ε| of all rows {np.median(all0):.3g} → {np.median(all1):.3g} K; rows with |ε| ≤ 10 K "
              f"{int(np.sum(all0 <= 10))} → {int(np.sum(all1 <= 10))}, ≤ 25 K {int(np.sum(all0 <= 25))} → "
              f"{int(np.sum(all1 <= 25))}; bead exchanges among the lowest rows: {sum(r[12] for r in rows)}")

    shares = [x for x in S if "material" in x and "coulomb_share" in x["material"]]
    if shares:
        print("\n## Coulomb share of the stiffness per sample (/material, first order in the charges)\n")
        print("| ζ | seed | ζ² (of ρc_s²) | K share | G share | K^c (ε/σ³) | G^c (ε/σ³) | step h | path check |")
        print("|---|---|---|---|---|---|---|---|---|")
        for x in shares:
            m = x["material"]
            print(f"| {x['zeta']:g} | {x['seed']} | {m['coulomb_share']:.4g} | {m['coulomb_share_bulk']:.3g} | "
                  f"{m['coulomb_share_shear']:.3g} | {m['bulk_modulus_coulomb']:.4g} | {m['shear_modulus_coulomb']:.4g} | "
                  f"{m['coulomb_strain']:.2g} | {m['coulomb_path_check']:.2g} |")
        for z in zetas:
            v = np.array([x["material"]["coulomb_share"] for x in shares if x["zeta"] == z])
            if len(v):
                print(f"\nζ = {z:g}: ζ² mean {v.mean():.3g} ± {v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0:.2g} "
                      f"(standard error), range {v.min():.3g} … {v.max():.3g}")
        if len(zetas) > 1:
            r = [y["material"]["shear_modulus_coulomb"] / x["material"]["shear_modulus_coulomb"]
                 for x in shares for y in shares if x["zeta"] == zetas[0] and y["zeta"] == zetas[1] and x["seed"] == y["seed"]]
            if r:
                print(f"G^c(ζ = {zetas[1]:g}) / G^c(ζ = {zetas[0]:g}) per seed: {min(r):.6g} … {max(r):.6g}")

    mats = [x["material"] for x in S if "material" in x and x["zeta"] == zetas[0]]
    if mats:
        print("\n## Material (/material, mean ± std over samples)\n")
        for k in ("pressure", "bulk_modulus", "shear_modulus", "sound_speed_longitudinal", "sound_speed_transverse",
                  "coulomb_share", "coulomb_share_bulk", "coulomb_share_shear", "bulk_modulus_coulomb",
                  "shear_modulus_coulomb", "coulomb_path_check"):
            if not all(k in m for m in mats):
                continue
            v = np.array([m[k] for m in mats], float)
            print(f"- {k}: {v.mean():.4g} ± {v.std(ddof=1) if len(v) > 1 else 0:.2g}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/study")
