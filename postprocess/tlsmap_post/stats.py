"""Statistics over many samples: estimates with sample-to-sample error bars.

The samples (one file each: an independent glass) are the independent units; TLS of the same
sample share a glass and are not independent. So error bars come from the spread between
samples, by the delete-one-sample jackknife: for any statistic θ computed from the pooled rows,
θ_(s) is θ with sample s left out, and

    SE² = (S − 1)/S · Σ_s (θ_(s) − θ̄)²,      θ̄ = mean of the θ_(s).

For the plain mean with equal-size samples this is exactly the standard error of the sample means,
std(m_s, ddof=1)/√S; for ratios (⟨μ_T²⟩/⟨estimate²⟩, J_el/J_mech, ...) it is the standard
first-order error propagation done numerically (Efron & Tibshirani, "An Introduction to the
Bootstrap", ch. 11). With a single sample there is no sample-to-sample spread: the rows are then
cut into 10 interleaved blocks and the jackknife runs over blocks; the Estimate says so
(`method`), and the report marks such error bars as within-sample.

A cluster bootstrap (resampling whole samples) is provided for percentile intervals.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


@dataclass
class Estimate:
    value: float
    se: float
    n_samples: int
    n_items: int
    method: str

    def scaled(self, factor):
        return Estimate(self.value * factor, self.se * factor, self.n_samples, self.n_items, self.method)

    def fmt(self, digits=3):
        if not np.isfinite(self.value):
            return "n/a"
        if not np.isfinite(self.se):
            return f"{self.value:.{digits}g}"
        return f"{self.value:.{digits}g} ± {self.se:.2g}"


def blocks(sample, n_within=10):
    """Index arrays of the jackknife blocks and the method label (see module doc)."""
    sample = np.asarray(sample)
    ids = np.unique(sample)
    if len(ids) >= 2:
        return [np.flatnonzero(sample == s) for s in ids], f"jackknife over {len(ids)} samples"
    n = len(sample)
    k = min(n_within, n)
    if k < 2:
        return [], "single value: no error bar"
    return [np.arange(b, n, k) for b in range(k)], f"within-sample jackknife ({k} blocks of TLS, 1 sample)"


def jackknife(columns, sample, stat, n_within=10):
    """Estimate of stat(columns) with the jackknife error over samples (module doc).

    columns: dict name -> array (rows aligned with `sample`); stat: dict -> float."""
    sample = np.asarray(sample)
    n = len(sample)
    n_samples = len(np.unique(sample))
    value = float(stat(columns)) if n else np.nan
    blk, method = blocks(sample, n_within)
    if len(blk) < 2:
        return Estimate(value, np.nan, n_samples, n, method)
    mask = np.ones(n, bool)
    thetas = []
    for b in blk:
        mask[:] = True
        mask[b] = False
        thetas.append(float(stat({k: np.asarray(v)[mask] for k, v in columns.items()})))
    thetas = np.array(thetas)
    thetas = thetas[np.isfinite(thetas)]
    if len(thetas) < 2:
        return Estimate(value, np.nan, n_samples, n, method)
    B = len(thetas)
    se = float(np.sqrt((B - 1) / B * np.sum((thetas - thetas.mean()) ** 2)))
    return Estimate(value, se, n_samples, n, method)


def mean(values, sample):
    """Pooled mean of values with the jackknife error over samples."""
    return jackknife({"x": values}, sample, lambda c: np.mean(c["x"]))


def ratio_of_means(num, den, sample):
    """⟨num⟩/⟨den⟩ (pooled) with the jackknife error over samples."""
    return jackknife({"a": num, "b": den}, sample, lambda c: np.mean(c["a"]) / np.mean(c["b"]))


def sample_means(values, sample):
    """The mean of values within each sample, in the order of np.unique(sample)."""
    sample = np.asarray(sample)
    return np.array([np.mean(values[sample == s]) for s in np.unique(sample)])


def standard_error_of_sample_means(values, sample):
    """std(m_s, ddof=1)/√S: the textbook sample-to-sample error of the mean of sample means."""
    m = sample_means(values, sample)
    return float(np.std(m, ddof=1) / np.sqrt(len(m))) if len(m) > 1 else np.nan


def cluster_bootstrap(columns, sample, stat, n_boot=1000, level=0.68, seed=12345):
    """Percentile interval of stat from resampling whole samples with replacement."""
    sample = np.asarray(sample)
    ids = np.unique(sample)
    rows = [np.flatnonzero(sample == s) for s in ids]
    rng = np.random.default_rng(seed)
    thetas = []
    for _ in range(n_boot):
        pick = np.concatenate([rows[i] for i in rng.integers(0, len(ids), len(ids))])
        thetas.append(stat({k: np.asarray(v)[pick] for k, v in columns.items()}))
    lo, hi = np.nanpercentile(thetas, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def histogram(values, sample, bins, density=True):
    """Pooled histogram with a jackknife-over-samples error per bin.

    Returns (edges, h, se): h is the probability density (density=True) or the count per sample."""
    values, sample = np.asarray(values), np.asarray(sample)
    if np.ndim(bins) == 0:
        lo, hi = (values.min(), values.max()) if len(values) else (0.0, 1.0)
        if hi - lo <= 1e-9 * max(abs(lo), abs(hi)):   # all (nearly) equal: one bin, not zero-width bins
            half = 0.05 * abs(lo) if lo != 0 else 0.5
            lo, hi, bins = lo - half, hi + half, 1
        edges = np.histogram_bin_edges(values, bins=bins, range=(lo, hi))
    else:
        edges = np.asarray(bins)
    width = np.diff(edges)

    def h_of(v, n_s):
        c, _ = np.histogram(v, bins=edges)
        return c / (max(len(v), 1) * width) if density else c / max(n_s, 1)

    n_s = len(np.unique(sample))
    h = h_of(values, n_s)
    blk, _ = blocks(sample)
    if len(blk) < 2:
        return edges, h, np.full_like(h, np.nan, dtype=float)
    mask = np.ones(len(values), bool)
    hs = []
    for b in blk:
        mask[:] = True
        mask[b] = False
        hs.append(h_of(values[mask], n_s - 1 if n_s > 1 else 1))
    hs = np.array(hs)
    B = len(hs)
    se = np.sqrt((B - 1) / B * np.sum((hs - hs.mean(axis=0)) ** 2, axis=0))
    return edges, h, se


def slope_through_origin(x, y):
    """Least-squares slope of y = s x: s = Σxy / Σx²."""
    x, y = np.asarray(x).ravel(), np.asarray(y).ravel()
    den = np.dot(x, x)
    return float(np.dot(x, y) / den) if den > 0 else np.nan


def poisson_upper(n, cl=0.95):
    """Upper limit on a Poisson mean after observing n events (n = 0: −ln(1 − cl) ≈ 3.0 at 95 %)."""
    return float(sps.chi2.ppf(cl, 2 * n + 2) / 2)


def poisson_interval(n, cl=0.68):
    """Central Garwood interval on a Poisson mean after observing n events."""
    a = 1 - cl
    lo = 0.0 if n == 0 else float(sps.chi2.ppf(a / 2, 2 * n) / 2)
    hi = float(sps.chi2.ppf(1 - a / 2, 2 * n + 2) / 2)
    return lo, hi


def ratio_of_sums(num, den):
    """Σ num / Σ den over samples (one entry per sample), with the delete-one-sample jackknife."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    return jackknife({"a": num, "b": den}, np.arange(len(num)), lambda c: np.sum(c["a"]) / np.sum(c["b"]))


def poisson_rate(n, den):
    """n events over the exposure den: the Garwood 68 % interval and the 95 % upper limit, per unit den."""
    lo, hi = poisson_interval(n)
    return dict(lo=lo / den, hi=hi / den, upper95=poisson_upper(n) / den)
