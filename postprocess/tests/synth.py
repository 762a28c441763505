"""Synthetic tlsmap sample files with known answers, written with h5py following the data contract
(docs/file-format.md, docs/postprocess.md): /particles (H5MD subset), root unit attributes, /charge,
/tls (with or without the rearrangement classification), /search, /interactions, /material. Used by
the unit tests only."""

import h5py
import numpy as np

# As src/io/units.cpp writes them: e per q* = sqrt(σ[Å] ε[K] / 167101), Debye per q*σ = that × σ × 4.8032.
UNITS = dict(sigma_angstrom=3.4, epsilon_kelvin=120.0, mass_amu=39.948,
             e_per_reduced_charge=np.sqrt(3.4 * 120.0 / 167101.0))
UNITS["debye_per_reduced_dipole"] = UNITS["e_per_reduced_charge"] * 3.4 * 4.80320


def make_tls(mobile, charge, box, positions, **columns):
    """Contract /tls columns from a list of (ids, displacements) per TLS.

    positions_b = positions_a + d, wrapped into the box (so minimum image is needed to read d back);
    mu_direct = Σ q d exactly unless given; other columns default to simple values."""
    n = len(mobile)
    off = np.concatenate([[0], np.cumsum([len(ids) for ids, _ in mobile])]).astype(np.int64)
    ids = np.concatenate([np.asarray(i, np.int64) for i, _ in mobile]) if n else np.zeros(0, np.int64)
    d = np.concatenate([np.asarray(x, float).reshape(-1, 3) for _, x in mobile]) if n else np.zeros((0, 3))
    pa = positions[ids - 1]
    pb = np.mod(pa + d, box)
    mu = np.zeros((n, 3))
    for t in range(n):
        r = slice(off[t], off[t + 1])
        mu[t] = (charge[ids[r] - 1][:, None] * d[r]).sum(axis=0)
    rms = np.array([np.sqrt(np.mean(np.sum(d[off[t]:off[t + 1]] ** 2, axis=1))) if off[t + 1] > off[t] else 0
                    for t in range(n)])
    cols = dict(center=pa[off[:-1]] if n else np.zeros((0, 3)), radius=np.full(n, 3.4),
                energy_a=np.zeros(n), energy_b=np.full(n, 0.1), asymmetry=np.full(n, 0.1),
                barrier=np.full(n, 0.5), d_l=rms, n_moving=np.diff(off).astype(np.int64),
                participation=np.diff(off).astype(float), splitting=np.full(n, 1e-3),
                mu_direct=mu, mu_eq13=-mu / 3.0,
                mobile_offset=off, mobile_id=ids, position_a=pa, position_b=pb)
    cols.update(columns)
    return cols


def _write_column(g, name, v, string_kind):
    """A /tls column; a column of str is written as variable-length ("vlen") or fixed-length ("fixed")
    strings, the two forms h5py may hand the reader (as str or bytes)."""
    v = np.asarray(v)
    if v.dtype.kind == "U":
        if string_kind == "fixed":
            g.create_dataset(name, data=v.astype("S"))
        else:
            g.create_dataset(name, data=v.astype(object), dtype=h5py.string_dtype())
    else:
        g.create_dataset(name, data=v)


def write_sample(path, n_beads=40, box=(5.0, 5.0, 5.0), zeta=0.1, seed=1, tls=None, mobile=None,
                 interactions=None, material=None, omit=(), charge_group=True, input_extra="",
                 tls_columns=None, tls_attrs=None, search=None, string_kind="vlen"):
    """Write one sample. Bonds are (1,2), (3,4), ... with +q on the odd id, −q on the even id.

    tls: a dict of /tls columns, or mobile: a list of (ids, displacements) -> make_tls.
    tls_attrs: attributes of /tls; search: datasets of /search (e.g. domain_done).
    omit: dataset paths to leave out (to test validation). Returns (positions, charge, tls dict)."""
    rng = np.random.default_rng(seed)
    box = np.asarray(box, float)
    pos = rng.uniform(0, 1, (n_beads, 3)) * box
    q = zeta / UNITS["e_per_reduced_charge"]
    charge = np.where(np.arange(n_beads) % 2 == 0, q, -q) if charge_group else np.zeros(n_beads)
    bonds = np.arange(1, n_beads + 1, dtype=np.int64).reshape(-1, 2)
    if mobile is not None:
        tls = make_tls(mobile, charge, box, pos, **(tls_columns or {}))
    with h5py.File(path, "w") as f:
        f.attrs["units"] = np.bytes_("lj")
        f.attrs["input"] = np.bytes_(f"[run]\nseed = {seed}\n[charge]\nzeta = {zeta}\n{input_extra}")
        for k, v in UNITS.items():
            f.attrs[k] = v
        p = f.create_group("particles/all")

        def elem(name, data):
            if f"particles/all/{name}/value" in omit:
                return
            g = p.create_group(name)
            g.create_dataset("value", data=data[None])
            g.create_dataset("step", data=np.zeros(1, np.int64))
            g.create_dataset("time", data=np.zeros(1))

        elem("position", pos)
        elem("species", np.zeros(n_beads, np.int32))
        elem("charge", charge)
        elem("id", np.arange(1, n_beads + 1, dtype=np.int64))
        elem("box/edges", box)
        if charge_group:
            lengths = np.linalg.norm(pos[bonds[:, 0] - 1] - pos[bonds[:, 1] - 1], axis=1)
            c = f.create_group("charge")
            c.create_dataset("bonds", data=bonds)
            c.create_dataset("bond_length", data=lengths)
            c.attrs.update(dict(zeta=zeta, charge_reduced=q, mu_mol_reduced=q * lengths.mean(),
                                mu_mol_debye=q * lengths.mean() * UNITS["debye_per_reduced_dipole"],
                                bond_length_mean=lengths.mean()))
        if tls is not None:
            g = f.create_group("tls")
            for k, v in tls.items():
                if f"tls/{k}" not in omit:
                    _write_column(g, k, v, string_kind)
            for k, v in (tls_attrs or {}).items():
                g.attrs[k] = v
        if search is not None:
            g = f.create_group("search")
            for k, v in search.items():
                g.create_dataset(k, data=v)
        if interactions is not None:
            g = f.create_group("interactions")
            for k, v in interactions.items():
                if f"interactions/{k}" not in omit:
                    g.create_dataset(k, data=v)
        if material is not None:
            g = f.create_group("material")
            for k, v in material.items():
                g.create_dataset(k, data=v)
    return pos, charge, tls


def random_walk_tls(rng, n_tls, n_bonds, d_l, n_beads):
    """TLS in which, for each of n_bonds distinct bonds, one bead (the odd id) moves by a random
    vector of length d_l: Δμ_b = ±q d_l in a random direction, independent between bonds.
    Known answers: |Δμ_b|² = q² d_l², E[μ_T²] = Σ|Δμ_b|² (g = 1 on average), d_L = d_l,
    n_moving = n_bonds, so Eq. 6 with N_d = n_moving/2 gives μ_est² = q² d_l² n_bonds/2 and
    ⟨μ_T²⟩/⟨μ_est²⟩ = 2."""
    out = []
    for _ in range(n_tls):
        b = rng.choice(n_beads // 2, n_bonds, replace=False)
        ids = 2 * b + 1
        v = rng.normal(size=(n_bonds, 3))
        v *= d_l / np.linalg.norm(v, axis=1)[:, None]
        out.append((ids, v))
    return out


# The classified catalogue of the tests: 2 samples of 40 beads (box 5³ σ³), 10 rows in all:
# 3 tls, 5 double_well, 2 single_well. In every row bead 1 (charge +q) alone moves by D[k] along x,
# so |μ_T| = q D[k] exactly. Per sample: (class, method, domain, D, asymmetry (signed), e_qs,
# involves_occupied, adjacent, asymmetry_relaxed − asymmetry (NaN: not computed)).
MAX_SPLITTING = 0.01        # ε: the tls window E_qs ≤ 0.01 ε = 1.2 K
CLASSIFIED_ROWS = (
    [("tls", "domain", 0, 0.05, 0.01, 0.001, 1, 1, 0.001),
     ("tls", "domain", 1, 0.10, -0.02, 0.004, 1, 1, 0.002),
     ("double_well", "domain", 2, 0.5, 0.8, 0.8, 1, 1, 0.01),
     ("double_well", "given", -1, 0.5, 1.2, 1.2, 1, 1, np.nan),
     ("double_well", "md-pairs", 3, 0.5, -0.9, 0.9, 0, 0, 0.01),
     ("single_well", "domain", 4, 1.0, 0.5, 2.0, 1, 1, 0.01)],
    [("tls", "domain", 0, 0.15, 0.03, 0.009, 1, 1, 0.003),
     ("double_well", "domain", 1, 0.5, 1.0, 1.0, 1, 1, 0.01),
     ("double_well", "domain", 2, 0.5, 1.1, 1.1, 1, 0, 0.01),
     ("single_well", "domain", 3, 1.0, 0.7, 3.0, 1, 1, 0.01)],
)
# /search/domain_done: sample 0 searched 4 of its 6 domains (one not yet, one failed), sample 1 all 8.
DOMAIN_DONE = (np.array([1, 1, 1, 1, 0, 2], np.int32), np.ones(8, np.int32))
# Sample 0's attempts per domain (/search n_attempts = n_events + n_failed_exits + n_failed_climbs);
# the domains not done (0, 2) carry counts the report must leave out. Sample 1 records none (a
# /search written before 2026-12-07).
ATTEMPTS = dict(n_attempts=np.array([8, 8, 8, 8, 3, 5]), n_events=np.array([5, 6, 4, 7, 1, 0]),
                n_failed_exits=np.array([1, 0, 0, 0, 1, 5]), n_failed_climbs=np.array([2, 2, 4, 1, 1, 0]))
BARRIER = {"tls": 0.05, "double_well": 0.5, "single_well": 0.01}
SPLITTING = {"tls": 1e-3, "double_well": 1e-6, "single_well": 1e-2}


def classified_columns(rows, classes=None, old_format=False):
    """/tls columns of one sample of CLASSIFIED_ROWS (mobile list, extra columns).

    classes: replaces the class column (e.g. without any tls row); old_format: only the columns a
    search wrote before the classification (no class, method, e_qs, ...)."""
    cls = [r[0] for r in rows] if classes is None else list(classes)
    mobile = [([1], [[r[3], 0.0, 0.0]]) for r in rows]
    asym = np.array([r[4] for r in rows])
    cols = dict(asymmetry=asym, energy_a=np.zeros(len(rows)), energy_b=asym,
                barrier=np.array([BARRIER[r[0]] for r in rows]),
                splitting=np.array([SPLITTING[r[0]] for r in rows]),
                domain=np.array([r[2] for r in rows], np.int64))
    if not old_format:
        e_qs = np.array([r[5] for r in rows])
        cols.update({"class": np.array(cls), "method": np.array([r[1] for r in rows]),
                     "e_qs": e_qs, "e_qs_kelvin": e_qs * UNITS["epsilon_kelvin"],
                     "splitting_kelvin": cols["splitting"] * UNITS["epsilon_kelvin"],
                     "involves_occupied": np.array([r[6] for r in rows], np.int32),
                     "adjacent": np.array([r[7] for r in rows], np.int32),
                     "energy_a_relaxed": np.full(len(rows), -0.5), "delta_zpe": np.full(len(rows), 5e-4)})
        cols["energy_b_relaxed"] = -0.5 + asym + np.array([r[8] for r in rows])
        cols["asymmetry_relaxed"] = cols["energy_b_relaxed"] - cols["energy_a_relaxed"]
    return mobile, cols


def write_classified(directory, classes=(None, None), old_format=False, search=True, n_merged=2):
    """The two samples of CLASSIFIED_ROWS; sample 0 stores strings variable-length, sample 1 fixed-
    length. Returns the paths."""
    import os
    paths = []
    for k, rows in enumerate(CLASSIFIED_ROWS):
        mobile, cols = classified_columns(rows, classes[k], old_format)
        attrs = {} if old_format else dict(hbar_reduced=0.0297, max_splitting=MAX_SPLITTING)
        if n_merged is not None and k == 0 and not old_format:
            attrs["n_merged"] = n_merged
        paths.append(os.path.join(directory, f"classified{k}.h5"))
        write_sample(paths[-1], seed=k + 1, mobile=mobile, tls_columns=cols, tls_attrs=attrs,
                     search=(dict(domain_done=DOMAIN_DONE[k], **(ATTEMPTS if k == 0 else {})) if search else None),
                     string_kind=("vlen", "fixed")[k])
    return paths
