"""The stability series across groups: how many TLS a glass holds against its preparation temperature.

A group whose samples are swap glasses of one T_f (merge.fictive_temperature: pack.swap = true,
pack.t_final) is one point of the series. Per point, over the samples with /tls/class:

  per bead     Σ_s n_s / Σ_s N_s for three row sets: class tls; class double_well; and the
               low-asymmetry pairs, rows of class tls or double_well with |ε| ≤ LOW_ASYMMETRY × T_f
               (the issue's measure when TLS are too rare to count);
  errors       the delete-one-sample jackknife of the ratio (one standard error) and the Garwood
               68 % Poisson interval on Σ n (its 95 % upper limit when Σ n = 0);
  distributions |ε| and E_qs of the tls and double_well rows (the figure), with their medians.

Rows of method `given` (pairs supplied to `tlsmap pairs`, not found by a search) are left out, as in
the per-group density. Groups without a single T_f are not points of the series.
"""

from dataclasses import dataclass, field

import numpy as np

from . import stats

LOW_ASYMMETRY = 0.05   # |ε| ≤ 0.05 T_f: the low-asymmetry pairs
SERIES_CLASSES = ("tls", "double_well")


@dataclass
class SeriesPoint:
    label: str
    t_f: float
    n_samples: int
    n_beads: int
    counts: dict = field(default_factory=dict)      # "tls", "double_well", "low_asymmetry" -> int
    per_bead: dict = field(default_factory=dict)    # same keys -> stats.Estimate (jackknife)
    poisson: dict = field(default_factory=dict)     # same keys -> dict(lo, hi, upper95) per bead
    asym: np.ndarray = None                         # |ε| (ε) of the tls and double_well rows
    e_qs: np.ndarray = None                         # E_qs (ε) of the same rows (NaN when absent)
    row_sample: np.ndarray = None                   # their sample index
    eps_K: float = float("nan")


def stability_series(merged, groups):
    """One SeriesPoint per group with a single finite T_f and at least one classified sample,
    sorted by T_f (highest first: the order a glass is cooled)."""
    S = merged.samples
    if not merged.n_samples or "t_fictive" not in S:
        return []
    tls = merged.tls if merged.has("tls") else {}
    sample = np.asarray(tls.get("sample", np.zeros(0, int)))
    cls = np.asarray(tls.get("class", np.zeros(0, str)))
    method = np.asarray(tls.get("method", np.zeros(0, str)))
    asym = np.abs(np.asarray(tls.get("asymmetry", np.zeros(0)), float))
    e_qs = np.asarray(tls.get("e_qs", np.full(len(sample), np.nan)), float)
    points = []
    for g in groups:
        ids = np.asarray(g.sample_ids)
        t_f = np.asarray(S["t_fictive"], float)[ids]
        if not (np.all(np.isfinite(t_f)) and np.all(t_f == t_f[0])):
            continue
        ids = ids[np.asarray(S["classified"], float)[ids] == 1]
        if not len(ids):
            continue
        tf = float(t_f[0])
        N_s = np.asarray(S["n_beads"], float)[ids]
        found = (method != "given") & np.isin(sample, ids)
        sets = {"tls": found & (cls == "tls"),
                "double_well": found & (cls == "double_well"),
                "low_asymmetry": found & np.isin(cls, SERIES_CLASSES) & (asym <= LOW_ASYMMETRY * tf)}
        p = SeriesPoint(label=g.label, t_f=tf, n_samples=len(ids), n_beads=int(N_s.sum()),
                        eps_K=float(np.mean(np.asarray(S["epsilon_kelvin"], float)[ids])))
        for key, mask in sets.items():
            n_s = np.array([np.sum(mask & (sample == i)) for i in ids], float)
            p.counts[key] = int(n_s.sum())
            p.per_bead[key] = stats.ratio_of_sums(n_s, N_s)
            p.poisson[key] = stats.poisson_rate(p.counts[key], N_s.sum())
        rows = found & np.isin(cls, SERIES_CLASSES)
        p.asym, p.e_qs, p.row_sample = asym[rows], e_qs[rows], sample[rows]
        points.append(p)
    return sorted(points, key=lambda p: -p.t_f)


def series_section(points, fig_name=None):
    """Markdown lines of the report's stability-series section."""
    if not points:
        return []
    L = ["## Stability series: TLS against the preparation temperature", "",
         "One point per group of swap glasses with one preparation temperature T_f (pack.t_final with "
         "pack.swap = true). Per bead: rows over every bead of the point's samples (with /tls/class); "
         "± is the delete-one-sample jackknife, the interval the Garwood 68 % Poisson interval on the "
         f"count (< its 95 % upper limit when none was found). Low-asymmetry pairs: rows of class tls or "
         f"double_well with |ε| ≤ {LOW_ASYMMETRY:g} T_f.", ""]

    def cell(p, key):
        n, e, q = p.counts[key], p.per_bead[key], p.poisson[key]
        if not n:
            return f"0 (< {q['upper95']:.2g})"
        se = f" ± {e.se:.2g}" if e.se == e.se else ""
        return f"{n}: {e.value:.3g}{se} ({q['lo']:.2g}–{q['hi']:.2g})"

    def median(x, scale):
        x = np.asarray(x, float)
        x = x[np.isfinite(x)]
        return f"{np.median(x) * scale:.3g}" if len(x) else "–"

    rows = [[p.label, f"{p.t_f:g}", p.n_samples, p.n_beads, cell(p, "tls"), cell(p, "double_well"), cell(p, "low_asymmetry"),
             median(p.asym, p.eps_K), median(p.e_qs, p.eps_K)] for p in points]
    header = ["group", "T_f (ε)", "glasses", "beads", "tls: n, per bead", "double_well: n, per bead",
              "\\|ε\\| ≤ 0.05 T_f: n, per bead", "median \\|ε\\| (K)", "median E_qs (K)"]
    L += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    L += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows] + [""]
    L += ["Medians over the tls and double_well rows of the point. A density that is an upper limit at "
          "every T_f says the sample is too small to see the trend, not that there is none.", ""]
    if fig_name:
        L += [f"![TLS, double wells and low-asymmetry pairs per bead against T_f; |ε| and E_qs per T_f]"
              f"({fig_name})", ""]
    return L
