"""Polar glasses (system.model = "polar-dimers", docs/polar.md): what the charges acting change.

Per sample (one HDF5 file):
* the static Kirkwood factor of the glass's molecular dipoles, G_K(R) = 1 + (1/M) Σ_i Σ_{j≠i, r_ij<R}
  μ̂_i·μ̂_j over the M molecules (centres by minimum image), at R = half the shortest box edge; 1 for
  uncorrelated orientations, > 1 for parallel neighbours. Its error is the standard error of the
  per-molecule sums (molecules taken as independent: a lower bound);
* per /tls row, the molecular dipole changes Δμ_b = Σ_{beads of b} q_i (r_i^B − r_i^A) (minimum image),
  hence g = |Σ_b Δμ_b|² / Σ_b |Δμ_b|², the quantity the dipole stage writes as /tls/g_kirkwood.

Per group (samples of one ζ):
* g as the ratio of means ⟨|μ_T|²⟩ / ⟨Σ|Δμ_b|²⟩ with a bootstrap 95 % interval over rows;
* the null test: the same rows with every molecule's sign redrawn at random (the passive random-sign
  model), `draws` times per row, at least 500 pseudo-TLS; g must come out 1 within its interval;
* the Eq. 6 scaling d ln⟨μ_T²⟩ / d ln Σ|Δμ_b|²: the least-squares slope of ln|μ_T|² on ln Σ|Δμ_b|² over
  rows, with a bootstrap interval (1 when each TLS's μ_T² is proportional to its Σ|Δμ_b|²).
"""
import h5py
import numpy as np

from .io import parse_input_text

BOOTSTRAP = 2000
NULL_MIN = 500
SEED = 20050707


def _last(a, name):
    return a[name]["value"][-1]


def read_molecules(path):
    """Positions (by id − 1), charges, box edges and bonds (k, 2) of an H5MD file with /particles/all/bonds."""
    with h5py.File(path, "r") as f:
        a = f["particles/all"]
        if "bonds" not in a:
            return None
        ids = _last(a, "id")
        o = np.argsort(ids)
        return (_last(a, "position")[o], _last(a, "charge")[o], np.asarray(_last(a["box"], "edges"), float),
                np.asarray(a["bonds"][()], np.int64))


def _min_image(d, L):
    return d - L * np.round(d / L)


def kirkwood(x, q, L, bonds):
    """(G_K(R), its standard error, R, number of molecules) of the molecular dipoles (see module doc)."""
    i, j = bonds[:, 0] - 1, bonds[:, 1] - 1
    b = _min_image(x[j] - x[i], L)
    mu = (q[i] + q[j])[:, None] * x[i] + q[j, None] * b  # q_i r_i + q_j r_j with r_j = r_i + b
    u = mu / np.linalg.norm(mu, axis=1)[:, None]
    c = x[i] + 0.5 * b
    R = 0.5 * float(np.min(L))
    m = len(u)
    per = np.zeros(m)
    for s in range(0, m, 512):           # blocks of rows keep the pair matrix small
        d = _min_image(c[s:s + 512, None, :] - c[None, :, :], L)
        near = (d ** 2).sum(-1) < R * R
        cos = u[s:s + 512] @ u.T
        near[np.arange(len(near)), np.arange(s, s + len(near))] = False
        per[s:s + 512] = (cos * near).sum(1)
    return 1.0 + per.mean(), per.std(ddof=1) / np.sqrt(m) if m > 1 else np.nan, R, m


def row_bond_changes(path):
    """Per /tls row, the (k_b, 3) array of molecular dipole changes Δμ_b (molecules with a moving bead)."""
    mol = read_molecules(path)
    if mol is None:
        return None
    x, q, L, bonds = mol
    molecule = np.zeros(len(x), np.int64)
    molecule[bonds[:, 0] - 1] = np.arange(len(bonds))
    molecule[bonds[:, 1] - 1] = np.arange(len(bonds))
    with h5py.File(path, "r") as f:
        if "tls" not in f or "mobile_offset" not in f["tls"]:
            return []
        t = f["tls"]
        off, ids = t["mobile_offset"][()], t["mobile_id"][()]
        pa, pb = t["position_a"][()], t["position_b"][()]
    rows = []
    for k in range(len(off) - 1):
        s = slice(off[k], off[k + 1])
        bead = ids[s] - 1
        dq = q[bead, None] * _min_image(pb[s] - pa[s], L)
        m = molecule[bead]
        uniq, inv = np.unique(m, return_inverse=True)
        dmu = np.zeros((len(uniq), 3))
        np.add.at(dmu, inv, dq)
        rows.append(dmu[np.linalg.norm(dmu, axis=1) > 0])
    return rows


def _boot_ratio(num, den, rng):
    """Ratio of means num/den and a bootstrap 95 % interval over rows."""
    n = len(num)
    ratio = num.mean() / den.mean()
    if n < 2:
        return ratio, np.nan, np.nan
    k = rng.integers(0, n, size=(BOOTSTRAP, n))
    r = num[k].mean(1) / den[k].mean(1)
    return ratio, float(np.quantile(r, 0.025)), float(np.quantile(r, 0.975))


def _boot_slope(x, y, rng):
    """Least-squares slope of y on x and a bootstrap 95 % interval over rows."""
    def slope(a, b):
        a = a - a.mean()
        return (a * (b - b.mean())).sum() / (a * a).sum()
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        return np.nan, np.nan, np.nan
    k = rng.integers(0, n, size=(BOOTSTRAP, n))
    with np.errstate(invalid="ignore", divide="ignore"):  # resamples of one repeated row have no slope
        s = np.array([slope(x[r], y[r]) for r in k])
    s = s[np.isfinite(s)]
    return slope(x, y), float(np.quantile(s, 0.025)), float(np.quantile(s, 0.975))


def group_statistics(rows, draws=None, seed=SEED):
    """g, the random-sign null test and the Eq. 6 slope over the rows (lists of Δμ_b arrays)."""
    rng = np.random.default_rng(seed)
    rows = [r for r in rows if len(r)]
    out = {"n_rows": len(rows)}
    if not rows:
        return out
    mu2 = np.array([np.sum(r.sum(0) ** 2) for r in rows])
    s2 = np.array([np.sum(r ** 2) for r in rows])
    out["g"] = _boot_ratio(mu2, s2, rng)
    draws = draws or max(1, -(-NULL_MIN // len(rows)))
    null_mu2, null_s2 = [], []
    for r in rows:
        signs = rng.choice([-1.0, 1.0], size=(draws, len(r)))
        null_mu2.append(np.sum((signs @ r) ** 2, axis=1))
        null_s2.append(np.full(draws, np.sum(r ** 2)))
    out["g_null"] = _boot_ratio(np.concatenate(null_mu2), np.concatenate(null_s2), rng)
    out["n_null"] = len(rows) * draws
    ok = (mu2 > 0) & (s2 > 0)
    out["eq6_slope"] = _boot_slope(np.log(s2[ok]), np.log(mu2[ok]), rng)
    out["mu2_mean"] = float(mu2.mean())
    out["sum_dmu2_mean"] = float(s2.mean())
    return out


def coulomb_share(path, name="coulomb_share"):
    """/material/<name> of a file (coulomb_share: the relaxed share of ρc_s²; coulomb_share_affine: the
    Born share, docs/elastic.md §4), NaN when absent."""
    with h5py.File(path, "r") as f:
        m = f.get("material")
        return float(m.attrs[name]) if m is not None and name in m.attrs else np.nan


def share_summary(values):
    """(mean, standard error, n) over the finite values (the glasses that have a share); the error is
    NaN for fewer than two, the mean NaN for none."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, 0
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.nan, len(v)


def zeta(path):
    """charge.zeta (e) of the input stored in the file (root attribute `input`), NaN when absent."""
    with h5py.File(path, "r") as f:
        text = f.attrs.get("input", "")
    text = text.decode() if isinstance(text, bytes) else text
    value = parse_input_text(text if isinstance(text, str) else "").get("charge.zeta")
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def is_polar(path):
    with h5py.File(path, "r") as f:
        return "particles/all/bonds" in f
