"""The numbers of the report: for each parameter group, the measured quantities with sample-to-sample
error bars next to the paper's estimates, in reduced and physical units.

Conventions (docs/postprocess.md gives the full list):
* a (bead spacing, the paper's "a") = n^{-1/3} from the box, n = N/V; N_d(paper) = (ξ/a)³/2 = n ξ³/2.
* Per-TLS Eq. 6 estimate: μ_est² = μ_mol² N_d (d_L/a)² with the measured μ_mol = ζq⟨b⟩ and a = ⟨b⟩
  (so μ_est = ζ q d_L √N_d), N_d = n_moving/2 (bead pairs among the moving beads), d_L = /tls/d_l.
* ξ from the domain radius: ξ = (4π/3)^{1/3} R (R ≈ 0.62 ξ).
* Material constants (ρ, c_s, T_g, ε_r) come from the files' /material group when present, else from
  the command line, else from documented defaults; each value carries its origin string.
* Population: the statistics (μ_T, g, Eq. 13, energies, interactions between two rows of it) run over
  the rows of the classes asked for (merge.select_population; default class tls). Every class is
  still counted (class_counts) and compared by its medians (class_comparison), because a result for
  tls rows means something only next to what the classical double wells give.
* TLS density (tls_density): rows of class tls per bead and per searched domain, and the density of
  states in the window E_qs ≤ max_splitting. Rows of method `given` are left out of it: they are
  pairs the user supplied, not found by a search, so they sample no volume; the per-domain density
  counts the rows of method `domain` only (an md-pairs row was found by MD, in no search domain).
"""

from dataclasses import dataclass, field

import numpy as np

from . import estimates as est
from . import stats
from .io import NO_METHOD, TLS_STRINGS, UNCLASSIFIED
from .merge import DEFAULT_CLASSES, select_population
from .units import K_B

NOT_PRESENT = "not present in the input files"

# Defaults when neither the files nor the command line give a value (reduced LJ units).
DEFAULTS = {
    "t_g": (0.435, "default: the Kob–Andersen mode-coupling temperature T_c = 0.435 "
                   "(Kob & Andersen, PRE 51, 4626 (1995)) as a stand-in for T_g"),
    "xi": (5.5, "default: ξ = 5.5 σ (the search.xi default, docs/input.md)"),
    "epsilon_r": (1.0, "default: uniform ε = 1 (the default input)"),
}


@dataclass
class Value:
    """A number with its origin (file / command line / default / measured)."""
    value: float
    origin: str


@dataclass
class GroupResult:
    label: str
    sample_ids: list
    n_tls: int = 0                                  # rows in the population (the statistics' rows)
    n_rows: int = 0                                 # every /tls row of the group
    n_pairs: int = 0
    population: object = None                       # merge.Population
    counts: dict = field(default_factory=dict)      # class_counts
    by_class: dict = field(default_factory=dict)    # class -> class_comparison medians
    density: dict = field(default_factory=dict)     # tls_density
    phonon: dict = field(default_factory=dict)      # phonon_coupling: Eq. 17, tunnelling strength C
    info: dict = field(default_factory=dict)        # scalar facts about the group
    material: dict = field(default_factory=dict)    # name -> Value
    rows: list = field(default_factory=list)        # summary table rows (dicts)
    messages: list = field(default_factory=list)
    mu: dict = field(default_factory=dict)
    g: dict = field(default_factory=dict)
    eq13: dict = field(default_factory=dict)
    energy: dict = field(default_factory=dict)
    inter: dict = field(default_factory=dict)


def _sub(table, mask):
    return {k: np.asarray(v)[mask] for k, v in table.items()}


def _uniform(values, what, res):
    vals = np.unique(np.asarray(values)[np.isfinite(values)])
    if len(vals) > 1:
        res.messages.append(f"{what} differs between samples of this group ({vals.min():.6g} … "
                            f"{vals.max():.6g}); the mean is used")
    return float(np.mean(vals)) if len(vals) else np.nan


def material_constants(samples, tls, options, res):
    """ρ, c_s, T_g, ε_r, ξ for a group, each as a Value with its origin."""
    m = {}
    n_s = len(samples["path"])

    def from_files(name, where=None):
        v = np.asarray(samples.get(name, []), float)
        v = v[np.isfinite(v)]
        origin = f"file: {where}" if where else f"measured: /material/{name}"
        return (float(v.mean()), f"{origin} (mean over {len(v)} of {n_s} samples)") if len(v) else None

    def pick(name, cli_value, file_names=(), fallback=None, where=None):
        if cli_value is not None:
            return Value(float(cli_value), "command line")
        for fn in file_names:
            got = from_files(fn, where)
            if got:
                return Value(*got)
        if fallback is not None:
            return Value(*fallback)
        return None

    n = float(np.mean(samples["number_density"]))
    m["rho"] = pick("rho", options.get("density"), ("density",),
                    (n, "measured: mass density N m / V from the box (every bead mass 1 m)"))
    m["t_g"] = pick("t_g", options.get("t_g"), ("t_g",))
    if m["t_g"] is None:
        tf = from_files("t_fictive", "pack.t_final of a swap-equilibrated glass (pack.swap = true), its "
                                     "fictive temperature if equilibrated there (docs/stability.md)")
        m["t_g"] = Value(*tf) if tf else Value(*DEFAULTS["t_g"])
    m["epsilon_r"] = pick("epsilon_r", options.get("epsilon_r"), ("epsilon_r",), DEFAULTS["epsilon_r"],
                          where="/interactions attribute epsilon (or /material/epsilon_r)")
    if options.get("sound_speed") is not None:
        m["c_s"] = Value(float(options["sound_speed"]), "command line")
    else:
        cs = from_files("sound_speed")
        cl, ct = from_files("sound_speed_l"), from_files("sound_speed_t")
        if cs:
            m["c_s"] = Value(*cs)
        elif cl and ct:
            m["c_s"] = Value(float(est.isotropic_sound_speed(cl[0], ct[0])),
                             "measured: c_s² = (c_l² + 2 c_t²)/3 from /material/sound_speed_l, _t")
        else:
            m["c_s"] = None
    for name, key in (("c_l", "sound_speed_l"), ("c_t", "sound_speed_t")):
        got = from_files(key)
        m[name] = Value(*got) if got else None
    # The paper's ζ²: the Coulomb share of ρc_s² (Eq. 12), and of K and G for the table.
    m["zeta2"] = pick("zeta2", options.get("zeta2"), ("coulomb_share",))
    shares = np.asarray(samples.get("coulomb_share", []), float)
    shares = shares[np.isfinite(shares)]
    m["zeta2_se"] = (float(np.std(shares, ddof=1) / np.sqrt(len(shares)))
                     if options.get("zeta2") is None and len(shares) > 1 else None)
    for name, key in (("zeta2_bulk", "coulomb_share_bulk"), ("zeta2_shear", "coulomb_share_shear")):
        got = from_files(key)
        m[name] = Value(*got) if got else None
    if options.get("xi") is not None:
        m["xi"] = Value(float(options["xi"]), "command line")
    elif tls and len(tls.get("radius", [])):
        m["xi"] = Value(float(est.xi_from_radius(np.mean(tls["radius"]))),
                        "measured: ξ = (4π/3)^{1/3} ⟨R⟩ from /tls/radius")
    else:
        m["xi"] = Value(*DEFAULTS["xi"])
    return m


def analyse(merged, options=None):
    """One GroupResult per parameter group (samples with equal grouping keys)."""
    options = options or {}
    results = []
    if not merged.n_samples:
        return results
    groups = np.asarray(merged.samples["group"])
    for label in dict.fromkeys(groups.tolist()):
        ids = np.flatnonzero(groups == label)
        results.append(_analyse_group(merged, label, ids, options))
    return results


def _in_population(inter, tls):
    """Pairs of /interactions whose rows i and j are both rows of the population `tls`."""
    rows = 1 + int(max(np.max(tls["tls"], initial=0), np.max(inter["i"], initial=0),
                       np.max(inter["j"], initial=0)))
    keys = np.asarray(tls["sample"], np.int64) * rows + np.asarray(tls["tls"], np.int64)
    base = np.asarray(inter["sample"], np.int64) * rows
    return np.isin(base + inter["i"], keys) & np.isin(base + inter["j"], keys)


def _analyse_group(merged, label, ids, options):
    res = GroupResult(label=label, sample_ids=ids.tolist())
    S = _sub(merged.samples, ids)
    tls_all = _sub(merged.tls, np.isin(merged.tls["sample"], ids)) if merged.has("tls") else {}
    inter = (_sub(merged.interactions, np.isin(merged.interactions["sample"], ids))
             if merged.has("interactions") else {})
    classes = options["classes"] if "classes" in options else DEFAULT_CLASSES
    pop = select_population(tls_all.get("class", np.zeros(0, str)), classes)
    res.population = pop
    tls = _sub(tls_all, pop.mask) if tls_all else {}
    if inter and tls_all and not pop.mask.all():
        inter = _sub(inter, _in_population(inter, tls))
    if inter and "same_domain" in inter:
        same = np.asarray(inter["same_domain"], bool)
        shared = np.asarray(inter["shared_moving"]) > 0
        n_pairs = len(same)
        if same.any():
            res.messages.append(f"/interactions: {int(same.sum())} of {n_pairs} pairs join two rows of one search "
                                "domain (alternative transitions of one region from the same occupied state, not two "
                                "TLS; their centres coincide): left out of every coupling statistic")
        if (shared & ~same).any():
            res.messages.append(f"/interactions: {int((shared & ~same).sum())} of {n_pairs} pairs (rows of different "
                                "domains) move a bead in common (> 0.02 σ in both): not independent TLS, their "
                                "four-state coupling is not defined; they stay in the all-pairs numbers (touching "
                                "pairs), and the Eq. 21/22 estimates use only pairs at r >= 3 R_xi")
        inter = _sub(inter, ~same)
    res.n_rows = len(tls_all.get("sample", []))
    res.n_tls = len(tls.get("sample", []))
    res.n_pairs = len(inter.get("sample", []))

    eps_K = _uniform(S["epsilon_kelvin"], "epsilon_kelvin", res)
    debye = _uniform(S["debye_per_reduced_dipole"], "debye_per_reduced_dipole", res)
    sigma_A = _uniform(S["sigma_angstrom"], "sigma_angstrom", res)
    zeta = _uniform(S["zeta"], "ζ", res)
    zq = _uniform(S["charge_reduced"], "ζ q (charge_reduced)", res)
    mu_mol = float(np.mean(S["mu_mol_reduced"]))
    b = float(np.mean(S["bond_length_mean"]))
    n_dens = float(np.mean(S["number_density"]))
    a = n_dens ** (-1 / 3)
    volume = float(np.sum(S["volume"]))
    res.info = dict(n_samples=len(ids), n_beads=S["n_beads"].tolist(), zeta=zeta, zeta_q=zq, mu_mol=mu_mol,
                    mu_mol_debye=mu_mol * debye, bond_length=b, a=a, number_density=n_dens,
                    volume=volume, eps_K=eps_K, debye=debye, sigma_A=sigma_A,
                    stages=sorted(set(" ".join(S["stages"]).split()),
                                  key=["pack", "charge", "search", "dipole", "interact"].index))
    res.info["population_classes"] = sorted(set(np.asarray(tls.get("class", [])).tolist()))
    mat = material_constants(S, tls_all, options, res)   # ξ from the domain radius of every row
    res.material = mat
    xi = mat["xi"].value
    t_g = mat["t_g"].value

    if res.n_rows:
        res.counts = class_counts(tls_all)
        res.by_class = class_comparison(tls_all, eps_K, debye, charged=np.isfinite(zq) and zq > 0)
    res.density = tls_density(S, tls_all, res, t_g, xi)
    res.phonon = phonon_coupling(res, tls, tls_all, mat, a, eps_K, sigma_A) if res.n_tls else {}
    if not res.n_tls:
        if res.n_rows:
            res.messages.append(f"/tls: {res.n_rows} rows, none in the population ({pop.label}) — no μ_T, g, "
                                "Eq. 13 or energy statistics")
        elif any("search" in st.split() for st in S["stages"]):
            res.messages.append("/tls: present but empty (the search found no TLS in these samples)")
        else:
            res.messages.append(f"/tls: {NOT_PRESENT} — no μ_T, g, Eq. 13 or energy statistics")
    else:
        if np.isfinite(zq) and zq > 0:
            _mu_section(res, tls, zq, mu_mol, b, a, xi, debye, n_dens)
        else:
            res.messages.append(f"/charge: {NOT_PRESENT} (or ζ = 0) — no μ_T or g statistics")
        _eq13_section(res, tls)
        _energy_section(res, tls, S, eps_K, t_g, xi, sigma_A, options)
    if not res.n_pairs:
        res.messages.append(f"/interactions: {NOT_PRESENT} — no interaction maps or Eqs. 21/22 test")
    else:
        _interaction_section(res, inter, tls, mat, zeta, zq, a, eps_K)
    _summary_rows(res, zeta, zq, mu_mol, a, xi, t_g, eps_K, debye, n_dens)
    for r in res.rows:
        r.setdefault("population", pop.label)
    return res


def _ordered(values, known):
    """The distinct values: the known ones in contract order, then any other, then the placeholders."""
    present = set(np.asarray(values).tolist())
    tail = [x for x in (UNCLASSIFIED, NO_METHOD) if x in present]
    return ([x for x in known if x in present] + sorted(present - set(known) - set(tail)) + tail)


def class_counts(tls_all):
    """Rows per class, split by method, adjacent and involves_occupied: {"columns": [(key, header)],
    "rows": {class or "total": {key: count, or None where those rows lack the column}}, "order": [...]}.
    A split no file has is left out."""
    cls, method = np.asarray(tls_all["class"]), np.asarray(tls_all["method"])
    columns = [("rows", "rows")]
    tests = {"rows": (lambda m: m, lambda m: True)}
    has_method = lambda m: bool(np.any(method[m] != NO_METHOD))
    for me in _ordered(method, TLS_STRINGS["method"]):
        if me != NO_METHOD:
            columns.append((f"method:{me}", f"method {me}"))
            tests[f"method:{me}"] = (lambda m, me=me: m & (method == me), has_method)
    for flag, yes, no in (("adjacent", "adjacent", "not adjacent"),
                          ("involves_occupied", "involves occupied", "not involving occupied")):
        col = np.asarray(tls_all.get(flag, np.full(len(cls), np.nan)), float)
        if np.isfinite(col).any():
            known = lambda m, col=col: bool(np.isfinite(col[m]).any())
            columns += [(f"{flag}=1", yes), (f"{flag}=0", no)]
            tests[f"{flag}=1"] = (lambda m, col=col: m & (col == 1), known)
            tests[f"{flag}=0"] = (lambda m, col=col: m & (col == 0), known)
    order = _ordered(cls, TLS_STRINGS["class"])
    rows = {}
    for c in order + ["total"]:
        m = np.ones(len(cls), bool) if c == "total" else cls == c
        rows[c] = {k: int(np.sum(tests[k][0](m))) if tests[k][1](m) else None for k, _ in columns}
    return dict(columns=columns, rows=rows, order=order + ["total"])


def _median(x, s, scale=1.0):
    x, s = np.asarray(x, float), np.asarray(s)
    ok = np.isfinite(x)
    if not ok.any():
        return None
    return stats.jackknife({"x": x[ok]}, s[ok], lambda c: np.median(c["x"])).scaled(scale)


def class_comparison(tls_all, eps_K, debye, charged):
    """Per class: row count and the medians (jackknife errors) of |ε|, ε (signed: B − A, A the
    occupied state), V, E_qs, Δ₀, ε_relaxed − ε, ΔZPE (K), |μ_T| (D) and n_moving; plus the E_qs
    values (K) for the per-class figure. E_qs is taken over adjacent rows only (e_qs_left_out: how
    many others had one): a band with an intermediate minimum is not a double well, and the splitting
    of its profile depends on the band (10.2 and 8.3 K from two converged bands of one pair,
    docs/tunnelling.md)."""
    out = {}
    cls = np.asarray(tls_all["class"])
    for c in _ordered(cls, TLS_STRINGS["class"]):
        r = _sub(tls_all, cls == c)
        s = r["sample"]
        d = dict(n=len(s), n_samples=len(np.unique(s)))
        d["asym_abs_K"] = _median(np.abs(r["asymmetry"]), s, eps_K)
        d["asym_K"] = _median(r["asymmetry"], s, eps_K)
        d["barrier_K"] = _median(r["barrier"], s, eps_K)
        d["split_K"] = _median(r["splitting"], s, eps_K)
        d["n_moving"] = _median(r["n_moving"], s)
        if "e_qs" in r:
            e_qs = np.where(r["adjacent"] == 1, r["e_qs"], np.nan) if "adjacent" in r else r["e_qs"]
            d["e_qs_left_out"] = int(np.sum(np.isfinite(r["e_qs"]) & ~np.isfinite(e_qs)))
            d["e_qs_K"] = _median(e_qs, s, eps_K)
            ok = np.isfinite(e_qs)
            d["e_qs_values_K"], d["e_qs_sample"] = e_qs[ok] * eps_K, s[ok]
        if "asymmetry_relaxed" in r:
            d["relax_K"] = _median(r["asymmetry_relaxed"] - r["asymmetry"], s, eps_K)
        if "delta_zpe" in r:
            d["zpe_K"] = _median(r["delta_zpe"], s, eps_K)
        if charged:
            d["mu_D"] = _median(np.linalg.norm(r["mu_t"], axis=1), s, debye)
        out[c] = d
    return out


def tls_density(S, tls_all, res, t_g, xi):
    """Rows of class tls (method `given` left out, module doc) per bead, per searched domain and per
    volume and energy in the window E_qs ≤ max_splitting, over the group's samples with /tls/class.

    per bead   = Σ_s n_s / Σ_s N_s           N_s = every bead of sample s (not only mobile ones)
    per domain = Σ_s n_s' / Σ_s D_s          n_s' = the rows of method domain, D_s = domains with
                                             /search/domain_done == 1 (samples with /search only)
    P̄          = Σ_s n_s / Σ_s (N_s v_s E_s)  v_s = V_s/N_s the volume per bead, E_s = max_splitting
    Each with the jackknife over samples ("se") and the Garwood 68 % Poisson interval on Σ n_s."""
    classified = np.asarray(S["classified"], float) == 1
    if not classified.any():
        if len(tls_all.get("sample", [])):
            res.messages.append("TLS density: needs /tls/class (the files were written before the "
                                "classification) — n/a")
        return {}
    ids = np.asarray(res.sample_ids)[classified]
    cls = np.asarray(tls_all.get("class", np.zeros(0, str)))
    method = np.asarray(tls_all.get("method", np.zeros(0, str)))
    sample = np.asarray(tls_all.get("sample", np.zeros(0, int)))
    counted = (cls == "tls") & (method != "given")
    n_s = np.array([np.sum(counted & (sample == i)) for i in ids], float)
    n_dom_s = np.array([np.sum(counted & (method == "domain") & (sample == i)) for i in ids], float)
    N_s = np.asarray(S["n_beads"], float)[classified]
    V_s = np.asarray(S["volume"], float)[classified]
    D_s = np.asarray(S["n_domains_done"], float)[classified]
    E_s = np.asarray(S["max_splitting"], float)[classified]
    eps_K = np.asarray(S["epsilon_kelvin"], float)[classified]
    sigma_m = np.asarray(S["sigma_angstrom"], float)[classified] * 1e-10
    n = int(n_s.sum())
    d = dict(n=n, n_given=int(np.sum((cls == "tls") & (method == "given") & np.isin(sample, ids))),
             n_samples=len(ids), n_samples_group=len(classified), n_beads=int(N_s.sum()),
             volume=float(V_s.sum()), v_bead=float(V_s.sum() / N_s.sum()))
    d["per_bead"] = stats.ratio_of_sums(n_s, N_s)
    d["per_bead_poisson"] = stats.poisson_rate(n, N_s.sum())
    searched = np.isfinite(D_s)
    d["n_domains"] = int(D_s[searched].sum())
    d["domain_samples"] = int(searched.sum())
    d["n_domain_method"] = int(n_dom_s[searched].sum())
    if searched.any() and D_s[searched].sum() > 0:
        d["per_domain"] = stats.ratio_of_sums(n_dom_s[searched], D_s[searched])
        d["per_domain_poisson"] = stats.poisson_rate(d["n_domain_method"], D_s[searched].sum())
    total = np.asarray(S["n_domains"], float)[classified]
    if np.any(np.isfinite(total) & searched & (D_s < total)):
        d["partial"] = (f"{int(D_s[searched].sum())} of {int(np.nansum(total[searched]))} domains searched: "
                        "the per-bead density counts every bead, so it is low by the unsearched fraction")
    window = np.isfinite(E_s) & (E_s > 0)
    if window.all():
        d["window_eps"] = (float(E_s.min()), float(E_s.max()))
        d["window_K"] = (float((E_s * eps_K).min()), float((E_s * eps_K).max()))
        d["dos_bead"] = stats.ratio_of_sums(n_s, N_s * E_s)     # per bead volume per ε
        d["dos_bead_poisson"] = stats.poisson_rate(n, np.sum(N_s * E_s))
        d["dos_sigma3"] = stats.ratio_of_sums(n_s, V_s * E_s)   # per σ³ per ε
        d["dos_sigma3_poisson"] = stats.poisson_rate(n, np.sum(V_s * E_s))
        den_si = V_s * sigma_m ** 3 * E_s * eps_K * K_B         # m³ J
        d["dos_si"] = stats.ratio_of_sums(n_s, den_si)          # J⁻¹ m⁻³
        d["dos_si_poisson"] = stats.poisson_rate(n, den_si.sum())
        d["dos_paper_si"] = est.tls_dos_paper(t_g * eps_K.mean() * K_B, xi * sigma_m.mean())
    else:
        d["window_missing"] = int(np.sum(~window))
    return d


EV_PER_KELVIN = 8.617333262e-5   # k_B / e (exact SI 2019 constants)


def phonon_coupling(res, tls, tls_all, mat, a, eps_K, sigma_A):
    """Eq. 17 and the tunnelling strength (needs /tls/gamma_l, _t from `tlsmap interact`).

    Eq. 17: γ ≈ √(T_g ρ c_s² a³) (reduced: T_g in ε, ρ in m/σ³, c in σ/τ, a in σ: the root is in ε);
    measured: the median of γ_l and of γ_l/√(T_g ρ c_s² a³) over the population, jackknifed.
    Tunnelling strength (standard tunnelling model): C_l,t = P̄ ⟨γ_l,t²⟩ / (ρ c_l,t²), P̄ the density of
    class-tls rows per energy and volume in the window E_qs ≤ max_splitting (tls_density), ⟨γ²⟩ over
    those same rows; ℓ_mfp/λ = 1/(2π² C). Interval: P̄'s 68 % Poisson interval (γ²'s spread is not in
    it). No class-tls row: an upper bound from P̄'s 95 % bound when γ² of the population is known."""
    out = {}
    if "gamma_l" not in tls or mat.get("c_s") is None:
        return out
    gl, gt, s = np.asarray(tls["gamma_l"], float), np.asarray(tls["gamma_t"], float), tls["sample"]
    ok = np.isfinite(gl) & np.isfinite(gt)
    if not ok.any():
        return out
    t_g, rho, c_s = mat["t_g"].value, mat["rho"].value, mat["c_s"].value
    est17 = np.sqrt(t_g * rho * c_s ** 2 * a ** 3)
    med = lambda c: np.median(c["x"])
    out.update(n=int(ok.sum()), est17=est17, est17_eV=est17 * eps_K * EV_PER_KELVIN,
               gamma_l=stats.jackknife({"x": gl[ok]}, s[ok], med),
               gamma_t=stats.jackknife({"x": gt[ok]}, s[ok], med),
               ratio_l=stats.jackknife({"x": gl[ok] / est17}, s[ok], med),
               ratio_t=stats.jackknife({"x": gt[ok] / est17}, s[ok], med))
    dn = res.density
    if dn.get("dos_si") is None:
        return out
    cls = np.asarray(tls_all.get("class", np.zeros(0, str)))
    tl = np.asarray(tls_all.get("gamma_l", np.full(len(cls), np.nan)), float)
    tt = np.asarray(tls_all.get("gamma_t", np.full(len(cls), np.nan)), float)
    is_tls = (cls == "tls") & np.isfinite(tl) & np.isfinite(tt)
    sig_m = sigma_A * 1e-10
    e_J = eps_K * K_B
    for pol, cname, g_all, g_pop in (("l", "c_l", tl, gl[ok]), ("t", "c_t", tt, gt[ok])):
        if mat.get(cname) is None:
            continue
        stiff = rho * mat[cname].value ** 2 * e_J / sig_m ** 3          # ρ c² in J/m³
        if is_tls.any():
            g2 = float(np.mean(g_all[is_tls] ** 2)) * e_J ** 2
            p = dn["dos_si_poisson"]
            c = dn["dos_si"].value * g2 / stiff
            out[f"C_{pol}"] = dict(value=c, lo=p["lo"] * g2 / stiff, hi=p["hi"] * g2 / stiff, n=int(is_tls.sum()))
        else:
            g2 = float(np.mean(g_pop ** 2)) * e_J ** 2                 # of the population (labelled)
            out[f"C_{pol}"] = dict(value=np.nan, upper95=dn["dos_si_poisson"]["upper95"] * g2 / stiff, n=0)
    return out


def _mu_section(res, tls, zq, mu_mol, b, a, xi, debye, n_dens):
    s = tls["sample"]
    mu = tls["mu_t"]
    mu2 = np.einsum("ij,ij->i", mu, mu)
    n_d = tls["n_moving"] / 2.0                       # bead pairs among the moving beads
    est2 = est.eq6_mu_t2(mu_mol, n_d, tls["d_l"], b)  # per-TLS Eq. 6, a = <b> (module doc)
    ok = np.isfinite(mu2) & np.isfinite(est2) & (est2 > 0)
    d = res.mu
    d["mu2"], d["est2"], d["mu_abs"], d["sample"] = mu2, est2, np.sqrt(mu2), s
    d["mu_vec"] = mu
    d["rms"] = stats.jackknife({"x": mu2}, s, lambda c: np.sqrt(np.mean(c["x"])))
    d["mean_abs"] = stats.mean(np.sqrt(mu2), s)
    d["median_abs"] = stats.jackknife({"x": np.sqrt(mu2)}, s, lambda c: np.median(c["x"]))
    d["est_rms_eq6"] = stats.jackknife({"x": est2[ok]}, s[ok], lambda c: np.sqrt(np.mean(c["x"])))
    d["ratio_eq6"] = stats.ratio_of_means(mu2[ok], est2[ok], s[ok])
    d["d_l_mean"] = stats.mean(tls["d_l"], s)
    d["n_moving_mean"] = stats.mean(tls["n_moving"], s)
    d["n_d_paper"] = est.n_d_paper(xi, a)
    # Eq. 1 with the domain size ξ and the mean measured d_L (a-independent form ζ q d_L √N_d).
    d["est_eq1"] = d["d_l_mean"].scaled(zq * np.sqrt(est.n_d_paper(xi, a)))
    # The bracket the paper calls "nearly universally equal to unity": [(ξ/a)³/2]^{1/2} (d_L/a).
    d["bracket"] = d["d_l_mean"].scaled(np.sqrt(est.n_d_paper(xi, a)) / a)
    d["bracket_per_tls"] = stats.mean(np.sqrt(n_d) * tls["d_l"] / a, s)
    d["d_l_over_a"] = d["d_l_mean"].scaled(1 / a)
    d["debye"] = debye
    # g: per TLS and as a ratio of means (more robust against TLS with a tiny Σ|Δμ|²).
    g = tls["g"]
    okg = np.isfinite(g)
    res.g["g"], res.g["sample"] = g[okg], s[okg]
    if okg.any():
        res.g["mean"] = stats.mean(g[okg], s[okg])
        res.g["median"] = stats.jackknife({"x": g[okg]}, s[okg], lambda c: np.median(c["x"]))
        res.g["ratio_of_means"] = stats.ratio_of_means(mu2[okg], tls["sum_dmu2"][okg], s[okg])
        # Is each bond's change μ_mol (d_L/a)? Σ|Δμ_i|² against μ_mol² N_d (d_L/a)².
        okb = okg & ok
        res.g["step_ratio"] = stats.ratio_of_means(tls["sum_dmu2"][okb], est2[okb], s[okb])
    res.mu["n_bonds_moved_mean"] = stats.mean(tls["n_bonds_moved"], s)


def _eq13_section(res, tls):
    if "mu_eq13" not in tls or not np.isfinite(tls["mu_eq13"]).any():
        res.messages.append(f"/tls/mu_eq13: {NOT_PRESENT} (dipole stage not run) — no Eq. 13 comparison")
        return
    ok = np.all(np.isfinite(tls["mu_eq13"]), axis=1)
    md = tls["mu_direct"][ok] if "mu_direct" in tls else tls["mu_t"][ok]
    m13 = tls["mu_eq13"][ok]
    s = tls["sample"][ok]
    res.eq13.update(direct=md, eq13=m13, sample=s)
    res.eq13["slope"] = stats.jackknife({"x": md, "y": m13}, s,
                                        lambda c: stats.slope_through_origin(c["x"], c["y"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = np.einsum("ij,ij->i", m13, md) / np.einsum("ij,ij->i", md, md)
    okp = np.isfinite(proj)
    res.eq13["projection"] = proj[okp]
    res.eq13["projection_sample"] = s[okp]
    res.eq13["median_projection"] = stats.jackknife({"x": proj[okp]}, s[okp], lambda c: np.median(c["x"]))
    # The sphere's cut (/tls/mu_eq13_cut, docs/dipole.md): for uniform ε μ_eq13 = −(μ_direct − L)/3,
    # so μ_eq13·μ_direct / ((μ_direct − L)·μ_direct) is −1/3 even where the sphere cuts through the
    # transition charges' Gaussians (rows of files without the column are left out).
    if "mu_eq13_cut" in tls:
        cut = tls["mu_eq13_cut"][ok]
        with np.errstate(divide="ignore", invalid="ignore"):
            pc = np.einsum("ij,ij->i", m13, md) / np.einsum("ij,ij->i", md - cut, md)
        okc = np.isfinite(pc)
        if okc.any():
            res.eq13["median_cut_projection"] = stats.jackknife({"x": pc[okc]}, s[okc], lambda c: np.median(c["x"]))
            res.eq13["n_cut"] = int(okc.sum())


def _energy_section(res, tls, S, eps_K, t_g, xi, sigma_A, options):
    s = tls["sample"]
    e = res.energy
    e["asym_K"] = np.abs(tls["asymmetry"]) * eps_K
    e["barrier_K"] = tls["barrier"] * eps_K
    split = tls["splitting"] * eps_K
    e["split_K"] = split
    e["sample"] = s
    e["mean_asym_K"] = stats.mean(e["asym_K"], s)
    e["t_g_K"] = t_g * eps_K
    if "e_qs" in tls:
        e["e_qs_K"] = tls["e_qs"] * eps_K
    if "asymmetry_relaxed" in tls:
        diff = (tls["asymmetry_relaxed"] - tls["asymmetry"]) * eps_K
        ok = np.isfinite(diff)
        if ok.any():
            e["relax_diff_K"], e["relax_sample"] = diff[ok], s[ok]
            e["relax_median_K"] = _median(diff[ok], s[ok])
    # TLS density of states at energy E ≤ E_cut, per volume. E is the level splitting: E_qs where the
    # file has it (the 1D Schrödinger equation along the path), else √(ε² + Δ₀²) (Eq. 20 levels).
    searched = np.array(["search" in st.split() for st in S["stages"]])   # samples with a /tls group
    vol_m3 = float(np.sum(np.asarray(S["volume"])[searched])) * (sigma_A * 1e-10) ** 3
    e_level = np.sqrt(e["asym_K"] ** 2 + np.where(np.isfinite(split), split, 0) ** 2)
    if "e_qs_K" in e:
        e_level = np.where(np.isfinite(e["e_qs_K"]), e["e_qs_K"], e_level)
    e["level_from_e_qs"] = int(np.sum(np.isfinite(e["e_qs_K"]))) if "e_qs_K" in e else 0
    e["density"] = []
    for cut in options.get("energy_cuts_K", (1.0, 10.0)):
        n = int(np.sum(e_level <= cut))
        per = 1.0 / (vol_m3 * cut * K_B)      # J⁻¹ m⁻³ per TLS
        lo, hi = stats.poisson_interval(n)
        e["density"].append(dict(cut_K=cut, n=n, value=n * per, lo=lo * per, hi=hi * per,
                                 upper95=stats.poisson_upper(n) * per, volume_m3=vol_m3))
    xi_m = xi * sigma_A * 1e-10
    e["density_paper"] = est.tls_dos_paper(t_g * eps_K * K_B, xi_m)


def _interaction_section(res, inter, tls, mat, zeta, zq, a, eps_K):
    s = inter["sample"]
    r = np.linalg.norm(inter["r"], axis=1)
    r3 = r ** 3
    it = res.inter
    # One convention everywhere in the report: J_zz, the coefficient of σᶻ_i σᶻ_j in the pair
    # Hamiltonian, what Eqs. 21 and 22 estimate; a quarter of the files' four-state combination
    # J = E_BB − E_BA − E_AB + E_AA (j_el, j_dd, j_mech; the files also hold j_*_zz).
    zz = {k: np.asarray(inter[f"j_{k}"], float) / 4.0 for k in ("el", "dd", "mech")}
    # J_el: the point charges' exact Ewald value (j_el_point) where the file has it, else the grid's
    # (Gaussian charges, a few per cent off per pair; docs/dipole.md §2).
    point = np.asarray(inter.get("j_el_point", np.full(len(r), np.nan)), float) / 4.0
    it["n_el_point"] = int(np.isfinite(point).sum())
    zz["el"] = np.where(np.isfinite(point), point, zz["el"])
    it.update(r=r, sample=s, el=zz["el"], dd=zz["dd"], mech=zz["mech"])
    it["r3_el"], it["r3_dd"], it["r3_mech"] = r3 * zz["el"], r3 * zz["dd"], r3 * zz["mech"]
    norm = np.linalg.norm(inter["mu_i"], axis=1) * np.linalg.norm(inter["mu_j"], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        it["angle"] = est.dipolar_angle_factor(inter["mu_i"], inter["mu_j"], inter["r"])
        # σᶻσᶻ: each TLS couples through μ_T/2, so r³J_zz / (|μ_i/2||μ_j/2|) is the angle factor
        it["r3_el_norm"] = it["r3_el"] / (norm / 4)
        it["r3_dd_norm"] = it["r3_dd"] / (norm / 4)
    rms = lambda c: np.sqrt(np.mean(c["a"] ** 2) / np.mean(c["b"] ** 2))
    okm = np.isfinite(it["r3_el"]) & np.isfinite(it["r3_mech"])
    it["ratio_el_mech"] = stats.jackknife({"a": it["r3_el"][okm], "b": it["r3_mech"][okm]}, s[okm], rms)
    it["median_abs_ratio"] = stats.jackknife(
        {"a": zz["el"][okm], "b": zz["mech"][okm]}, s[okm],
        lambda c: np.median(np.abs(c["a"]) / np.abs(c["b"])))
    it["rms_r3_mech"] = stats.jackknife({"x": it["r3_mech"][okm]}, s[okm], lambda c: np.sqrt(np.mean(c["x"] ** 2)))
    it["rms_r3_el"] = stats.jackknife({"x": it["r3_el"][okm]}, s[okm], lambda c: np.sqrt(np.mean(c["x"] ** 2)))
    # J_el -> J_dd far apart: slope of J_el on J_dd for pairs beyond 3 domain radii.
    R = float(np.mean(tls["radius"])) if len(tls.get("radius", [])) else np.nan
    it["radius"] = R
    # Eqs. 21, 22 estimate the coupling of TLS far apart: the median of r³|J_zz| over the pairs at
    # r >= 3 R_ξ (touching pairs, which dominate an rms, are left out), jackknifed over samples.
    far = okm & (r >= 3 * R)
    it["n_far"] = int(far.sum())
    if it["n_far"]:
        med = lambda c: np.median(np.abs(c["x"]))
        it["median_r3_mech_far"] = stats.jackknife({"x": it["r3_mech"][far]}, s[far], med)
        it["median_r3_el_far"] = stats.jackknife({"x": it["r3_el"][far]}, s[far], med)
        it["ratio_el_mech_far"] = stats.jackknife(
            {"a": it["r3_el"][far], "b": it["r3_mech"][far]}, s[far],
            lambda c: np.median(np.abs(c["a"])) / np.median(np.abs(c["b"])))
    for k in (3, 5):
        far_k = (r >= k * R) & np.isfinite(zz["el"]) & np.isfinite(zz["dd"])
        if far_k.sum() >= 2:
            it[f"slope_dd_{k}R"] = stats.jackknife({"x": zz["dd"][far_k], "y": zz["el"][far_k]}, s[far_k],
                                                   lambda c: stats.slope_through_origin(c["x"], c["y"]))
    t_g = mat["t_g"].value
    it["eq21_r3"] = t_g * a ** 3                       # Eq. 21 times r³
    if mat["c_s"] is not None:
        it["eq22_over_21"] = est.eq22_over_eq21(zeta, mat["rho"].value, mat["c_s"].value, a, t_g)
        if mat.get("zeta2") is not None:
            it["eq22_over_21_zeta2"] = est.eq22_over_eq21_zeta2(mat["zeta2"].value, mat["rho"].value,
                                                                mat["c_s"].value, a, t_g)
    it["coulomb_over_tg"] = est.coulomb_over_tg(zq, a, t_g, mat["epsilon_r"].value)


def _row(claim, paper, estimate, measured, unit, note="", population=None):
    r = dict(claim=claim, paper=paper, estimate=estimate, measured=measured, unit=unit, note=note)
    if population is not None:
        r["population"] = population
    return r


def _summary_rows(res, zeta, zq, mu_mol, a, xi, t_g, eps_K, debye, n_dens):
    rows = res.rows
    exp = "; ".join(f"{v} D ({w})" for w, v in est.PAPER_EXPERIMENTS_DEBYE)
    if res.mu:
        d = res.mu
        rows.append(_row("μ_T typical size (Eq. 1)", "≈ 1 D or less; experiments 0.1–1 D: " + exp,
                         f"Eq. 1 with ξ = {xi:.3g} σ, ⟨d_L⟩: {d['est_eq1'].scaled(debye).fmt()}; "
                         f"Eq. 6 per TLS (rms): {d['est_rms_eq6'].scaled(debye).fmt()}; "
                         f"μ_mol (bracket = 1): {mu_mol * debye:.3g}",
                         f"rms {d['rms'].scaled(debye).fmt()}; mean {d['mean_abs'].scaled(debye).fmt()}; "
                         f"median {d['median_abs'].scaled(debye).fmt()}", "D"))
        rows.append(_row("⟨μ_T²⟩ / ⟨μ_mol² N_d (d_L/a)²⟩ (Eq. 6)", "≈ 1 (× g if correlated)", "1",
                         d["ratio_eq6"].fmt(), "–", "N_d = n_moving/2, d_L and n_moving per TLS"))
        rows.append(_row("[(ξ/a)³/2]^{1/2} (d_L/a) (after Eq. 1)", "≈ 1, nearly universal",
                         f"{d['bracket'].fmt()} (ξ, ⟨d_L⟩)", f"{d['bracket_per_tls'].fmt()} "
                         "(per TLS: √(n_moving/2) d_L/a)", "–", f"a = n^(-1/3) = {a:.4g} σ"))
        rows.append(_row("d_L/a (Lindemann ratio)", "≈ 0.1", "", d["d_l_over_a"].fmt(), "–"))
        rows.append(_row("N_d = (ξ/a)³/2 moving bead pairs", "(ξ/a)³/2 ≈ 100", f"{d['n_d_paper']:.4g}",
                         f"{d['n_moving_mean'].scaled(0.5).fmt()} (n_moving/2); "
                         f"{d['n_bonds_moved_mean'].fmt()} bonds touched", "–"))
    if res.g.get("mean") is not None:
        rows.append(_row("g = μ_T² / Σ|Δμ_i|² (Kirkwood-like)", "1 if uncorrelated, 'typically of order 2'",
                         "1–2", f"mean {res.g['mean'].fmt()}; median {res.g['median'].fmt()}; "
                                f"⟨μ_T²⟩/⟨Σ|Δμ_i|²⟩ {res.g['ratio_of_means'].fmt()}", "–"))
        if "step_ratio" in res.g:
            rows.append(_row("⟨Σ|Δμ_i|²⟩ / ⟨μ_mol² N_d (d_L/a)²⟩", "≈ 1 (each bond turns by d_L/a)", "1",
                             res.g["step_ratio"].fmt(), "–"))
    if res.eq13.get("slope") is not None:
        cut = res.eq13.get("median_cut_projection")
        cut_text = (f"; with the sphere's cut L (charges straddling the surface), median μ_eq13·μ_direct / "
                    f"((μ_direct − L)·μ_direct) {cut.fmt()} over {res.eq13['n_cut']} rows") if cut is not None else ""
        rows.append(_row("μ_eq13 / μ_direct (Eq. 13, uniform ε)", "−1/3 for moving charges inside the sphere "
                         "(c₁ cavity factor)", "−0.333", f"slope {res.eq13['slope'].fmt()}; median "
                         f"projection {res.eq13['median_projection'].fmt()}{cut_text}", "–"))
    if res.energy:
        e = res.energy
        rows.append(_row("⟨ε⟩ of the TLS (Sec. II.C: n(ε) = e^{−ε/T_g}/T_g)", "T_g", f"{e['t_g_K']:.4g}",
                         e["mean_asym_K"].fmt(), "K"))
        for dens in e["density"]:
            meas = (f"{dens['value']:.3g} (68 %: {dens['lo']:.2g}–{dens['hi']:.2g}; n = {dens['n']})"
                    if dens["n"] else f"< {dens['upper95']:.2g} (95 %, no TLS with E ≤ {dens['cut_K']:g} K)")
            rows.append(_row(f"TLS density of states, E ≤ {dens['cut_K']:g} K", "≈ 1/(T_g ξ³)",
                             f"{e['density_paper']:.3g}", meas, "J⁻¹ m⁻³",
                             "typical P̄ of glasses ~1e44–1e46 J⁻¹ m⁻³ (standard tunnelling model; not quoted by the paper)"))
    dn = res.density
    if dn.get("dos_si") is not None:
        p = dn["dos_si_poisson"]
        meas = (f"{dn['dos_si'].fmt()} (68 % Poisson: {p['lo']:.2g}–{p['hi']:.2g}; n = {dn['n']})" if dn["n"]
                else f"< {p['upper95']:.2g} (95 %, no tls row)")
        lo, hi = dn["window_K"]
        rows.append(_row("TLS density of states in the window E_qs ≤ max_splitting (window estimate)",
                         "≈ 1/(T_g ξ³)", f"{dn['dos_paper_si']:.3g}", meas, "J⁻¹ m⁻³",
                         f"P̄ = n_tls/(N_beads v_bead max_splitting), max_splitting = "
                         f"{lo:.3g}{'' if hi == lo else f'–{hi:.3g}'} K; class tls rows whatever --class",
                         population="tls (window)"))
    ph = res.phonon
    if ph:
        pop = res.population.label if res.population is not None else ""
        rows.append(_row("TLS–phonon coupling γ (Eq. 17: the deformation potential)", "≈ √(T_g ρ c_s² a³)",
                         f"{ph['est17'] * eps_K:.3g} K = {ph['est17_eV']:.3g} eV",
                         f"median γ_l {ph['gamma_l'].scaled(eps_K).fmt()} K, γ_t {ph['gamma_t'].scaled(eps_K).fmt()} K; "
                         f"γ_l / √(T_g ρ c_s² a³) {ph['ratio_l'].fmt()}, γ_t / … {ph['ratio_t'].fmt()} (n = {ph['n']})",
                         "K", "γ = ∂ε/∂e from /tls/gamma_l, _t (tlsmap interact); experiments: γ ~ 0.1–1 eV",
                         population=pop))
        for pol in ("l", "t"):
            c = ph.get(f"C_{pol}")
            if c is None:
                continue
            if c["n"]:
                meas = f"{c['value']:.3g} (68 %: {c['lo']:.2g}–{c['hi']:.2g}; n = {c['n']})"
                lm = 1 / (2 * np.pi ** 2 * c["value"]) if c["value"] > 0 else np.inf
                meas += f"; ℓ_mfp/λ = 1/(2π²C) = {lm:.3g}"
            else:
                meas = f"< {c['upper95']:.2g} (95 %: no tls row; γ² of the population)"
            rows.append(_row(f"tunnelling strength C_{pol} = P̄ γ_{pol}² / (ρ c_{pol}²)", "C ≈ 1e-4–1e-3, "
                             "ℓ_mfp/λ ≈ 150 (universal below 1 K)", "1e-4–1e-3", meas, "–",
                             "P̄ and ⟨γ²⟩ over class tls rows in the window E_qs ≤ max_splitting",
                             population="tls (window)"))
    z2 = res.material.get("zeta2")
    if z2 is not None:
        parts = [f"{name} {res.material[key].value:.3g}" for name, key in (("K", "zeta2_bulk"), ("G", "zeta2_shear"))
                 if res.material.get(key) is not None]
        rows.append(_row("Coulomb share of the stiffness ζ² (Eq. 12)", "ζ² ≲ 0.01: modulus ρc_s²(1 + ζ²)",
                         f"{zeta ** 2:.3g} if ζ = charge.zeta in units of e",
                         f"{z2.value:.3g}" + (f" ± {se:.2g}" if (se := res.material.get("zeta2_se")) is not None else "")
                         + " of ρc_s²" + (f" ({', '.join(parts)})" if parts else "") + f"; {z2.origin}",
                         "–", "first order in the charges (passive charges: exact as ζ → 0, ∝ ζ²); docs/elastic.md"))
    if res.inter:
        it = res.inter
        if "eq22_over_21_zeta2" in it:
            est_txt = (f"{it['eq22_over_21_zeta2']:.3g} with ζ² = {z2.value:.3g} (the measured Coulomb share of "
                       f"ρc_s², /material/coulomb_share); alternative, ζ = charge.zeta in units of e: "
                       f"{it['eq22_over_21']:.3g}")
        elif "eq22_over_21" in it:
            est_txt = (f"{it['eq22_over_21']:.3g} with ζ = charge.zeta in units of e (alternative; the measured "
                       f"ζ², /material/coulomb_share, is {NOT_PRESENT})")
        else:
            est_txt = "needs c_s: /material/sound_speed_* " + NOT_PRESENT + " (use --sound-speed)"
        far_txt = f"{it['n_far']} pairs at r ≥ 3 R_ξ = {3 * it['radius']:.3g} σ"
        no_far = f"no pair at r ≥ 3 R_ξ = {3 * it['radius']:.3g} σ"
        rows.append(_row("electric / elastic coupling (Eqs. 22/21), σᶻσᶻ convention", "ζ² ρ c_s² a³ / T_g",
                         est_txt + f"; with (ζq)²/(ε a) instead of ζ²ρc_s²a³: {it['coulomb_over_tg']:.3g}",
                         (f"median r³|J_el| / median r³|J_mech| {it['ratio_el_mech_far'].fmt()} ({far_txt})"
                          if it["n_far"] else no_far)
                         + f"; all pairs: rms ratio {it['ratio_el_mech'].fmt()}, median |J_el/J_mech| "
                         f"{it['median_abs_ratio'].fmt()}; J_el of point charges (j_el_point) on {it['n_el_point']} "
                         f"of {len(it['r'])} pairs, the grid's j_el on the rest", "–"))
        rows.append(_row("elastic coupling r³ |J_mech| (Eq. 21), σᶻσᶻ convention", "T_g a³",
                         f"{it['eq21_r3'] * eps_K:.3g}",
                         (f"median {it['median_r3_mech_far'].scaled(eps_K).fmt()} ({far_txt})" if it["n_far"]
                          else no_far) + f"; all pairs: rms {it['rms_r3_mech'].scaled(eps_K).fmt()}", "K σ³",
                         "J_zz = J/4 of the four-state combination E_BB − E_BA − E_AB + E_AA"))
        for k in (3, 5):
            if f"slope_dd_{k}R" in it:
                rows.append(_row(f"J_el / J_dd for r ≥ {k} R", "→ 1 (point dipoles far apart)", "1",
                                 it[f"slope_dd_{k}R"].fmt(), "–"))
