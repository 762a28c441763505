#!/usr/bin/python3
"""Input files for tlsmap jobs: set keys in a template TOML, and map array-task indices to a sweep.

  tlsmap_jobs.py set TEMPLATE OUT key=value ...       copy TEMPLATE to OUT with keys set
  tlsmap_jobs.py count --seeds "1 2" --sweep "charge.zeta=0.05,0.1 pack.quench_steps=6000,60000"
  tlsmap_jobs.py task  --seeds ... --sweep ... --template T --outdir D --index I [key=value ...]
  tlsmap_jobs.py list  --seeds ... --sweep ...         every task: index, directory, parameters

A sweep is the product of the seeds and of each key's values; task I takes the seed fastest, then the
keys in the order given. Keys that must change together are linked with "/": the item
"pack.t_final/pack.quench_steps=0.12/20000,0.092/50000" sweeps two (T_f, steps) pairs, not four
combinations (each value names one entry per key, in the same order). `task` writes D/<key-value>_.../seed-<s>/input.toml with run.seed = s,
run.output = "sample.h5" (relative to that directory, where the job runs), the swept keys and any
extra key=value, and prints the directory.

Values are TOML literals (0.1, 6000, true, "text"); a value that is not a valid TOML literal is
taken as a string. Keys are "table.key" ("a.b.key": key of [a.b]). The template is edited with
tomlkit (python3-tomlkit), which keeps its comments and layout: an existing key gets the new value
(its trailing comment stays), a missing key is added at the end of its table, a missing table is
appended. The result is re-read with tomllib to check that every key took.
"""

import argparse
import itertools
import os
import re
import sys
import tomllib

try:
    import tomlkit
    import tomlkit.exceptions
except ImportError:  # `count` and `list` work without it
    tomlkit = None


def need_tomlkit():
    if tomlkit is None:
        raise SystemExit("tlsmap_jobs: needs the Python module tomlkit (Debian: python3-tomlkit; "
                         "scripts/setup.sh installs it)")


def toml_literal(value):
    try:
        if list(tomllib.loads(f"x = {value}")) == ["x"]:  # one value, nothing pasted after it
            return value
    except tomllib.TOMLDecodeError:
        pass
    need_tomlkit()
    return tomlkit.string(value).as_string()  # a TOML string, escaped by tomlkit


def set_keys(text, assignments):
    """Set keys in TOML text, keeping its comments and layout (tomlkit): assignments is a list of
    ("table.key", literal), literal a TOML value as text."""
    need_tomlkit()
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as e:
        raise SystemExit(f"tlsmap_jobs: the template is not valid TOML: {e}")
    for dotted, literal in assignments:
        table, _, key = dotted.rpartition(".")
        if not table or not key:
            raise SystemExit(f"tlsmap_jobs: key '{dotted}' must be 'table.key'")
        # The value as tomlkit parses it: its text (6000, 1e-3, "x") is kept as given. The newline
        # ends its line when it is added at the end of a table.
        value = tomlkit.parse(f"x = {literal}\n")["x"]
        node = doc
        for depth, part in enumerate(table.split(".")):
            if part not in node:
                node[part] = tomlkit.table(is_super_table=depth < table.count("."))
            node = node[part]
            if not isinstance(node, dict):
                raise SystemExit(f"tlsmap_jobs: cannot set {dotted}: '{part}' is not a table in the template")
        node[key] = value
    out = tomlkit.dumps(doc)
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
    keys = []  # (names, values): each value a tuple with one entry per name (linked keys: several)
    for item in sweep.split():
        if "=" not in item:
            raise SystemExit(f"tlsmap_jobs: sweep item '{item}' is not key=v1,v2,... (or k1/k2=a1/b1,a2/b2,...)")
        k, vals = item.split("=", 1)
        names = k.split("/")
        if not all(names):
            raise SystemExit(f"tlsmap_jobs: sweep item '{item}': empty key name")
        values = [tuple(v.split("/")) for v in vals.split(",") if v]
        if not values:
            raise SystemExit(f"tlsmap_jobs: sweep item '{item}' has no values")
        for v in values:
            if len(v) != len(names):
                raise SystemExit(f"tlsmap_jobs: sweep item '{item}': value '{'/'.join(v)}' has {len(v)} "
                                 f"part(s) for {len(names)} linked key(s)")
        keys.append((names, values))
    return seeds, keys


def tasks(seeds, keys):
    """All tasks in index order (seed fastest); a task's params are (key, value) pairs."""
    out = []
    for combo in itertools.product(*[v for _, v in keys]) if keys else [()]:
        params = [(name, value) for (names, _), values in zip(keys, combo) for name, value in zip(names, values)]
        for s in seeds:
            out.append((s, params))
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
