#!/usr/bin/python3
"""Input files for tlsmap jobs: set keys in a template TOML, and map array-task indices to a sweep.

  tlsmap_jobs.py set TEMPLATE OUT key=value ...       copy TEMPLATE to OUT with keys set
  tlsmap_jobs.py count --seeds "1 2" --sweep "charge.zeta=0.05,0.1 pack.quench_steps=6000,60000"
  tlsmap_jobs.py task  --seeds ... --sweep ... --template T --outdir D --index I [key=value ...]
  tlsmap_jobs.py list  --seeds ... --sweep ...         every task: index, directory, parameters

A sweep is the product of the seeds and of each key's values; task I takes the seed fastest, then the
keys in the order given. `task` writes D/<key-value>_.../seed-<s>/input.toml with run.seed = s,
run.output = "sample.h5" (relative to that directory, where the job runs), the swept keys and any
extra key=value, and prints the directory.

Values are TOML literals (0.1, 6000, true, "text"); a value that is not a valid TOML literal is
taken as a string. Keys are "table.key". Editing is line-based, so the template's comments and
layout survive: an existing `key = ...` line in [table] is replaced, a missing key is added at the
end of its table, a missing table is appended. The result is re-parsed to check every key took.
"""

import argparse
import itertools
import os
import re
import sys
import tomllib


def toml_literal(value):
    try:
        tomllib.loads(f"x = {value}")
        return value
    except tomllib.TOMLDecodeError:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_keys(text, assignments):
    """Line-based edit of TOML text: assignments is a list of ("table.key", literal)."""
    lines = text.splitlines()
    for dotted, literal in assignments:
        table, _, key = dotted.rpartition(".")
        if not table or not key:
            raise SystemExit(f"tlsmap_jobs: key '{dotted}' must be 'table.key'")
        current, start, end, done = None, None, len(lines), False
        for k, line in enumerate(lines):
            m = re.match(r"\s*\[([^\[\]]+)\]\s*(#.*)?$", line)
            if m:
                if current == table:
                    end = k
                    break
                current = m.group(1).strip()
                if current == table:
                    start = k
                continue
            if current == table and re.match(rf"\s*{re.escape(key)}\s*=", line):
                comment = re.search(r"\s+#.*$", line.split("=", 1)[1]) if '"' not in line else None
                lines[k] = f"{key} = {literal}" + (comment.group(0) if comment else "")
                done = True
                break
        if done:
            continue
        if start is None:
            lines += ["", f"[{table}]", f"{key} = {literal}"]
        else:
            insert = end
            while insert > start + 1 and not lines[insert - 1].strip():
                insert -= 1
            lines.insert(insert, f"{key} = {literal}")
    out = "\n".join(lines) + "\n"
    parsed = tomllib.loads(out)
    for dotted, literal in assignments:
        table, _, key = dotted.rpartition(".")
        node = parsed
        for part in table.split("."):
            node = node.get(part, {})
        if node.get(key) != tomllib.loads(f"x = {literal}")["x"]:
            raise SystemExit(f"tlsmap_jobs: could not set {dotted} = {literal}")
    return out


def parse_assignments(items):
    out = []
    for it in items:
        if "=" not in it:
            raise SystemExit(f"tlsmap_jobs: '{it}' is not key=value")
        k, v = it.split("=", 1)
        out.append((k.strip(), toml_literal(v.strip())))
    return out


def parse_sweep(seeds, sweep):
    seeds = seeds.split()
    if not seeds:
        raise SystemExit("tlsmap_jobs: SEEDS is empty")
    keys = []
    for item in sweep.split():
        if "=" not in item:
            raise SystemExit(f"tlsmap_jobs: sweep item '{item}' is not key=v1,v2,...")
        k, vals = item.split("=", 1)
        keys.append((k, [v for v in vals.split(",") if v]))
    return seeds, keys


def tasks(seeds, keys):
    """All tasks in index order (seed fastest)."""
    out = []
    for combo in itertools.product(*[v for _, v in keys]) if keys else [()]:
        for s in seeds:
            out.append((s, list(zip([k for k, _ in keys], combo))))
    return out


def task_dir(seed, params):
    name = "_".join(f"{k.rpartition('.')[2]}-{v}" for k, v in params) or "base"
    return os.path.join(re.sub(r"[^A-Za-z0-9_.,=+-]", "_", name), f"seed-{seed}")


def main(argv):
    p = argparse.ArgumentParser(prog="tlsmap_jobs.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("set")
    s.add_argument("template")
    s.add_argument("out")
    s.add_argument("assign", nargs="*")
    for name in ("count", "task", "list"):
        q = sub.add_parser(name)
        q.add_argument("--seeds", required=True)
        q.add_argument("--sweep", default="")
        if name == "task":
            q.add_argument("--template", required=True)
            q.add_argument("--outdir", required=True)
            q.add_argument("--index", type=int, required=True)
            q.add_argument("assign", nargs="*")
    a = p.parse_args(argv)
    if a.cmd == "set":
        with open(a.template) as f:
            text = set_keys(f.read(), parse_assignments(a.assign))
        with open(a.out + ".tmp", "w") as f:
            f.write(text)
        os.replace(a.out + ".tmp", a.out)
        return 0
    seeds, keys = parse_sweep(a.seeds, a.sweep)
    all_tasks = tasks(seeds, keys)
    if a.cmd == "count":
        print(len(all_tasks))
    elif a.cmd == "list":
        for i, (seed, params) in enumerate(all_tasks):
            print(i, task_dir(seed, params), f"run.seed={seed}", *(f"{k}={v}" for k, v in params))
    else:
        if not 0 <= a.index < len(all_tasks):
            raise SystemExit(f"tlsmap_jobs: task index {a.index} outside 0..{len(all_tasks) - 1} "
                             f"({len(seeds)} seeds x sweep '{a.sweep}')")
        seed, params = all_tasks[a.index]
        d = os.path.join(a.outdir, task_dir(seed, params))
        os.makedirs(d, exist_ok=True)
        assign = [("run.seed", seed), ("run.output", '"sample.h5"')]
        assign += [(k, toml_literal(v)) for k, v in params] + parse_assignments(a.assign)
        with open(a.template) as f:
            text = set_keys(f.read(), assign)
        path = os.path.join(d, "input.toml")
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        print(d)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
