#!/usr/bin/env python3
"""Mutation check of the test suite: plant one small physics bug at a time in a scratch copy of the
tree, rebuild, run the tests that should notice, and report caught / survived.

usage: /usr/bin/python3 tests/tools/mutants.py [--src TREE] [--work DIR] [--jobs N] [--only a,b,...]
                                                [--markdown OUT.md]

TREE (default: the tree holding this script) is copied (without .git and build*/) to DIR/tree
(default DIR: /tmp/tlsmap-mutants; it must lie outside TREE) and built there in DIR/tree/build-mut
(Release, -j N, default 2), then:
  1. baseline: every test of every mutant's subset must pass on the unmutated copy (else stop);
  2. per mutant: replace one exact snippet of one source file (it must occur exactly `count` times),
     rebuild tlsmap and the subset's test programs, run the subset through CTest (MPI tests at one
     rank: the bugs are not rank-count dependent), restore the file. A mutant is "caught" if at least
     one test fails, "survived" if all pass, "build error" if it does not compile.
Never touches TREE. Takes ~30–40 min on 2 cores (the baseline build is most of it).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

# id, description, file, old, new, count, tests (CTest names, exact)
MUTANTS = [
    ("a", "Coulomb self term without 1/ε", "src/electrostatics/coulomb.cpp",
     "r.self = -a / std::sqrt(pi) * s[1] * inv_eps;", "r.self = -a / std::sqrt(pi) * s[1];", 1,
     ["test_coulomb_np1", "test_trust_physics_np1", "cli_energy_epsilon", "cli_energy_lammps"]),
    ("b", "μ_eq13 prefactor ε_ext/4π instead of ε_in/4π (dielectric domain)", "src/couplings/dipole.cpp",
     "s.eps_in / (4 * pi) *", "s.eps_ext / (4 * pi) *", 2,
     ["test_dipole_np1", "test_trust_physics_np1", "cli_dipole_recompute", "cli_dipole_stage"]),
    ("c", "J_mech sign flipped (−f·u → +f·u)", "src/couplings/interact.cpp",
     "s -= f.f[k][0] * x[0] + f.f[k][1] * x[1] + f.f[k][2] * x[2];",
     "s += f.f[k][0] * x[0] + f.f[k][1] * x[1] + f.f[k][2] * x[2];", 1,
     ["test_interact_np1", "cli_dipole_stage", "cli_interact_check"]),
    ("d", "dipole stage writes √g instead of g", "src/stages/dipole_stage.cpp",
     "g[k] = b.sum_dmu2 > 0.0 ? mu_direct[k].squaredNorm() / b.sum_dmu2 : 0.0;",
     "g[k] = b.sum_dmu2 > 0.0 ? std::sqrt(mu_direct[k].squaredNorm() / b.sum_dmu2) : 0.0;", 1,
     ["test_dipole_np1", "cli_dipole_recompute", "cli_dipole_stage"]),
    ("e", "e²/(4πε₀k_B) 10× too large (μ in D off by √10)", "src/io/units.cpp",
     "kCoulombKelvinAngstrom = 167101.0;", "kCoulombKelvinAngstrom = 1671010.0;", 1,
     ["test_units_np1", "cli_dipole_recompute", "cli_charge_stage", "cli_dipole_stage"]),
    ("f", "J_el halved", "src/couplings/interact.cpp",
     "(tr ? (*transpose)[p] : j_el[p]) = s;", "(tr ? (*transpose)[p] : j_el[p]) = 0.5 * s;", 1,
     ["test_interact_np1", "cli_dipole_stage"]),
    ("g", "Ewald reciprocal-space force sign flipped", "src/electrostatics/ewald.cpp",
     "r.force[i] += (pref * ak * q[i] * std::imag(std::conj(s) * e[i])) * k;",
     "r.force[i] -= (pref * ak * q[i] * std::imag(std::conj(s) * e[i])) * k;", 1,
     ["test_ewald_np1", "test_coulomb_np1", "test_trust_physics_np1"]),
    ("h", "bond with both beads mobile counted twice (N_d, Σ|Δμ_b|², g)", "src/couplings/dipole.cpp",
     "if (moved.count(b) && b < a) continue;", "if (false && moved.count(b) && b < a) continue;", 1,
     ["test_dipole_np1", "cli_dipole_recompute", "cli_dipole_stage"]),
    ("i", "1 e·Å = 4.8 D (the paper's rounding) instead of 4.80320", "src/io/units.cpp",
     "kDebyePerEAngstrom = 4.80320;", "kDebyePerEAngstrom = 4.8;", 1,
     ["test_units_np1", "cli_dipole_recompute", "cli_dipole_stage"]),
    ("k", "dielectric image correction with ε_in and ε_ext swapped", "src/couplings/dipole.cpp",
     "image_sphere_integral(T, mu_direct, R, s.eps_in, s.eps_ext)",
     "image_sphere_integral(T, mu_direct, R, s.eps_ext, s.eps_in)", 1,
     ["test_dipole_np1", "test_trust_physics_np1", "cli_dipole_recompute"]),
]


def run(cmd, cwd, log, timeout=3600, env=None):
    with open(log, "a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=env).returncode


def programs(tests):
    """Build targets for CTest names: test_x_np1 -> test_x; cli_* -> tlsmap."""
    t = {"tlsmap"}
    for name in tests:
        if name.startswith("test_"):
            t.add(re.sub(r"_np\d+$", "", name))
    return sorted(t)


def ctest(build, tests, log, env):
    """Run exactly these tests; return the names that failed (or timed out)."""
    regex = "^(" + "|".join(re.escape(t) for t in tests) + ")$"
    out = subprocess.run(["ctest", "-R", regex, "--timeout", "600", "--output-on-failure"], cwd=build,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env).stdout
    with open(log, "a") as f:
        f.write(out)
    ran = re.findall(r"Test +#\d+: (\S+) \.+", out)
    if sorted(set(ran)) != sorted(set(tests)):
        raise SystemExit(f"ctest ran {sorted(set(ran))}, expected {sorted(tests)} (see {log})")
    return re.findall(r"^\s*\d+ - (\S+) \((?:Failed|Timeout|SEGFAULT|Subprocess aborted|Exception|Not Run)", out,
                      re.M)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default=os.path.dirname(os.path.dirname(here)))
    ap.add_argument("--work", default="/tmp/tlsmap-mutants")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--markdown", default="")
    a = ap.parse_args()
    src, work = os.path.realpath(a.src), os.path.realpath(a.work)
    if work == src or work.startswith(src + os.sep):
        raise SystemExit(f"--work {work} lies inside the source tree {src}: refusing")
    mutants = [m for m in MUTANTS if not a.only or m[0] in a.only.split(",")]
    tree, build, log = os.path.join(work, "tree"), os.path.join(work, "tree", "build-mut"), os.path.join(work, "log.txt")
    os.makedirs(work, exist_ok=True)
    if os.path.exists(tree):
        shutil.rmtree(tree)
    shutil.copytree(src, tree, ignore=lambda d, names: [n for n in names if n == ".git" or
                                                         (d == src and n.startswith("build"))])
    open(log, "w").close()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    for m in mutants:  # every snippet must be there before anything is built
        text = open(os.path.join(tree, m[2])).read()
        if text.count(m[3]) != m[5]:
            raise SystemExit(f"mutant {m[0]}: '{m[3]}' occurs {text.count(m[3])} times in {m[2]}, expected {m[5]}")
    all_tests = sorted({t for m in mutants for t in m[6]})
    t0 = time.time()
    print(f"copy of {src} in {tree}; building (log: {log})", flush=True)
    if run(["cmake", "-S", tree, "-B", build, "-DCMAKE_BUILD_TYPE=Release"], tree, log) != 0:
        raise SystemExit("cmake failed")
    if run(["cmake", "--build", build, f"-j{a.jobs}", "--target"] + programs(all_tests), tree, log) != 0:
        raise SystemExit(f"baseline build failed (see {log})")
    failed = ctest(build, all_tests, log, env)
    if failed:
        raise SystemExit(f"baseline: {failed} fail on the unmutated tree; fix that first (see {log})")
    print(f"baseline: {len(all_tests)} tests pass ({time.time() - t0:.0f} s)", flush=True)

    rows = []
    for mid, desc, path, old, new, count, tests in mutants:
        t1 = time.time()
        full = os.path.join(tree, path)
        original = open(full).read()
        try:
            open(full, "w").write(original.replace(old, new))
            if run(["cmake", "--build", build, f"-j{a.jobs}", "--target"] + programs(tests), tree, log) != 0:
                result, caught_by = "build error", []
            else:
                caught_by = ctest(build, tests, log, env)
                result = "caught" if caught_by else "SURVIVED"
        finally:
            open(full, "w").write(original)
        rows.append((mid, desc, path, tests, result, caught_by, time.time() - t1))
        print(f"({mid}) {desc}: {result} {', '.join(caught_by)} ({time.time() - t1:.0f} s)", flush=True)
    # Leave the copy's build matching its sources.
    run(["cmake", "--build", build, f"-j{a.jobs}", "--target"] + programs(all_tests), tree, log)

    lines = ["| mutant | planted in | tests run | result | failed |", "|---|---|---|---|---|"]
    for mid, desc, path, tests, result, caught_by, _ in rows:
        cell = desc.replace("|", "\\|")
        lines.append(f"| ({mid}) {cell} | `{path}` | {', '.join(tests)} | {result} | {', '.join(caught_by) or '—'} |")
    table = "\n".join(lines)
    print(table)
    print(f"total {time.time() - t0:.0f} s")
    if a.markdown:
        open(a.markdown, "w").write(table + "\n")
    return 0 if all(r[4] == "caught" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
