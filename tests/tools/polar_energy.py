"""Independent energy of a polar-dimer configuration (docs/polar.md), numpy only, for the CLI tests.

Truncated-shifted LJ (sigma 1 / 0.95 / 0.9 by species pair, epsilon 1, cut at 2.5 sigma) over every
non-bonded pair by minimum image, harmonic bonds (k 2000, r0 0.8), and a plain Ewald sum of the
charges (conducting boundary; erfc(5) = 1.5e-12 at the real-space cut, half the shortest box edge by
minimum image, and exp(-25) at the k-space cut) minus each bonded pair's q_i q_j / r. With erfc(3.5) at
the cut (as before 2026-12-05) the sum was only good to ~6e-7 of itself: 1.9e-4 on a 400-bead glass.
"""
import math

import h5py
import numpy as np
from scipy.special import erfc

K_BOND, R0 = 2000.0, 0.8
SIGMA = np.array([[1.0, 0.95], [0.95, 0.9]])


def read_last_frame(path):
    """Positions, species, charges (ordered by id), box edges and the bonds table of an H5MD file."""
    with h5py.File(path, "r") as f:
        a = f["particles/all"]
        ids = a["id/value"][-1]
        o = np.argsort(ids)
        return (a["position/value"][-1][o], a["species/value"][-1][o], a["charge/value"][-1][o],
                a["box/edges/value"][-1], a["bonds"][()])


def read_lammps_data(path):
    """Positions, species (0-based), charges (ordered by id), box edges and bonds of a tlsmap-written
    LAMMPS data file (atom_style full, as `tlsmap energy --lammps` writes a bonded glass)."""
    lines = open(path).read().splitlines()
    lo, hi = np.zeros(3), np.zeros(3)
    for line in lines:
        w = line.split()
        if len(w) == 4 and w[2][1:] == "lo" and w[3][1:] == "hi":
            d = "xyz".index(w[2][0])
            lo[d], hi[d] = float(w[0]), float(w[1])

    def section(name):
        k = next(i for i, l in enumerate(lines) if l.split()[:1] == [name]) + 2
        rows = []
        while k < len(lines) and lines[k].strip():
            rows.append(lines[k].split())
            k += 1
        return rows

    atoms = sorted(section("Atoms"), key=lambda w: int(w[0]))
    x = np.array([[float(v) for v in w[4:7]] for w in atoms])
    sp = np.array([int(w[2]) - 1 for w in atoms])
    q = np.array([float(w[3]) for w in atoms])
    bonds = np.array([[int(w[2]), int(w[3])] for w in section("Bonds")])
    return x, sp, q, hi - lo, bonds


def energy(x, sp, q, L, bonds):
    """(total, Ewald part before the bonded exclusion) of beads x (n, 3), ordered by id."""
    n = len(x)
    bi, bj = bonds[:, 0] - 1, bonds[:, 1] - 1
    d = x[:, None, :] - x[None, :, :]
    d -= L * np.round(d / L)
    r2 = (d ** 2).sum(-1)
    iu = np.triu_indices(n, 1)
    bonded = np.zeros((n, n), bool)
    bonded[bi, bj] = bonded[bj, bi] = True
    free = ~bonded[iu]
    rr, ss = r2[iu][free], SIGMA[sp[:, None], sp[None, :]][iu][free]
    inside = rr < (2.5 * ss) ** 2
    s6 = (ss[inside] ** 2 / rr[inside]) ** 3
    e_lj = (4 * s6 * (s6 - 1) - 4 * (2.5 ** -12 - 2.5 ** -6)).sum()
    r_b = np.sqrt(r2[bi, bj])
    e_bond = (0.5 * K_BOND * (r_b - R0) ** 2).sum()
    alpha = 5.0 / (0.5 * L.min())
    rij = np.sqrt(r2[iu])
    qq = (q[:, None] * q[None, :])[iu]
    e_real = (qq * erfc(alpha * rij) / rij).sum()
    kmax = int(math.ceil(2 * alpha * 5.0 * L.max() / (2 * math.pi))) + 1
    m = np.arange(-kmax, kmax + 1)
    kv = np.stack(np.meshgrid(m, m, m, indexing="ij"), -1).reshape(-1, 3)
    kv = kv[(kv ** 2).sum(1) > 0] * (2 * math.pi / L)
    k2 = (kv ** 2).sum(1)
    keep = k2 < (2 * alpha * 5.0) ** 2
    kv, k2 = kv[keep], k2[keep]
    sk = np.concatenate([np.exp(1j * x @ kv[c:c + 4096].T).T @ q for c in range(0, len(kv), 4096)])  # bounded memory
    e_rec = (2 * math.pi / L.prod() * (np.exp(-k2 / (4 * alpha ** 2)) / k2) * np.abs(sk) ** 2).sum()
    e_ewald = e_real + e_rec - alpha / math.sqrt(math.pi) * (q ** 2).sum()
    e_excl = -(q[bi] * q[bj] / r_b).sum()
    return e_lj + e_bond + e_ewald + e_excl, e_ewald


def parts(x, sp, q, L, bonds):
    """(U, E_c): the pair and bond energy, and the Coulomb energy as the engine defines it (the plain
    Ewald sum minus the bonded pairs' q_i q_j / r)."""
    total, e_ewald = energy(x, sp, q, L, bonds)
    bi, bj = bonds[:, 0] - 1, bonds[:, 1] - 1
    d = x[bj] - x[bi]
    d -= L * np.round(d / L)
    e_c = e_ewald - (q[bi] * q[bj] / np.sqrt((d ** 2).sum(1))).sum()
    return total - e_c, e_c


def born_moduli(x, sp, q, L, bonds, h=1e-4):
    """The Born (affine) path of docs/elastic.md §4 from this module's energies alone: the configuration
    strained by diag(1 + e), not relaxed, at the uniaxial (±h u_a) and biaxial (±h (u_a + u_{a+1}))
    strains; central differences give each part's orthorhombic block C_ab and diagonal stress σ_a
    (Lagrangian strain), the stress-strain coefficients B_ab = C_ab + 2 σ_a δ_ab − σ_a, K = Voigt mean of
    B's symmetric part over the block, G = the mean of (B_aa + B_bb − B_ab − B_ba)/4 over xy, yz, zx.
    Returns {"pair": (C, σ, K, G), "coulomb": (...), "E_c": E_c at zero strain}."""
    V = L.prod()
    E = {}
    for e in [(0, 0, 0)] + [tuple(s * h * (d == a) for d in range(3)) for a in range(3) for s in (1, -1)] + \
             [tuple(s * h * (d in (a, (a + 1) % 3)) for d in range(3)) for a in range(3) for s in (1, -1)]:
        f = 1.0 + np.array(e, float)
        E[e] = np.array(parts(x * f, sp, q, L * f, bonds))
    out = {"E_c": E[(0, 0, 0)][1]}
    for p, name in enumerate(("pair", "coulomb")):
        z = E[(0, 0, 0)][p]
        u = lambda a, s: E[tuple(s * h * (d == a) for d in range(3))][p]
        w = lambda a, s: E[tuple(s * h * (d in (a, (a + 1) % 3)) for d in range(3))][p]
        sig = np.array([(u(a, 1) - u(a, -1)) / (2 * h * V) for a in range(3)])
        C = np.zeros((3, 3))
        for a in range(3):
            C[a, a] = (u(a, 1) - 2 * z + u(a, -1)) / (h * h * V) - sig[a]
        for a in range(3):
            b = (a + 1) % 3
            d2 = (w(a, 1) - 2 * z + w(a, -1)) / (h * h * V)
            C[a, b] = C[b, a] = 0.5 * (d2 - sig[a] - sig[b] - C[a, a] - C[b, b])
        B = C + np.diag(2 * sig) - sig[:, None]
        S = 0.5 * (B + B.T)
        K = S.sum() / 9.0
        G = sum(B[a, a] + B[(a + 1) % 3, (a + 1) % 3] - B[a, (a + 1) % 3] - B[(a + 1) % 3, a] for a in range(3)) / 12.0
        out[name] = (C, sig, K, G)
    return out
