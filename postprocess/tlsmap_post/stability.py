"""The stability series (docs/stability.md): `tlsmap pack` files grouped by (N, T_f).

For every file: T_f, the production window's mean potential energy and pressure with their block
errors, the swap acceptance at T_f, the inherent-structure energy e_IS, and the relaxation times
of the window's decorrelation functions (the time at which F_s(q = 2π, t) and C_σ(t) first fall
below 1/e, by linear interpolation between rows; None when they never do: the window was too
short to see the liquid relax). For every (N, T_f): e_IS mean and spread over the files, and
whether the independent starts agree: |a − b| <= 3 sqrt(err_a² + err_b²) for e_pot at T_f.
"""
import math
import os
import tomllib

import h5py
import numpy as np

AGREE_Z = 3.0  # independent starts agree when within 3 combined standard errors


def _dt(f):
    if "dt" in f["pack"].attrs:
        return float(f["pack"].attrs["dt"])
    text = f.attrs.get("input", "")
    text = text.decode() if isinstance(text, bytes) else str(text)
    return float(tomllib.loads(text).get("md", {}).get("dt", 0.005))


def crossing_time(t, y, level=1.0 / math.e):
    """First t where y falls below `level` (linear interpolation from the previous row, y(0) = 1)."""
    t_prev, y_prev = 0.0, 1.0
    for ti, yi in zip(t, y):
        if yi < level:
            return t_prev + (y_prev - level) / (y_prev - yi) * (ti - t_prev)
        t_prev, y_prev = ti, yi
    return None


def read_pack(path):
    with h5py.File(path, "r") as f:
        if "pack" not in f:
            raise ValueError(f"{path}: no /pack group (not written by tlsmap pack)")
        a = f["pack"].attrs
        missing = [k for k in ("t_f", "e_pot_t_f", "e_pot_t_f_error", "e_is_per_bead") if k not in a]
        if missing:
            raise ValueError(f"{path}: /pack lacks {', '.join(missing)} (a pack file from before the stability series)")
        dt = _dt(f)
        dec = f["pack/decorrelation"][()] if "pack/decorrelation" in f else np.zeros((0, 4))
        n = f["particles/all/position/value"].shape[1]
        t = dec[:, 0] * dt
        return {
            "path": path, "name": os.path.basename(path), "n": int(n), "t_f": float(a["t_f"]), "dt": dt,
            "e_pot": float(a["e_pot_t_f"]), "e_pot_err": float(a["e_pot_t_f_error"]),
            "pressure": float(a["pressure_t_f"]), "pressure_err": float(a["pressure_t_f_error"]),
            "e_is": float(a["e_is_per_bead"]), "acceptance": float(a.get("swap_acceptance_t_f", 0.0)),
            "swap": bool(a.get("swap", 0)), "window": float(t[-1]) if len(t) else 0.0,
            "tau_fs": crossing_time(t, dec[:, 2]), "tau_sigma": crossing_time(t, dec[:, 3]),
            "fs_end": float(dec[-1, 2]) if len(t) else float("nan"),
            "c_sigma_end": float(dec[-1, 3]) if len(t) else float("nan"),
            "t": t, "fs": dec[:, 2], "c_sigma": dec[:, 3], "msd": dec[:, 1],
        }


def groups(rows):
    out = {}
    for r in rows:
        out.setdefault((r["n"], r["t_f"]), []).append(r)
    return dict(sorted(out.items()))


def starts_agree(rs):
    """Every pair of files of one (N, T_f): e_pot at T_f within AGREE_Z combined standard errors."""
    ok = True
    for i in range(len(rs)):
        for j in range(i + 1, len(rs)):
            a, b = rs[i], rs[j]
            ok &= abs(a["e_pot"] - b["e_pot"]) <= AGREE_Z * math.hypot(a["e_pot_err"], b["e_pot_err"])
    return ok


def _tau(x, window):
    return f"{x:.0f}" if x is not None else f"> {window:.0f}"


def markdown(rows):
    lines = ["| N | T_f | file | e_pot at T_f | pressure at T_f | swap acceptance | τ(F_s) | τ(C_σ) | F_s, C_σ at window end | e_IS |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (n, tf), rs in groups(rows).items():
        for r in rs:
            lines.append(f"| {n} | {tf:g} | {r['name']} | {r['e_pot']:.5f} ± {r['e_pot_err']:.5f} | "
                         f"{r['pressure']:.4f} ± {r['pressure_err']:.4f} | {r['acceptance']:.4f} | "
                         f"{_tau(r['tau_fs'], r['window'])} | {_tau(r['tau_sigma'], r['window'])} | "
                         f"{r['fs_end']:.3f}, {r['c_sigma_end']:.3f} | {r['e_is']:.5f} |")
    lines += ["", "| N | T_f | files | e_IS mean | e_IS spread (max − min) | starts agree (e_pot, 3σ) |",
              "|---|---|---|---|---|---|"]
    for (n, tf), rs in groups(rows).items():
        e = np.array([r["e_is"] for r in rs])
        lines.append(f"| {n} | {tf:g} | {len(rs)} | {e.mean():.5f} | {e.max() - e.min():.5f} | "
                     f"{'yes' if starts_agree(rs) else 'NO'} |")
    return lines


def figure(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for (n, tf), rs in groups(rows).items():
        for k, r in enumerate(rs):
            if len(r["t"]):
                ax1.semilogx(r["t"], r["fs"], "-" if k == 0 else "--", label=f"N={n} T_f={tf:g}" if k == 0 else None)
        ax2.plot([tf] * len(rs), [r["e_is"] for r in rs], "o", label=f"N={n}" if tf == min(t for (m, t) in groups(rows) if m == n) else None)
    ax1.axhline(1 / math.e, color="grey", lw=0.5)
    ax1.set_xlabel("t in the production window (τ)")
    ax1.set_ylabel("F_s(q = 2π, t)")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("T_f")
    ax2.set_ylabel("e_IS per bead (ε)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv):
    if len(argv) < 2:
        print("usage: tlsmap-stability OUTDIR PACKFILE...", flush=True)
        return 2
    outdir, files = argv[0], argv[1:]
    try:
        rows = [read_pack(p) for p in files]
    except (OSError, ValueError, KeyError) as e:
        print(f"tlsmap-stability: error: {e}", flush=True)
        return 1
    os.makedirs(outdir, exist_ok=True)
    text = "\n".join(markdown(rows)) + "\n"
    with open(os.path.join(outdir, "stability.md"), "w") as f:
        f.write(text)
    figure(rows, os.path.join(outdir, "stability.png"))
    print(text, end="")
    return 0
