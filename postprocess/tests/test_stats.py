"""Statistics and the paper's formulas against closed-form answers."""

import unittest

import numpy as np
from scipy import stats as sps

from tlsmap_post import estimates as est
from tlsmap_post import stats


class TestErrorBars(unittest.TestCase):
    def test_two_samples_known_error(self):
        # Sample 0: all 1.0, sample 1: all 3.0 (4 each). Mean 2; sample means 1, 3:
        # SE = std([1, 3], ddof=1)/sqrt(2) = 1 exactly, for the jackknife too.
        v = np.array([1.0] * 4 + [3.0] * 4)
        s = np.array([0] * 4 + [1] * 4)
        e = stats.mean(v, s)
        self.assertAlmostEqual(e.value, 2.0, places=14)
        self.assertAlmostEqual(e.se, 1.0, places=14)
        self.assertEqual(e.n_samples, 2)
        self.assertAlmostEqual(stats.standard_error_of_sample_means(v, s), 1.0, places=14)
        self.assertIn("2 samples", e.method)

    def test_jackknife_mean_equals_standard_error(self):
        rng = np.random.default_rng(4)
        v = rng.normal(size=(7, 30))
        s = np.repeat(np.arange(7), 30)
        e = stats.mean(v.ravel(), s)
        self.assertAlmostEqual(e.se, np.std(v.mean(axis=1), ddof=1) / np.sqrt(7), places=12)

    def test_single_sample_is_flagged(self):
        e = stats.mean(np.arange(20.0), np.zeros(20, int))
        self.assertIn("within-sample", e.method)
        self.assertTrue(np.isfinite(e.se))
        self.assertTrue(np.isnan(stats.mean(np.ones(1), np.zeros(1, int)).se))

    def test_known_law_ratio(self):
        # μ_T components iid N(0, s²): ⟨|μ|²⟩ = 3 s², so ⟨|μ|²⟩/(3 s²) = 1, with the standard error
        # of a mean of (s² χ²₃) variables: sqrt(2/3)/sqrt(n).
        rng = np.random.default_rng(11)
        S, per, s2 = 10, 500, 0.7
        mu = rng.normal(scale=np.sqrt(s2), size=(S * per, 3))
        mu2 = np.einsum("ij,ij->i", mu, mu)
        sample = np.repeat(np.arange(S), per)
        r = stats.ratio_of_means(mu2, np.full(len(mu2), 3 * s2), sample)
        se_exact = np.sqrt(2 / 3) / np.sqrt(S * per)
        self.assertLess(abs(r.value - 1), 4 * se_exact)
        self.assertTrue(0.4 * se_exact < r.se < 1.8 * se_exact, (r.se, se_exact))
        # the mean magnitude of a Maxwell law: 2 s sqrt(2/π)
        m = stats.mean(np.sqrt(mu2), sample)
        self.assertLess(abs(m.value - 2 * np.sqrt(s2) * np.sqrt(2 / np.pi)), 4 * m.se)
        lo, hi = stats.cluster_bootstrap({"a": mu2}, sample, lambda c: np.mean(c["a"]) / (3 * s2), n_boot=300)
        self.assertTrue(lo < r.value < hi)
        self.assertLess(abs((hi - lo) / 2 - r.se), 0.5 * r.se)

    def test_histogram_errors(self):
        # sample 0 all in bin 0, sample 1 all in bin 1: density 0.5 each, jackknife SE 0.5 (width 1)
        v = np.array([0.5] * 3 + [1.5] * 3)
        s = np.array([0] * 3 + [1] * 3)
        edges, h, se = stats.histogram(v, s, np.array([0.0, 1.0, 2.0]))
        np.testing.assert_allclose(h, [0.5, 0.5])
        np.testing.assert_allclose(se, [0.5, 0.5])
        edges, h, _ = stats.histogram(np.random.default_rng(1).normal(size=1000), np.zeros(1000, int), 30)
        self.assertAlmostEqual(np.sum(h * np.diff(edges)), 1.0, places=12)

    def test_slope_and_poisson(self):
        x = np.array([1.0, 2.0, -3.0])
        self.assertAlmostEqual(stats.slope_through_origin(x, -x / 3), -1 / 3, places=15)
        self.assertAlmostEqual(stats.poisson_upper(0), -np.log(0.05), places=10)
        lo, hi = stats.poisson_interval(10)
        self.assertAlmostEqual(lo, sps.chi2.ppf(0.16, 20) / 2, places=10)
        self.assertTrue(lo < 10 < hi)


class TestPaperFormulas(unittest.TestCase):
    def test_eq1_universal_bracket(self):
        # (ξ/a)³ = 200, d_L/a = 0.1: the bracket [(ξ/a)³/2]^{1/2} (d_L/a) = 1, so μ_T = ζ q a (Eq. 1).
        a, xi = 1.7, 1.7 * 200 ** (1 / 3)
        self.assertAlmostEqual(est.eq1_mu_t(0.3, a, xi, 0.1 * a), 0.3 * a, places=12)
        self.assertAlmostEqual(est.n_d_paper(xi, a), 100.0, places=10)
        # The paper's numbers: ζ = 0.1, q a ≈ 10 D -> about 1 D.
        self.assertAlmostEqual(est.eq1_mu_t(0.1 * 4.8032, 2.082, 2.082 * 200 ** (1 / 3), 0.2082), 1.0, places=3)

    def test_eq6_is_eq1_squared(self):
        zq, a, xi, dl = 0.2, 1.1, 6.0, 0.13
        self.assertAlmostEqual(est.eq6_mu_t2(zq * a, est.n_d_paper(xi, a), dl, a),
                               est.eq1_mu_t(zq, a, xi, dl) ** 2, places=14)

    def test_g_and_angle(self):
        np.testing.assert_allclose(est.g_factor(np.array([[2.0, 0, 0]]), np.array([2.0])), [2.0])
        z = np.array([[0, 0, 1.0]])
        x = np.array([[1.0, 0, 0]])
        self.assertAlmostEqual(est.dipolar_angle_factor(z, z, z * 3)[0], -2.0)   # head to tail
        self.assertAlmostEqual(est.dipolar_angle_factor(z, z, x * 3)[0], 1.0)    # side by side
        self.assertAlmostEqual(est.dipolar_angle_factor(z, -z, x)[0], -1.0)

    def test_interaction_ratio_and_dos(self):
        self.assertAlmostEqual(est.eq22_over_eq21(0.1, 1.2, 5.0, 1.0, 0.5),
                               est.eq22_electric(0.1, 1.2, 5.0, 1.0, 3.0) / est.eq21_elastic(0.5, 1.0, 3.0), places=14)
        self.assertAlmostEqual(est.tls_dos_paper(2.0, 3.0), 1 / 54, places=15)
        self.assertAlmostEqual(est.xi_from_radius(0.62035049) ** 3, 1.0, places=6)
        self.assertAlmostEqual(est.isotropic_sound_speed(3.0, 3.0), 3.0)
        self.assertAlmostEqual(est.eq13_sphere_ratio_periodic(1.0, 4.0), -0.25)


if __name__ == "__main__":
    unittest.main()
