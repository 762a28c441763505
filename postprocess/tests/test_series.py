"""The stability series of the report (series.py): counts per bead against T_f, on synthetic swap glasses.

Known answers: two T_f points of two samples each (40 beads per sample), the rows of
synth.CLASSIFIED_ROWS.
- T_f = 0.3: the rows as they are. Counted (method given left out): tls 2 | 1, double_well 2 | 2
  (the given row of sample 0 is not counted); low asymmetry |ε| ≤ 0.05 × 0.3 = 0.015 ε: the tls row
  with ε = 0.01 only, so 1 | 0.
- T_f = 0.05: every row relabelled double_well. tls 0 | 0; double_well 5 | 4 (sample 0's given row
  left out: 6 − 1); |ε| ≤ 0.0025: none.
Per bead Σn/Σ N with the delete-one-sample jackknife; Poisson intervals recomputed here from the
chi-square quantiles (Garwood).
"""

import contextlib
import io
import os
import tempfile
import unittest

import numpy as np
from scipy.stats import chi2

from tests import synth
from tlsmap_post import analysis
from tlsmap_post.merge import merge
from tlsmap_post.report import main
from tlsmap_post.series import stability_series

N = 80   # beads per point: 2 samples × 40


def garwood(n):
    lo = 0.0 if n == 0 else chi2.ppf(0.16, 2 * n) / 2
    return lo, chi2.ppf(0.84, 2 * n + 2) / 2


class TestSeries(unittest.TestCase):
    def setUp(self):
        self._d = tempfile.TemporaryDirectory()
        self.dir = self._d.name
        self.paths = []
        for t_f, relabel in ((0.3, False), (0.05, True)):
            for k, rows in enumerate(synth.CLASSIFIED_ROWS):
                classes = ["double_well"] * len(rows) if relabel else None
                mobile, cols = synth.classified_columns(rows, classes)
                path = os.path.join(self.dir, f"tf{t_f}_{k}.h5")
                synth.write_sample(path, seed=k + 1, mobile=mobile, tls_columns=cols,
                                   tls_attrs=dict(max_splitting=synth.MAX_SPLITTING),
                                   input_extra=f"[pack]\nswap = true\nt_final = {t_f}\n")
                self.paths.append(path)

    def tearDown(self):
        self._d.cleanup()

    def points(self, paths):
        merged = merge(paths)
        return stability_series(merged, analysis.analyse(merged, {}))

    def test_counts_per_bead_and_errors(self):
        hot, cold = self.points(self.paths)   # highest T_f first
        self.assertEqual((hot.t_f, cold.t_f), (0.3, 0.05))
        self.assertEqual((hot.n_samples, hot.n_beads), (2, N))
        self.assertEqual(hot.counts, {"tls": 3, "double_well": 4, "low_asymmetry": 1})
        self.assertEqual(cold.counts, {"tls": 0, "double_well": 9, "low_asymmetry": 0})
        # tls at 0.3: samples (2, 40), (1, 40); leave-one-out 1/40, 2/40 -> SE 0.5/40
        self.assertAlmostEqual(hot.per_bead["tls"].value, 3 / N, places=14)
        self.assertAlmostEqual(hot.per_bead["tls"].se, 0.5 / 40, places=14)
        self.assertAlmostEqual(hot.per_bead["double_well"].se, 0.0, places=14)   # 2 and 2
        # double_well at 0.05: (5, 40), (4, 40): leave-one-out 4/40, 5/40 -> SE 0.5/40
        self.assertAlmostEqual(cold.per_bead["double_well"].value, 9 / N, places=14)
        self.assertAlmostEqual(cold.per_bead["double_well"].se, 0.5 / 40, places=14)
        for p, key, n in ((hot, "tls", 3), (hot, "low_asymmetry", 1), (cold, "double_well", 9)):
            lo, hi = garwood(n)
            self.assertAlmostEqual(p.poisson[key]["lo"], lo / N, places=12)
            self.assertAlmostEqual(p.poisson[key]["hi"], hi / N, places=12)
        # none found: the 95 % upper limit -ln(0.05) = 2.996 events
        self.assertAlmostEqual(cold.poisson["tls"]["upper95"], -np.log(0.05) / N, places=10)
        # the distributions: |ε| of the tls and double_well rows found (given left out)
        self.assertEqual(sorted(np.round(hot.asym, 12)), [0.01, 0.02, 0.03, 0.8, 0.9, 1.0, 1.1])
        self.assertEqual(len(cold.asym), 9)

    def test_groups_without_one_t_f_are_not_points(self):
        # a quenched glass (no swap) has no T_f; mixed in a group by --group-by it drops the point
        quench = os.path.join(self.dir, "quench.h5")
        mobile, cols = synth.classified_columns(synth.CLASSIFIED_ROWS[0])
        synth.write_sample(quench, mobile=mobile, tls_columns=cols, tls_attrs=dict(max_splitting=0.01),
                           input_extra="[pack]\nswap = false\nt_final = 0.3\n")
        pts = self.points(self.paths[:2] + [quench])
        self.assertEqual([p.t_f for p in pts], [0.3])
        self.assertEqual(pts[0].n_samples, 2)

    def test_report_section_and_figure(self):
        out = os.path.join(self.dir, "report")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as e:
            self.assertEqual(main([out] + self.paths), 0, e.getvalue())
        with open(os.path.join(out, "report.md")) as f:
            text = f.read()
        self.assertIn("## Stability series: TLS against the preparation temperature", text)
        rows = [line for line in text.splitlines() if line.startswith("| T_f=")]
        self.assertEqual(len(rows), 2)
        # 0.5/40 = 0.0125 prints as 0.013 (%.2g); Poisson 3 events: 1.37–5.92 -> 0.017–0.074 per bead;
        # medians over |ε| and E_qs of the 7 rows: 0.8 ε = 96 K
        self.assertEqual(rows[0], "| T_f=0.3 | 0.3 | 2 | 80 | 3: 0.0375 ± 0.013 (0.017–0.074) | 4: 0.05 ± 0 (0.026–0.089) | "
                                  "1: 0.0125 ± 0.013 (0.0022–0.041) | 96 | 96 |")
        self.assertIn("| 0 (< 0.037) |", rows[1])     # 2.996/80
        self.assertTrue(os.path.isfile(os.path.join(out, "stability_series.png")))
        self.assertIn("](stability_series.png)", text)


if __name__ == "__main__":
    unittest.main()
