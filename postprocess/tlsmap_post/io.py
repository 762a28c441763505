"""Read one tlsmap sample file and check it against the data contract.

The contract (docs/file-format.md, docs/postprocess.md) fixes the names and shapes the report
relies on. Each later stage adds one group, so a file is read group by group: the configuration and
units are required; /charge, /tls, /interactions and /material are read when present. A group that is present must be complete (every contract dataset, consistent
shapes); otherwise SampleError names the file and the dataset, and merge() skips that file.
A group that is absent is not an error: the report says "not present in the input files".

Only what the statistics need is loaded (charges, bonds, the TLS catalogue); bead positions,
which dominate the file size, are checked for shape but not read.

/tls of a search with the rearrangement classification (docs/postprocess.md, "TLS classes,
population and density") adds the string columns `class` and `method`, the quantum splitting `e_qs`
and a few more per-row columns and attributes. Files written before it lack them and stay readable:
their rows are "unclassified" (Sample.classified is False) and the report says so instead of
guessing a class.
"""

import os
import tomllib
from dataclasses import dataclass, field

import h5py
import numpy as np

from .units import Units


class SampleError(Exception):
    """A sample file that cannot be used: names the file and the dataset or attribute."""

    def __init__(self, path, what, message):
        self.path, self.what, self.message = path, what, message
        super().__init__(f"{path}: {what}: {message}")


# Shapes in symbols: n = number of TLS, m = total mobile beads, k = number of TLS pairs.
# kind: 'f' float, 'i' integer.
TLS_REQUIRED = {
    "center": (("n", 3), "f"), "radius": (("n",), "f"),
    "energy_a": (("n",), "f"), "energy_b": (("n",), "f"),
    "asymmetry": (("n",), "f"), "barrier": (("n",), "f"),
    "d_l": (("n",), "f"), "n_moving": (("n",), "fi"), "participation": (("n",), "f"),
    "splitting": (("n",), "f"),
    "mobile_offset": (("n+1",), "i"), "mobile_id": (("m",), "i"),
    "position_a": (("m", 3), "f"), "position_b": (("m", 3), "f"),
}
# Written by the dipole stage into /tls; a file from search alone lacks them.
TLS_DIPOLE = {"mu_direct": (("n", 3), "f"), "mu_eq13": (("n", 3), "f")}
# Extra per-TLS columns the C++ stages write beyond the contract (read when present, used as
# cross-checks): the dipole stage's own bond sums and g, the search stage's quality flags.
TLS_EXTRA = {"g_kirkwood": (("n",), "f"), "bond_dmu2_sum": (("n",), "f"), "n_bonds_moving": (("n",), "fi"),
             "mu_eq13_uncorrected": (("n", 3), "f"), "mu_eq13_cut": (("n", 3), "f"), "over_barrier": (("n",), "fi"),
             "saddle_verified": (("n",), "fi"), "saddle_connects": (("n",), "fi"),
             "neb_converged": (("n",), "fi"),
             "gamma_l": (("n",), "f"), "gamma_t": (("n",), "f")}
# The rearrangement classification (read when present, each optional; shapes checked like the rest):
# E_qs = E1 − E0 of the 1D Schrödinger equation along the path, both states relaxed with every bead
# free, the zero-point energy change, 0/1 flags, and the search domain of the row (−1: `given`).
TLS_CLASSIFIED = {"e_qs": (("n",), "f"), "e_qs_kelvin": (("n",), "f"), "splitting_kelvin": (("n",), "f"),
                  "energy_a_relaxed": (("n",), "f"), "energy_b_relaxed": (("n",), "f"),
                  "asymmetry_relaxed": (("n",), "f"), "delta_zpe": (("n",), "f"),
                  "involves_occupied": (("n",), "i"), "adjacent": (("n",), "i"), "domain": (("n",), "i")}
# String columns of /tls: the values the contract knows. An unknown value is kept (it gets its own
# row in the report's counts) with a warning, so a new class written by a newer search is not lost.
TLS_STRINGS = {"class": ("tls", "double_well", "single_well"), "method": ("domain", "md-pairs", "given")}
TLS_FLAGS = ("involves_occupied", "adjacent")
UNCLASSIFIED = "unclassified"       # the class of every row of a file without /tls/class
NO_METHOD = "n/a"                   # the method of every row of a file without /tls/method
# Scalar attributes of /tls read as numbers when present: ħ* used, the E_qs threshold of class tls
# (ε), rows merged as duplicates across overlapping domains.
TLS_NUMBER_ATTRS = ("hbar_reduced", "max_splitting", "n_merged")
INTERACTIONS_REQUIRED = {
    "i": (("k",), "i"), "j": (("k",), "i"), "r": (("k", 3), "f"),
    "j_el": (("k",), "f"), "j_dd": (("k",), "f"), "j_mech": (("k",), "f"),
}
# Written by newer interact stages: J_el of the point charges by an Ewald sum (NaN on dipole-far rows).
INTERACTIONS_OPTIONAL = {"j_el_point": (("k",), "f")}
# Measured material constants (issue 7, item 3). Each may be a scalar dataset or an attribute of
# /material, in reduced units: density = mass density (m/σ³), sound speeds (σ/τ), t_g (ε/k_B),
# epsilon_r = the uniform dielectric constant of the electrostatics (dimensionless).
MATERIAL_NAMES = ("density", "sound_speed_l", "sound_speed_t", "sound_speed", "t_g", "epsilon_r", "coulomb_share",
                  "coulomb_share_bulk", "coulomb_share_shear")
# The names `tlsmap interact` writes (attributes of /material, docs/dipole.md §3), read as the above.
MATERIAL_ALIASES = {"sound_speed_l": ("sound_speed_longitudinal",), "sound_speed_t": ("sound_speed_transverse",)}
ROOT_UNIT_ATTRS = ("sigma_angstrom", "epsilon_kelvin", "e_per_reduced_charge", "debye_per_reduced_dipole")


@dataclass
class Sample:
    path: str
    units: Units
    input_text: str
    params: dict                 # the stored input, flattened to "table.key" -> value
    n_beads: int
    box_edges: np.ndarray        # (3,)
    charge: np.ndarray           # (N,) bead charges, q*, row = id - 1
    charge_attrs: dict = None    # /charge attributes, or None when the charge stage did not run
    bonds: np.ndarray = None     # (n_bonds, 2) bead ids
    tls: dict = None             # /tls datasets and attributes ("attrs"), or None
    interactions: dict = None    # /interactions datasets, or None
    material: dict = field(default_factory=dict)
    tls_attrs: dict = field(default_factory=dict)
    splitting_unit: str = "epsilon"
    n_domains: int = None        # rows of /search/domain_done, or None without /search
    domains_done: int = None     # domains searched to the end (domain_done == 1), or None
    attempts: dict = None        # over those domains: n_attempts, n_events, n_failed_exits, n_failed_climbs summed
                                 # (None: /search does not record them, e.g. written before 2026-12-07)
    warnings: list = field(default_factory=list)

    @property
    def classified(self):
        """True when /tls has the `class` column (a search with the rearrangement classification)."""
        return self.tls is not None and "class" in self.tls

    @property
    def volume(self):
        return float(np.prod(self.box_edges))

    @property
    def number_density(self):
        return self.n_beads / self.volume

    @property
    def stages(self):
        s = ["pack"]
        if self.charge_attrs is not None:
            s.append("charge")
        if self.tls is not None:
            s.append("search")
            # the search stage writes mu_eq13 as NaN; the dipole stage fills it
            if "mu_eq13" in self.tls and np.isfinite(self.tls["mu_eq13"]).any():
                s.append("dipole")
        if self.interactions is not None:
            s.append("interact")
        return s


def _decode(v):
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "replace").rstrip("\0")
    if isinstance(v, np.ndarray) and v.dtype.kind == "S":
        return [_decode(x) for x in v.ravel()]
    return v


def _flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def parse_input_text(text):
    """The stored input TOML -> {"table.key": value}; {} if it does not parse."""
    try:
        return _flatten(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, TypeError):
        return {}


def _dataset(f, path, name):
    if name not in f:
        raise SampleError(path, "/" + name, "missing dataset")
    obj = f[name]
    if not isinstance(obj, h5py.Dataset):
        raise SampleError(path, "/" + name, "is a group, expected a dataset")
    return obj


def _check_group(path, g, gname, contract, optional=False, known=None):
    """Read every contract dataset of group g; check shapes against the symbols n, m, k (and against
    known: {symbol: (size, dataset that gave it)} from the required datasets)."""
    sizes, out = dict(known or {}), {}
    for name, (shape, kind) in contract.items():
        full = f"{gname}/{name}"
        if name not in g:
            if optional:
                continue
            raise SampleError(path, full, f"missing dataset (the /{gname} group is incomplete: "
                                          f"needs {', '.join(contract)})")
        d = g[name]
        if not isinstance(d, h5py.Dataset):
            raise SampleError(path, full, "is a group, expected a dataset")
        if len(d.shape) != len(shape):
            raise SampleError(path, full, f"has shape {d.shape}, expected {_shape_str(shape)}")
        if d.dtype.kind not in ("f", "i", "u"):
            raise SampleError(path, full, f"has type {d.dtype}, expected numbers")
        if "f" not in kind and d.dtype.kind == "f":
            raise SampleError(path, full, f"has type {d.dtype}, expected integers")
        for sym, got in zip(shape, d.shape):
            if isinstance(sym, int):
                if got != sym:
                    raise SampleError(path, full, f"has shape {d.shape}, expected {_shape_str(shape)}")
                continue
            base = sym.replace("+1", "")
            value = got - 1 if sym.endswith("+1") else got
            if base in sizes and sizes[base][0] != value:
                raise SampleError(path, full, f"has shape {d.shape}, but {sizes[base][1]} gives "
                                              f"{base} = {sizes[base][0]}")
            sizes.setdefault(base, (value, full))
        out[name] = d[()]
    return out, sizes


def _read_strings(path, g, name, n, allowed, warnings):
    """A 1-D string column of /tls (variable- or fixed-length; bytes decoded) as a numpy str array."""
    full = f"tls/{name}"
    d = g[name]
    if not isinstance(d, h5py.Dataset):
        raise SampleError(path, full, "is a group, expected a dataset")
    if h5py.check_string_dtype(d.dtype) is None and d.dtype.kind != "U":
        raise SampleError(path, full, f"has type {d.dtype}, expected strings")
    if d.shape != (n,):
        raise SampleError(path, full, f"has shape {d.shape}, expected ({n},) (n = rows of /tls)")
    vals = np.array([str(_decode(v)).strip() for v in d[()]], dtype=str)
    unknown = sorted(set(vals.tolist()) - set(allowed))
    if unknown:
        warnings.append(f"/{full}: unknown value(s) {', '.join(map(repr, unknown))} (known: "
                        f"{', '.join(allowed)}); kept as their own class")
    return vals


def _number_attr(path, where, value):
    v = np.asarray(value)
    if v.size != 1 or v.dtype.kind not in ("f", "i", "u"):
        raise SampleError(path, where, f"is {value!r}, expected one number")
    return float(v.ravel()[0])


def _read_search(path, f, s):
    """Domains searched, from /search/domain_done (1 = done); else the /search attribute n_done."""
    g = f["search"]
    if "domain_done" in g:
        d = g["domain_done"]
        if not isinstance(d, h5py.Dataset) or d.ndim != 1 or d.dtype.kind not in ("i", "u"):
            raise SampleError(path, "/search/domain_done", "expected a 1-D integer dataset (one row per domain)")
        done = np.asarray(d[()])
        s.n_domains, s.domains_done = int(done.size), int(np.sum(done == 1))
        names = ("n_attempts", "n_events", "n_failed_exits", "n_failed_climbs")
        if all(n in g and isinstance(g[n], h5py.Dataset) and g[n].shape == done.shape for n in names):
            counts = {n: np.asarray(g[n][()], np.int64) for n in names}
            use = (done == 1) & (counts["n_failed_exits"] >= 0) & (counts["n_failed_climbs"] >= 0)  # −1: not recorded
            if use.any():
                s.attempts = {n: int(counts[n][use].sum()) for n in names}
    elif "n_done" in g.attrs:
        s.domains_done = int(_number_attr(path, "/search attribute n_done", g.attrs["n_done"]))
        if "n_domains" in g.attrs:
            s.n_domains = int(_number_attr(path, "/search attribute n_domains", g.attrs["n_domains"]))


def _shape_str(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def read_sample(path):
    """Read and validate one sample file. Raises SampleError naming the file and dataset."""
    if path.endswith(".tmp"):
        raise SampleError(path, "file", "a temporary file of a running or failed stage")
    if not os.path.exists(path):
        raise SampleError(path, "file", "no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise SampleError(path, "file", f"not readable as HDF5 ({e})") from None
    with f:
        return _read(path, f)


def _read(path, f):
    attrs = {k: _decode(v) for k, v in f.attrs.items()}
    if attrs.get("units", "lj") != "lj":
        raise SampleError(path, "/ attribute units", f"is {attrs['units']!r}, expected 'lj'")
    for a in ROOT_UNIT_ATTRS:
        if a not in attrs:
            raise SampleError(path, f"/ attribute {a}", "missing (needed for physical units)")
    units = Units(*(attrs[a] for a in ROOT_UNIT_ATTRS))
    input_text = attrs.get("input", "")
    input_text = input_text if isinstance(input_text, str) else ""

    charge = _dataset(f, path, "particles/all/charge/value")
    pos = _dataset(f, path, "particles/all/position/value")
    edges = _dataset(f, path, "particles/all/box/edges/value")
    if charge.ndim != 2 or pos.ndim != 3 or pos.shape[1] != charge.shape[1] or pos.shape[2] != 3:
        raise SampleError(path, "/particles/all", f"inconsistent shapes: charge {charge.shape}, "
                                                  f"position {pos.shape}")
    n_beads = charge.shape[1]
    if edges.shape[-1] != 3:
        raise SampleError(path, "/particles/all/box/edges/value", f"has shape {edges.shape}, expected (1, 3)")
    s = Sample(path=path, units=units, input_text=input_text, params=parse_input_text(input_text),
               n_beads=n_beads, box_edges=np.asarray(edges[()], float).reshape(-1, 3)[-1],
               charge=np.asarray(charge[-1], float))

    if "charge" in f:
        g = f["charge"]
        s.charge_attrs = {k: _decode(v) for k, v in g.attrs.items()}
        for a in ("zeta", "charge_reduced", "mu_mol_reduced", "bond_length_mean"):
            if a not in s.charge_attrs:
                raise SampleError(path, f"/charge attribute {a}", "missing")
        bonds = _dataset(f, path, "charge/bonds")
        if bonds.ndim != 2 or bonds.shape[1] != 2:
            raise SampleError(path, "/charge/bonds", f"has shape {bonds.shape}, expected (n_bonds, 2)")
        s.bonds = np.asarray(bonds[()], np.int64)

    if "tls" in f:
        g = f["tls"]
        tls, known = _check_group(path, g, "tls", TLS_REQUIRED)
        for extra in (TLS_DIPOLE, TLS_EXTRA, TLS_CLASSIFIED):
            tls.update(_check_group(path, g, "tls", extra, optional=True, known={"n": known["n"]})[0])
        sizes = {k: v[0] for k, v in known.items()}
        off = tls["mobile_offset"].astype(np.int64)
        if off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] != sizes["m"]:
            raise SampleError(path, "/tls/mobile_offset", "must rise from 0 to len(mobile_id) "
                                                        f"= {sizes['m']} (got {off[0]} ... {off[-1]})")
        ids = tls["mobile_id"].astype(np.int64)
        if ids.size and (ids.min() < 1 or ids.max() > n_beads):
            raise SampleError(path, "/tls/mobile_id", f"ids must be in 1..{n_beads}")
        tls["mobile_offset"], tls["mobile_id"] = off, ids
        for name in TLS_FLAGS:
            if name in tls and tls[name].size and not np.all(np.isin(tls[name], (0, 1))):
                raise SampleError(path, f"/tls/{name}", "must be 0 or 1")
        for name, allowed in TLS_STRINGS.items():
            if name in g:
                tls[name] = _read_strings(path, g, name, sizes["n"], allowed, s.warnings)
        s.tls = tls
        s.tls_attrs = {k: _decode(v) for k, v in g.attrs.items()}
        for name in TLS_NUMBER_ATTRS:
            if name in s.tls_attrs:
                s.tls_attrs[name] = _number_attr(path, f"/tls attribute {name}", s.tls_attrs[name])
        if s.classified and not (np.isfinite(s.tls_attrs.get("max_splitting", np.nan))
                                 and s.tls_attrs.get("max_splitting", 0) > 0):
            s.warnings.append("/tls attribute max_splitting missing or not positive: the TLS window "
                              "(E_qs ≤ max_splitting) and the density of states are not known")
        elif s.classified and "e_qs" in tls:
            # class tls means E_qs ≤ max_splitting: a row outside the window is a bug of the writer
            above = (tls["class"] == "tls") & (tls["e_qs"] > s.tls_attrs["max_splitting"] * (1 + 1e-9))
            if above.any():
                s.warnings.append(f"/tls: {int(above.sum())} row(s) of class tls have e_qs above the "
                                  f"attribute max_splitting = {s.tls_attrs['max_splitting']:.6g} ε")
        unit = _decode(g["splitting"].attrs.get("unit", g["splitting"].attrs.get("units", "epsilon")))
        s.splitting_unit = "kelvin" if str(unit).lower() in ("k", "kelvin") else "epsilon"
        for name in TLS_DIPOLE:
            if name not in tls or not np.isfinite(tls[name]).any():
                s.warnings.append(f"/tls/{name} not present or all NaN (dipole stage not run)")

    if "search" in f and isinstance(f["search"], h5py.Group):
        _read_search(path, f, s)

    if "interactions" in f:
        inter, known = _check_group(path, f["interactions"], "interactions", INTERACTIONS_REQUIRED)
        inter.update(_check_group(path, f["interactions"], "interactions", INTERACTIONS_OPTIONAL, optional=True,
                                  known={"k": known["k"]})[0])
        n_tls = 0 if s.tls is None else len(s.tls["radius"])
        for name in ("i", "j"):
            v = inter[name].astype(np.int64)
            if v.size and (v.min() < 0 or v.max() >= n_tls):
                raise SampleError(path, f"/interactions/{name}", f"row indices must be in 0..{n_tls - 1} "
                                                                f"(rows of /tls)")
            inter[name] = v
        s.interactions = inter
        eps = f["interactions"].attrs.get("epsilon")
        if eps is not None and np.size(eps) == 1:
            s.material.setdefault("epsilon_r", float(np.asarray(eps).ravel()[0]))

    if "material" in f:
        g = f["material"]
        for name in MATERIAL_NAMES:
            for stored in (name,) + MATERIAL_ALIASES.get(name, ()):
                if stored in g and isinstance(g[stored], h5py.Dataset) and g[stored].size == 1:
                    s.material[name] = float(np.asarray(g[stored][()]).ravel()[0])
                elif stored in g.attrs:
                    s.material[name] = float(np.asarray(g.attrs[stored]).ravel()[0])
                else:
                    continue
                break
    return s
