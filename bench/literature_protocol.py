#!/usr/bin/python3
"""Analysis for bench/literature_protocol.sh (run with /usr/bin/python3: h5py, numpy, scipy).

  literature_protocol.py pairs  WORK   inherent structures -> distinct consecutive pairs, NEB input
  literature_protocol.py report WORK   NEB results, tlsmap catalogue, CPU times -> markdown table

Settings come from WORK/settings.env (written by the driver). Reduced LJ units throughout.
"""
import json
import os
import re
import sys

import numpy as np
from scipy.spatial import cKDTree


def settings(work):
    s = {}
    for line in open(os.path.join(work, "settings.env")):
        k, _, v = line.strip().partition("=")
        if k:
            s[k] = v
    return s


def read_dump(path):
    """LAMMPS custom dump (id type x y z ...), sorted by id: ids, types, positions, box edge."""
    lines = open(path).read().split("\n")
    lo, hi = (float(v) for v in lines[5].split()[:2])
    a = np.array([l.split()[:5] for l in lines[9:] if l.strip()], float)
    return a[:, 0].astype(int), a[:, 1].astype(int), a[:, 2:5], hi - lo


def displacement(xa, xb, box):
    d = xb - xa
    return d - box * np.round(d / box)


def is_permutation(xa, xb, types, box, tol):
    """Every bead of B within tol of a same-species bead of A: B is A with identical beads relabelled."""
    for t in np.unique(types):
        tree = cKDTree(np.mod(xa[types == t], box), boxsize=box)
        dist, _ = tree.query(np.mod(xb[types == t], box))
        if dist.max() >= tol:
            return False
    return True


def describe(d, moving):
    """n_moving, d_L (rms over moving beads), participation number, max |d_i| of a displacement field."""
    n = np.linalg.norm(d, axis=1)
    mov = n > moving
    d_l = float(np.sqrt((n[mov] ** 2).mean())) if mov.any() else 0.0
    n2 = (n ** 2).sum()
    p = float(n2 ** 2 / (n ** 4).sum()) if n2 > 0 else 0.0
    return int(mov.sum()), d_l, p, float(n.max())


def cmd_pairs(work):
    s = settings(work)
    same_d, same_e = float(s["SAME_DISP"]), float(s["SAME_DE"])
    moving = float(s["MOVING"])
    frames = []
    for line in open(os.path.join(work, "is.txt")):
        w = line.split()
        frames.append((int(w[1]), int(w[2]), float(w[3]), float(w[4])))  # k, step, E, fnorm
    frames.sort()
    states = []  # (energy, positions)
    seq = []
    types = box = None

    def state_of(e, x):
        for i, (es, xs) in enumerate(states):
            if abs(es - e) < same_e and np.linalg.norm(displacement(xs, x, box), axis=1).max() < same_d:
                return i
        states.append((e, x))
        return len(states) - 1

    for k, step, e, fn in frames:
        _, t, x, b = read_dump(os.path.join(work, "is", f"is_{k}.dump"))
        types, box = t, b
        seq.append(state_of(e, x))
    # consecutive distinct inherent structures
    transitions, pairs, perm_pairs = 0, {}, set()
    for i in range(1, len(seq)):
        a, b = seq[i - 1], seq[i]
        if a == b:
            continue
        transitions += 1
        key = (min(a, b), max(a, b))
        if key in pairs:
            pairs[key]["seen"] += 1  # the same pair again (A -> B -> A ...)
            continue
        if key in perm_pairs:
            continue
        lo, hi = sorted(key, key=lambda j: states[j][0])  # A = lower energy
        xa, xb = states[lo][1], states[hi][1]
        if is_permutation(xa, xb, types, box, same_d):
            perm_pairs.add(key)
            continue
        n_mov, d_l, p, dmax = describe(displacement(xa, xb, box), moving)
        pairs[key] = {"a": lo, "b": hi, "energy_a": states[lo][0], "energy_b": states[hi][0],
                      "asymmetry": states[hi][0] - states[lo][0], "n_moving": n_mov, "d_l": d_l,
                      "participation": p, "max_disp": dmax, "seen": 1,
                      "first_frame": i}
    # NEB input: one neb command per distinct pair, A (lower) is the initial replica
    os.makedirs(os.path.join(work, "neb"), exist_ok=True)
    plist = []
    for j, (key, p) in enumerate(sorted(pairs.items(), key=lambda kv: kv[1]["first_frame"])):
        path, _, xa, box = states_index_dump(work, frames, seq, p["a"])
        _, _, xb, _ = states_index_dump(work, frames, seq, p["b"])
        p["dump_a"] = path
        xb = xa + displacement(xa, xb, box)  # B as the nearest image of A, bead by bead: the band's straight line
        with open(os.path.join(work, "neb", f"final_{j}.txt"), "w") as o:
            o.write(f"{len(xb)}\n")
            for i, r in enumerate(xb):
                o.write(f"{i + 1} {r[0]!r} {r[1]!r} {r[2]!r}\n")
        p["neb"] = j
        plist.append(p)
    summary = {"frames": len(frames), "states": len(states), "transitions": transitions,
               "permutation_pairs": len(perm_pairs), "pairs": plist,
               "unconverged_minimisations": sum(1 for f in frames if f[3] > 1e-8)}
    json.dump(summary, open(os.path.join(work, "pairs.json"), "w"), indent=1)
    for p in plist:  # one LAMMPS launch per pair: a band that blows up costs only its own pair
        with open(os.path.join(work, "neb", f"pair_{p['neb']}.lmp"), "w") as o:
            o.write(f"read_dump {p['dump_a']} 0 x y z ix iy iz box no\n")
            o.write(f"neb 0.0 {s['NEB_FTOL']} {s['NEB_N1']} {s['NEB_N2']} {s['NEB_EVERY']} "
                    f"final {work}/neb/final_{p['neb']}.txt\n")
    print(f"[pairs] {len(frames)} inherent structures, {len(states)} distinct states, {transitions} "
          f"transitions between consecutive ones, {len(plist)} distinct pairs for NEB "
          f"(+{len(perm_pairs)} permutational copies left out)")


def states_index_dump(work, frames, seq, state):
    """The first IS dump file of a state and its positions."""
    k = frames[seq.index(state)][0]
    path = os.path.join(work, "is", f"is_{k}.dump")
    _, t, x, b = read_dump(path)
    return path, t, x, b


def parse_neb(logfile, n_pairs):
    """Blocks of the universe log: a 'Step MaxReplicaForce ...' header then rows. Two blocks per neb
    command (regular, then climbing). Returns, per pair, the final replica energies, the steps used
    and whether each stage stopped before its step limit."""
    blocks, cur = [], None
    for line in open(logfile):
        if line.startswith("Step MaxReplicaForce"):
            cur = []
            blocks.append(cur)
        elif cur is not None:
            w = line.split()
            if w and re.fullmatch(r"\d+", w[0]) and len(w) > 9:
                cur.append([float(v) for v in w])
            elif w and not w[0][0].isdigit():
                cur = None
    out = []
    for j in range(n_pairs):
        if 2 * j + 1 >= len(blocks) or not blocks[2 * j] or not blocks[2 * j + 1]:
            out.append(None)
            continue
        reg, clm = blocks[2 * j], blocks[2 * j + 1]
        # The climbing image can run away when the plain band has not converged (the climbing stage
        # starts after N1 steps regardless): forces and energies grow without bound. Then the band
        # at the end of the plain stage is the result, flagged.
        climb_ok = clm[-1][1] <= max(10.0 * clm[0][1], 1.0)
        last = clm[-1] if climb_ok else reg[-1]
        out.append({"pe": np.array(last[10::2]), "rd": np.array(last[9::2]), "climb_ok": climb_ok,
                    "steps_regular": int(reg[-1][0] - reg[0][0]), "steps_climb": int(clm[-1][0] - clm[0][0]),
                    "max_replica_force": last[1], "ebf": last[6], "ebr": last[7]})
    return out


def logged_steps(logfile):
    """Steps a NEB log shows before it stopped (first to last printed step)."""
    steps = [int(l.split()[0]) for l in open(logfile) if re.match(r"\s*\d+\s+\S+\s+\S+\s+\S+", l)
             and len(l.split()) > 9]
    return steps[-1] - steps[0] if steps else 0


def cpu(path):
    """user + sys seconds from a /usr/bin/time -f '%e %U %S' file (last line)."""
    w = open(path).read().split("\n")
    w = [l for l in w if l.strip()][-1].split()
    return float(w[0]), float(w[1]) + float(w[2])


def cmd_report(work):
    import h5py
    s = settings(work)
    thresholds = [float(v) for v in s["THRESHOLDS"].split()]
    moving = float(s["MOVING"])
    summ = json.load(open(os.path.join(work, "pairs.json")))
    pairs = summ["pairs"]
    R, n2 = int(s["NEB_REPLICAS"]), int(s["NEB_N2"])
    neb = [parse_neb(os.path.join(work, "neb", f"log.neb.{p['neb']}"), 1)[0] for p in pairs]
    tol_min = 1e-6
    for p, r in zip(pairs, neb):
        if r is None:
            p["neb_ok"] = False
            p["steps"] = logged_steps(os.path.join(work, "neb", f"log.neb.{p['neb']}"))
            continue
        pe = r["pe"]
        inner = pe[1:-1]
        local_min = any(pe[i] < pe[i - 1] - tol_min and pe[i] < pe[i + 1] - tol_min for i in range(1, len(pe) - 1))
        below = bool(inner.size) and inner.min() < min(pe[0], pe[-1]) - tol_min
        # a band whose highest image is an end point resolves no barrier (monotone band)
        monotone = not inner.size or inner.max() <= max(pe[0], pe[-1]) + tol_min
        p.update(neb_ok=True, intermediate_minimum=bool(local_min or below), monotone=bool(monotone),
                 barrier=float(pe.max() - min(pe[0], pe[-1])),
                 converged=r["climb_ok"] and r["steps_climb"] < n2,  # LAMMPS stopped on its force criterion
                 climb_ok=r["climb_ok"], final_force=r["max_replica_force"],
                 steps=r["steps_regular"] + r["steps_climb"], profile=[float(v) for v in pe - pe[0]])
    dw = [p for p in pairs if p.get("neb_ok") and not p["intermediate_minimum"] and not p["monotone"]]

    # CPU: MD, minimisations, NEB (measured), and the NEB's work in serial force calls
    wall_md, cpu_md = cpu(os.path.join(work, "time.md"))
    wall_min, cpu_min = cpu(os.path.join(work, "time.min"))
    wall_neb = cpu_neb = 0.0
    crashed = 0  # launches that ended with an error: mpiexec does not reap the ranks, their CPU is lost
    for p in pairs:
        path = os.path.join(work, "neb", f"time.neb.{p['neb']}")
        w, c = cpu(path)
        wall_neb, cpu_neb = wall_neb + w, cpu_neb + c
        crashed += "non-zero status" in open(path).read()
    failed = sum(1 for p in pairs if not p.get("neb_ok"))
    calls = [int(m.group(2)) for m in re.finditer(r"Iterations, force evaluations = (\d+) (\d+)",
                                                   open(os.path.join(work, "log.min")).read())]
    t_call = cpu_min / max(1, sum(calls))
    neb_steps = sum(p.get("steps", 0) + 1 for p in pairs)
    neb_work = neb_steps * R * t_call
    lit_cpu = cpu_md + cpu_min + cpu_neb
    lit_cpu_work = cpu_md + cpu_min + neb_work

    # tlsmap side
    wall_s, cpu_s = cpu(os.path.join(work, "time.search"))
    f = h5py.File(os.path.join(work, "search.h5"), "r")
    t = f["tls"]
    box = f["particles/all/box/edges/value"][0]
    species = f["particles/all/species/value"][0]
    n_dom = int(f["search"].attrs["n_done"])
    off = t["mobile_offset"][()]
    tl = []
    for r in range(len(off) - 1):
        ids = t["mobile_id"][off[r]:off[r + 1]]
        xa, xb = t["position_a"][off[r]:off[r + 1]], t["position_b"][off[r]:off[r + 1]]
        perm = is_permutation(xa, xb, species[ids - 1], box, float(s["SAME_DISP"]))
        n_mov, d_l, p, dmax = describe(displacement(xa, xb, box), moving)
        tl.append({"domain": int(t["domain"][r]), "asymmetry": float(t["asymmetry"][r]),
                   "barrier": float(t["barrier"][r]), "intermediate_minimum": bool(t["intermediate_minima"][r]),
                   "permutation": perm, "n_moving": n_mov, "d_l": d_l, "participation": p, "max_disp": dmax})
    tl_ok = [p for p in tl if not p["permutation"] and not p["intermediate_minimum"]]

    per_h = lambda n, c: n / (c / 3600.0)
    fmt = lambda x: f"{x:.0f}" if x >= 10 else f"{x:.1f}"
    rows = []
    lit_w = lambda n: f"{fmt(per_h(n, lit_cpu_work))} ({fmt(per_h(n, lit_cpu))})"
    rows.append(("distinct pairs (double-well)", len(dw), len(tl_ok)))
    for th in thresholds:
        # |ε|: tlsmap's asymmetry is signed (B − A, A the occupied state), the literature's is ≥ 0
        rows.append((f"of which \\|asymmetry\\| < {th:g} ε", sum(abs(p["asymmetry"]) < th for p in dw),
                     sum(abs(p["asymmetry"]) < th for p in tl_ok)))
    print(f"## literature protocol (LAMMPS), T = {s['T_MD']}, minimised every {s['EVERY']} steps, "
          f"{summ['frames']} inherent structures")
    print(f"- {summ['states']} distinct states, {summ['transitions']} transitions between consecutive "
          f"inherent structures, {len(pairs)} distinct pairs (+{summ['permutation_pairs']} permutational "
          f"copies left out), {sum(1 for p in pairs if p.get('neb_ok'))} NEBs: "
          f"{sum(1 for p in pairs if p.get('intermediate_minimum'))} with an intermediate minimum, "
          f"{sum(1 for p in pairs if p.get('monotone') and not p.get('intermediate_minimum'))} monotone (no barrier "
          f"resolved), {len(dw)} double-well pairs (one interior maximum); NEBs converged (LAMMPS's "
          f"criterion, before the step limit): {sum(1 for p in pairs if p.get('converged'))}; climbing image ran away (plain band used): "
          f"{sum(1 for p in pairs if p.get('neb_ok') and not p['climb_ok'])}; LAMMPS stopped with an error: "
          f"{crashed} (their CPU is missing from the measured NEB time); no band to use: {failed}")
    print(f"- CPU: MD {cpu_md:.1f} s, {len(calls)} minimisations {cpu_min:.1f} s ({sum(calls)} force calls, "
          f"{1e3 * t_call:.2f} ms each), NEB measured {cpu_neb:.1f} s ({R} partitions, wall {wall_neb:.0f} s), "
          f"NEB as serial force calls {neb_steps} steps x {R} replicas = {neb_work:.1f} s; "
          f"total {lit_cpu_work:.1f} s (work) / {lit_cpu:.1f} s (measured)")
    print(f"## tlsmap search: {n_dom} domains, {len(tl)} pairs, {len(tl) - len(tl_ok)} left out "
          f"({sum(p['permutation'] for p in tl)} permutational copies, "
          f"{sum(p['intermediate_minimum'] for p in tl)} with intermediate minima); CPU {cpu_s:.1f} s (wall {wall_s:.1f} s)")
    print()
    print("| quantity | literature protocol (LAMMPS): count | per core-hour, NEB as work (as measured) | "
          "tlsmap search: count | per core-hour | ratio tlsmap / literature |")
    print("|---|---|---|---|---|---|")
    print(f"| CPU (s) | {lit_cpu_work:.0f} ({lit_cpu:.0f}) | | {cpu_s:.0f} | | |")
    for name, nl, nt in rows:
        rl, rt = per_h(nl, lit_cpu_work), per_h(nt, cpu_s)
        if nl:
            ratio = f"{rt / rl:.1f} ({rt / per_h(nl, lit_cpu):.1f})"
        else:
            ratio = "– (literature: none found; 95 % bound < " + fmt(per_h(3.0, lit_cpu_work)) + "/h)"
        print(f"| {name} | {nl} | {lit_w(nl)} | {nt} | {fmt(rt)} | {ratio} |")
    med = lambda v: f"{np.median(v):.3g}" if len(v) else "–"
    print()
    print("| median over pairs | literature (double-well) | tlsmap |")
    print("|---|---|---|")
    print(f"| \\|asymmetry\\| | {med([abs(p['asymmetry']) for p in dw])} | {med([abs(p['asymmetry']) for p in tl_ok])} |")
    for k in ("barrier", "n_moving", "d_l", "participation", "max_disp"):
        print(f"| {k} | {med([p[k] for p in dw])} | {med([p[k] for p in tl_ok])} |")
    print()
    print("literature pairs: asymmetry, barrier (from A), n_moving, d_L, N_p, max|d|, NEB steps, "
          "final max replica force, climb ok, intermediate minimum, monotone band")
    for p in pairs:
        if p.get("neb_ok"):
            print(f"  {p['asymmetry']:.6f} {p['barrier']:.4f} {p['n_moving']} {p['d_l']:.3f} "
                  f"{p['participation']:.1f} {p['max_disp']:.3f} {p['steps']} {p['final_force']:.3g} {p['climb_ok']} "
                  f"{p['intermediate_minimum']} {p['monotone']}")
    print("tlsmap pairs: domain, asymmetry, barrier, n_moving, d_L, N_p, max|d|, permutational copy")
    for p in tl:
        print(f"  {p['domain']} {p['asymmetry']:.6f} {p['barrier']:.4f} {p['n_moving']} {p['d_l']:.3f} "
              f"{p['participation']:.1f} {p['max_disp']:.3f} {p['permutation']}")
    json.dump({"literature": pairs, "tlsmap": tl}, open(os.path.join(work, "report.json"), "w"), indent=1,
              default=float)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("pairs", "report"):
        sys.exit(__doc__)
    {"pairs": cmd_pairs, "report": cmd_report}[sys.argv[1]](sys.argv[2])
