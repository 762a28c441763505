"""`tlsmap-report OUTDIR FILES...`: merge sample files, write PNG figures, report.md and merged.h5.

FILES may be HDF5 files or directories (searched recursively for *.h5). Files that fail validation
are skipped and listed in the report with the reason; the command fails (exit 2) only when no file
is usable. Sections whose data are absent (e.g. /interactions before the interact stage exists)
say "not present in the input files".

--class selects the rows the statistics run over (default tls; all; or a comma list). Each group's
TLS section opens with the rows of every class, states the population used, compares the classes
and gives the density of class tls rows with its window (docs/postprocess.md, "TLS classes,
population and density").
"""

import argparse
import datetime
import os
import sys

import numpy as np

from . import analysis, figures, polar
from .merge import DEFAULT_GROUP_BY, collect_paths, merge, parse_classes, write_merged
from .series import series_section, stability_series

NP = analysis.NOT_PRESENT


def _cell(x):
    return str(x).replace("|", "\\|").replace("\n", " ")


def _table(header, rows):
    out = ["| " + " | ".join(_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _fig(lines, name, caption):
    if name:
        lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]


def _fmt(e, scale=1.0):
    """An Estimate (or None) as 'value ± se', '–' when absent."""
    return "–" if e is None else e.scaled(scale).fmt()


def _domains_cell(done, total):
    """'k of D' domains searched, 'k' without the total, '–' without /search."""
    if not np.isfinite(done):
        return "–"
    return f"{int(done)} of {int(total)}" if np.isfinite(total) else str(int(done))


def _values(samples, ids, name):
    v = np.asarray(samples[name], float)[ids]
    return v[np.isfinite(v)]


def _population_section(L, g, samples):
    """Rows of every class (by method, adjacent, involves_occupied) and the population used."""
    c = g.counts
    L += ["### TLS rows: classes and population", ""]
    if not c:
        L += ["No /tls rows in this group; nothing to count.", ""]
        return
    L += [_table(["class"] + [h for _, h in c["columns"]],
                 [[k] + ["–" if c["rows"][k][key] is None else c["rows"][k][key] for key, _ in c["columns"]]
                  for k in c["order"]]), ""]
    pop = g.population
    L += [("**" + pop.note + "**") if pop.fallback else pop.note, ""]
    facts = []
    merged_rows = _values(samples, g.sample_ids, "n_merged")
    if len(merged_rows):
        absent = len(g.sample_ids) - len(merged_rows)
        facts.append(f"{int(merged_rows.sum())} row(s) merged as duplicates across overlapping domains "
                     f"(/tls attribute n_merged{f'; absent in {absent} file(s)' if absent else ''})")
    tried = _values(samples, g.sample_ids, "n_attempts")
    if len(tried) and tried.sum() > 0:
        n = {k: int(_values(samples, g.sample_ids, k).sum()) for k in ("n_events", "n_failed_exits", "n_failed_climbs")}
        share = 100 * n["n_events"] / tried.sum()
        facts.append(f"{int(tried.sum())} activation attempts in the searched domains that record them "
                     f"({len(tried)} file(s)): {n['n_events']} ({share:.0f} %) reached a verified saddle, "
                     f"{n['n_failed_exits']} found no way out of the basin, {n['n_failed_climbs']} climbs did not "
                     f"converge (/search n_events, n_failed_exits, n_failed_climbs)")
    hbar = np.unique(_values(samples, g.sample_ids, "hbar_reduced"))
    if len(hbar):
        facts.append("ħ* = " + ", ".join(f"{h:.6g}" for h in hbar) + " (/tls attribute hbar_reduced)")
    if facts:
        L += ["; ".join(facts) + ".", ""]


CLASS_COLUMNS = (("asym_abs_K", "median |ε| (K)"), ("asym_K", "median ε = E_B − E_A (K)"),
                 ("barrier_K", "median V (K)"), ("e_qs_K", "median E_qs, adjacent rows (K)"), ("split_K", "median Δ₀ WKB (K)"),
                 ("relax_K", "median ε_relaxed − ε (K)"), ("zpe_K", "median ΔZPE (K)"),
                 ("mu_D", "median |μ_T| (D)"), ("n_moving", "median n_moving"))


def _left_out(g):
    n = {k: d.get("e_qs_left_out", 0) for k, d in g.by_class.items()}
    if not any(n.values()):
        return ""
    return " (left out: " + ", ".join(f"{v} {k}" for k, v in n.items() if v) + ")"


def _class_section(L, g):
    """Every class side by side: what a tls result means next to the classical double wells."""
    if not g.by_class:
        return
    cols = [(k, h) for k, h in CLASS_COLUMNS if any(d.get(k) is not None for d in g.by_class.values())]
    in_pop = set(g.info.get("population_classes", ()))
    L += ["### Classes compared", "",
          "Medians over the rows of each class (jackknife errors over samples); the population of the "
          "statistics is marked. ε is signed (A = the occupied state). E_qs is over adjacent rows only: "
          "a band with an intermediate minimum is not a double well, and its profile's splitting depends on "
          "the band" + _left_out(g) + ".", ""]
    L += [_table(["class", "rows"] + [h for _, h in cols],
                 [[k + (" (population)" if k in in_pop else ""), d["n"]] + [_fmt(d.get(key)) for key, _ in cols]
                  for k, d in g.by_class.items()]), ""]


def _density_section(L, g):
    d = g.density
    L += ["### TLS density (class tls)", ""]
    if not d:
        L += ["n/a: the files have no /tls/class (written before the classification).", ""]
        return
    if "window_eps" in d:
        (e0, e1), (k0, k1) = d["window_eps"], d["window_K"]
        win = (f"E_qs ≤ max_splitting = {e0:.4g} ε = {k0:.4g} K" if e0 == e1 else
               f"E_qs ≤ max_splitting = {e0:.4g}–{e1:.4g} ε = {k0:.4g}–{k1:.4g} K (differs between files)")
        L += [f"Window: {win} (the /tls attribute max_splitting, which defines class tls).", ""]
    else:
        L += [f"Window: not known — {d['window_missing']} file(s) lack the /tls attribute max_splitting; "
              "no density of states.", ""]
    given = f" ({d['n_given']} of method given left out: supplied, not found)" if d["n_given"] else ""
    L += [f"Counted: {d['n']} row(s) of class tls{given}, in {d['n_samples']} of {d['n_samples_group']} "
          f"sample(s) (those with /tls/class), {d['n_beads']} beads in all (every bead of the samples), "
          f"{d['n_domains']} searched domain(s) (/search/domain_done = 1, in {d['domain_samples']} file(s)).", ""]
    if "partial" in d:
        L += [f"- {d['partial']}.", ""]

    def se(e):
        return f"± {e.se:.2g}" if e is not None and e.se == e.se else "n/a (one sample)"

    def poisson(p, n=d["n"]):
        return f"{p['lo']:.3g}–{p['hi']:.3g}" if n else f"< {p['upper95']:.3g} (95 %)"

    rows = [["TLS per bead", f"{d['per_bead'].value:.4g}", se(d["per_bead"]), poisson(d["per_bead_poisson"]),
             "per bead (n_tls / all beads)"]]
    if "per_domain" in d:
        rows.append(["TLS per searched domain", f"{d['per_domain'].value:.4g}", se(d["per_domain"]),
                     poisson(d["per_domain_poisson"], d["n_domain_method"]),
                     f"per domain with /search/domain_done = 1 ({d['n_domain_method']} rows of method domain)"])
    else:
        rows.append(["TLS per searched domain", "n/a", "", "", "no /search/domain_done in these files"])
    if "dos_bead" in d:
        note = "window estimate"
        rows += [["P̄ = n_tls / (N_beads v_bead max_splitting)", f"{d['dos_bead'].value:.4g}", se(d["dos_bead"]),
                  poisson(d["dos_bead_poisson"]), f"per ε per bead volume (v_bead = V/N = {d['v_bead']:.4g} σ³); "
                  + note],
                 ["P̄ per σ³", f"{d['dos_sigma3'].value:.4g}", se(d["dos_sigma3"]),
                  poisson(d["dos_sigma3_poisson"]), "per ε per σ³; " + note],
                 ["P̄ in physical units", f"{d['dos_si'].value:.4g}", se(d["dos_si"]), poisson(d["dos_si_poisson"]),
                  "J⁻¹ m⁻³; " + note + " (typical glasses: P̄ ~ 1e44–1e46 J⁻¹ m⁻³)"]]
    L += [_table(["quantity", "value", "± sample-to-sample (jackknife)", "68 % Poisson", "unit"], rows), ""]


T_G_LAB_K = 300.0  # a typical laboratory T_g, only to show the scale of the T_g mapping


def _conventions(g):
    """How T_g is chosen, how μ_T compares with the experiments' dipole, which ζ the rows use."""
    i, t_g = g.info, g.material.get("t_g")
    L = ["**Conventions.**", ""]
    if t_g is not None:
        eps_K = i["eps_K"]
        L += [f"- *T_g* = {t_g.value:.4g} ε = {t_g.value * eps_K:.4g} K ({t_g.origin}). The paper's T_g is "
              "the temperature at which the glass fell out of equilibrium. For a glass equilibrated by swap "
              "Monte Carlo at T_f (pack.swap = true) that is T_f, used unless /material/t_g or --tg says "
              "otherwise; for a quenched glass it is not known, and the Kob–Andersen mode-coupling T_c = "
              "0.435 stands in for it. Energies in K use the [units] mapping ε = "
              f"{eps_K:g} K. Mapping the model onto a laboratory glass by matching T_g instead scales every "
              f"K value by T_g,lab / T_g(K): {T_G_LAB_K / (t_g.value * eps_K):.3g} for T_g,lab = "
              f"{T_G_LAB_K:g} K."]
    mu = g.mu.get("median_abs") if g.mu else None
    p_txt = (f" Here the median |μ_T|/2 is {mu.scaled(i['debye'] / 2).fmt()} D." if mu is not None else "")
    L += ["- *Dipole*: μ_T = Σ q_i (r_i^B − r_i^A), the whole change of the dipole between the two states. "
          "The standard tunnelling model writes a field's coupling as δΔ = 2 p·F, so the dipole p that "
          "experiments quote (0.1–1 D) corresponds to |μ_T|/2, with respect to the local field; referred to "
          "the applied field it carries a local-field factor (Lorentz: (ε_r + 2)/3)." + p_txt,
          f"- *ζ*: the charge rows (μ_mol, Eqs. 1 and 6) use ζ = charge.zeta = {i['zeta']:g} e, the bead charge. "
          "The paper's ζ² in Eq. 22 is the Coulomb share of the mechanical stiffness (its Eq. 12), which "
          "`tlsmap interact` measures as /material/coulomb_share: the first-order Coulomb part of ρc_s² over the "
          "whole, Born and non-affine terms (docs/elastic.md). "
          + (f"Here ζ² = {g.material['zeta2'].value:.3g} ({g.material['zeta2'].origin}); the Eq. 22/21 row "
             "uses it and shows ζ² = (charge.zeta)² only as a labelled alternative."
             if g.material.get("zeta2") is not None else
             "It is not present in these files, so the Eq. 22/21 row can only use ζ² = (charge.zeta)², a "
             "stand-in, beside the consistent (ζq)²/(ε_r a T_g).")
          + " Passive charges ride on a structure made without them, so a share that is not small (it grows "
          "as ζ²) says the charges are too strong to be passive, not that the glass is ionic.", ""]
    return L


def _interval(t, fmt="{:.3g}"):
    v, lo, hi = t
    if not np.isfinite(v):
        return "–"
    return (fmt + " [" + fmt + ", " + fmt + "]").format(v, lo, hi) if np.isfinite(lo) else fmt.format(v)


def polar_section(merged, groups):
    """The ζ sweep of polar-dimer glasses (tlsmap_post.polar): one row per group of files with bonds."""
    S = merged.samples
    rows = []
    for g in groups:
        paths = [S["path"][k] for k in g.sample_ids if polar.is_polar(S["path"][k])]
        if not paths:
            continue
        changes, kirk, share, born = [], [], [], []
        for p in paths:
            changes += polar.row_bond_changes(p) or []
            kirk.append(polar.kirkwood(*polar.read_molecules(p)))
            share.append(polar.coulomb_share(p))
            born.append(polar.coulomb_share(p, "coulomb_share_affine"))
        st = polar.group_statistics(changes)
        zeta = polar.zeta(paths[0])
        gk = np.array([k[0] for k in kirk])
        gk_cell = (f"{gk[0]:.3f} ± {kirk[0][1]:.3f}" if len(gk) == 1 else
                   f"{gk.mean():.3f} ± {gk.std(ddof=1) / np.sqrt(len(gk)):.3f}")
        share_cell, born_cell = _share_cell(share), _share_cell(born)
        if st["n_rows"]:
            rows.append([g.label, f"{zeta:g}", len(paths), share_cell, born_cell, st["n_rows"],
                         f"{st['mu2_mean']:.3g}", _interval(st["g"]), f"{_interval(st['g_null'])} ({st['n_null']})",
                         _interval(st["eq6_slope"]), gk_cell])
        else:
            rows.append([g.label, f"{zeta:g}", len(paths), share_cell, born_cell, 0, "–", "–", "–", "–", gk_cell])
    if not rows:
        return []
    return ["## Polar glasses: what the charges acting change", "",
            "Files with `/particles/all/bonds` (polar dimers, charges acting while the liquid froze; docs/polar.md), "
            "one row per group. Over every /tls row of the group (all classes): Δμ_b is each molecule's dipole "
            "change between the states. g = ⟨|μ_T|²⟩/⟨Σ_b|Δμ_b|²⟩ (ratio of means, bootstrap 95 % interval over "
            "rows; 1 for uncorrelated molecular rotations). Null test: the same rows with every molecule's sign "
            "redrawn at random (the passive random-sign model), at least 500 pseudo-TLS: it must give 1 within "
            "its interval. Eq. 6 slope: d ln|μ_T|²/d ln Σ|Δμ_b|² (least squares over rows, bootstrap 95 %). "
            "G_K(L/2): the static Kirkwood factor of the glass's molecular dipoles within half the box edge "
            "(± the standard error over molecules for one glass, over glasses for several). ζ²: "
            "/material/coulomb_share, the Coulomb share of ρc_s² measured by `tlsmap pack` (relaxed path); "
            "ζ² Born: /material/coulomb_share_affine, the same along the affine path, without the non-affine "
            "relaxation that makes the relaxed share scatter from glass to glass (docs/elastic.md §4). Both: "
            "the mean ± its standard error over the glasses that have one (their number in brackets).", "",
            _table(["group", "ζ (e)", "glasses", "ζ² (Coulomb share)", "ζ² Born", "rows", "⟨|μ_T|²⟩ (q*σ)²", "g",
                    "null g (pseudo-TLS)", "Eq. 6 slope", "G_K(L/2)"], rows), ""]


def _share_cell(values):
    """A share column's cell: the mean, ± its standard error and the count for several glasses."""
    mean, se, n = polar.share_summary(values)
    if n == 0:
        return NP
    return f"{mean:.3g}" if n == 1 else f"{mean:.3g} ± {se:.2g} ({n})"


def write_report(merged, groups, figs, outdir, argv, points=()):
    L = ["# tlsmap report", "",
         f"Generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} by `tlsmap-report "
         f"{' '.join(argv)}`.", "",
         "Equation numbers refer to Lubchenko, Silbey & Wolynes (2005). Values are given in reduced "
         "Lennard-Jones units and in physical units from each file's unit attributes. Error bars (±) are "
         "one standard error from the sample-to-sample spread (delete-one-sample jackknife; see Methods); "
         "with a single sample they are within-sample block errors and say so.", ""]

    L += ["## Input files", ""]
    S = merged.samples
    rows = []
    for k in range(merged.n_samples):
        n_tls_class = (int(np.sum((merged.tls["sample"] == k) & (merged.tls["class"] == "tls")))
                       if S["classified"][k] else "–")
        rows.append([k, S["path"][k], S["group"][k], S["stages"][k], S["n_beads"][k],
                     f"{S['zeta'][k]:g}", S["n_tls"][k], n_tls_class,
                     _domains_cell(S["n_domains_done"][k], S["n_domains"][k]), S["n_pairs"][k]])
    L += [_table(["sample", "file", "group", "stages", "beads", "ζ (e)", "/tls rows", "class tls",
                  "domains searched", "TLS pairs"], rows), ""]
    if merged.group_keys:
        L += [f"Samples are grouped by the parameters that differ between them: {', '.join(merged.group_keys)}.", ""]
    if merged.skipped:
        L += ["**Skipped files** (incomplete or invalid):", ""]
        L += [f"- {r}" for _, r in merged.skipped] + [""]
    if merged.warnings:
        L += ["**Warnings:**", ""] + [f"- `{p}`: {w}" for p, w in merged.warnings] + [""]

    for g in groups:
        i = g.info
        pop = g.population
        L += [f"## Group: {g.label}", "",
              f"{i['n_samples']} sample(s), {sum(i['n_beads'])} beads in total, stages present: "
              f"{', '.join(i['stages'])}; {g.n_rows} /tls rows, {g.n_tls} in the population "
              f"({pop.label}), {g.n_pairs} TLS pairs (both rows in the population).", ""]
        _population_section(L, g, S)
        _class_section(L, g)
        _density_section(L, g)
        L += ["### Units and material constants", ""]
        mrows = [["ζ", f"{i['zeta']:g} e", f"{i['zeta_q']:.4g} q*", "file: /charge attributes"],
                 ["μ_mol = ζq⟨b⟩", f"{i['mu_mol_debye']:.4g} D", f"{i['mu_mol']:.4g} q*σ",
                  "file: /charge mu_mol_reduced"],
                 ["⟨b⟩ bond length", f"{i['bond_length'] * i['sigma_A']:.4g} Å", f"{i['bond_length']:.4g} σ",
                  "file: /charge bond_length_mean"],
                 ["a = n^(-1/3)", f"{i['a'] * i['sigma_A']:.4g} Å", f"{i['a']:.4g} σ", "box: N / V"],
                 ["σ, ε", f"{i['sigma_A']:g} Å, {i['eps_K']:g} K", "1, 1", "file: root attributes"]]
        for name, sym, unit, phys in (("xi", "ξ", "σ", lambda v: f"{v * i['sigma_A']:.4g} Å"),
                                      ("t_g", "T_g", "ε", lambda v: f"{v * i['eps_K']:.4g} K"),
                                      ("rho", "ρ (mass density)", "m/σ³", lambda v: ""),
                                      ("c_s", "c_s", "σ/τ", lambda v: ""),
                                      ("zeta2", "ζ² (Coulomb share of ρc_s²)", "", lambda v: ""),
                                      ("epsilon_r", "ε_r", "", lambda v: "")):
            v = g.material.get(name)
            if v is None and name == "zeta2":
                mrows.append([sym, "", "", f"{NP} (expected /material/coulomb_share of tlsmap interact); pass --zeta2"])
            elif v is None:
                mrows.append([sym, "", "", f"{NP} (expected /material/sound_speed_l and _t); "
                                           "pass --sound-speed"])
            else:
                mrows.append([sym, phys(v.value), f"{v.value:.4g} {unit}", v.origin])
        L += [_table(["quantity", "physical", "reduced", "origin"], mrows), ""]
        L += _conventions(g)
        for msg in g.messages:
            L += [f"- {msg}"]
        L += [""]
        L += ["### Estimate vs measured", ""]
        if i["n_samples"] >= 2:
            L += [f"Error bars: delete-one-sample jackknife over the {i['n_samples']} samples of this group.", ""]
        else:
            L += ["Error bars: **one sample only** — within-sample jackknife over 10 blocks of TLS; they do "
                  "not include glass-to-glass variation.", ""]
        if g.rows:
            L += [_table(["claim", "population", "paper", "estimate (measured inputs)", "measured", "unit", "note"],
                         [[r["claim"], r["population"], r["paper"], r["estimate"], r["measured"], r["unit"],
                           r["note"]] for r in g.rows]), ""]
        else:
            L += [f"No TLS data: /tls and /interactions are {NP}.", ""]
        if g.energy:
            n_qs = g.energy["level_from_e_qs"]
            level = ("E = E_qs" if n_qs == g.n_tls else
                     "E = √(ε² + Δ₀²), Eq. 20 levels" if not n_qs else
                     f"E = E_qs where known ({n_qs} rows), else √(ε² + Δ₀²)")
            L += [f"TLS density of states over the population ({pop.label}; {level}), per volume and energy:", ""]
            L += [_table(["E ≤", "TLS counted", "sample volume (m³)", "density (J⁻¹ m⁻³)", "95 % upper"],
                         [[f"{d['cut_K']:g} K", d["n"], f"{d['volume_m3']:.3g}", f"{d['value']:.3g}",
                           f"{d['upper95']:.3g}"] for d in g.energy["density"]]), ""]

    L += polar_section(merged, groups)
    L += series_section(points, figs.get("stability_series"))
    L += ["## Figures", "",
          "Every figure but the per-class E_qs one is drawn over each group's population (its TLS section "
          "says which rows).", ""]
    secs = [("mu_distribution", "μ_T distribution (magnitude and components) with the Eq. 1 and Eq. 6 "
                                "estimates; grey band: the experiments the paper quotes (0.1–1 D)", "/tls"),
            ("mu_scaling", "|μ_T|² against μ_mol² N_d (d_L/a)² per TLS: the scaling of Eq. 6", "/tls"),
            ("g_distribution", "g = μ_T²/Σ|Δμ_i|² (the Kirkwood-like factor after Eq. 1)", "/tls"),
            ("eq13_vs_direct", "μ_eq13 against μ_direct (Eq. 13; −1/3 for a uniform-ε sphere)", "/tls/mu_eq13"),
            ("energetics", "P(|asymmetry|), P(barrier), P(Δ₀) in kelvin", "/tls"),
            ("e_qs_distribution", "E_qs = E₁ − E₀ per class (log axis, probability per decade of each class) "
                                  "with the tls window E_qs ≤ max_splitting", "/tls/e_qs"),
            ("relaxed_asymmetry", "ε_relaxed − ε: the asymmetry with every bead free minus the domain one",
             "/tls/asymmetry_relaxed (finite)"),
            ("interaction_angle", "r³J against the dipolar angle factor", "/interactions"),
            ("interaction_scatter", "J_el vs J_dd, J_el vs J_mech (with the Eqs. 22/21 ratio), |J| vs r",
             "/interactions")]
    for key, caption, needs in secs:
        if figs.get(key):
            _fig(L, figs[key], caption)
        else:
            L += [f"- {caption}: {needs} {NP}.", ""]

    L += ["## Methods", "",
          "- **Merging**: every file is one independent sample (glass); rows of /tls and /interactions carry "
          "their sample index (`merged.h5`).",
          "- **Error bars**: delete-one-sample jackknife of the pooled statistic, SE² = (S−1)/S Σ(θ₍ₛ₎ − θ̄)²; "
          "for a mean over equal-size samples this is the standard error of the sample means. Histogram bars: "
          "the same per bin.",
          "- **μ_T**: /tls/mu_direct when present, else Σ q_i (r_i^B − r_i^A) recomputed from the catalogue "
          "(minimum image); when both exist they are compared (warnings above).",
          "- **Eq. 6 per TLS**: μ_mol² N_d (d_L/a)² with μ_mol = ζq⟨b⟩, a = ⟨b⟩ (so = (ζq d_L)² N_d), "
          "N_d = n_moving/2, d_L = /tls/d_l.",
          "- **g**: |μ_T|²/Σ_b|Δμ_b|², Δμ_b = Σ_{i∈b} q_i d_i over the bonds of /charge/bonds.",
          "- **Eq. 1 bracket**: [(ξ/a)³/2]^{1/2} (d_L/a) with a = n^(-1/3), ξ = (4π/3)^{1/3} R.",
          "- **TLS density**: rows of the population with E ≤ E_cut over (total sample volume × E_cut), "
          "E = E_qs where the file has it, else √(ε² + Δ₀²); Garwood 68 % Poisson interval, 95 % upper limit "
          "when none.",
          "- **Eqs. 21/22**: in the σᶻσᶻ convention (J_zz = J/4), the median r³|J_el,zz| over the median "
          "r³|J_mech,zz| of the pairs at r ≥ 3 R_ξ (with all pairs' rms ratio beside it) against ζ²ρc_s²a³/T_g, "
          "ζ² the measured Coulomb share of the stiffness (/material/coulomb_share; Eq. 12).",
          "- **Population**: the statistics run over the rows of the classes given by --class (default tls); "
          "a group without such a row falls back to its double_well rows, labelled; files without /tls/class "
          "are unclassified and taken whole, labelled. Interaction statistics use the pairs whose two rows "
          "are both in the population.",
          "- **TLS density (class tls)**: rows of class tls (method given left out) per bead over every bead "
          "of the samples with /tls/class; rows of method domain per domain with /search/domain_done = 1; "
          "and P̄ = n_tls/(N_beads "
          "v_bead max_splitting), v_bead = V/N: a window estimate (all TLS with E_qs ≤ max_splitting spread "
          "evenly over the window). Error bars: jackknife of Σn/Σ(denominator) over samples, and the Garwood "
          "68 % Poisson interval on n.", ""]
    path = os.path.join(outdir, "report.md")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(L) + "\n")
    os.replace(path + ".tmp", path)
    return path


def parse_args(argv):
    p = argparse.ArgumentParser(prog="tlsmap-report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("outdir", help="directory for report.md, the PNG figures and merged.h5 (created)")
    p.add_argument("files", nargs="+", help="sample HDF5 files or directories holding them")
    p.add_argument("--group-by", default=",".join(DEFAULT_GROUP_BY),
                   help="input keys that define parameter groups (default: %(default)s)")
    p.add_argument("--strict", action="store_true", help="stop at the first invalid file instead of skipping it")
    p.add_argument("--tg", type=float, help="T_g in ε/k_B (default: /material/t_g, else pack.t_final of a swap glass, else 0.435)")
    p.add_argument("--sound-speed", type=float, help="c_s in σ/τ (default: from /material)")
    p.add_argument("--density", type=float, help="mass density in m/σ³ (default: /material/density, else N/V)")
    p.add_argument("--xi", type=float, help="domain size ξ in σ (default: from /tls/radius, else 5.5)")
    p.add_argument("--zeta2", type=float, help="the paper's ζ², the Coulomb share of the stiffness (default: "
                                               "/material/coulomb_share of tlsmap interact)")
    p.add_argument("--epsilon-r", type=float, help="dielectric constant (default: /material/epsilon_r, else 1)")
    p.add_argument("--energy-cuts", default="1,10", help="E_cut values in K for the TLS density (default: 1,10)")
    p.add_argument("--class", dest="classes", default="tls",
                   help="rows the statistics run over: a class (tls, double_well, single_well, unclassified), "
                        "a comma list, or all (default: %(default)s)")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    try:
        classes = parse_classes(args.classes)
    except ValueError as e:
        print(f"tlsmap-report: error: {e}", file=sys.stderr)
        return 2
    paths = collect_paths(args.files)
    if not paths:
        print("tlsmap-report: error: no .h5 files in " + " ".join(args.files), file=sys.stderr)
        return 2
    try:
        merged = merge(paths, strict=args.strict, group_by=tuple(k for k in args.group_by.split(",") if k))
    except Exception as e:  # strict mode: io.SampleError names file and dataset
        print(f"tlsmap-report: error: {e}", file=sys.stderr)
        return 2
    if not merged.n_samples:
        print("tlsmap-report: error: no usable sample file:", file=sys.stderr)
        for _, r in merged.skipped:
            print("  " + r, file=sys.stderr)
        return 2
    os.makedirs(args.outdir, exist_ok=True)
    options = dict(t_g=args.tg, sound_speed=args.sound_speed, density=args.density, xi=args.xi, zeta2=args.zeta2,
                   epsilon_r=args.epsilon_r, classes=classes,
                   energy_cuts_K=tuple(float(x) for x in args.energy_cuts.split(",") if x))
    groups = analysis.analyse(merged, options)
    points = stability_series(merged, groups)
    figs = {} if args.no_figures else figures.make_all(groups, args.outdir)
    if not args.no_figures:
        figs["stability_series"] = figures.stability_series(points, args.outdir)
    write_merged(merged, os.path.join(args.outdir, "merged.h5"))
    path = write_report(merged, groups, figs, args.outdir, argv, points)
    n_fig = sum(1 for v in figs.values() if v)
    print(f"tlsmap-report: {merged.n_samples} sample(s) in {len(groups)} group(s), {len(merged.skipped)} skipped; "
          f"{n_fig} figure(s); wrote {path}")
    for _, r in merged.skipped:
        print(f"tlsmap-report: skipped {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
