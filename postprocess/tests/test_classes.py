"""The rearrangement classification of /tls: reading the new columns, the population the statistics
run over (--class), the counts per class, the TLS density and the report, on synth.CLASSIFIED_ROWS.

Known answers (synth.CLASSIFIED_ROWS): 2 samples of 40 beads (5³ σ³ each); 3 tls rows (bead 1 moves
by 0.05, 0.10 | 0.15 σ; asymmetry 0.01, −0.02 | 0.03 ε; E_qs 0.001, 0.004 | 0.009 ε), 5 double_well
rows (bead 1 moves 0.5 σ; asymmetry 0.8, 1.2, −0.9 | 1.0, 1.1 ε), 2 single_well rows (1.0 σ);
domains searched 4 (of 6) | 8 (of 8); max_splitting = 0.01 ε = 1.2 K. Since only bead 1 (charge +q)
moves, |μ_T| = q × displacement exactly.
"""

import contextlib
import io
import os
import tempfile
import unittest

import h5py
import numpy as np

from tests import synth
from tlsmap_post import analysis, stats
from tlsmap_post.io import SampleError, read_sample
from tlsmap_post.merge import merge, parse_classes, select_population, write_merged
from tlsmap_post.report import main
from tlsmap_post.units import K_B

EPS_K = synth.UNITS["epsilon_kelvin"]
N_BEADS_ALL = 80                      # 2 samples × 40 beads: every bead, not only the mobile ones
VOLUME = 2 * 125.0                    # σ³
FALLBACK_SENTENCE = "no row of class tls: the statistics below are over double_well rows, labelled"


class Tmp(unittest.TestCase):
    def setUp(self):
        self._d = tempfile.TemporaryDirectory()
        self.dir = self._d.name

    def tearDown(self):
        self._d.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def analyse(self, paths, **options):
        groups = analysis.analyse(merge(paths), options)
        self.assertEqual(len(groups), 1)
        return groups[0]

    def report(self, paths, *args, rc=0):
        out = self.path("report")
        with contextlib.redirect_stdout(io.StringIO()) as o, contextlib.redirect_stderr(io.StringIO()) as e:
            self.assertEqual(main([out] + list(paths) + list(args)), rc, e.getvalue())
        if rc:
            return e.getvalue()
        with open(os.path.join(out, "report.md")) as f:
            return f.read(), o.getvalue(), out


def q_of(paths):
    return read_sample(paths[0]).charge_attrs["charge_reduced"]


class TestRead(Tmp):
    def test_new_columns_decoded_vlen_and_fixed(self):
        paths = synth.write_classified(self.dir)
        for k, s in enumerate(read_sample(p) for p in paths):
            rows = synth.CLASSIFIED_ROWS[k]
            self.assertTrue(s.classified)
            self.assertEqual(s.tls["class"].dtype.kind, "U")          # str, not bytes, either way stored
            self.assertEqual(s.tls["class"].tolist(), [r[0] for r in rows])
            self.assertEqual(s.tls["method"].tolist(), [r[1] for r in rows])
            np.testing.assert_array_equal(s.tls["e_qs"], [r[5] for r in rows])
            np.testing.assert_array_equal(s.tls["adjacent"], [r[7] for r in rows])
            np.testing.assert_array_equal(s.tls["domain"], [r[2] for r in rows])
            self.assertEqual(s.tls_attrs["max_splitting"], 0.01)
            self.assertEqual(s.warnings, [])
        s0, s1 = (read_sample(p) for p in paths)
        self.assertEqual((s0.domains_done, s0.n_domains), (4, 6))      # done == 1 only: not 0, not 2
        self.assertEqual((s1.domains_done, s1.n_domains), (8, 8))
        # the attempts of the 4 domains done (not of the one not yet searched, nor the failed one)
        self.assertEqual(s0.attempts, dict(n_attempts=32, n_events=22, n_failed_exits=1, n_failed_climbs=9))
        self.assertIsNone(s1.attempts)                                  # not recorded
        self.assertEqual(s0.tls_attrs["n_merged"], 2.0)
        self.assertNotIn("n_merged", s1.tls_attrs)

    def test_old_format_reads_as_unclassified(self):
        paths = synth.write_classified(self.dir, old_format=True, search=False)
        s = read_sample(paths[0])
        self.assertFalse(s.classified)
        self.assertNotIn("class", s.tls)
        self.assertIsNone(s.domains_done)
        m = merge(paths)
        self.assertEqual(m.tls["class"].tolist(), ["unclassified"] * 10)
        self.assertEqual(m.tls["method"].tolist(), ["n/a"] * 10)
        np.testing.assert_array_equal(m.samples["classified"], [0, 0])
        self.assertTrue(np.all(np.isnan(m.samples["n_domains_done"])))

    def test_validation_of_new_columns(self):
        rows = synth.CLASSIFIED_ROWS[0]
        p = self.path("bad.h5")
        cases = [({"class": np.array(["tls", "tls", "tls"])}, r"tls/class.*shape \(3,\), expected \(6,\)"),
                 ({"class": np.arange(6)}, r"tls/class.*expected strings"),
                 ({"e_qs": np.zeros(4)}, r"tls/e_qs: has shape \(4,\), but tls/center gives n = 6"),
                 ({"adjacent": np.array([1, 1, 2, 1, 1, 1])}, r"tls/adjacent.*0 or 1"),
                 ({"involves_occupied": np.ones(6)}, r"tls/involves_occupied.*expected integers")]
        for change, pattern in cases:
            mobile, cols = synth.classified_columns(rows)
            cols.update(change)
            synth.write_sample(p, mobile=mobile, tls_columns=cols, tls_attrs=dict(max_splitting=0.01))
            with self.assertRaisesRegex(SampleError, pattern):
                read_sample(p)

    def test_unknown_class_kept_with_warning_and_window_checked(self):
        mobile, cols = synth.classified_columns(synth.CLASSIFIED_ROWS[0])
        cols["class"] = np.array(["tls", "TLS", "double_well", "double_well", "double_well", "single_well"])
        cols["e_qs"] = cols["e_qs"].copy()
        cols["e_qs"][0] = 0.02                                # class tls but above max_splitting
        p = self.path("w.h5")
        synth.write_sample(p, mobile=mobile, tls_columns=cols, tls_attrs=dict(max_splitting=0.01))
        s = read_sample(p)
        self.assertEqual(s.tls["class"][1], "TLS")
        self.assertTrue(any("unknown value(s) 'TLS'" in w for w in s.warnings), s.warnings)
        self.assertTrue(any("1 row(s) of class tls have e_qs above" in w for w in s.warnings), s.warnings)
        g = self.analyse([p])
        self.assertEqual(g.counts["rows"]["TLS"]["rows"], 1)      # its own row in the counts
        self.assertEqual(g.n_tls, 1)                               # not in the tls population

    def test_e_qs_kelvin_cross_check_and_merged_h5(self):
        paths = synth.write_classified(self.dir)
        with h5py.File(paths[1], "r+") as f:
            f["tls/e_qs_kelvin"][0] *= 2
        m = merge(paths)
        self.assertTrue(any(p == paths[1] and "e_qs_kelvin differs" in w for p, w in m.warnings))
        self.assertFalse(any(p == paths[0] for p, _ in m.warnings), m.warnings)
        out = self.path("merged.h5")
        write_merged(m, out)
        with h5py.File(out, "r") as f:
            self.assertEqual(f["tls/class"].asstr()[()].tolist(),
                             [r[0] for rows in synth.CLASSIFIED_ROWS for r in rows])
            np.testing.assert_array_equal(f["samples/n_domains_done"][()], [4, 8])


class TestPopulation(Tmp):
    def test_parse_classes(self):
        self.assertEqual(parse_classes("tls"), ("tls",))
        self.assertIsNone(parse_classes("all"))
        self.assertEqual(parse_classes(" double_well, single_well,double_well"), ("double_well", "single_well"))
        with self.assertRaisesRegex(ValueError, "unknown class 'tsl'"):
            parse_classes("tls,tsl")

    def test_select_population_rules(self):
        cls = np.array(["double_well", "tls", "single_well", "tls"])
        np.testing.assert_array_equal(select_population(cls).mask, [0, 1, 0, 1])
        np.testing.assert_array_equal(select_population(cls, None).mask, [1, 1, 1, 1])
        p = select_population(np.array(["double_well", "single_well", "double_well"]))
        self.assertTrue(p.fallback)
        np.testing.assert_array_equal(p.mask, [1, 0, 1])
        self.assertIn(FALLBACK_SENTENCE, p.note)
        p = select_population(np.array(["single_well"]))
        self.assertEqual(p.n, 0)
        self.assertIn("no double_well row to fall back on", p.note)
        p = select_population(np.array(["unclassified"] * 3))
        self.assertEqual((p.n, p.label), (3, "unclassified"))
        # unclassified rows next to classified ones are left out, and the note says how many
        p = select_population(np.array(["tls", "unclassified", "unclassified"]))
        np.testing.assert_array_equal(p.mask, [1, 0, 0])
        self.assertIn("2 unclassified row(s)", p.note)

    def test_default_population_is_tls(self):
        paths = synth.write_classified(self.dir)
        q = q_of(paths)
        g = self.analyse(paths)
        self.assertEqual((g.n_rows, g.n_tls), (10, 3))
        c = g.counts["rows"]
        self.assertEqual([c[k]["rows"] for k in ("tls", "double_well", "single_well", "total")], [3, 5, 2, 10])
        self.assertEqual(c["double_well"]["method:domain"], 3)
        self.assertEqual(c["double_well"]["method:given"], 1)
        self.assertEqual(c["double_well"]["method:md-pairs"], 1)
        self.assertEqual(c["total"]["method:domain"], 8)
        self.assertEqual(c["double_well"]["adjacent=0"], 2)
        self.assertEqual(c["double_well"]["involves_occupied=0"], 1)
        self.assertEqual(c["tls"]["adjacent=1"], 3)
        # statistics over the 3 tls rows only: mean |μ_T| = q (0.05 + 0.10 + 0.15)/3 = 0.1 q
        # (over all 10 rows it would be 0.48 q); ⟨|ε|⟩ = (0.01 + 0.02 + 0.03)/3 ε = 2.4 K (signed: 0.8 K)
        self.assertAlmostEqual(g.mu["mean_abs"].value / q, 0.1, places=12)
        self.assertAlmostEqual(g.mu["rms"].value / q, np.sqrt((0.05 ** 2 + 0.1 ** 2 + 0.15 ** 2) / 3), places=12)
        self.assertAlmostEqual(g.energy["mean_asym_K"].value, 2.4, places=10)
        self.assertAlmostEqual(g.energy["relax_median_K"].value, 0.002 * EPS_K, places=10)
        # the other classes for comparison: medians of E_qs 0.004 ε (tls), 1.0 ε (double_well)
        self.assertAlmostEqual(g.by_class["tls"]["e_qs_K"].value, 0.48, places=10)
        self.assertAlmostEqual(g.by_class["double_well"]["e_qs_K"].value, 120.0, places=10)
        # E_qs over adjacent rows only: the two double_well rows with adjacent = 0 (e_qs 0.9, 1.1) left out
        self.assertEqual(g.by_class["double_well"]["e_qs_left_out"], 2)
        np.testing.assert_allclose(np.sort(g.by_class["double_well"]["e_qs_values_K"]), [96.0, 120.0, 144.0])
        self.assertAlmostEqual(g.by_class["double_well"]["asym_abs_K"].value, 120.0, places=10)
        self.assertAlmostEqual(g.by_class["single_well"]["mu_D"].value / g.info["debye"] / q, 1.0, places=12)
        self.assertEqual(g.info["population_classes"], ["tls"])
        self.assertTrue(all(r["population"] == "tls" for r in g.rows if "window" not in r["claim"]))

    def test_class_all_and_comma_list(self):
        paths = synth.write_classified(self.dir)
        q = q_of(paths)
        g = self.analyse(paths, classes=None)
        self.assertEqual(g.n_tls, 10)
        self.assertAlmostEqual(g.mu["mean_abs"].value / q, (0.3 + 5 * 0.5 + 2 * 1.0) / 10, places=12)
        g = self.analyse(paths, classes=("double_well", "single_well"))
        self.assertEqual(g.n_tls, 7)
        self.assertAlmostEqual(g.mu["mean_abs"].value / q, (5 * 0.5 + 2 * 1.0) / 7, places=12)
        # the density is of class tls whatever the population
        self.assertEqual(g.density["n"], 3)

    def test_fallback_to_double_well(self):
        no_tls = [["single_well" if r[0] == "tls" else r[0] for r in rows] for rows in synth.CLASSIFIED_ROWS]
        paths = synth.write_classified(self.dir, classes=no_tls)
        q = q_of(paths)
        g = self.analyse(paths)
        self.assertTrue(g.population.fallback)
        self.assertIn(FALLBACK_SENTENCE, g.population.note)
        self.assertEqual(g.n_tls, 5)
        self.assertAlmostEqual(g.mu["mean_abs"].value / q, 0.5, places=12)
        self.assertAlmostEqual(g.energy["mean_asym_K"].value, 1.0 * EPS_K, places=10)
        self.assertTrue(all("double_well" in r["population"] for r in g.rows if "window" not in r["claim"]))
        self.assertEqual(g.density["n"], 0)
        self.assertEqual(g.density["per_bead"].value, 0.0)
        self.assertAlmostEqual(g.density["per_bead_poisson"]["upper95"], -np.log(0.05) / N_BEADS_ALL, places=10)

    def test_old_format_over_all_rows_labelled(self):
        paths = synth.write_classified(self.dir, old_format=True, search=False)
        q = q_of(paths)
        g = self.analyse(paths)
        self.assertEqual((g.n_tls, g.population.label), (10, "unclassified"))
        self.assertIn("every row is unclassified", g.population.note)
        self.assertAlmostEqual(g.mu["mean_abs"].value / q, 0.48, places=12)
        self.assertEqual(g.density, {})
        self.assertTrue(any("TLS density: needs /tls/class" in m for m in g.messages))
        self.assertTrue(all(r["population"] == "unclassified" for r in g.rows))

    def test_interactions_between_population_rows(self):
        paths = synth.write_classified(self.dir)
        i, j = np.array([0, 0, 1, 2]), np.array([1, 2, 2, 3])      # rows 0 and 1 of sample 0 are tls
        r = np.array([[4.0, 0, 0], [0, 5.0, 0], [0, 0, 6.0], [3.0, 3.0, 0]])
        inter = dict(i=i, j=j, r=r, j_el=np.ones(4), j_dd=np.ones(4), j_mech=np.full(4, 0.5))
        mobile, cols = synth.classified_columns(synth.CLASSIFIED_ROWS[0])
        synth.write_sample(paths[0], seed=1, mobile=mobile, tls_columns=cols, interactions=inter,
                           tls_attrs=dict(max_splitting=0.01), search=dict(domain_done=synth.DOMAIN_DONE[0]))
        self.assertEqual(self.analyse(paths).n_pairs, 1)                  # only (0, 1)
        self.assertEqual(self.analyse(paths, classes=None).n_pairs, 4)


class TestDensity(Tmp):
    def test_per_bead_per_domain_and_window(self):
        paths = synth.write_classified(self.dir)
        d = self.analyse(paths).density
        self.assertEqual((d["n"], d["n_beads"], d["n_domains"]), (3, N_BEADS_ALL, 12))
        # per bead: 3/80 (all rows would give 10/80). Jackknife over the samples (n, N) = (2, 40),
        # (1, 40): leave-one-out 1/40, 2/40 -> SE = 0.5/40.
        self.assertAlmostEqual(d["per_bead"].value, 3 / 80, places=14)
        self.assertAlmostEqual(d["per_bead"].se, 0.5 / 40, places=14)
        lo, hi = stats.poisson_interval(3)
        self.assertAlmostEqual(d["per_bead_poisson"]["lo"], lo / 80, places=14)
        self.assertAlmostEqual(d["per_bead_poisson"]["hi"], hi / 80, places=14)
        # per domain with domain_done == 1: 3/(4 + 8) (not 3/13 counting the failed, 3/14 every domain);
        # leave-one-out 1/8, 2/4 -> SE = 0.1875
        self.assertAlmostEqual(d["per_domain"].value, 0.25, places=14)
        self.assertAlmostEqual(d["per_domain"].se, 0.1875, places=14)
        self.assertIn("12 of 14 domains searched", d["partial"])
        # window and P̄ = n/(N v_bead E_max): 3/(80 × 0.01) per ε per bead volume; per σ³: 3/(250 × 0.01)
        self.assertEqual(d["window_eps"], (0.01, 0.01))
        self.assertAlmostEqual(d["window_K"][0], 1.2, places=12)
        self.assertAlmostEqual(d["v_bead"], VOLUME / N_BEADS_ALL, places=14)
        self.assertAlmostEqual(d["dos_bead"].value, 3.75, places=12)
        self.assertAlmostEqual(d["dos_sigma3"].value, 1.2, places=12)
        si = 3 / (VOLUME * (3.4e-10) ** 3 * 0.01 * EPS_K * K_B)
        self.assertAlmostEqual(d["dos_si"].value / si, 1.0, places=12)

    def test_given_and_md_pairs_rows(self):
        # a tls row of method given (supplied by the user) counts nowhere in the density; one of
        # method md-pairs (found by MD) counts per bead but not per searched domain
        paths = synth.write_classified(self.dir)
        rows = synth.CLASSIFIED_ROWS[1] + [("tls", "given", -1, 0.2, 0.005, 0.002, 1, 1, 0.0),
                                           ("tls", "md-pairs", -1, 0.2, 0.005, 0.003, 1, 1, 0.0)]
        mobile, cols = synth.classified_columns(rows)
        synth.write_sample(paths[1], seed=2, mobile=mobile, tls_columns=cols, tls_attrs=dict(max_splitting=0.01),
                           search=dict(domain_done=synth.DOMAIN_DONE[1]))
        g = self.analyse(paths)
        self.assertEqual(g.n_tls, 5)                       # all five in the statistics
        self.assertEqual((g.density["n"], g.density["n_given"], g.density["n_domain_method"]), (4, 1, 3))
        self.assertAlmostEqual(g.density["per_bead"].value, 4 / 80, places=14)
        self.assertAlmostEqual(g.density["per_domain"].value, 3 / 12, places=14)

    def test_without_search_and_single_sample(self):
        paths = synth.write_classified(self.dir, search=False)
        d = self.analyse(paths[:1]).density
        self.assertNotIn("per_domain", d)
        self.assertAlmostEqual(d["per_bead"].value, 2 / 40, places=14)
        self.assertTrue(np.isnan(d["per_bead"].se))
        text, _, _ = self.report(paths[:1])
        self.assertIn("| TLS per searched domain | n/a |", text)
        self.assertIn("no /search/domain_done in these files", text)
        self.assertIn("n/a (one sample)", text)


class TestReport(Tmp):
    def test_tls_section(self):
        paths = synth.write_classified(self.dir)
        text, stdout, out = self.report(paths)
        self.assertIn("7 figure(s)", stdout)
        for s in ("### TLS rows: classes and population",
                  "| class | rows | method domain | method md-pairs | method given | adjacent | not adjacent | "
                  "involves occupied | not involving occupied |",
                  "| tls | 3 | 3 | 0 | 0 | 3 | 0 | 3 | 0 |",
                  "| double_well | 5 | 3 | 1 | 1 | 3 | 2 | 4 | 1 |",
                  "| total | 10 | 8 | 1 | 1 | 8 | 2 | 9 | 1 |",
                  "Statistics over the 3 row(s) of class tls (--class tls), of 10 rows.",
                  "### Classes compared", "| tls (population) | 3 |",
                  "Window: E_qs ≤ max_splitting = 0.01 ε = 1.2 K",
                  "| TLS per bead | 0.0375 | ± 0.013 |", "| TLS per searched domain | 0.25 | ± 0.19 |",
                  "window estimate", "J⁻¹ m⁻³", "2 row(s) merged as duplicates",
                  "32 activation attempts in the searched domains that record them (1 file(s)): 22 (69 %) reached "
                  "a verified saddle, 1 found no way out of the basin, 9 climbs did not converge",
                  "| 0 | " + paths[0] + " | all | pack charge search dipole | 40 | 0.1 | 6 | 2 | 4 of 6 | 0 |"):
            self.assertIn(s, text)
        self.assertTrue(os.path.exists(os.path.join(out, "e_qs_by_class.png")))
        self.assertTrue(os.path.exists(os.path.join(out, "asymmetry_relaxed.png")))
        # every row of the estimate table names its population
        table = [ln for ln in text.splitlines() if ln.startswith("| μ_T typical size")]
        self.assertEqual(len(table), 1)
        self.assertEqual(table[0].split(" | ")[1], "tls")

    def test_fallback_and_class_option(self):
        no_tls = [["single_well" if r[0] == "tls" else r[0] for r in rows] for rows in synth.CLASSIFIED_ROWS]
        paths = synth.write_classified(self.dir, classes=no_tls)
        text, _, _ = self.report(paths)
        self.assertIn(FALLBACK_SENTENCE, text)
        est_rows = [ln for ln in text.splitlines() if ln.startswith(("| μ_T typical", "| g = ", "| ⟨ε⟩"))]
        self.assertEqual(len(est_rows), 3)
        for ln in est_rows:
            self.assertEqual(ln.split(" | ")[1], "double_well (no tls row)")
        text, _, _ = self.report(paths, "--class", "all")
        self.assertNotIn(FALLBACK_SENTENCE, text)
        self.assertIn("Statistics over every row (--class all): 10 rows", text)
        err = self.report(paths, "--class", "tsl", rc=2)
        self.assertIn("unknown class 'tsl'", err)

    def test_old_format_report(self):
        paths = synth.write_classified(self.dir, old_format=True, search=False)
        text, stdout, _ = self.report(paths)
        self.assertIn("No /tls/class in these files (written before the classification): every row is "
                      "unclassified, and the statistics below are over all 10 rows", text)
        self.assertIn("| unclassified | 10 |", text)
        self.assertIn("n/a: the files have no /tls/class", text)
        self.assertIn("/tls/e_qs not present in the input files", text)
        row = [ln for ln in text.splitlines() if ln.startswith("| μ_T typical size")][0]
        self.assertEqual(row.split(" | ")[1], "unclassified")
        self.assertIn("5 figure(s)", stdout)


if __name__ == "__main__":
    unittest.main()
