"""The analytic estimates of Lubchenko, Silbey & Wolynes (2005) that tlsmap tests.

Equation numbers are the paper's: V. Lubchenko, R. J. Silbey and P. G. Wolynes, "Electrodynamics of
amorphous media at low temperatures", arXiv:cond-mat/0506735 (2005). Every function
works in any consistent unit system; the report calls them in reduced LJ units and converts.

* Eq. 1:  μ_T ≈ ζ q a [(ξ/a)³/2]^{1/2} (d_L/a) — a random walk of N_d = (ξ/a)³/2 bond-dipole changes,
          each of size μ_mol (d_L/a), with μ_mol ≡ ζ q a the bond dipole.
* Eq. 6:  ⟨μ_T²⟩ ≈ μ_mol² N_d (d_L/a)² (Eq. 1 squared and averaged; reaction field negligible).
          Note μ_mol (d_L/a) = ζ q d_L whatever a is, provided μ_mol and the angle d_L/a use the same
          a; the report uses the measured μ_mol = ζ q ⟨b⟩ with a = ⟨b⟩ (mean bond length), so the
          estimate per TLS is ζ q d_L √N_d with measured d_L and N_d.
* Kirkwood-like factor (after Eq. 1): g = μ_T² / Σ_i |Δμ_i|² — 1 for uncorrelated bond rotations,
          "typically of order 2" per the paper.
* Eq. 13: μ_T = (ε/4π) ∫_V ΔE dV. For charges inside a sphere of uniform ε in infinite space,
          ∫_sphere E dV = −(4π/3) p/ε, so μ_eq13 = −μ_direct/3 (docs/electrostatics.md §4).
* Eq. 21: elastic TLS–TLS coupling ≈ g²/(ρ c_s² r³) ≈ T_g (a/r)³.
* Eq. 22: electric coupling ≈ ζ² ρ c_s² a³ (a/r)³  →  ratio electric/elastic ≈ ζ² ρ c_s² a³ / T_g,
          with the paper's ζ² = the Coulomb share of the stiffness (Eq. 12), /material/coulomb_share.
* Sec. II.C: thermally active TLS have ε distributed as n(ε) = e^{−ε/T_g}/T_g per domain of volume
          ξ³, so the density of states per volume at small ε is ≈ 1/(T_g ξ³).
"""

import numpy as np

EQ13_SPHERE_RATIO = -1.0 / 3.0

# Experiments the paper quotes for μ_T (Sec. II.C), in Debye.
PAPER_EXPERIMENTS_DEBYE = [
    ("Maier et al. 1995, PMMA (hole burning)", 0.4),
    ("Kharlamov et al. 1998, PMMA (spectral diffusion)", 0.2),
    ("Kharlamov et al. 1998, PS (spectral diffusion)", 0.1),
]
PAPER_EXPERIMENT_RANGE_DEBYE = (0.1, 1.0)   # "of the order 1 Debye ... a fraction of a Debye"


def n_d_paper(xi, a):
    """N_d = (ξ/a)³/2: the number of bead pairs (bonds) in a domain of volume ξ³ (before Eq. 1)."""
    return (xi / a) ** 3 / 2.0


def eq1_mu_t(zeta_q, a, xi, d_l):
    """Eq. 1: μ_T ≈ ζ q a [(ξ/a)³/2]^{1/2} (d_L/a)."""
    return zeta_q * a * np.sqrt(n_d_paper(xi, a)) * (d_l / a)


def eq6_mu_t2(mu_mol, n_d, d_l, a):
    """Eq. 6: ⟨μ_T²⟩ ≈ μ_mol² N_d (d_L/a)² (per TLS when N_d, d_L are that TLS's)."""
    return mu_mol ** 2 * n_d * (d_l / a) ** 2


def g_factor(mu_t, sum_dmu2):
    """g = |μ_T|² / Σ_i |Δμ_i|² (the paper's Kirkwood-like correlation factor)."""
    mu_t = np.atleast_2d(mu_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.einsum("ij,ij->i", mu_t, mu_t) / sum_dmu2


def eq13_sphere_ratio_periodic(v_sphere, v_box):
    """μ_eq13/μ_direct for a uniform-ε sphere in a periodic box with conducting boundary, without an
    image correction: −(1/3)(1 − V_sph/V_box) (docs/electrostatics.md §4)."""
    return EQ13_SPHERE_RATIO * (1.0 - v_sphere / v_box)


def eq21_elastic(t_g, a, r):
    """Eq. 21: H_elast ≈ T_g (a/r)³."""
    return t_g * (a / r) ** 3


def eq22_electric(zeta, rho, c_s, a, r):
    """Eq. 22: H_elect ≈ ζ² ρ c_s² a³ (a/r)³ (ζ dimensionless, ρ mass density)."""
    return zeta ** 2 * rho * c_s ** 2 * a ** 3 * (a / r) ** 3


def eq22_over_eq21(zeta, rho, c_s, a, t_g):
    """Eqs. 22/21: electric/elastic coupling ratio ≈ ζ² ρ c_s² a³ / T_g (independent of r)."""
    return zeta ** 2 * rho * c_s ** 2 * a ** 3 / t_g


def eq22_over_eq21_zeta2(zeta2, rho, c_s, a, t_g):
    """Eqs. 22/21 with ζ² given directly: the paper's ζ², the Coulomb share of the stiffness (Eq. 12;
    measured by tlsmap interact as /material/coulomb_share). Its magnitude is used: the share of a
    passive-charge glass may come out negative."""
    return abs(zeta2) * rho * c_s ** 2 * a ** 3 / t_g


def coulomb_over_tg(zeta_q, a, t_g, epsilon_r=1.0):
    """The same ratio with the bond Coulomb energy (ζq)²/(ε a) in place of ζ² ρ c_s² a³ — what Eq. 22
    stands for when the stiffness is of electrostatic origin (Eq. 12: ζ² ≈ β²/λ). Needs no c_s."""
    return zeta_q ** 2 / (epsilon_r * a) / t_g


def isotropic_sound_speed(c_l, c_t):
    """c_s with c_s² = (c_l² + 2 c_t²)/3: the mean over the three acoustic polarisations, used for
    the paper's single 'scalar phonon' speed (Sec. III)."""
    return np.sqrt((c_l ** 2 + 2 * c_t ** 2) / 3.0)


def tls_dos_paper(t_g, xi):
    """Sec. II.C: density of states per volume at small ε, ≈ n(0)/ξ³ = 1/(T_g ξ³)."""
    return 1.0 / (t_g * xi ** 3)


def xi_from_radius(radius):
    """ξ of a spherical domain of radius R: ξ³ = (4π/3) R³, i.e. R ≈ 0.62 ξ
    (docs/search.md, "The parallel driver (`tlsmap search`)", Domains)."""
    return (4.0 * np.pi / 3.0) ** (1.0 / 3.0) * radius


def dipolar_angle_factor(mu_i, mu_j, r):
    """μ̂_i·μ̂_j − 3(μ̂_i·n)(μ̂_j·n), n = r/|r|: r³ J_dd ε / (|μ_i||μ_j|) for point dipoles."""
    n = r / np.linalg.norm(r, axis=1)[:, None]
    ui = mu_i / np.linalg.norm(mu_i, axis=1)[:, None]
    uj = mu_j / np.linalg.norm(mu_j, axis=1)[:, None]
    return np.einsum("ij,ij->i", ui, uj) - 3 * np.einsum("ij,ij->i", ui, n) * np.einsum("ij,ij->i", uj, n)
