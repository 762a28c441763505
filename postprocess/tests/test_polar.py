"""tlsmap_post.polar against closed forms and brute-force loops written here."""
import os
import tempfile
import unittest

import h5py
import numpy as np

from tlsmap_post import polar


def write_polar(path, x, q, L, bonds, rows=()):
    """A minimal polar-dimer file: /particles/all (ids in reverse order, to test the sort) and /tls CSR rows
    given as (ids, displacement per id)."""
    n = len(x)
    order = np.arange(n)[::-1]
    with h5py.File(path, "w") as f:
        a = f.create_group("particles/all")
        a["id/value"] = (order + 1)[None, :]
        a["position/value"] = x[order][None]
        a["charge/value"] = q[order][None]
        a["box/edges/value"] = np.asarray(L, float)[None]
        a["bonds"] = bonds
        if rows:
            off, ids, pa, pb = [0], [], [], []
            for r_ids, disp in rows:
                ids += list(r_ids)
                pa += [x[i - 1] for i in r_ids]
                pb += [x[i - 1] + d for i, d in zip(r_ids, disp)]
                off.append(len(ids))
            t = f.create_group("tls")
            t["mobile_offset"], t["mobile_id"] = np.array(off), np.array(ids)
            t["position_a"], t["position_b"] = np.array(pa), np.array(pb)


def lattice_molecules(n, spacing, axis_of):
    """n³ dimers on a cubic lattice, bond 0.8 along axis_of(cell); charges +0.5 (A), −0.5 (B)."""
    x, q, bonds = [], [], []
    for c, (i, j, k) in enumerate(np.ndindex(n, n, n)):
        centre = spacing * (np.array([i, j, k]) + 0.5)
        u = axis_of((i, j, k))
        x += [centre - 0.4 * u, centre + 0.4 * u]
        q += [0.5, -0.5]
        bonds.append([2 * c + 1, 2 * c + 2])
    return np.array(x), np.array(q), np.full(3, n * spacing), np.array(bonds)


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)


def kirkwood_by_loops(x, L, bonds, R):
    """G_K(R) by explicit loops over molecule pairs (dipole along r_B − r_A for charges +q on A)."""
    centres, axes = [], []
    for i, j in bonds - 1:
        b = x[j] - x[i]
        b -= L * np.round(b / L)
        centres.append(x[i] + 0.5 * b)
        axes.append(-b / np.linalg.norm(b))  # q_B = −q: the dipole points from B to A
    total = 0.0
    for a in range(len(centres)):
        for c in range(len(centres)):
            d = centres[c] - centres[a]
            d -= L * np.round(d / L)
            if a != c and d @ d < R * R:
                total += axes[a] @ axes[c]
    return 1.0 + total / len(centres)


class TestKirkwood(Tmp):
    # 7³ molecules: R = L/2 = 3.5 spacings, at no lattice distance (no rounding at the sphere's edge).
    def test_lattices_against_loops(self):
        for name, axis in (("aligned", lambda c: np.array([0.0, 0.0, 1.0])),
                           ("tilted checkerboard", lambda c: np.array([0.6, 0.0, 0.8]) * (-1.0) ** sum(c))):
            x, q, L, bonds = lattice_molecules(7, 1.3, axis)
            g, se, R, m = polar.kirkwood(x, q, L, bonds)
            self.assertEqual(m, 343)
            self.assertAlmostEqual(R, 3.5 * 1.3, places=12)
            self.assertAlmostEqual(g, kirkwood_by_loops(x, L, bonds, R), places=10, msg=name)
        # Aligned: every molecule adds 1 per other centre within R, the same for all (no spread).
        x, q, L, bonds = lattice_molecules(7, 1.3, lambda c: np.array([0.0, 0.0, 1.0]))
        g, se, _, _ = polar.kirkwood(x, q, L, bonds)
        self.assertGreater(g, 100.0)
        self.assertAlmostEqual(se, 0.0, places=10)

    def test_random_orientations(self):
        rng = np.random.default_rng(3)
        x, q, L, bonds = lattice_molecules(8, 1.3, lambda c: (lambda v: v / np.linalg.norm(v))(rng.normal(size=3)))
        g, se, _, _ = polar.kirkwood(x, q, L, bonds)
        self.assertLess(abs(g - 1.0), 5 * se, (g, se))


class TestRows(Tmp):
    def test_bond_changes_and_g_closed_form(self):
        x, q, L, bonds = lattice_molecules(3, 1.5, lambda c: np.array([1.0, 0.0, 0.0]))
        # Row 0: the A beads of molecules 1 and 2 move by (0, 0.3, 0) and (0, 0, 0.4); molecule 1's
        # B bead by (0, −0.3, 0): Δμ_1 = 0.5·0.3 ŷ + 0.5·0.3 ŷ = 0.3 ŷ, Δμ_2 = 0.2 ẑ.
        # Row 1: three molecules' A beads by the same (0.2, 0, 0): g = 3.
        rows = [([1, 2, 3], [np.array([0, 0.3, 0]), np.array([0, -0.3, 0]), np.array([0, 0, 0.4])]),
                ([5, 7, 9], [np.array([0.2, 0, 0])] * 3)]
        write_polar(self.path("a.h5"), x, q, L, bonds, rows)
        got = polar.row_bond_changes(self.path("a.h5"))
        self.assertEqual(len(got), 2)
        np.testing.assert_allclose(sorted(map(tuple, got[0])), [(0, 0, 0.2), (0, 0.3, 0)], atol=1e-14)
        np.testing.assert_allclose(got[1], [[0.1, 0, 0]] * 3, atol=1e-14)
        # ζ from the stored input (root attribute `input`), NaN without one.
        self.assertTrue(np.isnan(polar.zeta(self.path("a.h5"))))
        with h5py.File(self.path("a.h5"), "a") as f:
            f.attrs["input"] = "[charge]\nmode = \"active\"\nzeta = 0.05\n"
        self.assertEqual(polar.zeta(self.path("a.h5")), 0.05)
        # The shares from /material: NaN without the group or the attribute; the summary over glasses
        # skips NaN (a glass whose share failed its checks) and gives the standard error of the mean.
        self.assertTrue(np.isnan(polar.coulomb_share(self.path("a.h5"))))
        with h5py.File(self.path("a.h5"), "a") as f:
            f.create_group("material").attrs["coulomb_share"] = 0.25
        self.assertEqual(polar.coulomb_share(self.path("a.h5")), 0.25)
        self.assertTrue(np.isnan(polar.coulomb_share(self.path("a.h5"), "coulomb_share_affine")))
        mean, se, n = polar.share_summary([0.1, np.nan, 0.3, 0.2])
        self.assertEqual(n, 3)
        self.assertAlmostEqual(mean, 0.2, places=14)
        self.assertAlmostEqual(se, 0.1 / np.sqrt(3), places=14)  # sd 0.1 over three
        self.assertEqual(polar.share_summary([np.nan])[2], 0)
        self.assertTrue(np.isnan(polar.share_summary([0.5])[1]))
        st = polar.group_statistics(got)
        mu2 = np.array([0.3 ** 2 + 0.2 ** 2, 0.3 ** 2])
        s2 = np.array([0.3 ** 2 + 0.2 ** 2, 3 * 0.1 ** 2])
        self.assertAlmostEqual(st["g"][0], mu2.mean() / s2.mean(), places=12)

    def test_null_test_and_eq6_slope(self):
        rng = np.random.default_rng(5)
        # Aligned rows of k equal changes: μ² = k² a², Σ|Δμ|² = k a², so the Eq. 6 slope is exactly 2
        # and g (ratio of means) Σk²/Σk; the random-sign null test must give 1 within 0.05.
        ks = np.arange(1, 41)
        rows = [np.tile([0.0, 0.0, 0.1], (k, 1)) for k in ks]
        st = polar.group_statistics(rows)
        self.assertAlmostEqual(st["eq6_slope"][0], 2.0, places=10)
        self.assertAlmostEqual(st["g"][0], (ks ** 2).sum() / ks.sum(), places=10)
        self.assertGreaterEqual(st["n_null"], 500)
        lo, hi = st["g_null"][1], st["g_null"][2]
        self.assertLess(abs(st["g_null"][0] - 1.0), 0.05, st["g_null"])
        self.assertLess(lo, 1.0)
        self.assertGreater(hi, 1.0)
        # Independent random changes: g ≈ 1 and the slope ≈ 1.
        rows = [rng.normal(size=(int(k), 3)) * rng.uniform(0.05, 0.5) for k in rng.integers(2, 40, size=400)]
        st = polar.group_statistics(rows)
        self.assertLess(st["g"][1], 1.0)
        self.assertGreater(st["g"][2], 1.0)
        self.assertLess(st["eq6_slope"][1], 1.0)
        self.assertGreater(st["eq6_slope"][2], 1.0)


if __name__ == "__main__":
    unittest.main()
