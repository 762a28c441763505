"""PNG figures of the report (matplotlib, Agg backend: no display needed on cluster nodes).

Each function takes the analysis.GroupResult list, draws every parameter group in its own colour
and returns the file name it wrote, or None when the data are not in the input files. Error bars
on histograms are the jackknife-over-samples errors of stats.histogram.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import estimates as est  # noqa: E402
from . import stats  # noqa: E402

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _save(fig, outdir, name):
    path = os.path.join(outdir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return name


def log_histogram(values, sample, n_bins):
    """Histogram of positive values in n_bins bins of equal log width (or n_bins = the edges in
    log10 x), as probability per decade (sums to 1 over the decades): (edges, h, se), se the jackknife
    error per bin.

    Binned in log10(x), so h is the density per unit log10 x directly. (The earlier h(x)·x·ln 10 at
    the bin centre was exact only for narrow bins, 5x low for Δ₀ bins three decades wide, and the
    densities per unit x of bins near 1e-250 K overflowed in the jackknife: inf error bars.)"""
    lv = np.log10(np.asarray(values, float))
    if np.ndim(n_bins):            # given edges in log10 x (several classes on one common binning)
        log_edges = np.asarray(n_bins, float)
    else:
        log_edges = np.linspace(lv.min() - 0.05, lv.max() + 0.05, n_bins + 1)
    log_edges, h, se = stats.histogram(lv, sample, log_edges)
    return 10.0 ** log_edges, h, se


def _symlog_if_outliers(ax, y, axis="y"):
    """A few pairs can be 100x the bulk (touching domains); on a linear axis they squash the rest to
    a line. Then use a symmetric log axis, linear within the 90th percentile of |y|."""
    y = np.abs(np.asarray(y, float))
    y = y[np.isfinite(y)]
    if len(y) < 5:
        return
    lin = float(np.percentile(y, 90))
    if lin > 0 and y.max() > 10 * lin:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("symlog", linthresh=lin)
        (ax.set_ylabel if axis == "y" else ax.set_xlabel)(
            (ax.get_ylabel() if axis == "y" else ax.get_xlabel()) + f"  [symlog, linear below {lin:.2g}]")


def _hist(ax, values, sample, bins, color, label, log=False):
    values = np.asarray(values)
    ok = np.isfinite(values) & ((values > 0) if log else True)
    values, sample = values[ok], np.asarray(sample)[ok]
    if len(values) == 0:
        return
    if log:   # probability per decade, so bins of equal log width compare fairly
        edges, h, se = log_histogram(values, sample, bins)
        mid = np.sqrt(edges[1:] * edges[:-1])
    else:
        edges, h, se = stats.histogram(values, sample, bins)
        mid = 0.5 * (edges[1:] + edges[:-1])
    ax.stairs(h, edges, color=color, label=label)
    ax.errorbar(mid, h, yerr=np.nan_to_num(se), fmt="none", ecolor=color, alpha=0.6, capsize=2)
    if log:
        ax.set_xscale("log")


def mu_distribution(groups, outdir):
    gs = [g for g in groups if g.mu]
    if not gs:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    lo, hi = est.PAPER_EXPERIMENT_RANGE_DEBYE
    ax1.axvspan(lo, hi, color="0.9", label="experiments quoted by the paper (0.1–1 D)")
    for k, g in enumerate(gs):
        c = COLORS[k % len(COLORS)]
        D = g.info["debye"]
        mu_abs = g.mu["mu_abs"] * D
        _hist(ax1, mu_abs, g.mu["sample"], 20, c, f"{g.label}: |μ_T| (n = {g.n_tls})", log=True)
        # Maxwell law of |μ| if the components were iid Gaussian with the measured ⟨μ²⟩.
        s2 = np.mean(mu_abs ** 2) / 3
        pos = mu_abs[mu_abs > 0]
        x = np.logspace(np.log10(pos.min() / 2), np.log10(pos.max() * 2), 200) if len(pos) else np.ones(1)
        ax1.plot(x, np.log(10) * x * np.sqrt(2 / np.pi) * x ** 2 / s2 ** 1.5 * np.exp(-x ** 2 / (2 * s2)), color=c, ls=":",
                 lw=1, label="Maxwell law, same ⟨μ²⟩")
        ax1.axvline(g.mu["est_rms_eq6"].value * D, color=c, ls="--", label="Eq. 6 estimate (rms)")
        ax1.axvline(g.mu["est_eq1"].value * D, color=c, ls="-.", label="Eq. 1 with ξ, ⟨d_L⟩")
        mu_vec = g.mu["mu_vec"] * D
        sample3 = np.repeat(g.mu["sample"], 3)
        _hist(ax2, mu_vec.ravel(), sample3, 25, c, f"{g.label}: μ_x, μ_y, μ_z")
        xs = np.linspace(mu_vec.min(), mu_vec.max(), 200) if mu_vec.size else np.zeros(1)
        ax2.plot(xs, np.exp(-xs ** 2 / (2 * s2)) / np.sqrt(2 * np.pi * s2), color=c, ls=":", lw=1,
                 label="Gaussian, variance ⟨μ²⟩/3")
    ax1.set_xlabel("|μ_T| (Debye, log scale)")
    ax1.set_ylabel("probability per decade")
    ax1.set_title("transition dipole magnitude")
    ax1.set_ylim(0, ax1.get_ylim()[1] * 1.6)      # room for the legend above the histograms
    ax1.legend(fontsize=6, ncol=2, loc="upper left")
    ax2.set_xlabel("μ_T component (Debye)")
    ax2.set_title("components (pooled x, y, z)")
    ax2.legend(fontsize=7)
    return _save(fig, outdir, "mu_t_distribution.png")


def mu_scaling(groups, outdir):
    gs = [g for g in groups if g.mu]
    if not gs:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    allx = []
    for k, g in enumerate(gs):
        c = COLORS[k % len(COLORS)]
        D2 = g.info["debye"] ** 2
        x, y = g.mu["est2"] * D2, g.mu["mu2"] * D2
        ok = (x > 0) & (y > 0)
        ax.scatter(x[ok], y[ok], s=8, color=c, alpha=0.6,
                   label=f"{g.label}: ⟨μ_T²⟩/est = {g.mu['ratio_eq6'].fmt()}")
        allx += list(x[ok])
    if allx:
        xs = np.array([min(allx), max(allx)])
        ax.plot(xs, xs, "k--", label="Eq. 6: μ_T² = μ_mol² N_d (d_L/a)²")
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("μ_mol² N_d (d_L/a)²  per TLS (D²)")
    ax.set_ylabel("|μ_T|² (D²)")
    ax.set_title("Eq. 6 scaling across TLS")
    ax.legend(fontsize=7)
    return _save(fig, outdir, "mu_t2_vs_eq6.png")


def g_distribution(groups, outdir):
    gs = [g for g in groups if len(g.g.get("g", []))]
    if not gs:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for k, g in enumerate(gs):
        _hist(ax, g.g["g"], g.g["sample"], 20, COLORS[k % len(COLORS)],
              f"{g.label}: mean {g.g['mean'].fmt()}", log=True)
    ax.axvline(1, color="k", ls="--", label="g = 1 (uncorrelated)")
    ax.axvline(2, color="0.5", ls=":", label="g ≈ 2 (paper: 'typically')")
    ax.set_xlabel("g = μ_T² / Σ|Δμ_i|²")
    ax.set_ylabel("probability per decade")
    ax.set_title("Kirkwood-like correlation factor")
    ax.legend(fontsize=7)
    return _save(fig, outdir, "g_factor.png")


def eq13_vs_direct(groups, outdir):
    gs = [g for g in groups if g.eq13]
    if not gs:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    lim = 0
    for k, g in enumerate(gs):
        c = COLORS[k % len(COLORS)]
        D = g.info["debye"]
        x, y = g.eq13["direct"].ravel() * D, g.eq13["eq13"].ravel() * D
        ax1.scatter(x, y, s=6, color=c, alpha=0.6, label=f"{g.label}: slope {g.eq13['slope'].fmt()}")
        lim = max(lim, np.abs(x).max(initial=0))
        _hist(ax2, g.eq13["projection"], g.eq13["projection_sample"], 25, c, g.label)
    xs = np.array([-lim, lim])
    ax1.plot(xs, est.EQ13_SPHERE_RATIO * xs, "k--", label="μ_eq13 = −μ_direct/3 (uniform-ε sphere)")
    ax1.set_xlabel("μ_direct component (D)")
    ax1.set_ylabel("μ_eq13 component (D)")
    ax1.legend(fontsize=7)
    ax2.axvline(est.EQ13_SPHERE_RATIO, color="k", ls="--", label="−1/3")
    ax2.set_xlabel("μ_eq13·μ_direct / |μ_direct|²")
    ax2.set_ylabel("probability density")
    ax2.legend(fontsize=7)
    return _save(fig, outdir, "eq13_vs_direct.png")


def energetics(groups, outdir):
    gs = [g for g in groups if g.energy]
    if not gs:
        return None
    fig, axs = plt.subplots(1, 3, figsize=(14, 4.2))
    for k, g in enumerate(gs):
        c = COLORS[k % len(COLORS)]
        e = g.energy
        _hist(axs[0], e["asym_K"], e["sample"], 20, c, f"{g.label} (n = {g.n_tls})")
        x = np.linspace(0, max(e["asym_K"].max(initial=0), 1e-9), 200)
        axs[0].plot(x, np.exp(-x / e["t_g_K"]) / e["t_g_K"], color=c, ls=":",
                    label=f"e^(−ε/T_g)/T_g, T_g = {e['t_g_K']:.3g} K")
        _hist(axs[1], e["barrier_K"], e["sample"], 20, c, g.label)
        _hist(axs[2], e["split_K"], e["sample"], 20, c, g.label, log=True)
    axs[0].set_xlabel("|asymmetry| |ε| = |E_B − E_A| (K)")
    axs[1].set_xlabel("classical barrier V (K)")
    axs[2].set_xlabel("tunnelling splitting Δ₀ (K)")
    axs[2].axvline(1.0, color="k", ls="--", label="1 K")
    for ax in axs[:2]:
        ax.set_ylabel("probability density (1/K)")
    axs[2].set_ylabel("probability per decade")
    for ax in axs:
        ax.legend(fontsize=7)
    return _save(fig, outdir, "energetics.png")


# One colour per class, the same in every panel (groups are panels here, not colours).
CLASS_COLORS = {"tls": COLORS[0], "double_well": COLORS[1], "single_well": COLORS[2], "unclassified": "0.5"}


def _decade_edges(arrays, per_decade=4, max_bins=60):
    """Common log10 bin edges for several arrays: whole quarter decades, widened to at most max_bins."""
    lv = np.log10(np.concatenate([np.asarray(a, float) for a in arrays]))
    lv = lv[np.isfinite(lv)]
    lo, hi = np.floor(lv.min() * per_decade) / per_decade, np.ceil(lv.max() * per_decade) / per_decade
    width = max(1.0 / per_decade, (hi - lo) / max_bins)
    return np.arange(lo, hi + width, width) if hi > lo else np.array([lo - 0.5, lo + 0.5])


def e_qs_distribution(groups, outdir):
    """E_qs per class, one panel per group: log axis, each class's probability per decade, with the
    window E_qs ≤ max_splitting that defines class tls."""
    gs = [g for g in groups if any(len(d.get("e_qs_values_K", [])) for d in g.by_class.values())]
    if not gs:
        return None
    ncol = min(len(gs), 3)
    nrow = (len(gs) + ncol - 1) // ncol
    fig, axs = plt.subplots(nrow, ncol, figsize=(5.5 * ncol, 4.2 * nrow), squeeze=False)
    for ax, g in zip(axs.ravel(), gs):
        edges = _decade_edges([d.get("e_qs_values_K", []) for d in g.by_class.values()])
        for k, (cls, d) in enumerate(g.by_class.items()):
            if len(d.get("e_qs_values_K", [])):
                c = CLASS_COLORS.get(cls, COLORS[(k + 3) % len(COLORS)])
                _hist(ax, d["e_qs_values_K"], d["e_qs_sample"], edges, c, f"{cls} (n = {d['n']})", log=True)
        w = g.density.get("window_K")
        if w:
            ax.axvline(w[1], color="k", ls="--", label=f"max_splitting = {w[1]:.3g} K")
        ax.set_xlabel("E_qs = E₁ − E₀ (K, log scale)")
        ax.set_ylabel("probability per decade (each class)")
        ax.set_title(g.label)
        ax.legend(fontsize=7)
    for ax in axs.ravel()[len(gs):]:
        ax.set_visible(False)
    return _save(fig, outdir, "e_qs_by_class.png")


def relaxed_asymmetry(groups, outdir):
    """ε_relaxed − ε over each group's population: how much relaxing every bead changes the asymmetry
    the domain search gave."""
    gs = [g for g in groups if len(g.energy.get("relax_diff_K", []))]
    if not gs:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for k, g in enumerate(gs):
        e = g.energy
        _hist(ax, e["relax_diff_K"], e["relax_sample"], 20, COLORS[k % len(COLORS)],
              f"{g.label} [{g.population.label}] (n = {len(e['relax_diff_K'])}): "
              f"median {e['relax_median_K'].fmt()} K")
    ax.axvline(0, color="k", ls="--")
    ax.set_xlabel("ε_relaxed − ε (K), every bead free minus domain")
    ax.set_ylabel("probability density (1/K)")
    ax.legend(fontsize=7)
    return _save(fig, outdir, "asymmetry_relaxed.png")


def interaction_angle(groups, outdir):
    gs = [g for g in groups if g.inter]
    if not gs:
        return None
    fig, axs = plt.subplots(1, 3, figsize=(14, 4.2))
    for k, g in enumerate(gs):
        c = COLORS[k % len(COLORS)]
        it = g.inter
        axs[0].scatter(it["angle"], it["r3_el_norm"], s=6, color=c, alpha=0.6, label=g.label)
        axs[1].scatter(it["angle"], it["r3_dd_norm"], s=6, color=c, alpha=0.6, label=g.label)
        axs[2].scatter(it["angle"], it["r3_mech"], s=6, color=c, alpha=0.6, label=g.label)
    x = np.linspace(-2, 2, 10)
    for ax in axs[:2]:
        ax.plot(x, x, "k--", label="point dipoles (ε = 1)")
    axs[0].set_ylabel("r³ J_el,zz / (|μ_i/2||μ_j/2|)")
    axs[1].set_ylabel("r³ J_dd,zz / (|μ_i/2||μ_j/2|)")
    axs[2].set_ylabel("r³ J_mech,zz (ε σ³)")
    _symlog_if_outliers(axs[0], np.concatenate([g.inter["r3_el_norm"] for g in gs]))
    _symlog_if_outliers(axs[2], np.concatenate([g.inter["r3_mech"] for g in gs]))
    for ax in axs:
        ax.set_xlabel("μ̂_i·μ̂_j − 3(μ̂_i·n)(μ̂_j·n)")
        ax.legend(fontsize=7)
    return _save(fig, outdir, "interaction_angle.png")


def interaction_scatter(groups, outdir):
    gs = [g for g in groups if g.inter]
    if not gs:
        return None
    # r³J on linear axes: the 1/r³ decay is divided out, so near and far pairs share one scale.
    fig, axs = plt.subplots(1, 3, figsize=(14, 4.2))
    for k, g in enumerate(gs):
        c = COLORS[k % len(COLORS)]
        it = g.inter
        axs[0].scatter(it["r3_dd"], it["r3_el"], s=6, color=c, alpha=0.6, label=g.label)
        axs[1].scatter(it["r3_mech"], it["r3_el"], s=6, color=c, alpha=0.6,
                       label=f"{g.label}: rms ratio {it['ratio_el_mech'].fmt()}")
        ok = (it["r"] > 0)
        axs[2].loglog(it["r"][ok], np.abs(it["el"][ok]), ".", color=c, ms=3, label=f"{g.label} |J_el|")
        axs[2].loglog(it["r"][ok], np.abs(it["mech"][ok]), "x", color=c, ms=3, alpha=0.6, label="|J_mech|")
        ratio = it.get("eq22_over_21_zeta2", it.get("eq22_over_21"))
        if ratio is not None:
            m = np.abs(it["r3_mech"]).max(initial=0)
            xs = np.array([-m, m])
            which = "measured ζ²" if "eq22_over_21_zeta2" in it else "ζ = charge.zeta in e"
            axs[1].plot(xs, ratio * xs, color=c, ls=":", label=f"slope = Eqs. 22/21 ratio ({which})")
    lim = max(np.abs(g.inter["r3_dd"]).max(initial=0) for g in gs)
    axs[0].plot([-lim, lim], [-lim, lim], "k--", label="J_el = J_dd")
    axs[0].set_xlabel("r³ J_dd,zz (ε σ³)")
    axs[0].set_ylabel("r³ J_el,zz (ε σ³)")
    axs[1].set_xlabel("r³ J_mech,zz (ε σ³)")
    axs[1].set_ylabel("r³ J_el,zz (ε σ³)")
    r3el = np.concatenate([g.inter["r3_el"] for g in gs])
    _symlog_if_outliers(axs[0], r3el)
    _symlog_if_outliers(axs[1], r3el)
    r = np.concatenate([g.inter["r"] for g in gs])
    r = r[r > 0]
    if len(r):
        rs = np.array([r.min(), r.max()])
        jm = np.concatenate([np.abs(g.inter["mech"]) for g in gs])
        ref = np.nanmedian(jm * np.concatenate([g.inter["r"] for g in gs]) ** 3) if len(jm) else 1
        axs[2].loglog(rs, ref / rs ** 3, "k--", label="∝ 1/r³")
    axs[2].set_xlabel("r (σ)")
    axs[2].set_ylabel("|J_zz| (ε), σᶻσᶻ convention")
    for ax in axs:
        ax.legend(fontsize=7)
    return _save(fig, outdir, "interaction_scatter.png")


ALL = (mu_distribution, mu_scaling, g_distribution, eq13_vs_direct, energetics, e_qs_distribution,
       relaxed_asymmetry, interaction_angle, interaction_scatter)


def stability_series(points, outdir):
    """series.SeriesPoint list: per-bead counts against T_f (Poisson 68 % bars; a triangle at the 95 %
    upper limit where none was found), and the |ε| and E_qs distributions per T_f."""
    if not points:
        return None
    fig, axs = plt.subplots(1, 3, figsize=(15, 4.2))
    t_f = np.array([p.t_f for p in points])
    for k, (key, label) in enumerate((("tls", "class tls"), ("double_well", "class double_well"),
                                      ("low_asymmetry", "|ε| ≤ 0.05 T_f (tls or double_well)"))):
        c = COLORS[k % len(COLORS)]
        found = np.array([p.counts[key] > 0 for p in points])
        y = np.array([p.per_bead[key].value for p in points])
        lo = np.array([p.poisson[key]["lo"] for p in points])
        hi = np.array([p.poisson[key]["hi"] for p in points])
        up = np.array([p.poisson[key]["upper95"] for p in points])
        if found.any():
            axs[0].errorbar(t_f[found], y[found], yerr=[y[found] - lo[found], hi[found] - y[found]], color=c,
                            fmt="o-", capsize=3, label=label)
        if (~found).any():
            axs[0].plot(t_f[~found], up[~found], "v", color=c, mfc="none",
                        label=f"{label}: none found (95 % upper limit)")
    axs[0].set_yscale("log")
    axs[0].set_xlabel("preparation temperature T_f (ε)")
    axs[0].set_ylabel("per bead")
    for k, p in enumerate(points):
        c = COLORS[k % len(COLORS)]
        label = f"T_f = {p.t_f:g} ({len(p.asym)} rows, {p.n_samples} glasses)"
        _hist(axs[1], p.asym * p.eps_K, p.row_sample, 12, c, label, log=True)
        _hist(axs[2], p.e_qs * p.eps_K, p.row_sample, 12, c, label, log=True)
    axs[1].set_xlabel("|asymmetry| |ε| (K), tls and double_well rows")
    axs[2].set_xlabel("E_qs = E₁ − E₀ (K), tls and double_well rows")
    for ax in axs[1:]:
        ax.set_ylabel("probability per decade")
    for ax in axs:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    return _save(fig, outdir, "stability_series.png")


def make_all(groups, outdir):
    """Every figure; returns {function name: file name or None}."""
    return {f.__name__: f(groups, outdir) for f in ALL}
