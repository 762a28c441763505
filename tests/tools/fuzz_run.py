#!/usr/bin/env python3
"""Run the fuzz corpus (tests/tools/fuzz_corpus.py) and check every case's outcome.

usage: /usr/bin/python3 tests/tools/fuzz_run.py TLSMAP MPIEXEC WORKDIR

Each case directory WORKDIR/cases/NNN-name/ holds `case.json` (name, category, np, args, needles,
known). A case passes if tlsmap, run in that directory with a 20 s timeout:
- exits with status exactly 1 (not a signal, not a timeout);
- writes exactly one stderr line starting with "tlsmap: error", containing every needle;
- leaves the directory exactly as before: the same entries of the same types, every regular file's
  md5 the same (FIFOs are never opened).
Cases whose `known` is set count as XFAIL when they fail and XPASS when they pass.

Why Python and not a shell loop: the checks of one case cost some twenty forks in bash (find, md5sum,
sort, grep, diff, timeout). Here they run in-process, so a case costs one tlsmap start (measured: the
harness alone, with tlsmap replaced by a script that prints the error and exits, took 80 s for 718
cases in bash).
"""
import concurrent.futures
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time

TIMEOUT = 20  # s per case; then SIGTERM, and SIGKILL 5 s later
PARALLEL = 4  # cases at once: they mostly wait on MPI start-up


def snapshot(case_dir):
    """Every entry below case_dir except case.json: (relative path, type, md5 of a regular file)."""
    entries = []
    for root, dirs, files in os.walk(case_dir):
        for name in dirs + files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, case_dir)
            if rel == "case.json":
                continue
            try:
                mode = os.lstat(path).st_mode
            except OSError as e:
                entries.append((rel, "?", str(e)))
                continue
            kind = ("f" if stat.S_ISREG(mode) else "d" if stat.S_ISDIR(mode) else "l" if stat.S_ISLNK(mode)
                    else "p" if stat.S_ISFIFO(mode) else "o")
            digest = ""
            if kind == "f":
                try:
                    with open(path, "rb") as f:
                        digest = hashlib.file_digest(f, "md5").hexdigest()
                except OSError as e:
                    digest = str(e)
            entries.append((rel, kind, digest))
    return sorted(entries)


def run(cmd, cwd, env, out, err):
    """Exit status of cmd, or None after a timeout (the whole process group is killed)."""
    with open(out, "wb") as fo, open(err, "wb") as fe:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                             start_new_session=True)
        try:
            return p.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            return None


def run_case(case_dir, tlsmap, mpiexec, work):
    with open(os.path.join(case_dir, "case.json")) as f:
        c = json.load(f)
    name = c["name"]
    env = dict(os.environ)
    # Isolated singletons all call their session directory "job 0": one temp base per case.
    env["OMPI_MCA_orte_tmpdir_base"] = os.path.join(work, "mpi_tmp", name)
    os.makedirs(env["OMPI_MCA_orte_tmpdir_base"], exist_ok=True)
    cmd = ([mpiexec, "-n", str(c["np"])] if c["np"] > 1 else []) + [tlsmap] + c["args"]
    err_path = os.path.join(work, "logs", name + ".err")
    before = snapshot(case_dir)
    rc = run(cmd, case_dir, env, os.path.join(work, "logs", name + ".out"), err_path)
    after = snapshot(case_dir)
    with open(err_path, "rb") as f:
        lines = [l for l in f.read().decode(errors="replace").splitlines() if l.startswith("tlsmap: error")]
    first = lines[0] if lines else ""
    why = ""
    if rc is None:
        why = f"timeout ({TIMEOUT} s)"
    elif rc != 1:
        why = f"exit status {rc}" + (f" (signal {-rc})" if rc < 0 else "")
    elif len(lines) != 1:
        why = f"{len(lines)} lines start with 'tlsmap: error'"
    else:
        for needle in c["needles"]:
            if needle not in first:
                why = f"error line does not name '{needle}'"
                break
    if before != after:  # nothing written, nothing removed, nothing changed: checked in every case
        changed = sorted(set(before) ^ set(after))[:3]
        why = (why + "; " if why else "") + "directory changed: " + " ".join(":".join(e[:2]) for e in changed)
    known = c["known"]
    verdict = "PASS"
    if why:
        verdict = "XFAIL" if known else "FAIL"
        why = f"{why} [np {c['np']}] {first[:160]}"
        if known:
            why += f" -- known: {known}"
    elif known:
        verdict, why = "XPASS", f"passes now: remove it from KNOWN ({known})"
    return c["category"], verdict, name, why


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    # Cases run in their own directories: a relative path must not change meaning there.
    tlsmap, mpiexec, work = (os.path.abspath(a) if os.sep in a else a for a in sys.argv[1:])
    start = time.monotonic()
    cases_dir = os.path.join(work, "cases")
    cases = sorted(os.path.join(cases_dir, d) for d in os.listdir(cases_dir))
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda d: run_case(d, tlsmap, mpiexec, work), cases))

    print()
    for category, verdict, name, why in results:
        if verdict != "PASS":
            print(f"{verdict:<6} {name}: {why}")
    print()
    order = list(dict.fromkeys(r[0] for r in results))
    kinds = ["PASS", "FAIL", "XFAIL", "XPASS"]
    print(f"| {'category':<28} | {'cases':>5} | {'passed':>6} | {'failed':>6} | {'xfail':>5} | {'xpass':>5} |")
    print(f"|{'-' * 30}|{'-' * 7}|{'-' * 8}|{'-' * 8}|{'-' * 7}|{'-' * 7}|")
    for group in order + ["all"]:
        rows = [r for r in results if group in ("all", r[0])]
        n = [sum(r[1] == k for r in rows) for k in kinds]
        print(f"| {group:<28} | {len(rows):>5} | {n[0]:>6} | {n[1]:>6} | {n[2]:>5} | {n[3]:>5} |")
    print(f"{len(results)} of {len(cases)} cases ran in {time.monotonic() - start:.0f} s")
    sys.exit(1 if any(r[1] == "FAIL" for r in results) else 0)


if __name__ == "__main__":
    main()
