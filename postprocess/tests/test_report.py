"""End to end: synthetic samples -> analysis numbers with known answers, figures and report.md."""

import contextlib
import io
import os
import tempfile
import unittest

import h5py
import numpy as np

from tests import synth
from tlsmap_post import analysis, estimates as est
from tlsmap_post.merge import merge
from tlsmap_post.report import main
from tlsmap_post.units import K_B

N_TLS, N_BONDS, D_L, N_BEADS, BOX = 60, 10, 0.1, 200, (6.0, 6.0, 6.0)


def write_sweep(directory, seeds=(1, 2), zetas=(0.05, 0.1), with_interactions=True):
    paths = []
    for zeta in zetas:
        for seed in seeds:
            rng = np.random.default_rng(100 * seed + int(zeta * 1000))
            mobile = synth.random_walk_tls(rng, N_TLS, N_BONDS, D_L, N_BEADS)
            asym = np.full(N_TLS, 0.1)
            asym[:3] = 0.005                     # 0.6 K: below 1 K together with Δ0 = 0.12 K
            cols = dict(asymmetry=asym, splitting=np.full(N_TLS, 1e-3), radius=np.full(N_TLS, 3.0))
            path = os.path.join(directory, f"z{zeta}_s{seed}.h5")
            # first pass: the TLS dipoles, needed for J_dd
            _, _, tls = synth.write_sample(path, n_beads=N_BEADS, box=BOX, zeta=zeta, seed=seed,
                                           mobile=mobile, tls_columns=cols)
            inter = None
            if with_interactions:
                i, j = np.triu_indices(N_TLS, 1)
                i, j = i[:200], j[:200]
                r = rng.normal(size=(len(i), 3))
                r *= rng.uniform(3, 10, len(i))[:, None] / np.linalg.norm(r, axis=1)[:, None]
                mu = tls["mu_direct"]
                rn = np.linalg.norm(r, axis=1)
                n = r / rn[:, None]
                jdd = (np.einsum("ij,ij->i", mu[i], mu[j]) - 3 * np.einsum("ij,ij->i", mu[i], n)
                       * np.einsum("ij,ij->i", mu[j], n)) / rn ** 3
                inter = dict(i=i, j=j, r=r, j_el=jdd, j_dd=jdd, j_mech=jdd / 4)
            synth.write_sample(path, n_beads=N_BEADS, box=BOX, zeta=zeta, seed=seed, mobile=mobile,
                               tls_columns=cols, interactions=inter,
                               material=dict(sound_speed_l=3.0, sound_speed_t=3.0, t_g=0.5, density=1.2))
            paths.append(path)
    return paths


class TestReport(unittest.TestCase):
    def setUp(self):
        self._d = tempfile.TemporaryDirectory()
        self.dir = self._d.name

    def tearDown(self):
        self._d.cleanup()

    def test_known_answers(self):
        paths = write_sweep(self.dir)
        groups = analysis.analyse(merge(paths))
        self.assertEqual([g.label for g in groups], ["zeta=0.05", "zeta=0.1"])
        for g in groups:
            self.assertEqual(g.n_tls, 2 * N_TLS)
            # random_walk_tls: ⟨μ_T²⟩/⟨μ_mol² N_d (d_L/a)²⟩ = 2 (N_d = n_moving/2, one bead per bond moves)
            r = g.mu["ratio_eq6"]
            self.assertLess(abs(r.value - 2.0), 4 * r.se + 0.02, r)
            # independent bond changes: ⟨μ_T²⟩/⟨Σ|Δμ|²⟩ = 1; Σ|Δμ|² = μ_est² × 2 exactly
            gr = g.g["ratio_of_means"]
            self.assertLess(abs(gr.value - 1.0), 4 * gr.se + 0.02, gr)
            self.assertAlmostEqual(g.g["step_ratio"].value, 2.0, places=10)
            self.assertAlmostEqual(g.mu["d_l_mean"].value, D_L, places=12)
            # synth writes mu_eq13 = -mu_direct/3
            self.assertAlmostEqual(g.eq13["slope"].value, -1 / 3, places=12)
            # J_mech = J_el/4: the rms ratio is 4 with no spread; J_el = J_dd: slope 1
            self.assertAlmostEqual(g.inter["ratio_el_mech"].value, 4.0, places=12)
            self.assertAlmostEqual(g.inter["ratio_el_mech"].se, 0.0, places=10)
            self.assertAlmostEqual(g.inter["slope_dd_3R"].value, 1.0, places=12)
            # σᶻσᶻ convention: a quarter of the four-state J; Eq. 21 row = median of r³|J_mech|/4
            # over the pairs at r >= 3 R_ξ (R_ξ = 3: r >= 9), recomputed here from the files
            import h5py
            mine = [p for p in paths if os.path.basename(p).startswith(f"z{g.info['zeta']}_")]
            r3j, n_far = [], 0
            for p in mine:
                with h5py.File(p, "r") as f:
                    rr = np.linalg.norm(f["interactions/r"][()], axis=1)
                    keep = rr >= 9.0
                    r3j += list(rr[keep] ** 3 * np.abs(f["interactions/j_mech"][()][keep]) / 4)
                    n_far += int(keep.sum())
            self.assertEqual(g.inter["n_far"], n_far)
            self.assertGreater(n_far, 0)
            self.assertAlmostEqual(g.inter["median_r3_mech_far"].value, float(np.median(r3j)), places=12)
            self.assertAlmostEqual(g.inter["ratio_el_mech_far"].value, 4.0, places=12)
            self.assertEqual(len(mine), 2)
            # synth's J_dd is the point-dipole four-state J: r³J_zz/(|μ_i/2||μ_j/2|) = the angle factor
            self.assertTrue(np.allclose(g.inter["r3_dd_norm"], g.inter["angle"], rtol=1e-12, atol=1e-12))
            self.assertTrue(np.allclose(g.inter["mech"] * 4, np.concatenate(
                [h5py.File(p, "r")["interactions/j_mech"][()] for p in mine])))
            # material from /material: c_s = 3, ρ = 1.2, T_g = 0.5
            a = (N_BEADS / np.prod(BOX)) ** (-1 / 3)
            self.assertAlmostEqual(g.inter["eq22_over_21"], est.eq22_over_eq21(g.info["zeta"], 1.2, 3.0, a, 0.5))
            self.assertIn("measured", g.material["c_s"].origin)
            # 3 TLS per sample with E ≤ 1 K in 2 samples of 6³ σ³
            d1 = g.energy["density"][0]
            self.assertEqual(d1["n"], 6)
            vol = 2 * np.prod(BOX) * (3.4e-10) ** 3
            self.assertAlmostEqual(d1["value"] / (6 / (vol * 1.0 * K_B)), 1.0, places=12)
            self.assertIn("jackknife over 2 samples", r.method)

    def test_point_charge_j_el_is_used_where_present(self):
        # j_el_point (the exact point-charge J_el) replaces the grid's j_el row by row where finite; a
        # file without it keeps j_el (test_known_answers); files with and without merge.
        paths = write_sweep(self.dir)
        import h5py
        exact = {}
        for k, p in enumerate(paths):
            with h5py.File(p, "r+") as f:
                j = f["interactions/j_el"][()]
                if k % 2:
                    continue  # this file has no j_el_point
                point = 1.1 * j
                point[::3] = np.nan  # dipole-far rows
                f["interactions/j_el_point"] = point
                exact[p] = point
        groups = analysis.analyse(merge(paths))
        for g in groups:
            mine = [p for p in paths if os.path.basename(p).startswith(f"z{g.info['zeta']}_")]
            want = []
            for p in mine:
                with h5py.File(p, "r") as f:
                    grid = f["interactions/j_el"][()]
                point = exact.get(p, np.full(len(grid), np.nan))
                want.append(np.where(np.isfinite(point), point, grid))
            self.assertTrue(np.allclose(g.inter["el"] * 4, np.concatenate(want), rtol=1e-14, atol=0))
            self.assertEqual(g.inter["n_el_point"], int(sum(np.isfinite(exact.get(p, [np.nan])).sum() for p in mine)))
            self.assertGreater(g.inter["n_el_point"], 0)

    def test_sigma_z_convention_by_hand(self):
        # Two TLS on a tiny system: one charge each, moving a -> b. The four states' Coulomb energies
        # E_XY = q_i q_j / |x_i^X - x_j^Y|, fitted exactly by the pair Hamiltonian
        # c + h_i s_i + h_j s_j + J_zz s_i s_j (s = -1 in A, +1 in B), give J_zz; the file holds the
        # four-state J = E_BB - E_BA - E_AB + E_AA, and the report's coupling must be J_zz.
        xi = {"A": np.array([0.0, 0.0, 0.0]), "B": np.array([0.3, 0.1, 0.0])}
        xj = {"A": np.array([4.0, 0.5, 0.2]), "B": np.array([4.2, 0.3, -0.3])}
        qi, qj = 1.3, -0.7
        E = {(a, b): qi * qj / np.linalg.norm(xi[a] - xj[b]) for a in "AB" for b in "AB"}
        s = {"A": -1.0, "B": 1.0}
        M = np.array([[1, s[a], s[b], s[a] * s[b]] for a in "AB" for b in "AB"])
        j_zz = np.linalg.solve(M, np.array([E[(a, b)] for a in "AB" for b in "AB"]))[3]
        j4 = E[("B", "B")] - E[("B", "A")] - E[("A", "B")] + E[("A", "A")]
        p = os.path.join(self.dir, "two.h5")
        synth.write_sample(p, mobile=[([1], [[0.1, 0, 0]]), ([3], [[0, 0.1, 0]])],
                           interactions=dict(i=np.array([0]), j=np.array([1]), r=np.array([[4.0, 0.5, 0.2]]),
                                             j_el=np.array([j4]), j_dd=np.array([j4]), j_mech=np.array([j4])))
        g = analysis.analyse(merge([p]))[0]
        for k in ("el", "dd", "mech"):
            self.assertAlmostEqual(g.inter[k][0], j_zz, places=14)
        self.assertAlmostEqual(j4, 4 * j_zz, places=14)

    def test_phonon_coupling_and_tunnelling_strength(self):
        # Two samples, 10 rows each, 3 of class tls; known γ_l, γ_t, sound speeds, ρ, T_g: Eq. 17's ratio
        # and C_l,t = P̄ ⟨γ²⟩/(ρ c²) recomputed here from the definitions.
        rng = np.random.default_rng(5)
        paths, gl_tls, gt_tls = [], [], []
        for seed in (1, 2):
            gl, gt = rng.uniform(0.5, 2.0, 10), rng.uniform(0.2, 1.0, 10)
            cls = np.array(["tls"] * 3 + ["double_well"] * 7, dtype=object)
            gl_tls += list(gl[:3])
            gt_tls += list(gt[:3])
            p = os.path.join(self.dir, f"ph{seed}.h5")
            synth.write_sample(p, n_beads=N_BEADS, box=BOX, seed=seed, mobile=[([1], [[0.1, 0, 0]])] * 10,
                               tls_columns=dict(gamma_l=gl, gamma_t=gt, **{"class": cls},
                                                e_qs=np.full(10, 0.005)),
                               tls_attrs=dict(max_splitting=1 / 120),
                               material=dict(sound_speed_l=3.0, sound_speed_t=2.0, t_g=0.5, density=1.2))
            paths.append(p)
        g = analysis.analyse(merge(paths))[0]
        ph = g.phonon
        a = (N_BEADS / np.prod(BOX)) ** (-1 / 3)
        c_s2 = (3.0 ** 2 + 2 * 2.0 ** 2) / 3
        est17 = np.sqrt(0.5 * 1.2 * c_s2 * a ** 3)
        self.assertEqual(ph["n"], 6)
        self.assertAlmostEqual(ph["est17"], est17, places=12)
        self.assertAlmostEqual(ph["ratio_l"].value, np.median(gl_tls) / est17, places=12)
        self.assertAlmostEqual(ph["gamma_t"].value, np.median(gt_tls), places=12)
        eps_J, sig_m = 120.0 * K_B, 3.4e-10
        dos = 6 / (2 * np.prod(BOX) * sig_m ** 3 * (1 / 120) * eps_J)       # 6 tls rows, window 1/120 ε
        for pol, c, gam in (("l", 3.0, gl_tls), ("t", 2.0, gt_tls)):
            want = dos * np.mean(np.square(gam)) * eps_J ** 2 / (1.2 * c ** 2 * eps_J / sig_m ** 3)
            self.assertAlmostEqual(ph[f"C_{pol}"]["value"] / want, 1.0, places=10)
            self.assertEqual(ph[f"C_{pol}"]["n"], 6)
        self.assertTrue(any("Eq. 17" in r["claim"] for r in g.rows))
        self.assertTrue(any("tunnelling strength C_l" in r["claim"] for r in g.rows))

    def test_eq22_uses_the_measured_coulomb_share(self):
        # /material/coulomb_share (two samples: 0.01 and 0.03, mean 0.02) is the paper's ζ²: the Eq. 22/21
        # estimate is ζ² ρ c_s² a³ / T_g with it, the old ζ-in-e value only a labelled alternative; the
        # Eq. 12 row and the conventions say so. Without the attribute the row says it is missing.
        paths = []
        for seed, share in ((1, 0.01), (2, 0.03)):
            p = os.path.join(self.dir, f"cs{seed}.h5")
            rng = np.random.default_rng(seed)
            r = rng.normal(size=(3, 3))
            r *= 10.0 / np.linalg.norm(r, axis=1)[:, None]
            synth.write_sample(p, n_beads=N_BEADS, box=BOX, seed=seed, mobile=[([1], [[0.1, 0, 0]])] * 3,
                               interactions=dict(i=[0, 0, 1], j=[1, 2, 2], r=r, j_el=np.ones(3), j_dd=np.ones(3),
                                                 j_mech=np.ones(3)),
                               material=dict(sound_speed_l=3.0, sound_speed_t=2.0, t_g=0.5, density=1.2,
                                             coulomb_share=share, coulomb_share_bulk=-share / 10,
                                             coulomb_share_shear=2 * share))
            paths.append(p)
        g = analysis.analyse(merge(paths))[0]
        a = (N_BEADS / np.prod(BOX)) ** (-1 / 3)
        c_s2 = (3.0 ** 2 + 2 * 2.0 ** 2) / 3
        self.assertAlmostEqual(g.material["zeta2"].value, 0.02, places=14)
        self.assertAlmostEqual(g.inter["eq22_over_21_zeta2"], 0.02 * 1.2 * c_s2 * a ** 3 / 0.5, places=12)
        self.assertAlmostEqual(g.inter["eq22_over_21"], g.info["zeta"] ** 2 * 1.2 * c_s2 * a ** 3 / 0.5, places=12)
        row = next(r for r in g.rows if "Eqs. 22/21" in r["claim"])
        self.assertIn(f"{g.inter['eq22_over_21_zeta2']:.3g} with ζ² = 0.02", row["estimate"])
        self.assertIn("alternative, ζ = charge.zeta in units of e", row["estimate"])
        share_row = next(r for r in g.rows if "Eq. 12" in r["claim"])
        self.assertIn("0.02 ± 0.01 of ρc_s² (K -0.002, G 0.04)", share_row["measured"])  # se = std/√2
        out = os.path.join(self.dir, "rcs")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(main([out] + paths), 0)
        with open(os.path.join(out, "report.md")) as f:
            self.assertIn("Here ζ² = 0.02", f.read())
        # --zeta2 overrides the files
        g2 = analysis.analyse(merge(paths), dict(zeta2=0.5))[0]
        self.assertAlmostEqual(g2.inter["eq22_over_21_zeta2"], 0.5 * 1.2 * c_s2 * a ** 3 / 0.5, places=12)
        # no share in the file: the estimate is the labelled stand-in
        p = os.path.join(self.dir, "noshare.h5")
        synth.write_sample(p, n_beads=N_BEADS, box=BOX, seed=3, mobile=[([1], [[0.1, 0, 0]])] * 3,
                           interactions=dict(i=[0], j=[1], r=[[10.0, 0, 0]], j_el=[1.0], j_dd=[1.0], j_mech=[1.0]),
                           material=dict(sound_speed_l=3.0, sound_speed_t=2.0, t_g=0.5, density=1.2))
        g3 = analysis.analyse(merge([p]))[0]
        self.assertNotIn("eq22_over_21_zeta2", g3.inter)
        row = next(r for r in g3.rows if "Eqs. 22/21" in r["claim"])
        self.assertIn("the measured ζ², /material/coulomb_share, is not present", row["estimate"])

    def test_material_names_of_the_interact_stage(self):
        # tlsmap interact writes /material attributes sound_speed_longitudinal/_transverse
        p = os.path.join(self.dir, "m.h5")
        synth.write_sample(p, mobile=[([1], [[0.1, 0, 0]])] * 2)
        import h5py
        with h5py.File(p, "a") as f:
            g = f.create_group("material")
            g.attrs["sound_speed_longitudinal"] = 8.0
            g.attrs["sound_speed_transverse"] = 4.0
            g.attrs["density"] = 1.2
        groups = analysis.analyse(merge([p]))
        self.assertAlmostEqual(groups[0].material["c_s"].value, est.isotropic_sound_speed(8.0, 4.0))

    def test_t_g_is_the_fictive_temperature_of_a_swap_glass(self):
        # T_g: --tg, else /material/t_g, else pack.t_final of a swap glass, else the KA stand-in
        mob = [([1], [[0.1, 0, 0]])] * 2
        def t_g(name, extra, material=None, options=None):
            p = os.path.join(self.dir, name)
            synth.write_sample(p, mobile=mob, input_extra=extra, material=material)
            return analysis.analyse(merge([p]), options)[0].material["t_g"]
        swap = '[pack]\nswap = true\nt_final = 0.062\n'
        v = t_g("swap.h5", swap)
        self.assertEqual(v.value, 0.062)
        self.assertIn("pack.t_final", v.origin)
        self.assertEqual(t_g("quench.h5", '[pack]\nswap = false\nt_final = 0.062\n').value, 0.435)
        self.assertEqual(t_g("nopack.h5", "").value, 0.435)
        self.assertEqual(t_g("mat.h5", swap, material=dict(t_g=0.3)).value, 0.3)
        self.assertEqual(t_g("cli.h5", swap, options={"t_g": 0.2}).value, 0.2)

    def test_pairs_of_one_domain_are_not_coupled_tls(self):
        # Rows 0, 1 and 2 of one search domain: the pairs among them (0-1, 0-2, 1-2 of the file's 200)
        # are alternatives of one region, left out of every coupling statistic with a message; pairs of
        # other rows that move a bead in common are counted (recomputed here from the file) and kept.
        path = write_sweep(self.dir, seeds=(1,), zetas=(0.05,))[0]
        with h5py.File(path, "r+") as f:
            dom = np.arange(N_TLS, dtype=np.int64) + 100
            dom[:3] = 7
            if "tls/domain" in f:
                del f["tls/domain"]
            f["tls/domain"] = dom
            i, j = f["interactions/i"][()], f["interactions/j"][()]
            # beads moving more than 0.02 σ in each row (the synthetic rows overlap a lot: 200 beads)
            off, ids = f["tls/mobile_offset"][()], f["tls/mobile_id"][()]
            d = f["tls/position_b"][()] - f["tls/position_a"][()]
            d -= np.asarray(BOX) * np.round(d / np.asarray(BOX))
            mv = np.linalg.norm(d, axis=1) > 0.02
            sets = [set(ids[off[k]:off[k + 1]][mv[off[k]:off[k + 1]]]) for k in range(len(off) - 1)]
        same = int(np.sum((i < 3) & (j < 3)))
        self.assertEqual(same, 3)
        overlap = sum(1 for a, b in zip(i, j) if not (a < 3 and b < 3) and sets[a] & sets[b])
        self.assertGreater(overlap, 0)
        g = analysis.analyse(merge([path]))[0]
        self.assertEqual(len(g.inter["r"]), len(i) - same)
        self.assertTrue(any("3 of 200 pairs join two rows of one search domain" in m for m in g.messages), g.messages)
        # pairs of different domains that move a bead in common: counted in a message, kept
        self.assertTrue(any(f"{overlap} of 200 pairs (rows of different domains) move a bead in common" in m
                            for m in g.messages), (overlap, g.messages))

    def test_eq13_with_the_sphere_cut(self):
        # /tls/mu_eq13_cut L: for uniform ε μ_eq13 = −(μ_direct − L)/3. With L = 0.1 μ + a part across μ
        # the plain projection is −(1 − 0.1)/3 = −0.3, the cut-corrected one −1/3 exactly.
        p = os.path.join(self.dir, "cut.h5")
        synth.write_sample(p, mobile=[([1, 2], [[0.3, 0, 0], [0, 0.2, 0.1]])] * 4)
        with h5py.File(p, "r+") as f:
            mu = f["tls/mu_direct"][()]
            self.assertTrue(np.all(np.linalg.norm(mu, axis=1) > 0))
            cut = 0.1 * mu + 0.05 * np.cross(mu, [0.0, 0.0, 1.0])
            del f["tls/mu_eq13"]
            f["tls/mu_eq13"] = -(mu - cut) / 3
            f["tls/mu_eq13_cut"] = cut
        g = analysis.analyse(merge([p]))[0]
        self.assertAlmostEqual(g.eq13["median_projection"].value, -0.3, places=12)
        self.assertAlmostEqual(g.eq13["median_cut_projection"].value, -1 / 3, places=12)
        self.assertEqual(g.eq13["n_cut"], 4)
        out = os.path.join(self.dir, "rcut")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(main([out, "--no-figures", p]), 0)
        with open(os.path.join(out, "report.md")) as f:
            self.assertIn("with the sphere's cut L", f.read())

    def test_conventions_state_t_g_dipole_and_zeta(self):
        # one TLS of known dipole: q = ±ζ q* per bead, one bead moved by DX -> |μ_T| = ζq |DX|
        p = os.path.join(self.dir, "c.h5")
        synth.write_sample(p, mobile=[([1], [[0.3, 0, 0]])] * 3, input_extra='[pack]\nswap = true\nt_final = 0.1\n')
        out = os.path.join(self.dir, "rc")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(main([out, p]), 0)
        with open(os.path.join(out, "report.md")) as f:
            text = f.read()
        g = analysis.analyse(merge([p]))[0]
        i = g.info
        eps_K, half_mu_D = i["eps_K"], 0.5 * abs(i["zeta_q"]) * 0.3 * i["debye"]
        self.assertIn(f"*T_g* = 0.1 ε = {0.1 * eps_K:.4g} K", text)
        self.assertIn(f"{300.0 / (0.1 * eps_K):.3g} for T_g,lab = 300 K", text)
        self.assertIn("δΔ = 2 p·F", text)
        self.assertIn(f"median |μ_T|/2 is {half_mu_D:.3g}", text)
        self.assertIn(f"ζ = charge.zeta = {i['zeta']:g} e", text)

    def test_log_histogram_is_probability_per_decade(self):
        from tlsmap_post.figures import log_histogram
        rng = np.random.default_rng(3)
        x = 10.0 ** rng.uniform(-60, 0, 400)           # Δ₀-like: 60 decades, 20 bins of 3 decades
        edges, h, _ = log_histogram(x, np.repeat(np.arange(4), 100), 20)
        self.assertAlmostEqual(float(np.sum(h * np.diff(np.log10(edges)))), 1.0, places=12)
        self.assertLess(abs(float(np.mean(h)) - 1 / 60), 0.004)   # uniform in log10: 1/60 per decade
        # Δ₀ down to 1e-250 K (seen in the worked study): finite error bars, no overflow
        x = 10.0 ** rng.uniform(-250, 1, 96)
        edges, h, se = log_histogram(x, np.repeat(np.arange(6), 16), 20)
        self.assertTrue(np.all(np.isfinite(se)) and np.all(np.isfinite(h)))
        self.assertAlmostEqual(float(np.sum(h * np.diff(np.log10(edges)))), 1.0, places=12)

    def test_cli_writes_report_and_figures(self):
        paths = write_sweep(self.dir, with_interactions=True)
        out = os.path.join(self.dir, "report")
        with contextlib.redirect_stdout(io.StringIO()) as o:
            rc = main([out] + paths + [os.path.join(self.dir, "missing.h5")])
        self.assertEqual(rc, 0)
        self.assertIn("4 sample(s) in 2 group(s), 1 skipped; 7 figure(s)", o.getvalue())
        with open(os.path.join(out, "report.md")) as f:
            text = f.read()
        for s in ("## Group: zeta=0.05", "## Group: zeta=0.1", "Estimate vs measured", "Maier et al.",
                  "missing.h5: file: no such file", "Eqs. 22/21", "J⁻¹ m⁻³"):
            self.assertIn(s, text)
        pngs = [f for f in os.listdir(out) if f.endswith(".png")]
        self.assertEqual(len(pngs), 7)
        self.assertTrue(os.path.exists(os.path.join(out, "merged.h5")))

    def test_pack_only_files_say_not_present(self):
        paths = []
        for seed in (1, 2):
            paths.append(os.path.join(self.dir, f"pack{seed}.h5"))
            synth.write_sample(paths[-1], seed=seed)
        out = os.path.join(self.dir, "r")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(main([out, self.dir]), 0)
        with open(os.path.join(out, "report.md")) as f:
            text = f.read()
        self.assertIn("/tls: not present in the input files", text)
        self.assertIn("/interactions: not present in the input files", text)
        self.assertEqual([f for f in os.listdir(out) if f.endswith(".png")], [])

    def test_tls_without_charges(self):
        # /tls from the search stage but no /charge group: energetics only, μ_T sections say why
        p = os.path.join(self.dir, "nocharge.h5")
        synth.write_sample(p, charge_group=False, mobile=[([1], [[0.1, 0, 0]])] * 4)
        out = os.path.join(self.dir, "r")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(main([out, p]), 0)
        with open(os.path.join(out, "report.md")) as f:
            text = f.read()
        self.assertIn("/charge: not present in the input files", text)
        self.assertTrue(os.path.exists(os.path.join(out, "energetics.png")))

    def test_empty_catalogue(self):
        # a search that found nothing: /tls with zero rows is valid and reported as empty
        p = os.path.join(self.dir, "empty.h5")
        synth.write_sample(p, mobile=[])
        out = os.path.join(self.dir, "r")
        with contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(main([out, p]), 0)
        with open(os.path.join(out, "report.md")) as f:
            self.assertIn("/tls: present but empty", f.read())

    def test_no_usable_file(self):
        bad = os.path.join(self.dir, "bad.h5")
        synth.write_sample(bad, omit=("particles/all/position/value",))
        with contextlib.redirect_stderr(io.StringIO()) as e:
            self.assertEqual(main([os.path.join(self.dir, "r"), bad]), 2)
        self.assertIn("particles/all/position/value: missing dataset", e.getvalue())


if __name__ == "__main__":
    unittest.main()


class TestPolarShareCells(unittest.TestCase):
    """The polar section's ζ² cells end to end (report.polar_section on merged synthetic files): the mean
    ± the standard error over the glasses that carry the attribute, their count; one glass: the value
    alone; none: not present."""

    def setUp(self):
        self._d = tempfile.TemporaryDirectory()
        self.dir = self._d.name

    def tearDown(self):
        self._d.cleanup()

    def _glass(self, name, zeta, seed, attrs):
        path = os.path.join(self.dir, name)
        rng = np.random.default_rng(seed)
        synth.write_sample(path, n_beads=N_BEADS, box=BOX, zeta=zeta, seed=seed,
                           mobile=synth.random_walk_tls(rng, 8, 4, D_L, N_BEADS))
        with h5py.File(path, "a") as f:
            f["particles/all/bonds"] = np.arange(1, N_BEADS + 1, dtype=np.int64).reshape(-1, 2)
            f.attrs["input"] = np.bytes_(f"[run]\nseed = {seed}\n[charge]\nmode = \"active\"\nzeta = {zeta}\n")
            if attrs:
                g = f.require_group("material")
                for k, v in attrs.items():
                    g.attrs[k] = v
        return path

    def test_cells(self):
        from tlsmap_post.report import polar_section
        paths = [self._glass("a.h5", 0.05, 1, dict(coulomb_share=0.1, coulomb_share_affine=1e-3)),
                 self._glass("b.h5", 0.05, 2, dict(coulomb_share_affine=2e-3)),  # relaxed share failed
                 self._glass("c.h5", 0.05, 3, dict(coulomb_share=0.3, coulomb_share_affine=3e-3)),
                 self._glass("d.h5", 0.1, 4, dict(coulomb_share=0.25)),
                 self._glass("e.h5", 0.02, 5, {})]
        merged = merge(paths)
        lines = polar_section(merged, analysis.analyse(merged))
        table = [line for line in "\n".join(lines).splitlines() if line.startswith("| ")]
        header = [c.strip() for c in table[0].strip("|").split("|")]
        rows = {r[1]: r for r in ([c.strip() for c in line.strip("|").split("|")] for line in table[1:])}
        share, born = header.index("ζ² (Coulomb share)"), header.index("ζ² Born")
        # ζ = 0.05: relaxed 0.1 and 0.3 (mean 0.2, sd 0.1414, s.e. 0.1); Born 1, 2, 3 e-3 (s.e. 5.8e-4).
        self.assertEqual(rows["0.05"][share], "0.2 ± 0.1 (2)")
        self.assertEqual(rows["0.05"][born], "0.002 ± 0.00058 (3)")
        self.assertEqual(rows["0.1"][share], "0.25")
        self.assertEqual(rows["0.1"][born], rows["0.02"][share])  # absent: the not-present mark
        self.assertEqual(rows["0.02"][born], rows["0.02"][share])
        self.assertEqual(rows["0.02"][share], "not present in the input files")
