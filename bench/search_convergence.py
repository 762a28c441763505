#!/usr/bin/python3
"""Tabulate bench/search_convergence.sh: per budget the catalogue of the glass and its change.

  search_convergence.py WORK B1 B2 ...

Reads WORK/budget-<b>/glass.h5 (/tls, /search) and time.txt (wall, user, sys). Per budget: attempts
made, rows (every row is adjacent to the occupied state O in a domain search), rows with
|ε| ≤ 0.05 T_f, ⟨ε⟩ and ⟨|ε|⟩ over the rows, the classes, the median Good–Turing missing mass, CPU.
The change from the previous budget is (x_b − x_{b/2}) / x_{b/2}; the issue's criterion is < 10 %
for the count with |ε| ≤ 0.05 T_f and for ⟨ε⟩. Writes WORK/convergence.png and WORK/convergence.tsv.
"""
import os
import sys
import tomllib

import h5py
import numpy as np


def one(path):
    with h5py.File(path, "r") as f:
        t_f = tomllib.loads(f.attrs["input"].decode() if isinstance(f.attrs["input"], bytes)
                            else f.attrs["input"])["pack"]["t_final"]
        t = f["tls"]
        asym = t["asymmetry"][()]
        cls = np.array([c.decode() if isinstance(c, bytes) else c for c in t["class"][()]])
        s = f["search"]
        attempts = int(np.sum(s["n_attempts"][()]))
        missing = float(np.nanmedian(s["missing_mass"][()])) if "missing_mass" in s else np.nan
        n_beads = f["particles/all/position/value"].shape[1]
    return dict(t_f=t_f, n=len(asym), low=int(np.sum(np.abs(asym) <= 0.05 * t_f)),
                mean=float(np.mean(asym)) if len(asym) else np.nan,
                mean_abs=float(np.mean(np.abs(asym))) if len(asym) else np.nan,
                tls=int(np.sum(cls == "tls")), dw=int(np.sum(cls == "double_well")),
                sw=int(np.sum(cls == "single_well")), attempts=attempts, missing=missing, n_beads=n_beads)


def main(argv):
    work, budgets = argv[0], [int(b) for b in argv[1:]]
    rows = []
    for b in budgets:
        r = one(os.path.join(work, f"budget-{b}", "glass.h5"))
        with open(os.path.join(work, f"budget-{b}", "time.txt")) as f:
            wall, user, sys_ = (float(x) for x in f.read().split()[-3:])
        r.update(budget=b, wall=wall, cpu=user + sys_)
        rows.append(r)

    def change(k, key):
        if k == 0 or not rows[k - 1][key]:
            return "–"
        return f"{(rows[k][key] - rows[k - 1][key]) / abs(rows[k - 1][key]):+.1%}"

    head = ["budget", "attempts", "rows", "|ε|<=0.05T_f", "Δ", "<ε>", "Δ", "<|ε|>", "Δ", "tls", "double_well",
            "single_well", "missing(median)", "CPU s"]
    lines = ["\t".join(head)]
    for k, r in enumerate(rows):
        lines.append("\t".join(str(x) for x in [
            r["budget"], r["attempts"], r["n"], r["low"], change(k, "low"), f"{r['mean']:.4f}", change(k, "mean"),
            f"{r['mean_abs']:.4f}", change(k, "mean_abs"), r["tls"], r["dw"], r["sw"], f"{r['missing']:.3f}",
            f"{r['cpu']:.0f}"]))
    text = "\n".join(lines)
    print(f"glass: {rows[0]['n_beads']} beads, T_f = {rows[0]['t_f']}; |ε| ≤ 0.05 T_f = {0.05 * rows[0]['t_f']:.4g} ε")
    print(text)
    with open(os.path.join(work, "convergence.tsv"), "w") as f:
        f.write(text + "\n")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    b = [r["budget"] for r in rows]
    fig, axs = plt.subplots(1, 2, figsize=(10, 4))
    axs[0].plot(b, [r["n"] for r in rows], "o-", label="rows adjacent to O")
    axs[0].plot(b, [r["dw"] for r in rows], "s-", label="double_well")
    axs[0].errorbar(b, [r["low"] for r in rows], yerr=np.sqrt([r["low"] for r in rows]), fmt="^-", capsize=3,
                    label="|ε| ≤ 0.05 T_f (± √n)")
    axs[0].plot(b, [r["tls"] for r in rows], "v-", label="tls")
    axs[1].plot(b, [r["mean"] for r in rows], "o-", label="⟨ε⟩")
    axs[1].plot(b, [r["mean_abs"] for r in rows], "s-", label="⟨|ε|⟩")
    for ax in axs:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("attempts per domain (budget)")
        ax.legend(fontsize=8)
    axs[0].set_ylabel("count")
    axs[1].set_ylabel("asymmetry (ε)")
    fig.suptitle(f"{rows[0]['n_beads']} beads, T_f = {rows[0]['t_f']}")
    fig.tight_layout()
    fig.savefig(os.path.join(work, "convergence.png"), dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
