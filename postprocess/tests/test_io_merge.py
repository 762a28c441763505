"""Reading, validation and merging on synthetic files with known content."""

import os
import tempfile
import unittest

import h5py
import numpy as np

from tests import synth
from tlsmap_post.io import SampleError, read_sample
from tlsmap_post.merge import merge, tls_derived, write_merged

DX = np.array([0.05, 0, 0])
DY = np.array([0, 0.05, 0])

# Bonds (1,2) and (3,4) carry +q on 1 and 3, −q on 2 and 4 (synth.write_sample).
KNOWN_G = [
    (([1, 3], [DX, DX]), 2.0),          # two parallel bond changes: g = |2Δμ|²/(2|Δμ|²) = 2
    (([1, 3], [DX, -DX]), 0.0),         # antiparallel: μ_T = 0
    (([1, 3], [DX, DY]), 1.0),          # orthogonal: g = 1
    (([1, 2], [DX, DX]), np.nan),       # both beads of one bond translate: Δμ = 0, g undefined
]


class Tmp(unittest.TestCase):
    def setUp(self):
        self._d = tempfile.TemporaryDirectory()
        self.dir = self._d.name

    def tearDown(self):
        self._d.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)


class TestDerived(Tmp):
    def test_g_and_dipole_exact(self):
        mobile = [m for m, _ in KNOWN_G]
        p = self.path("g.h5")
        synth.write_sample(p, mobile=mobile)
        s = read_sample(p)
        d = tls_derived(s)
        q = s.charge_attrs["charge_reduced"]
        mu2 = np.einsum("ij,ij->i", d["mu_recomputed"], d["mu_recomputed"])
        np.testing.assert_allclose(d["mu_recomputed"], s.tls["mu_direct"], atol=1e-15)
        np.testing.assert_allclose(d["sum_dmu2"], q * q * 0.05 ** 2 * np.array([2, 2, 2, 0]), rtol=1e-12)
        with np.errstate(invalid="ignore", divide="ignore"):
            g = mu2 / d["sum_dmu2"]
        np.testing.assert_allclose(g[:3], [2.0, 0.0, 1.0], atol=1e-12)
        self.assertTrue(np.isnan(g[3]))
        np.testing.assert_array_equal(d["n_bonds_moved"], [2, 2, 2, 1])

    def test_three_beads_two_bonds(self):
        # bead 1 (+q) moves +δx, bead 2 (−q) moves −δx: Δμ_1 = 2qδ x̂; bead 3 (+q) moves δŷ: Δμ_2 = qδ ŷ.
        # μ_T = qδ(2, 1, 0): |μ|² = 5q²δ²; Σ|Δμ|² = 4q²δ² + q²δ² = 5q²δ²  -> g = 1.
        p = self.path("g3.h5")
        synth.write_sample(p, mobile=[([1, 2, 3], [DX, -DX, DY])])
        m = merge([p])
        np.testing.assert_allclose(m.tls["g"], [1.0], rtol=1e-12)
        np.testing.assert_array_equal(m.tls["n_bonds_moved"], [2])

    def test_minimum_image(self):
        # A bead just below the box edge moves across it: position_b is wrapped, d must be +0.05.
        p = self.path("wrap.h5")
        pos, charge, tls = synth.write_sample(p, mobile=[([1], [DX])], seed=3)
        with h5py.File(p, "r+") as f:
            f["tls/position_a"][0] = [4.99, 1, 1]
            f["tls/position_b"][0] = [0.04, 1, 1]
        s = read_sample(p)
        d = tls_derived(s)
        np.testing.assert_allclose(d["mu_recomputed"][0], charge[0] * DX, rtol=1e-9)


class TestValidation(Tmp):
    def test_missing_dataset_names_file_and_dataset(self):
        p = self.path("bad.h5")
        synth.write_sample(p, mobile=[([1], [DX])], omit=("tls/d_l",))
        with self.assertRaises(SampleError) as e:
            read_sample(p)
        self.assertIn(p, str(e.exception))
        self.assertIn("tls/d_l", str(e.exception))
        self.assertIn("missing dataset", str(e.exception))

    def test_inconsistent_shapes(self):
        p = self.path("shape.h5")
        synth.write_sample(p, mobile=[([1], [DX]), ([3], [DY])], tls_columns=dict(barrier=np.zeros(3)))
        with self.assertRaisesRegex(SampleError, r"tls/barrier.*shape \(3,\).*n = 2"):
            read_sample(p)

    def test_bad_offsets_and_ids(self):
        p = self.path("off.h5")
        synth.write_sample(p, mobile=[([1], [DX])], tls_columns=dict(mobile_offset=np.array([0, 2])))
        with self.assertRaisesRegex(SampleError, "mobile_offset"):
            read_sample(p)
        synth.write_sample(p, n_beads=10, mobile=[([1], [DX])], tls_columns=dict(mobile_id=np.array([11])))
        with self.assertRaisesRegex(SampleError, r"mobile_id.*1\.\.10"):
            read_sample(p)

    def test_interaction_indices(self):
        p = self.path("int.h5")
        inter = dict(i=np.array([0]), j=np.array([5]), r=np.ones((1, 3)), j_el=np.ones(1), j_dd=np.ones(1),
                     j_mech=np.ones(1))
        synth.write_sample(p, mobile=[([1], [DX]), ([3], [DY])], interactions=inter)
        with self.assertRaisesRegex(SampleError, r"interactions/j.*0\.\.1"):
            read_sample(p)

    def test_not_hdf5_missing_tmp(self):
        p = self.path("text.h5")
        with open(p, "w") as f:
            f.write("not hdf5")
        with self.assertRaisesRegex(SampleError, "not readable as HDF5"):
            read_sample(p)
        with self.assertRaisesRegex(SampleError, "no such file"):
            read_sample(self.path("nothing.h5"))
        with self.assertRaisesRegex(SampleError, "temporary"):
            read_sample(self.path("x.h5.tmp"))

    def test_missing_configuration(self):
        p = self.path("nocharge.h5")
        synth.write_sample(p, omit=("particles/all/charge/value",))
        with self.assertRaisesRegex(SampleError, "particles/all/charge/value: missing dataset"):
            read_sample(p)


class TestMerge(Tmp):
    def test_two_samples_and_skip(self):
        a, b, bad, pack = (self.path(n) for n in ("a.h5", "b.h5", "bad.h5", "pack.h5"))
        synth.write_sample(a, mobile=[([1], [DX])] * 3, seed=1)
        synth.write_sample(b, mobile=[([3], [DY])] * 5, seed=2, tls_columns=dict(barrier=np.arange(5.0)))
        synth.write_sample(bad, mobile=[([1], [DX])], omit=("tls/position_b",))
        synth.write_sample(pack, charge_group=False)
        m = merge([a, b, bad, pack])
        self.assertEqual(m.n_samples, 3)
        self.assertEqual(len(m.skipped), 1)
        self.assertEqual(m.skipped[0][0], bad)
        self.assertIn("tls/position_b", m.skipped[0][1])
        np.testing.assert_array_equal(m.tls["sample"], [0] * 3 + [1] * 5)
        np.testing.assert_array_equal(m.tls["tls"], [0, 1, 2, 0, 1, 2, 3, 4])
        np.testing.assert_array_equal(m.tls["barrier"][3:], np.arange(5.0))
        np.testing.assert_array_equal(m.samples["n_tls"], [3, 5, 0])
        self.assertEqual(m.samples["stages"][2], "pack")
        self.assertEqual(m.samples["stages"][0], "pack charge search dipole")
        with self.assertRaises(SampleError):
            merge([a, bad], strict=True)
        out = self.path("merged.h5")
        write_merged(m, out)
        with h5py.File(out, "r") as f:
            self.assertEqual(f["tls/sample"].shape, (8,))
            self.assertEqual(f["tls/mu_t"].shape, (8, 3))
            self.assertIn("position_b", f.attrs["skipped"][0])

    def test_missing_optional_column_is_nan(self):
        a, b = self.path("a.h5"), self.path("b.h5")
        synth.write_sample(a, mobile=[([1], [DX])] * 2)
        synth.write_sample(b, mobile=[([1], [DX])] * 2, omit=("tls/mu_eq13", "tls/mu_direct"))
        m = merge([a, b])
        self.assertTrue(np.all(np.isfinite(m.tls["mu_eq13"][:2])))
        self.assertTrue(np.all(np.isnan(m.tls["mu_eq13"][2:])))
        # mu_t falls back to the recomputed direct sum: identical to sample a's
        np.testing.assert_allclose(m.tls["mu_t"][2:], m.tls["mu_t"][:2])
        self.assertTrue(any("mu_eq13 not present" in w for _, w in m.warnings))

    def test_mu_direct_mismatch_warns(self):
        p = self.path("a.h5")
        synth.write_sample(p, mobile=[([1], [DX])], tls_columns=dict(mu_direct=np.array([[1.0, 0, 0]])))
        m = merge([p])
        self.assertTrue(any("differs from" in w for _, w in m.warnings))

    def test_dipole_stage_columns_cross_checked(self):
        # parallel bond changes (g = 2): the dipole stage's own g and Σ|Δμ|² agree -> no warning;
        # a wrong g_kirkwood -> a warning naming it. mu_eq13 all NaN (as search writes it) -> no "dipole".
        q = synth.write_sample(self.path("probe.h5"))[1][0]
        good, bad = self.path("good.h5"), self.path("bad.h5")
        s2 = 2 * (q * 0.05) ** 2
        synth.write_sample(good, mobile=[([1, 3], [DX, DX])],
                           tls_columns=dict(g_kirkwood=np.array([2.0]), bond_dmu2_sum=np.array([s2])))
        synth.write_sample(bad, mobile=[([1, 3], [DX, DX])],
                           tls_columns=dict(g_kirkwood=np.array([1.0]), mu_eq13=np.full((1, 3), np.nan)))
        m = merge([good, bad])
        self.assertFalse(any(p == good for p, _ in m.warnings), m.warnings)
        self.assertTrue(any(p == bad and "g_kirkwood differs" in w for p, w in m.warnings))
        self.assertTrue(any(p == bad and "mu_eq13 not present or all NaN" in w for p, w in m.warnings))
        self.assertEqual(list(m.samples["stages"]), ["pack charge search dipole", "pack charge search"])

    def test_groups_from_varying_keys(self):
        paths = []
        for k, (zeta, seed) in enumerate([(0.05, 1), (0.05, 2), (0.1, 1), (0.1, 2)]):
            paths.append(self.path(f"s{k}.h5"))
            synth.write_sample(paths[-1], zeta=zeta, seed=seed, mobile=[([1], [DX])])
        m = merge(paths)
        self.assertEqual(m.group_keys, ("charge.zeta",))
        self.assertEqual(list(m.samples["group"]), ["zeta=0.05"] * 2 + ["zeta=0.1"] * 2)

    def test_groups_by_preparation_temperature(self):
        # a stability series: the same model and charges, glasses made at two T_f (pack.t_final)
        paths = []
        for k, (tf, seed) in enumerate([(0.062, 1), (0.12, 2), (0.062, 3)]):
            paths.append(self.path(f"t{k}.h5"))
            synth.write_sample(paths[-1], seed=seed, mobile=[([1], [DX])],
                               input_extra=f'[system]\nmodel = "polydisperse-soft-sphere"\n'
                                           f'[pack]\nswap = true\nt_final = {tf}\n')
        m = merge(paths)
        self.assertEqual(m.group_keys, ("pack.t_final",))
        self.assertEqual(list(m.samples["group"]), ["T_f=0.062", "T_f=0.12", "T_f=0.062"])


if __name__ == "__main__":
    unittest.main()
