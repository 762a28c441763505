"""The stability-series summary (tlsmap_post.stability) on synthetic pack files with known answers."""

import io
import math
import os
import tempfile
import unittest
from contextlib import redirect_stdout

import h5py
import numpy as np

from tlsmap_post import stability


def write_pack(path, t_f, e_pot, e_err, tau=None, n=20, dt=0.01, e_is=0.25):
    """A /pack as tlsmap writes it; F_s = C_σ = exp(−t/tau) over t = 10 … 200 τ (flat 0.9 if tau is None)."""
    t = np.arange(10.0, 201.0, 10.0)
    y = np.exp(-t / tau) if tau else np.full_like(t, 0.9)
    with h5py.File(path, "w") as f:
        f.create_dataset("particles/all/position/value", data=np.zeros((1, n, 3)))
        g = f.create_group("pack")
        for k, v in dict(t_f=t_f, dt=dt, e_pot_t_f=e_pot, e_pot_t_f_error=e_err, pressure_t_f=3.0,
                         pressure_t_f_error=0.01, e_is_per_bead=e_is, swap=1.0, swap_acceptance_t_f=0.1).items():
            g.attrs[k] = v
        g.create_dataset("decorrelation", data=np.column_stack([t / dt, np.ones_like(t), y, y]))


class TestStability(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.p = lambda name: os.path.join(self.dir.name, name)

    def tearDown(self):
        self.dir.cleanup()

    def test_crossing_time_by_interpolation(self):
        # exp(−t/43) sampled every 10: 1/e is crossed between 40 and 50; linear interpolation gives
        # 43.25 (the chord lies above the convex curve), within 0.5 of the true 43.
        t = np.arange(10.0, 201.0, 10.0)
        self.assertAlmostEqual(stability.crossing_time(t, np.exp(-t / 43.0)), 43.0, delta=0.5)
        self.assertIsNone(stability.crossing_time(t, np.full_like(t, 0.5)))
        # Already below at the first row: interpolated from (0, 1).
        self.assertAlmostEqual(stability.crossing_time([10.0], [0.0]), 10.0 * (1 - 1 / math.e), places=12)

    def test_read_group_and_agreement(self):
        write_pack(self.p("a.h5"), 0.07, 0.400, 0.001, tau=43.0, e_is=0.21)
        write_pack(self.p("b.h5"), 0.07, 0.402, 0.001, tau=43.0, e_is=0.212)   # 0.002 <= 3·√2·0.001
        write_pack(self.p("c.h5"), 0.12, 0.430, 0.001, tau=None)
        write_pack(self.p("d.h5"), 0.12, 0.440, 0.001, tau=None)               # 0.010 > 0.0042
        rows = [stability.read_pack(self.p(x + ".h5")) for x in "abcd"]
        self.assertEqual(rows[0]["n"], 20)
        self.assertAlmostEqual(rows[0]["tau_fs"], 43.0, delta=0.5)             # steps · dt, in τ
        self.assertAlmostEqual(rows[0]["window"], 200.0, places=9)
        g = stability.groups(rows)
        self.assertEqual(list(g), [(20, 0.07), (20, 0.12)])
        self.assertTrue(stability.starts_agree(g[(20, 0.07)]))
        self.assertFalse(stability.starts_agree(g[(20, 0.12)]))
        text = "\n".join(stability.markdown(rows))
        self.assertIn("| 20 | 0.07 | 2 | 0.21100 | 0.00200 | yes |", text)
        self.assertIn("| 20 | 0.12 | 2 | 0.25000 | 0.00000 | NO |", text)
        self.assertIn("> 200", text)                                           # never decorrelated

    def test_main_writes_table_and_figure_and_refuses_bad_files(self):
        write_pack(self.p("a.h5"), 0.07, 0.4, 0.001, tau=43.0)
        out = self.p("out")
        with redirect_stdout(io.StringIO()):
            self.assertEqual(stability.main([out, self.p("a.h5")]), 0)
        self.assertTrue(os.path.getsize(os.path.join(out, "stability.png")) > 0)
        with open(os.path.join(out, "stability.md")) as f:
            self.assertIn("0.07", f.read())
        with h5py.File(self.p("old.h5"), "w") as f:
            f.create_group("pack").attrs["e_is_per_bead"] = 0.2
        buf = io.StringIO()
        with redirect_stdout(buf):
            self.assertEqual(stability.main([out, self.p("old.h5")]), 1)
        self.assertIn("old.h5", buf.getvalue())
        self.assertIn("t_f", buf.getvalue())


if __name__ == "__main__":
    unittest.main()
