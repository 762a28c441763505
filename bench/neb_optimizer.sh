#!/usr/bin/env bash
# The NEB's optimisers (search.neb_optimizer = "fire" | "lbfgs", docs/minimizers.md), tolerances
# (search.neb_tol), image counts (search.neb_images) and end refinements (search.neb_end_levels; all
# three docs/search.md "Cost") on the same search: one glass, one `tlsmap search` per optimiser,
# tolerance, image count and refinement, the rows compared.
#
#   bench/neb_optimizer.sh [WORKDIR]
#
# Glass: inputs/default.toml (1000 KA beads, seed SEED (2026), 2000 + 6000 steps) packed once. Search:
# DOMAINS domains with ATTEMPTS attempts each (default 8 and 4), `search.relax = false` (the
# whole-sample relaxation does not depend on the NEB), one run per optimiser in OPTIMIZERS (default
# "fire lbfgs"), tolerance in NEB_TOLS (default 1e-4, the input default) and image count in IMAGES
# (default 16, the input default) and end refinement in LEVELS (default 3, the input default) on RANKS
# ranks (2). The event search before the NEB is the same in
# every run (same seed, same minima and saddles), so the runs differ only in their bands.
# Prints per run: the search's wall time, its "cost per pair" NEB seconds, rows, bands converged;
# then each run against the first (rows matched by domain and state energies; E_qs and splittings
# on the rows whose barrier, i.e. saddle, is the same within 1e-3 ε): the median and range of the
# relative change of E_qs (and of its size), the range for the splittings above 1e-10 ε, the largest barrier
# change, classes; with exactly two runs also the rows side by side. Environment: TLSMAP
# (build/tlsmap), MPIEXEC (mpiexec), SEED, DOMAINS, ATTEMPTS, NEB_TOLS, IMAGES, LEVELS, OPTIMIZERS, RANKS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/mpi_env.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
MPIEXEC=${MPIEXEC:-mpiexec}
DOMAINS=${DOMAINS:-8}
ATTEMPTS=${ATTEMPTS:-4}
NEB_TOLS=${NEB_TOLS:-1e-4}
IMAGES=${IMAGES:-16}
LEVELS=${LEVELS:-3}
SEED=${SEED:-2026}
OPTIMIZERS=${OPTIMIZERS:-fire lbfgs}
RANKS=${RANKS:-2}
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"

sed -E "s/^output = .*/output = \"glass.h5\"/; s/^seed = .*/seed = $SEED/" "$here/../inputs/default.toml" > pack.toml
[[ -e glass.h5 ]] || "$MPIEXEC" -n "$RANKS" "$TLSMAP" pack pack.toml > pack.log
runs=()
for o in $OPTIMIZERS; do
  for tol in $NEB_TOLS; do
    for img in $IMAGES; do
      for lev in $LEVELS; do
        r="$o-$tol-$img-$lev"
        runs+=("$r")
        cp glass.h5 "$r.h5"
        sed -E "s/^output = .*/output = \"$r.h5\"/; s/^max_domains = .*/max_domains = $DOMAINS/; s/^max_attempts = .*/max_attempts = $ATTEMPTS/" \
          pack.toml > "$r.toml"
        sed -i "s/^\[search\].*/[search]\nrelax = false\nneb_tol = $tol\nneb_images = $img\nneb_end_levels = $lev\nneb_optimizer = \"$o\"/" "$r.toml"
        start=$(date +%s.%N)
        "$MPIEXEC" -n "$RANKS" "$TLSMAP" search "$r.toml" > "$r.log"
        echo "$(echo "$(date +%s.%N) - $start" | bc)" > "$r.seconds"
      done
    done
  done
done

/usr/bin/python3 - "${runs[@]}" <<'PY'
import re, sys
import statistics
import h5py
opts = sys.argv[1:]
rows = {}
print("| run (optimiser-neb_tol-images-end_levels) | search wall (s) | NEB s per pair | rows | bands converged |")
print("|---|---|---|---|---|")
for o in opts:
    log = open(f"{o}.log").read()
    neb = re.search(r"cost per pair this run \((\d+) pairs\): NEB ([0-9.eE+-]+) s", log)
    t = h5py.File(f"{o}.h5", "r")["tls"]
    r = {(int(d), round(float(a), 6), round(float(b), 6)): (float(bar), float(q), c.decode(), int(nc), float(s))
         for d, a, b, bar, q, c, nc, s in zip(t["domain"][()], t["energy_a"][()], t["energy_b"][()], t["barrier"][()],
                                               t["e_qs"][()], t["class"][()], t["neb_converged"][()], t["splitting"][()])}
    rows[o] = r
    conv = sum(v[3] for v in r.values())
    print(f"| {o} | {float(open(f'{o}.seconds').read()):.1f} | {neb.group(2) if neb else '-'} | {len(r)} | {conv} |")
a = rows[opts[0]]
for o in opts[1:]:
    b = rows[o]
    common = sorted(set(a) & set(b))
    if not common:
        print(f"\n{o}: no row in common with {opts[0]}")
        continue
    same = [k for k in common if abs(b[k][0] - a[k][0]) <= 1e-3]  # the same saddle: compare the levels
    change = lambda i, keys: [(b[k][i] - a[k][i]) / abs(a[k][i]) for k in keys]
    eqs, split = change(1, same), change(4, [k for k in same if a[k][4] > 1e-10])
    span = lambda v: f"{min(v):+.1e} … {max(v):+.1e}" if v else "-"
    print(f"\n{o} against {opts[0]}: {len(common)} rows in both (of {len(a)} / {len(b)}), {len(same)} through the "
          f"same saddle; relative change of E_qs: median {statistics.median(eqs) if eqs else float('nan'):+.1e}, "
          f"median size {statistics.median(map(abs, eqs)) if eqs else float('nan'):.1e}, range {span(eqs)}, "
          f"within 1 %: {sum(abs(x) <= 0.01 for x in eqs)}; of the splittings above 1e-10 ε ({len(split)} rows): {span(split)}; "
          f"largest barrier change {max(abs(b[k][0] - a[k][0]) for k in common):.1e} ε; "
          f"classes equal in {sum(a[k][2] == b[k][2] for k in common)}")
if len(opts) == 2:
    b = rows[opts[1]]
    common = sorted(set(a) & set(b))
    print(f"\n| domain | E_A | barrier {opts[0]} | barrier {opts[1]} | E_qs (ε) {opts[0]} | {opts[1]} | class {opts[0]} | {opts[1]} |")
    print("|---|---|---|---|---|---|---|---|")
    for k in common:
        x, y = a[k], b[k]
        print(f"| {k[0]} | {k[1]} | {x[0]:.9f} | {y[0]:.9f} | {x[1]:.6g} | {y[1]:.6g} | {x[2]} | {y[2]} |")
PY
