#!/usr/bin/env python3
"""Fuzz corpus for tlsmap's promise on bad input: one clear error naming what and where, exit
status 1, nothing written, no `<output>.tmp` left, a pre-existing output byte for byte as it was.

usage: /usr/bin/python3 tests/tools/fuzz_corpus.py TLSMAP WORKDIR

Makes a valid tiny sample once (250 Kob–Andersen beads: pack, charge, a one-domain search, dipole;
a few seconds on one core, WORKDIR/base), then writes one directory per malformed case under
WORKDIR/cases/NNN-name/ holding everything the case needs (its input file, a copy of the HDF5 file
it works on, a broken LAMMPS data file, a FIFO, ...) and `case.json`:

    {"name": ..., "category": ..., "np": 1|2, "args": [stage, "in.toml"], "needles": ["in.toml", "md.dt"], "known": ""}

tests/tools/fuzz_run.py (CTest cli_fuzz_inputs, through tests/cli/fuzz_inputs.sh) runs each case (in its directory, with a timeout) and checks the outcome:
exit status exactly 1; exactly one line starting with "tlsmap: error" on stderr, containing every
needle (the file, and the key or dataset, it must name); the directory afterwards exactly as before
(no file added, none removed, none changed: no output, no `.tmp`, inputs untouched).

Why a corpus and not random bytes: each case is one mistake a user or a broken file system makes
(a key deleted, of the wrong type, NaN, inf, negative, huge, given twice; a truncated, binary or
empty file; a path that does not exist, is a directory or a FIFO or cannot be written; arrays nested
10^5 deep; an HDF5 file truncated, with flipped bytes, a dataset deleted or of the wrong shape or
type, NaN positions, coincident beads, a box smaller than the cutoff), so a failure names the
mistake and the fix can be checked against it. Case names and numbering are deterministic.

Cases whose fix lies in a file outside the validation work (e.g. the dipole stage reading /tls) are
listed in KNOWN with the reason: the runner reports them as XFAIL (not a test failure) until the
fix lands, then as XPASS, the sign to delete the entry. Values of keys whose range allows them and
that a run can legitimately use (a huge seed, log_every, max_iter, ...) are not malformed and are
not in the corpus: see HUGE_IS_VALID.
"""
import json
import os
import random
import shutil
import stat
import subprocess
import sys

import h5py
import numpy as np

# ---- the valid tiny sample ---------------------------------------------------------------------

# Tables in file order; values as TOML text. Every stage of the pipeline runs on it in about a second.
BASE = [
    ("run", [("output", '"out.h5"'), ("seed", "5"), ("log_every", "100000")]),
    ("system", [("n_beads", "250")]),
    ("pack", [("equil_steps", "200"), ("quench_steps", "200")]),
    ("charge", [("zeta", "0.1")]),
    ("search", [("xi", "3.5"), ("spacing", "3.7"), ("max_domains", "1"), ("max_attempts", "1"),
                ("stop_after_stale", "1"), ("neb_images", "5"), ("relax", "false")]),
    ("dipole", [("convergence_tls", "0"), ("spacing", "0.3")]),
    ("interact", [("check_pairs", "0")]),
]

# The stage that reads a table's keys, and the file it works on (made by the stages before it).
STAGE_OF_TABLE = {"run": "pack", "system": "pack", "md": "pack", "pack": "pack", "minimize": "pack",
                  "charge": "charge", "coulomb": "charge", "units": "charge", "search": "search",
                  "tls": "search", "pairs": "pack", "dipole": "dipole", "interact": "interact"}
INPUT_OF_STAGE = {"pack": None, "charge": "packed.h5", "search": "charged.h5", "dipole": "searched.h5",
                  "interact": "dipoled.h5"}

# Keys whose range admits a huge value and for which a huge value is a legitimate request (a seed,
# a budget a run stops well before, "all pairs"): not malformed, so not in the corpus.
HUGE_IS_VALID = {
    "run.seed", "run.log_every", "minimize.max_iter", "search.max_domains", "search.checkpoint_every",
    "search.neb_max_iter",  # a band stops at search.neb_tol
    "search.stop_after_stale", "search.dedup_distance", "search.dedup_energy", "tls.max_splitting",
    "tls.max_splitting_epsilon", "interact.cutoff", "interact.check_pairs", "dipole.convergence_tls",
    "search.max_attempts",  # stop_after_stale = 1 ends the domain after one attempt
    "md.temperature", "md.friction",  # pack with equil/quench steps only uses t_parent and t_final
    "pack.equil_steps", "pack.quench_steps",  # a huge budget runs (for ever): not an input error
    "charge.max_bond_cutoff",  # capped at half the box edge by design
    "pairs.margin", "pairs.max_mobile", "pairs.core_threshold",  # read by `tlsmap pairs` only, which needs a list of pairs
    "coulomb.cutoff", "coulomb.epsilon",  # read by `tlsmap energy` (flags), not by the stages
    "search.spacing", "search.shell",  # one domain per edge; every other bead frozen
    "search.follow_modes",  # more mode-following attempts than the budget: the budget wins
    "pairs.list",  # read by `tlsmap pairs` only
    "search.md_temperature", "search.quench_every", "search.md_steps", "search.replicas",  # md-pairs only
    "dipole.convergence_spacing",  # the corpus's input asks for no convergence table
    "interact.coulomb_max_beads",  # a huge limit means "never skip the Coulomb share"
    "pack.coulomb_share_max_beads",  # the same for the share pack measures with the charges acting
    "units.mass_amu",  # finite, and not used by the charge stage
    "search.relax_radius",  # a region larger than the box: every bead free, as relax_radius = 0
    "pack.swap_every",  # swaps less often than the run is long: none (and pack.swap is off by default)
    "search.target_window",  # every minimum counts toward the convergence measure (as a wide window should)
    "run.heartbeat",  # a heartbeat interval longer than the run: no heartbeat lines, as 0
    "minimize.bond_precondition",  # a huge α scales no bond (t → 1): the preconditioner off, as 0
}

# Keys whose range admits a tiny positive value that makes no sample: 250 beads at density 1e-10
# fill a box of 1.4e4 σ (most tiny values, a time step or a friction, are legitimate and not here).
TINY_IS_MALFORMED = {"system.density"}

# Cases expected to fail until a file outside the validation work is fixed: name -> reason.
# (Found by this corpus; docs/verification.md, "Bad input: the fuzz corpus", lists them too.)
KNOWN = {}


def toml_text(tables):
    lines = []
    for t, kv in tables:
        lines.append(f"[{t}]")
        lines += [f"{k} = {v}" for k, v in kv]
    return "\n".join(lines) + "\n"


def tables_with(key, text_value, mode="set"):
    """BASE with one key set (mode set), written twice (dup) or written with no value (novalue).
    Returns (tables, the line of the key in the file)."""
    table, name = key.split(".", 1)
    tables = [(t, list(kv)) for t, kv in BASE]
    if table not in [t for t, _ in tables]:
        tables.append((table, []))
    for t, kv in tables:
        if t != table:
            continue
        kv[:] = [(k, v) for k, v in kv if k != name]
        if mode == "dup":
            kv += [(name, text_value), (name, text_value)]
        elif mode == "novalue":
            kv.append((name, ""))
        else:
            kv.append((name, text_value))
    line = 0
    for t, kv in tables:
        line += 1
        for k, _ in kv:
            line += 1
            if t == table and k == name:
                return tables, line
    raise AssertionError(key)


# ---- the schema, from the program itself -------------------------------------------------------

def schema(tlsmap):
    """[(key, type, range)] from `tlsmap --help-input` (type: int, double, string, bool, double[3], int[3])."""
    out = subprocess.run([tlsmap, "--help-input"], check=True, capture_output=True, text=True).stdout
    keys = []
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 2 and "." in words[0] and words[1] in ("int", "double", "string", "bool", "double[3]", "int[3]"):
            rng = ""
            if "[" in line[40:] or "(" in line[40:]:
                rest = line[line.index(words[1]) + len(words[1]):]
                for tok in ("[0, inf)", "(0, inf)", "[1, inf)", "[2, inf)", "(0, 0.1]", "(0, 1]", "(0, 2]",
                            "[0, 1]", "[1, 100]", "[3, 1000]", "(0, 0.01]", "[0.5, 4]", "[0, 0.01]"):
                    if tok in rest:
                        rng = tok
                        break
            keys.append((words[0], words[1], rng))
    assert len(keys) > 50, "could not read the schema from --help-input"
    return keys


WRONG_TYPE = {"int": '"many"', "double": '"large"', "string": "42", "bool": '"yes"',
              "double[3]": "1.5", "int[3]": '"all"'}
HUGE = {"int": "4611686018427387904", "double": "1e300", "double[3]": "[1e300, 1e300, 1e300]",
        "int[3]": "[4611686018427387904, 1, 1]"}


def numeric(kind):
    return kind in ("int", "double", "double[3]", "int[3]")


def element(kind, v):
    return f"[{v}, {v}, {v}]" if kind.endswith("[3]") else v


# ---- HDF5 and LAMMPS files ---------------------------------------------------------------------

def run(tlsmap, args, cwd):
    r = subprocess.run([tlsmap] + args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        sys.exit(f"fuzz_corpus: the valid base failed: tlsmap {' '.join(args)}\n{r.stdout}{r.stderr}")


def make_base(tlsmap, base):
    """base/{packed,charged,searched,dipoled}.h5: the tiny sample after each stage."""
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, "base.toml"), "w") as f:
        f.write(toml_text(BASE))
    for stage, keep in (("pack", "packed.h5"), ("charge", "charged.h5"), ("search", "searched.h5"),
                        ("dipole", "dipoled.h5")):
        run(tlsmap, [stage, "base.toml"], base)
        shutil.copy(os.path.join(base, "out.h5"), os.path.join(base, keep))
    with h5py.File(os.path.join(base, "searched.h5"), "r") as f:
        n_tls = f["tls/mobile_offset"].shape[0] - 1
    assert n_tls >= 1, "the base search found no pair; the /tls cases need one"


def lammps_text(h5path):
    """The packed glass as a LAMMPS data file (charge style), and its lines, for the data-file cases."""
    with h5py.File(h5path, "r") as f:
        a = f["particles/all"]
        x = a["position/value"][-1]
        s = a["species/value"][-1]
        q = a["charge/value"][-1]
        ids = a["id/value"][-1]
        edges = a["box/edges/value"][-1]
        lo = a["box/offset"][()] if "offset" in a["box"] else np.zeros(3)
    head = ["fuzz base", "", f"{len(ids)} atoms", "2 atom types", ""]
    for d, c in enumerate("xyz"):
        head.append(f"{float(lo[d])!r} {float(lo[d] + edges[d])!r} {c}lo {c}hi")
    head += ["", "Masses", "", "1 1.0", "2 1.0", "", "Atoms # charge", ""]
    atoms = [f"{ids[k]} {s[k] + 1} {float(q[k])!r} {float(x[k][0])!r} {float(x[k][1])!r} {float(x[k][2])!r}"
             for k in range(len(ids))]
    return head, atoms


def write_lines(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def edit_h5(path, fn):
    with h5py.File(path, "r+") as f:
        fn(f)


def set_value(dset_path, fn):
    def edit(f):
        d = f[dset_path]
        v = d[()]
        fn(v)
        d[...] = v
    return edit


def replace(dset_path, data):
    def edit(f):
        del f[dset_path]
        f.create_dataset(dset_path, data=data)
    return edit


def rewrite(dset_path, fn):
    """The dataset replaced by fn(its values): another shape or type."""
    def edit(f):
        v = fn(f[dset_path][()])
        del f[dset_path]
        f.create_dataset(dset_path, data=v)
    return edit


def delete(dset_path):
    def edit(f):
        del f[dset_path]
    return edit


# ---- the corpus --------------------------------------------------------------------------------

class Corpus:
    def __init__(self, tlsmap, work):
        self.tlsmap, self.work, self.cases = tlsmap, work, []
        self.base = os.path.join(work, "base")

    def add(self, category, name, args, needles, files=None, copy=None, np_=1, setup=None):
        """One case. files: {name: text or bytes}; copy: {name in case dir: file in base};
        setup(dir): anything else (a FIFO, an h5py edit)."""
        number = len(self.cases)
        d = os.path.join(self.work, "cases", f"{number:03d}-{name}")
        os.makedirs(d)
        for fname, content in (files or {}).items():
            with open(os.path.join(d, fname), "wb") as f:
                f.write(content.encode() if isinstance(content, str) else content)
        for fname, src in (copy or {}).items():
            shutil.copy(os.path.join(self.base, src), os.path.join(d, fname))
        if setup:
            setup(d)
        self.cases.append((d, category, f"{number:03d}-{name}", args, needles, np_))

    def write_env(self, n_parallel=20):
        # ~20 cases at 2 ranks, spread over the corpus (every k-th), not the FIFO / device ones
        # (nothing rank-dependent to see there).
        step = max(1, len(self.cases) // n_parallel)
        for i, (d, category, name, args, needles, np_) in enumerate(self.cases):
            if i % step == step // 2 and category not in ("paths",):
                np_ = 2
            with open(os.path.join(d, "case.json"), "w") as f:
                json.dump({"name": name, "category": category, "np": np_, "args": args, "needles": needles,
                           "known": KNOWN.get(name.split("-", 1)[1], "")}, f)

    # -- the input file: every key ------------------------------------------------------------------
    def keys(self):
        for key, kind, rng in schema(self.tlsmap):
            table = key.split(".")[0]
            stage = STAGE_OF_TABLE[table]
            src = INPUT_OF_STAGE[stage]
            copy = {"out.h5": src} if src else None
            args = [stage, "in.toml"]
            slug = key.replace(".", "_")

            def case(category, what, value, mode="set", needles=None):
                tables, line = tables_with(key, value, mode)
                self.add(category, f"{slug}-{what}", args, needles or ["in.toml", f"in.toml:{line}", key],
                         files={"in.toml": toml_text(tables)}, copy=copy)

            case("key: no value", "novalue", "", "novalue", needles=["in.toml"])
            case("key: wrong type", "type", WRONG_TYPE[kind])
            case("key: duplicated", "dup", element(kind, "1") if numeric(kind) else '"x"', "dup",
                 needles=["in.toml"])
            if numeric(kind) and kind.startswith("double"):
                case("key: nan", "nan", element(kind, "nan"))
                case("key: inf", "inf", element(kind, "inf"))
            if numeric(kind):
                case("key: negative", "negative", element(kind, "-1"))
                if key not in HUGE_IS_VALID:
                    case("key: huge", "huge", HUGE[kind], needles=["in.toml", key])
                if key in TINY_IS_MALFORMED:
                    case("key: tiny", "tiny", element(kind, "1e-10"), needles=["in.toml", key])
            elif kind == "string" and key not in HUGE_IS_VALID:  # a path (named) or a choice (the key named)
                case("key: huge", "huge", '"' + "x" * 5000 + '"', needles=["in.toml" if key == "run.output" else
                                                                              "xxxxxxxxxx" if key == "pack.from" else key])

    # -- the input file as a whole ------------------------------------------------------------------
    def input_files(self):
        text = toml_text(BASE)
        copy = None
        # Truncated mid-token (a cut at a line end would leave a valid, smaller input).
        for label, cut in (("header", text.index("[system]") + 4), ("string", text.index('out.h5"') + 3),
                           ("value", text.index("n_beads = ") + 10), ("array", None)):
            body = text[:cut] if cut else text + "[system]\nbox_aspect = [1, 1,\n"
            self.add("input: truncated", f"truncated-{label}", ["pack", "in.toml"], ["in.toml"],
                     files={"in.toml": body}, copy=copy)
        rng = random.Random(7)
        self.add("input: binary", "binary-nul", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": bytes(rng.randrange(256) for _ in range(4000))})
        self.add("input: binary", "binary-high-bytes", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": bytes(rng.randrange(128, 256) for _ in range(4000))})
        self.add("input: binary", "hdf5-as-input", ["pack", "in.h5"], ["in.h5"], copy={"in.h5": "packed.h5"})
        self.add("input: binary", "invalid-utf8-in-string", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": text.replace('"out.h5"', '"out\xff.h5"').encode("latin-1")})
        self.add("input: binary", "control-characters", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": text.replace("[system]", "[sys\x01tem]")})
        for stage in ("charge", "search", "dipole", "interact"):
            # An empty input is valid (all defaults): the later stages then miss their file.
            self.add("input: empty", f"empty-{stage}", [stage, "in.toml"], ["tlsmap.h5"], files={"in.toml": ""})
        self.add("input: empty", "comments-only-charge", ["charge", "in.toml"], ["tlsmap.h5"],
                 files={"in.toml": "# nothing here\n\n   # still nothing\n"})
        # Deep nesting: toml11 recurses; the pre-scan must refuse it before.
        for depth in (33, 1000, 100000):
            body = text + "[system]\nbox_aspect = " + "[" * depth + "1" + "]" * depth + "\n"
            self.add("input: nesting", f"nested-array-{depth}", ["pack", "in.toml"], ["in.toml"],
                     files={"in.toml": body})
        inline = "{a = " * 100000 + "1" + "}" * 100000
        self.add("input: nesting", "nested-inline-table-100000", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": text + "[system]\nmodel = " + inline + "\n"})
        self.add("input: nesting", "nested-unclosed-100000", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": text + "[system]\nbox_aspect = " + "[" * 100000 + "\n"})
        self.add("input: nesting", "nested-array-10", ["pack", "in.toml"], ["in.toml", "system.box_aspect"],
                 files={"in.toml": text.replace("[system]\n", "[system]\nbox_aspect = " + "[" * 10 + "1" + "]" * 10 + "\n")})
        # Table structure broken.
        for t, _ in BASE:
            body = text.replace(f"[{t}]\n", "", 1)
            if t == "run":
                body = text.replace("[run]\n", "", 1)
            self.add("input: tables", f"header-deleted-{t}", ["pack", "in.toml"], ["in.toml"],
                     files={"in.toml": body})
        self.add("input: tables", "table-twice", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": text + "[system]\nskin = 0.3\n"})
        self.add("input: tables", "unknown-table", ["pack", "in.toml"], ["in.toml", "systm"],
                 files={"in.toml": text + "[systm]\nskin = 0.3\n"})
        self.add("input: tables", "key-outside-table", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": "n_beads = 250\n" + text})
        self.add("input: tables", "table-as-value", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": 'system = 5\n' + text.replace("[system]\nn_beads = 250\n", "")})
        self.add("input: tables", "unterminated-string", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": text.replace('"out.h5"', '"out.h5')})
        self.add("input: tables", "unterminated-multiline", ["pack", "in.toml"], ["in.toml"],
                 files={"in.toml": text + '[pack]\nfrom = """abc\n'})

    # -- paths ------------------------------------------------------------------------------------
    def paths(self):
        text = toml_text(BASE)
        with_output = lambda out: text.replace('output = "out.h5"', f"output = {out}")
        self.add("paths", "input-missing", ["pack", "missing.toml"], ["missing.toml"])
        self.add("paths", "input-directory", ["pack", "dir.toml"], ["dir.toml"],
                 setup=lambda d: os.mkdir(os.path.join(d, "dir.toml")))
        self.add("paths", "input-fifo", ["pack", "fifo.toml"], ["fifo.toml"],
                 setup=lambda d: os.mkfifo(os.path.join(d, "fifo.toml")))
        self.add("paths", "input-char-device", ["pack", "/dev/zero"], ["/dev/zero"])
        self.add("paths", "input-dev-null", ["pack", "/dev/null"], ["/dev/null"])
        self.add("paths", "output-is-input", ["pack", "in.toml"], ["in.toml", "run.output"],
                 files={"in.toml": with_output('"in.toml"')})
        self.add("paths", "output-is-input-via-dot", ["pack", "in.toml"], ["in.toml", "run.output"],
                 files={"in.toml": with_output('"./sub/../in.toml"')},
                 setup=lambda d: os.mkdir(os.path.join(d, "sub")))
        self.add("paths", "output-tmp-is-input", ["pack", "in.toml.tmp"], ["run.output"],
                 files={"in.toml.tmp": with_output('"in.toml"')})
        self.add("paths", "output-is-input-symlink", ["pack", "in.toml"], ["run.output"],
                 files={"in.toml": with_output('"link.h5"')},
                 setup=lambda d: os.symlink("in.toml", os.path.join(d, "link.h5")))
        self.add("paths", "output-directory", ["pack", "in.toml"], ["outdir"],
                 files={"in.toml": with_output('"outdir"')}, setup=lambda d: os.mkdir(os.path.join(d, "outdir")))
        self.add("paths", "output-in-missing-directory", ["pack", "in.toml"], ["nodir/out.h5"],
                 files={"in.toml": with_output('"nodir/out.h5"')})
        self.add("paths", "output-under-a-file", ["pack", "in.toml"], ["in.toml/out.h5"],
                 files={"in.toml": with_output('"in.toml/out.h5"')})
        self.add("paths", "output-unwritable-proc", ["pack", "in.toml"], ["/proc/out.h5"],
                 files={"in.toml": with_output('"/proc/out.h5"')})
        self.add("paths", "output-empty-name", ["pack", "in.toml"], ["run.output"],
                 files={"in.toml": with_output('""')})
        for stage in ("charge", "search", "dipole", "interact"):
            self.add("paths", f"{stage}-output-missing", [stage, "in.toml"], ["out.h5"], files={"in.toml": text})
            self.add("paths", f"{stage}-output-directory", [stage, "in.toml"], ["out.h5"], files={"in.toml": text},
                     setup=lambda d: os.mkdir(os.path.join(d, "out.h5")))
        self.add("paths", "charge-output-fifo", ["charge", "in.toml"], ["out.h5"], files={"in.toml": text},
                 setup=lambda d: os.mkfifo(os.path.join(d, "out.h5")))
        for label, setup in (("missing", None), ("directory", lambda d: os.mkdir(os.path.join(d, "g.h5"))),
                             ("fifo", lambda d: os.mkfifo(os.path.join(d, "g.h5")))):
            self.add("paths", f"pack-from-{label}", ["pack", "in.toml"], ["g.h5"],
                     files={"in.toml": text.replace("[pack]\n", '[pack]\nfrom = "g.h5"\n')}, setup=setup)
        self.add("paths", "energy-missing", ["energy", "nothing.h5"], ["nothing.h5"])
        self.add("paths", "energy-fifo", ["energy", "g.data"], ["g.data"],
                 setup=lambda d: os.mkfifo(os.path.join(d, "g.data")))

    # -- HDF5 files of the later stages -------------------------------------------------------------
    def hdf5(self):
        text = toml_text(BASE)
        n = 250
        P = "/particles/all/"

        def h5case(category, name, stage, edit, needles, names_file=True):
            src = INPUT_OF_STAGE[stage]
            self.add(category, f"{stage}-{name}", [stage, "in.toml"], (["out.h5"] if names_file else []) + needles,
                     files={"in.toml": text},
                     copy={"out.h5": src}, setup=lambda d: edit(os.path.join(d, "out.h5")))

        def h5(fn):
            return lambda path: edit_h5(path, fn)

        def truncate(frac):
            def cut(path):
                size = os.path.getsize(path)
                with open(path, "r+b") as f:
                    f.truncate(int(size * frac))
            return cut

        def flip(offset, count):
            def edit(path):
                with open(path, "r+b") as f:
                    f.seek(offset)
                    b = bytearray(f.read(count))
                    f.seek(offset)
                    f.write(bytes(x ^ 0xFF for x in b))
            return edit

        def pos_edit(fn):
            return h5(set_value(P + "position/value", fn))

        for stage in ("charge", "search", "dipole", "interact"):
            for frac in (0.0, 0.1, 0.5, 0.9):
                h5case("hdf5: truncated", f"truncated-{int(frac * 100)}pct", stage, truncate(frac), [])
            h5case("hdf5: flipped bytes", "flipped-signature", stage, flip(0, 8), [])
            h5case("hdf5: flipped bytes", "flipped-superblock", stage, flip(8, 40), [])
        for stage in ("charge", "search"):
            for ds in ("position", "species", "charge", "id", "box/edges"):
                h5case("hdf5: dataset deleted", f"deleted-{ds.replace('/', '_')}", stage, h5(delete(P + ds)), [P + ds])
        for stage, ds in (("search", "/charge"), ("dipole", "/tls/position_b"), ("dipole", "/tls/mobile_offset"),
                          ("dipole", "/tls/center"), ("dipole", "/charge/bonds"), ("interact", "/tls/mobile_id"),
                          ("interact", "/tls/position_a")):
            if stage == "search" and ds == "/charge":
                continue  # search runs without charges (zeros): not an error
            h5case("hdf5: dataset deleted", f"deleted{ds.replace('/', '_')}", stage, h5(delete(ds)), [ds])
        # Wrong shape and type.
        for stage in ("charge", "search"):
            h5case("hdf5: wrong shape", "position-2-columns", stage,
                   h5(replace(P + "position/value", np.zeros((1, n, 2)))), [P + "position"])
            h5case("hdf5: wrong shape", "species-short", stage,
                   h5(replace(P + "species/value", np.zeros((1, n - 1), dtype=np.int32))), [P + "species"])
            h5case("hdf5: wrong shape", "edges-2", stage, h5(replace(P + "box/edges/value", np.ones((1, 2)) * 6)),
                   [P + "box/edges"])
            h5case("hdf5: wrong type", "position-int", stage,
                   h5(replace(P + "position/value", np.ones((1, n, 3), dtype=np.int64))), [P + "position"])
            h5case("hdf5: wrong type", "species-float", stage,
                   h5(replace(P + "species/value", np.zeros((1, n)))), [P + "species"])
            h5case("hdf5: wrong type", "id-float", stage,
                   h5(replace(P + "id/value", np.arange(1, n + 1, dtype=float)[None, :])), [P + "id"])
            h5case("hdf5: wrong type", "charge-string", stage,
                   h5(replace(P + "charge/value", np.array([[b"q"] * n]))), [P + "charge"])
        h5case("hdf5: wrong shape", "tls-position-b-short", "dipole",
               h5(rewrite("/tls/position_b", lambda v: v[:-1])), ["/tls/position_b"])
        h5case("hdf5: wrong type", "tls-mobile-id-float", "dipole",
               h5(rewrite("/tls/mobile_id", lambda v: v.astype(float))), ["/tls/mobile_id"])
        # Values.
        bad_values = [
            ("position-nan", pos_edit(lambda v: v.__setitem__((0, 17, 1), np.nan)), P + "position", "bead id 18"),
            ("position-inf", pos_edit(lambda v: v.__setitem__((0, 3, 0), -np.inf)), P + "position", "bead id 4"),
            ("position-1e300", pos_edit(lambda v: v.__setitem__((0, 9, 2), 1e300)), P + "position", "bead id 10"),
            ("coincident-beads", pos_edit(lambda v: v.__setitem__((0, 3), v[0, 4])), P + "position", "ids 4 and 5"),
            ("positions-all-zero", pos_edit(lambda v: v.fill(0.0)), P + "position", "ids 1 and 2"),
            ("beads-0.005-apart", pos_edit(lambda v: v.__setitem__((0, 3), v[0, 4] + [0.005, 0, 0])), P + "position", "ids 4 and 5"),
            ("coincident-images", h5(lambda f: set_value(P + "position/value", lambda v: v.__setitem__(
                (0, 7), v[0, 8] + [f[P + "box/edges/value"][0, 0], 0, 0]))(f)), P + "position", "ids 8 and 9"),
            ("charge-nan", h5(set_value(P + "charge/value", lambda v: v.__setitem__((0, 5), np.nan))), P + "charge", "bead id 6"),
            ("species-negative", h5(set_value(P + "species/value", lambda v: v.__setitem__((0, 3), -1))), P + "species", "bead id 4"),
            ("species-huge", h5(set_value(P + "species/value", lambda v: v.__setitem__((0, 3), 2 ** 30))), P + "species", "bead id 4"),
            ("id-duplicate", h5(set_value(P + "id/value", lambda v: v.__setitem__((0, 3), 5))), "bead ids", "id 5"),
            ("id-zero", h5(set_value(P + "id/value", lambda v: v.__setitem__((0, 0), 0))), "bead ids", "id 0"),
            ("id-too-large", h5(set_value(P + "id/value", lambda v: v.__setitem__((0, 0), 10 ** 12))), "bead ids", "1..N"),
            ("edges-zero", h5(set_value(P + "box/edges/value", lambda v: v.__setitem__((0, 1), 0.0))), P + "box/edges", "edge y"),
            ("edges-negative", h5(set_value(P + "box/edges/value", lambda v: v.__setitem__((0, 0), -6.0))), P + "box/edges", "edge x"),
            ("edges-nan", h5(set_value(P + "box/edges/value", lambda v: v.__setitem__((0, 2), np.nan))), P + "box/edges", "edge z"),
            ("edges-inf", h5(set_value(P + "box/edges/value", lambda v: v.__setitem__((0, 2), np.inf))), P + "box/edges", "edge z"),
            ("offset-nan", h5(set_value(P + "box/offset", lambda v: v.__setitem__(0, np.nan))), P + "box/offset", "xlo"),
            ("image-huge", h5(set_value(P + "image/value", lambda v: v.__setitem__((0, 2, 0), 2 ** 31 - 1))), P + "image", "bead id 3"),
            ("velocity-nan", h5(lambda f: f.create_dataset(P + "velocity/value", data=np.full((1, n, 3), np.nan))), P + "velocity", "bead id 1"),
        ]
        for stage in ("charge", "search", "dipole", "interact"):
            for name, edit, ds, what in bad_values:
                if stage in ("dipole", "interact") and name not in ("position-nan", "coincident-beads", "charge-nan", "edges-zero"):
                    continue
                h5case("hdf5: bad values", name, stage, edit, [ds, what])
        # A box smaller than the cutoff: everything shrunk by 2 (density 9.6, edge 2.96 < 2 (r_c + skin)).
        def shrink(f):
            f[P + "position/value"][...] = f[P + "position/value"][()] / 2
            f[P + "box/edges/value"][...] = f[P + "box/edges/value"][()] / 2
        for stage in ("charge", "search", "dipole", "interact"):
            h5case("hdf5: box too small", "box-halved", stage, h5(shrink), ["box"], names_file=False)
        # /tls rows the dipole and interact stages read.
        tls_bad = [
            ("tls-position-b-nan", set_value("/tls/position_b", lambda v: v.__setitem__((0, 0), np.nan)), "/tls/position_b"),
            ("tls-position-a-inf", set_value("/tls/position_a", lambda v: v.__setitem__((0, 1), np.inf)), "/tls/position_a"),
            ("tls-center-nan", set_value("/tls/center", lambda v: v.__setitem__((0, 2), np.nan)), "/tls/center"),
            ("tls-mobile-id-zero", set_value("/tls/mobile_id", lambda v: v.__setitem__(0, 0)), "/tls/mobile_id"),
            ("tls-offset-decreasing", set_value("/tls/mobile_offset", lambda v: v.__setitem__(-1, 0)), "/tls/mobile_offset"),
            ("tls-radius-negative", set_value("/tls/radius", lambda v: v.__setitem__(0, -1.0)), "/tls/radius"),
        ]
        for stage in ("dipole", "interact"):
            for name, fn, ds in tls_bad:
                h5case("hdf5: /tls values", name, stage, h5(fn), [ds])

    # -- configurations imported by pack.from and read by `tlsmap energy` ----------------------------
    def imported(self):
        head, atoms = lammps_text(os.path.join(self.base, "packed.h5"))
        text = toml_text(BASE).replace("[pack]\n", '[pack]\nfrom = "g.data"\n')

        def atom(k, fn):
            a = list(atoms)
            w = a[k].split()
            fn(w)
            a[k] = " ".join(w)
            return head + a

        line0 = len(head) + 1  # line of atom 0
        cases = [
            ("nan-coordinate", atom(17, lambda w: w.__setitem__(4, "nan")), [f"g.data:{line0 + 17}"]),
            ("inf-coordinate", atom(17, lambda w: w.__setitem__(4, "inf")), [f"g.data:{line0 + 17}"]),
            ("huge-coordinate", atom(17, lambda w: w.__setitem__(4, "1e300")), [f"g.data:{line0 + 17}", "atom id 18"]),
            ("nan-charge", atom(5, lambda w: w.__setitem__(2, "nan")), [f"g.data:{line0 + 5}"]),
            ("coincident", atom(3, lambda w: w.__setitem__(slice(3, 6), atoms[4].split()[3:6])), ["g.data:", "ids 4 and 5"]),
            ("type-zero", atom(3, lambda w: w.__setitem__(1, "0")), [f"g.data:{line0 + 3}"]),
            ("type-too-large", atom(3, lambda w: w.__setitem__(1, "3")), [f"g.data:{line0 + 3}"]),
            ("id-duplicate", atom(3, lambda w: w.__setitem__(0, "5")), ["g.data:", "appears twice"]),
            ("id-zero", atom(0, lambda w: w.__setitem__(0, "0")), [f"g.data:{line0}"]),
            ("truncated", head + atoms[:100], ["g.data:", "file ends inside the Atoms section"]),
            ("huge-atom-count", [h if "atoms" not in h else "2000000000 atoms" for h in head] + atoms, ["g.data:3"]),
            ("many-types", [h if "atom types" not in h else "1000000000 atom types" for h in head] + atoms, ["g.data:4"]),
            ("box-inverted", [h if "xlo" not in h else "5 0 xlo xhi" for h in head] + atoms, ["g.data:6"]),
            ("box-overflow", [h if "xlo" not in h else "-1e308 1e308 xlo xhi" for h in head] + atoms, ["g.data:6"]),
            ("box-nan", [h if "ylo" not in h else "0 nan ylo yhi" for h in head] + atoms, ["g.data:7"]),
            ("tilt", head[:9] + ["0.5 0 0 xy xz yz"] + head[9:] + atoms, ["g.data:10", "triclinic"]),
            ("bonds-section", head + atoms + ["", "Bonds", "", "1 1 1 2"], ["g.data:", "Bonds"]),
            ("mass-not-one", [h if h != "1 1.0" else "1 2.5" for h in head] + atoms,
             ["g.data", "atom type 1 has mass 2.5", "unit mass"]),
            ("empty", [], ["g.data", "empty"]),
        ]
        for name, lines, needles in cases:
            self.add("pack.from: LAMMPS data", f"data-{name}", ["pack", "in.toml"], needles,
                     files={"in.toml": text, "g.data": "\n".join(lines) + ("\n" if lines else "")})
        self.add("pack.from: LAMMPS data", "data-binary", ["pack", "in.toml"], ["g.data"],
                 files={"in.toml": text, "g.data": bytes(random.Random(3).randrange(256) for _ in range(3000))})
        # H5MD given to pack.from: the same reader as the later stages, a few of its cases.
        h5text = toml_text(BASE).replace("[pack]\n", '[pack]\nfrom = "g.h5"\n')
        P = "/particles/all/"
        h5cases = [
            ("nan-position", set_value(P + "position/value", lambda v: v.__setitem__((0, 17, 1), np.nan)), [P + "position", "bead id 18"]),
            ("huge-position", set_value(P + "position/value", lambda v: v.__setitem__((0, 17, 1), 1e300)), [P + "position", "bead id 18"]),
            ("coincident", set_value(P + "position/value", lambda v: v.__setitem__((0, 3), v[0, 4])), [P + "position", "ids 4 and 5"]),
            ("nan-charge", set_value(P + "charge/value", lambda v: v.__setitem__((0, 5), np.nan)), [P + "charge"]),
            ("species-negative", set_value(P + "species/value", lambda v: v.__setitem__((0, 3), -1)), [P + "species"]),
            ("species-beyond-model", set_value(P + "species/value", lambda v: v.__setitem__((0, 3), 7)), ["species"]),
            ("edges-zero", set_value(P + "box/edges/value", lambda v: v.__setitem__((0, 0), 0.0)), [P + "box/edges"]),
            ("deleted-id", delete(P + "id"), [P + "id"]),
        ]
        for name, fn, needles in h5cases:
            self.add("pack.from: H5MD", f"h5-{name}", ["pack", "in.toml"], ["g.h5"] + needles,
                     files={"in.toml": h5text}, copy={"g.h5": "packed.h5"},
                     setup=lambda d, fn=fn: edit_h5(os.path.join(d, "g.h5"), fn))
        # `tlsmap energy FILE`: the same readers.
        for name, fn, needles in h5cases[:4]:
            self.add("energy: configuration", f"energy-h5-{name}", ["energy", "g.h5"], ["g.h5"] + needles,
                     copy={"g.h5": "packed.h5"}, setup=lambda d, fn=fn: edit_h5(os.path.join(d, "g.h5"), fn))
        for name, lines, needles in cases[:5]:
            self.add("energy: configuration", f"energy-data-{name}", ["energy", "g.data"], needles,
                     files={"g.data": "\n".join(lines) + "\n"})


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tlsmap, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if os.path.exists(os.path.join(work, "cases")):
        shutil.rmtree(os.path.join(work, "cases"))
    c = Corpus(tlsmap, work)
    make_base(tlsmap, c.base)
    c.keys()
    c.input_files()
    c.paths()
    c.hdf5()
    c.imported()
    c.write_env()
    print(f"fuzz_corpus: {len(c.cases)} cases in {os.path.join(work, 'cases')}")


if __name__ == "__main__":
    main()
