#!/usr/bin/env bash
# jobs/lib/tlsmap_jobs.py edits input templates through tomlkit: `set` and `task` change only the
# keys asked for. On a template with comments everywhere (file header, table headers, after values,
# own lines inside tables, a '#' inside a string), blank lines, a nested table and an inline table:
#  * every key not assigned keeps its value (tomllib reads both files; the dicts differ only in
#    the assigned keys), every comment of the template is still in the output, and every template
#    line not holding an assigned key comes through unchanged and in order (difflib: the only
#    template lines removed are the assigned keys' lines);
#  * a replaced key keeps its trailing comment; a new key goes at the end of its table (before
#    the blank line ending it), a new table at the end of the file;
#  * values that are not TOML literals become strings escaped by tomlkit (quote, backslash, tab,
#    newline: no key can be pasted in through a value); a value parses as the TOML type written;
#  * `task` writes run.seed, run.output and the swept key into the template's layout;
#  * a key without a table, or under a key that is not a table, fails with one message.
# Needs only python3 with tomlkit (python3-tomlkit); TLSMAP and MPIEXEC are not used.
set -u
TLSMAP=$1 MPIEXEC=$2 SRC=$3
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT && cd "$work"
JOBS=$SRC/jobs/lib/tlsmap_jobs.py
cat > template.toml <<'T'
# template header comment
[run]   # run table comment
output = "unused.h5"   # where the sample goes
seed = 1
title = "a # inside a string"   # a real comment after a string with '#'
log_every = 100000

[system]
# a comment on its own line inside [system]
n_beads = 300
proc_grid = [0, 0, 0]   # automatic

[pack]
equil_steps = 100
quench_steps = 100   # short quench
fire = { dt = 0.005, f_tol = 1e-10 }

[search.kernel]   # a nested table
max_attempts = 2
T
fail=0
/usr/bin/python3 "$JOBS" set template.toml out.toml run.seed=7 'run.output="sample.h5"' pack.quench_steps=6000 \
  system.n_beads=1e3 search.kernel.new_key=true "run.title=he said \"hi\"	and \\ left
y = 2" extra.zeta=0.05 system.proc_grid='[1, 1, 2]' || { echo "FAIL tlsmap_jobs.py set"; exit 1; }
/usr/bin/python3 "$JOBS" task --seeds "3 4" --sweep "pack.quench_steps=600,6000" --template template.toml \
  --outdir sweep --index 3 system.n_beads=500 > task.txt || { echo "FAIL tlsmap_jobs.py task"; exit 1; }
set +e
/usr/bin/python3 "$JOBS" set template.toml bad.toml seed=3 > /dev/null 2> err1.txt; rc1=$?
/usr/bin/python3 "$JOBS" set template.toml bad.toml run.seed.x=3 > /dev/null 2> err2.txt; rc2=$?
set -e
/usr/bin/python3 - "$rc1" "$rc2" <<'PY' || fail=1
import copy, difflib, sys, tomllib
rc1, rc2 = int(sys.argv[1]), int(sys.argv[2])
t_text, o_text = open("template.toml").read(), open("out.toml").read()
t, o = tomllib.loads(t_text), tomllib.loads(o_text)
# The assigned keys, with the values TOML gives them.
want = {("run", "seed"): 7, ("run", "output"): "sample.h5", ("pack", "quench_steps"): 6000,
        ("system", "n_beads"): 1000.0, ("search", "kernel", "new_key"): True,
        ("run", "title"): 'he said "hi"\tand \\ left\ny = 2', ("extra", "zeta"): 0.05,
        ("system", "proc_grid"): [1, 1, 2]}
def get(d, path):
    for p in path: d = d[p]
    return d
for path, v in want.items():
    got = get(o, path)
    assert got == v and type(got) is type(v), (path, got, v)
assert "y" not in o["run"], "a value pasted a key into [run]"
# Every other key keeps its value: remove the assigned ones from both and compare.
def without(d, paths):
    d = copy.deepcopy(d)
    for p in paths:
        node = d
        for k in p[:-1]: node = node.get(k, {})
        node.pop(p[-1], None)
    return d
oo, tt = without(o, want), without(t, want)
assert oo.pop("extra") == {} and oo == tt, (oo, tt)
# Every comment survives, the replaced keys' trailing comments included.
comments = ["# template header comment", "# run table comment", "# where the sample goes",
            "# a real comment after a string with '#'", "# a comment on its own line inside [system]",
            "# automatic", "# short quench", "# a nested table"]
# the list is complete: every '#' but the one in a string and the one quoted in a comment
assert sum(t_text.count(c) for c in comments) == t_text.count("#") - 2
for c in comments:
    assert o_text.count(c) == 1, f"comment lost: {c!r}"
assert 'output = "sample.h5"   # where the sample goes' in o_text, o_text
assert "quench_steps = 6000   # short quench" in o_text, o_text
assert "proc_grid = [1, 1, 2]   # automatic" in o_text, o_text
# Untouched template lines come through in order; removed lines are the assigned keys' only.
assigned_keys = {"seed", "output", "quench_steps", "n_beads", "title", "proc_grid"}
removed = [l[1:] for l in difflib.ndiff(t_text.splitlines(), o_text.splitlines()) if l.startswith("- ")]
assert all(l.split("=")[0].strip() in assigned_keys for l in removed), removed
kept = [l for l in t_text.splitlines() if l.split("=")[0].strip() not in assigned_keys]
it = iter(o_text.splitlines())
assert all(any(l == m for m in it) for l in kept), "template lines lost or reordered"
# Placement: the new key ends [search.kernel]; the new table is last; blank lines between tables stay.
assert o_text.rstrip().endswith('[extra]\nzeta = 0.05'), o_text
assert "max_attempts = 2\nnew_key = true\n" in o_text, o_text
assert "log_every = 100000\n\n[system]" in o_text, o_text
# `task`: index 3 = seed 4 (seeds fastest), quench_steps 6000.
d = open("task.txt").read().strip()
assert d == "sweep/quench_steps-6000/seed-4", d
s_text = open(d + "/input.toml").read()
s = tomllib.loads(s_text)
assert s["run"]["seed"] == 4 and s["run"]["output"] == "sample.h5" and s["pack"]["quench_steps"] == 6000
assert s["system"]["n_beads"] == 500 and s["search"] == t["search"] and s["pack"]["fire"] == t["pack"]["fire"]
assert "# a comment on its own line inside [system]" in s_text and "quench_steps = 6000   # short quench" in s_text
# Errors: one message, non-zero exit.
e1, e2 = open("err1.txt").read(), open("err2.txt").read()
assert rc1 != 0 and "key 'seed' must be 'table.key'" in e1, (rc1, e1)
assert rc2 != 0 and "'seed' is not a table" in e2, (rc2, e2)
print("ok   tlsmap_jobs.py: tomlkit edits keep the other keys, comments and layout; strings escaped; task; errors")
PY
[[ $fail == 0 ]] || { echo "--- out.toml:"; cat out.toml; }
exit $fail
