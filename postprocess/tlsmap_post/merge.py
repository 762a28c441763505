"""Merge many sample files into one table per quantity, each row tagged with its sample index.

Tables (dicts of equal-length numpy columns; vector quantities are (rows, 3) columns):
  samples       one row per usable file: path, group label, ζ, μ_mol, N, volume, a, counts, ...
  tls           one row per TLS: `sample`, `tls` (row in its file), every /tls contract column,
                plus derived columns computed here from the catalogue (see tls_derived):
                mu_t (the transition dipole used), mu_recomputed, sum_dmu2, n_bonds_moved, g
  interactions  one row per TLS pair: `sample`, i, j, r, j_el, j_dd, j_mech, plus mu_i, mu_j

A file that cannot be read, or whose groups are incomplete, is skipped and listed in `skipped`
with the reason (io.SampleError names file and dataset); merge(strict=True) raises instead.
Columns a sample lacks (e.g. mu_eq13 before the dipole stage ran) are NaN in its rows; the string
columns `class` and `method` are "unclassified" and "n/a" in the rows of a file written before the
classification.

The population (select_population): the report's statistics run over the rows of the classes the
user asks for (--class, default tls), because the other rows are not tunnelling systems: a
double_well row is a classical pair with an asymmetry of ~1 ε. When a group has no row of the asked
class the statistics fall back to its double_well rows and say so; a group of unclassified rows
only (old files) is taken whole, as before the classification, and labelled "unclassified".
"""

import os
from dataclasses import dataclass, field

import h5py
import numpy as np

from .io import MATERIAL_NAMES, NO_METHOD, TLS_STRINGS, UNCLASSIFIED, SampleError, read_sample

# Parameters a sweep varies (jobs/); the report groups samples by the ones that differ. The model
# and the preparation temperature T_f (pack.t_final: the temperature a swap-equilibrated glass was
# made at, inputs/stability/) come first: samples of a stability series differ in T_f only.
DEFAULT_GROUP_BY = ("system.model", "pack.t_final", "pack.swap", "charge.zeta", "search.xi", "pack.quench_steps",
                    "system.n_beads")
GROUP_LABELS = {"pack.t_final": "T_f"}   # label of a key in group names (else its last part)
CLASSES = TLS_STRINGS["class"]          # tls, double_well, single_well
DEFAULT_CLASSES = ("tls",)
FALLBACK_CLASS = "double_well"


def fictive_temperature(params):
    """T_f = pack.t_final of a glass made with swap Monte Carlo (pack.swap = true): equilibrated at T_f,
    so T_f is its fictive temperature (if the run reached equilibrium: docs/stability.md). NaN for
    any other glass: a quench's final temperature is not where the glass fell out of equilibrium."""
    swap, t_f = params.get("pack.swap"), params.get("pack.t_final")
    if swap is True and isinstance(t_f, (int, float)) and not isinstance(t_f, bool) and t_f > 0:
        return float(t_f)
    return np.nan


@dataclass
class Merged:
    samples: dict = field(default_factory=dict)
    tls: dict = field(default_factory=dict)
    interactions: dict = field(default_factory=dict)
    sample_objects: list = field(default_factory=list)
    skipped: list = field(default_factory=list)      # (path, reason)
    warnings: list = field(default_factory=list)     # (path, message)
    group_keys: tuple = ()

    @property
    def n_samples(self):
        return len(self.sample_objects)

    def has(self, table):
        t = getattr(self, table)
        return bool(t) and len(next(iter(t.values()))) > 0


def minimum_image(d, edges):
    return d - edges * np.round(d / edges)


MOVING_SIGMA = 0.02  # σ: a bead that moves more than this between A and B (the search's n_moving rule)


def shared_moving(sample, i, j):
    """For each pair (i[k], j[k]) of /tls rows: how many beads move (> MOVING_SIGMA) in both. Two TLS
    that move a bead in common are not independent: their four-state coupling, which flips each with
    the other held, is not defined."""
    t = sample.tls
    off, ids = t["mobile_offset"], t["mobile_id"]
    d = minimum_image(t["position_b"] - t["position_a"], sample.box_edges)
    moved = np.einsum("ij,ij->i", d, d) > MOVING_SIGMA ** 2
    sets = [set(ids[off[k]:off[k + 1]][moved[off[k]:off[k + 1]]].tolist()) for k in range(len(off) - 1)]
    return np.array([len(sets[a] & sets[b]) for a, b in zip(np.asarray(i), np.asarray(j))], np.int64)


def tls_derived(sample):
    """Per-TLS quantities computed from the catalogue (independent of the dipole stage):

    mu_recomputed = Σ_i q_i (r_i^B − r_i^A) over the mobile beads (minimum image) — the direct
                    transition dipole of docs/dipole.md §1, to check /tls/mu_direct against;
    sum_dmu2      = Σ_b |Δμ_b|², Δμ_b = Σ_{i∈b} q_i d_i the dipole change of bond b (paper Fig. 1:
                    the elemental dipole changes whose sum is μ_T);
    n_bonds_moved = number of bonds with at least one mobile bead.
    """
    t = sample.tls
    off, ids = t["mobile_offset"], t["mobile_id"]
    n = len(off) - 1
    row_tls = np.repeat(np.arange(n), np.diff(off))
    d = minimum_image(t["position_b"] - t["position_a"], sample.box_edges)
    q = sample.charge[ids - 1]
    qd = q[:, None] * d
    mu = np.zeros((n, 3))
    np.add.at(mu, row_tls, qd)
    # Bond index of each bead; a bead without a bond is its own "bond" (index n_bonds + id; its
    # charge is 0 in tlsmap files, so it adds nothing).
    nb = 0 if sample.bonds is None else len(sample.bonds)
    bond_of = np.arange(sample.n_beads + 1) + nb
    if nb:
        bond_of[sample.bonds[:, 0]] = np.arange(nb)
        bond_of[sample.bonds[:, 1]] = np.arange(nb)
    stride = nb + sample.n_beads + 1
    uniq, inverse = np.unique(row_tls.astype(np.int64) * stride + bond_of[ids], return_inverse=True)
    dmu = np.zeros((len(uniq), 3))
    np.add.at(dmu, inverse, qd)
    uniq_tls = uniq // stride
    sum_dmu2 = np.bincount(uniq_tls, weights=np.einsum("ij,ij->i", dmu, dmu), minlength=n)
    n_bonds = np.bincount(uniq_tls, minlength=n)
    return {"mu_recomputed": mu, "sum_dmu2": sum_dmu2, "n_bonds_moved": n_bonds}


def group_values(sample, keys):
    """The sample's value of each grouping key: ζ from /charge, the rest from the stored input."""
    vals = []
    for k in keys:
        if k == "charge.zeta" and sample.charge_attrs is not None:
            vals.append(float(sample.charge_attrs["zeta"]))
        elif k == "system.n_beads":
            vals.append(sample.n_beads)
        else:
            vals.append(sample.params.get(k, "default"))
    return tuple(vals)


def _concat(rows, n_of):
    """Concatenate per-sample column dicts; columns missing in a sample become NaN."""
    names = []
    for r in rows:
        names += [k for k in r if k not in names]
    out = {}
    for name in names:
        proto = next(r[name] for r in rows if name in r)
        parts = []
        for r, n in zip(rows, n_of):
            if name in r:
                parts.append(np.asarray(r[name]))
            else:
                parts.append(np.full((n,) + np.shape(proto)[1:], np.nan))
        out[name] = np.concatenate(parts) if parts else np.zeros(0)
    return out


def parse_classes(text):
    """The --class option: "all" -> None (every row); "tls" or "tls,double_well" -> a tuple.
    Raises ValueError naming an unknown class."""
    names = tuple(dict.fromkeys(x.strip() for x in str(text).split(",") if x.strip()))
    if not names:
        raise ValueError("--class needs a class name, a comma list of them, or 'all'")
    if "all" in names:
        return None
    unknown = [x for x in names if x not in CLASSES + (UNCLASSIFIED,)]
    if unknown:
        raise ValueError(f"unknown class {', '.join(map(repr, unknown))} (known: "
                         f"{', '.join(CLASSES + (UNCLASSIFIED,))}, or all)")
    return names


@dataclass
class Population:
    """The rows the statistics run over, and how to say which (module doc)."""
    mask: np.ndarray
    label: str          # short, for a table cell
    note: str           # one sentence for the report
    requested: str      # the --class value
    fallback: bool = False

    @property
    def n(self):
        return int(np.sum(self.mask))


def select_population(cls, classes=DEFAULT_CLASSES):
    """Rows of the classes asked for (None = every row), with the fallbacks of the module doc."""
    cls = np.asarray(cls, dtype=str)
    n = len(cls)
    if classes is None:
        return Population(np.ones(n, bool), "all classes",
                          f"Statistics over every row (--class all): {n} rows of every class.", "all")
    req = ",".join(classes)
    classified = cls != UNCLASSIFIED
    if n and not classified.any() and UNCLASSIFIED not in classes:
        return Population(np.ones(n, bool), UNCLASSIFIED,
                          f"No /tls/class in these files (written before the classification): every row is "
                          f"unclassified, and the statistics below are over all {n} rows, as before, "
                          f"labelled '{UNCLASSIFIED}'.", req)
    mask = np.isin(cls, classes)
    left_out = int(np.sum(~classified)) if UNCLASSIFIED not in classes else 0
    tail = (f" {left_out} unclassified row(s) (files without /tls/class) are left out." if left_out else "")
    if mask.any():
        return Population(mask, req, f"Statistics over the {int(mask.sum())} row(s) of class {req} "
                                     f"(--class {req}), of {n} rows.{tail}", req)
    dw = cls == FALLBACK_CLASS
    if FALLBACK_CLASS not in classes and dw.any():
        return Population(dw, f"{FALLBACK_CLASS} (no {req} row)",
                          f"no row of class {req}: the statistics below are over {FALLBACK_CLASS} rows, "
                          f"labelled ({int(dw.sum())} rows).{tail}", req, fallback=True)
    return Population(mask, req, f"no row of class {req} (and no {FALLBACK_CLASS} row to fall back on): "
                                 f"no statistics over TLS rows.{tail}", req, fallback=True)


def collect_paths(args):
    """Files and directories -> sorted list of .h5 files (directories searched recursively)."""
    paths = []
    for a in args:
        if os.path.isdir(a):
            for root, _, files in os.walk(a):
                paths += [os.path.join(root, x) for x in files if x.endswith((".h5", ".hdf5"))]
        else:
            paths.append(a)
    return sorted(dict.fromkeys(paths))


def merge(paths, strict=False, group_by=DEFAULT_GROUP_BY, rtol_mu=1e-6):
    """Read every file, validate, compute derived columns and concatenate. See module doc."""
    merged = Merged()
    good = []
    for p in paths:
        try:
            good.append(read_sample(p))
        except SampleError as e:
            if strict:
                raise
            merged.skipped.append((p, str(e)))
    merged.sample_objects = good

    values = [group_values(s, group_by) for s in good]
    varying = [i for i in range(len(group_by)) if len({v[i] for v in values}) > 1]
    merged.group_keys = tuple(group_by[i] for i in varying)
    name = lambda key: GROUP_LABELS.get(key, key.split(".")[-1])
    labels = [", ".join(f"{name(group_by[i])}={v[i]}" for i in varying) or "all" for v in values]

    srows, trows, irows, tn, inn = [], [], [], [], []
    for si, s in enumerate(good):
        for w in s.warnings:
            merged.warnings.append((s.path, w))
        ca = s.charge_attrs or {}
        n_tls = 0 if s.tls is None else len(s.tls["radius"])
        n_pairs = 0 if s.interactions is None else len(s.interactions["i"])
        srows.append({
            "path": np.array([s.path], dtype=object), "group": np.array([labels[si]], dtype=object),
            "stages": np.array([" ".join(s.stages)], dtype=object),
            "zeta": [float(ca.get("zeta", np.nan))], "charge_reduced": [float(ca.get("charge_reduced", np.nan))],
            "mu_mol_reduced": [float(ca.get("mu_mol_reduced", np.nan))],
            "bond_length_mean": [float(ca.get("bond_length_mean", np.nan))],
            "n_beads": [s.n_beads], "volume": [s.volume], "number_density": [s.number_density],
            "a": [s.number_density ** (-1.0 / 3.0)],
            "n_tls": [n_tls], "n_pairs": [n_pairs], "classified": [int(s.classified)],
            "n_domains": [np.nan if s.n_domains is None else s.n_domains],
            "n_domains_done": [np.nan if s.domains_done is None else s.domains_done],
            **{n: [np.nan if s.attempts is None else s.attempts[n]]
               for n in ("n_attempts", "n_events", "n_failed_exits", "n_failed_climbs")},
            "sigma_angstrom": [s.units.sigma_angstrom], "epsilon_kelvin": [s.units.epsilon_kelvin],
            "debye_per_reduced_dipole": [s.units.debye_per_reduced_dipole],
            "e_per_reduced_charge": [s.units.e_per_reduced_charge],
        })
        srows[-1]["t_fictive"] = [fictive_temperature(s.params)]
        for name in MATERIAL_NAMES:
            srows[-1][name] = [s.material.get(name, np.nan)]
        for name in ("max_splitting", "hbar_reduced", "n_merged"):     # /tls attributes
            srows[-1][name] = [float(s.tls_attrs.get(name, np.nan))]

        if s.tls is not None:
            t = {k: v for k, v in s.tls.items()
                 if k not in ("mobile_offset", "mobile_id", "position_a", "position_b")}
            t["n_moving"] = np.asarray(t["n_moving"], float)
            t.setdefault("class", np.full(n_tls, UNCLASSIFIED))
            t.setdefault("method", np.full(n_tls, NO_METHOD))
            if s.splitting_unit == "kelvin":          # the table is in reduced units throughout
                t["splitting"] = t["splitting"] / s.units.epsilon_kelvin
            t.update(tls_derived(s))
            if "mu_direct" in t:
                diff = np.abs(t["mu_direct"] - t["mu_recomputed"]).max(initial=0.0)
                scale = np.abs(t["mu_recomputed"]).max(initial=0.0)
                if diff > rtol_mu * max(scale, 1e-300) and diff > 1e-12:
                    merged.warnings.append((s.path, f"/tls/mu_direct differs from Σ q_i d_i recomputed "
                                                    f"from the catalogue by up to {diff:.3g} q*σ"))
                t["mu_t"] = t["mu_direct"]
            else:
                t["mu_t"] = t["mu_recomputed"]
            mu2 = np.einsum("ij,ij->i", t["mu_t"], t["mu_t"])
            with np.errstate(divide="ignore", invalid="ignore"):
                t["g"] = np.where(t["sum_dmu2"] > 0, mu2 / t["sum_dmu2"], np.nan)
            # Cross-checks against what the C++ stages wrote themselves (independent implementations).
            checks = [("bond_dmu2_sum", t["sum_dmu2"], "sum_dmu2"), ("g_kirkwood", t["g"], "g")]
            if "e_qs" in t:
                checks.append(("e_qs_kelvin", t["e_qs"] * s.units.epsilon_kelvin, "e_qs × epsilon_kelvin"))
            for theirs, b, ours in checks:
                if theirs in t:
                    a = np.asarray(t[theirs], float)
                    both = np.isfinite(a) & np.isfinite(b)
                    rel = np.abs(a - b)[both] / np.maximum(np.abs(b[both]), 1e-300)
                    if rel.size and rel.max() > 1e-6:
                        merged.warnings.append((s.path, f"/tls/{theirs} differs from the postprocess's {ours} "
                                                        f"by up to {rel.max():.3g} relative"))
            t["sample"] = np.full(n_tls, si)
            t["tls"] = np.arange(n_tls)
            trows.append(t)
            tn.append(n_tls)
        if s.interactions is not None and n_pairs:
            it = dict(s.interactions)
            it.setdefault("j_el_point", np.full(n_pairs, np.nan))
            mu = s.tls.get("mu_direct", trows[-1]["mu_recomputed"])
            it["mu_i"], it["mu_j"] = mu[it["i"]], mu[it["j"]]
            # Two rows of one search domain are alternative transitions of one region from the same
            # occupied state (they share its mobile beads), not two TLS: no coupling to analyse.
            dom = s.tls.get("domain")
            it["same_domain"] = (np.zeros(n_pairs, bool) if dom is None else
                                 (dom[it["i"]] == dom[it["j"]]) & (dom[it["i"]] >= 0))
            it["shared_moving"] = shared_moving(s, it["i"], it["j"])
            it["sample"] = np.full(n_pairs, si)
            irows.append(it)
            inn.append(n_pairs)

    merged.samples = _concat(srows, [1] * len(srows)) if srows else {}
    merged.tls = _concat(trows, tn) if trows else {}
    merged.interactions = _concat(irows, inn) if irows else {}
    return merged


def write_merged(merged, path):
    """The merged tables as one HDF5 file: /samples, /tls, /interactions (one dataset per column),
    the skipped files as the root attribute `skipped` (one "path: reason" string per file)."""
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        str_t = h5py.string_dtype()
        for table in ("samples", "tls", "interactions"):
            g = f.create_group(table)
            for name, col in getattr(merged, table).items():
                col = np.asarray(col)
                if col.dtype == object or col.dtype.kind == "U":
                    g.create_dataset(name, data=col.astype(str).astype(object), dtype=str_t)
                else:
                    g.create_dataset(name, data=col)
        f.attrs.create("skipped", data=[f"{p}: {r}" for p, r in merged.skipped], dtype=str_t)
        f.attrs["group_keys"] = ",".join(merged.group_keys)
    os.replace(tmp, path)
