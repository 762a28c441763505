"""Independent energy of a polar-dimer configuration (docs/polar.md), numpy only, for the CLI tests.

Truncated-shifted LJ (sigma 1 / 0.95 / 0.9 by species pair, epsilon 1, cut at 2.5 sigma) over every
non-bonded pair by minimum image, harmonic bonds (k 2000, r0 0.8), and a plain Ewald sum of the
charges (conducting boundary, converged to ~1e-9) minus each bonded pair's q_i q_j / r.
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
    alpha = 3.5 / (0.5 * L.min())
    rij = np.sqrt(r2[iu])
    qq = (q[:, None] * q[None, :])[iu]
    e_real = (qq * erfc(alpha * rij) / rij).sum()
    kmax = int(math.ceil(2 * alpha * 3.5 * L.max() / (2 * math.pi))) + 1
    m = np.arange(-kmax, kmax + 1)
    kv = np.stack(np.meshgrid(m, m, m, indexing="ij"), -1).reshape(-1, 3)
    kv = kv[(kv ** 2).sum(1) > 0] * (2 * math.pi / L)
    k2 = (kv ** 2).sum(1)
    keep = k2 < (2 * alpha * 3.5) ** 2
    kv, k2 = kv[keep], k2[keep]
    sk = np.exp(1j * x @ kv.T).T @ q
    e_rec = (2 * math.pi / L.prod() * (np.exp(-k2 / (4 * alpha ** 2)) / k2) * np.abs(sk) ** 2).sum()
    e_ewald = e_real + e_rec - alpha / math.sqrt(math.pi) * (q ** 2).sum()
    e_excl = -(q[bi] * q[bj] / r_b).sum()
    return e_lj + e_bond + e_ewald + e_excl, e_ewald
