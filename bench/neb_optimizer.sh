#!/usr/bin/env bash
# The NEB's two optimisers (search.neb_optimizer = "fire" | "lbfgs", docs/minimizers.md) on the same
# search: one glass, one `tlsmap search` per optimiser, the rows compared.
#
#   bench/neb_optimizer.sh [WORKDIR]
#
# Glass: inputs/default.toml (1000 KA beads, seed 2026, 2000 + 6000 steps) packed once. Search:
# DOMAINS domains with ATTEMPTS attempts each (default 8 and 4), `search.relax = false` (the
# whole-sample relaxation does not depend on the NEB), NEB_TOL (default 1e-5, the input default),
# one run per optimiser in OPTIMIZERS (default "fire lbfgs") on RANKS ranks (2). The event search
# before the NEB is the same in every run (same seed, same minima and saddles), so the runs differ
# only in their bands.
# Prints per optimiser: the search's wall time, its "cost per pair" NEB seconds, rows, bands
# converged; then per row (matched by domain and state energies) the barrier, E_qs and class of
# each run. Environment: TLSMAP (build/tlsmap), MPIEXEC (mpiexec), DOMAINS, ATTEMPTS, NEB_TOL,
# OPTIMIZERS, RANKS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/mpi_env.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
MPIEXEC=${MPIEXEC:-mpiexec}
DOMAINS=${DOMAINS:-8}
ATTEMPTS=${ATTEMPTS:-4}
NEB_TOL=${NEB_TOL:-1e-5}
OPTIMIZERS=${OPTIMIZERS:-fire lbfgs}
RANKS=${RANKS:-2}
work=${1:-$(mktemp -d)}
mkdir -p "$work" && cd "$work"

sed -E 's/^output = .*/output = "glass.h5"/' "$here/../inputs/default.toml" > pack.toml
[[ -e glass.h5 ]] || "$MPIEXEC" -n "$RANKS" "$TLSMAP" pack pack.toml > pack.log
for o in $OPTIMIZERS; do
  cp glass.h5 "$o.h5"
  sed -E "s/^output = .*/output = \"$o.h5\"/; s/^max_domains = .*/max_domains = $DOMAINS/; s/^max_attempts = .*/max_attempts = $ATTEMPTS/" \
    "$here/../inputs/default.toml" > "$o.toml"
  sed -i "s/^\[search\].*/[search]\nrelax = false\nneb_tol = $NEB_TOL\nneb_optimizer = \"$o\"/" "$o.toml"
  start=$(date +%s.%N)
  "$MPIEXEC" -n "$RANKS" "$TLSMAP" search "$o.toml" > "$o.log"
  echo "$(echo "$(date +%s.%N) - $start" | bc)" > "$o.seconds"
done

/usr/bin/python3 - $OPTIMIZERS <<'PY'
import re, sys
import h5py, numpy as np
opts = sys.argv[1:]
rows = {}
print("| optimiser | search wall (s) | NEB s per pair | rows | bands converged |")
print("|---|---|---|---|---|")
for o in opts:
    log = open(f"{o}.log").read()
    neb = re.search(r"cost per pair this run \((\d+) pairs\): NEB ([0-9.eE+-]+) s", log)
    t = h5py.File(f"{o}.h5", "r")["tls"]
    r = {(int(d), round(float(a), 6), round(float(b), 6)): (float(bar), float(q), c.decode(), int(nc))
         for d, a, b, bar, q, c, nc in zip(t["domain"][()], t["energy_a"][()], t["energy_b"][()], t["barrier"][()],
                                            t["e_qs_kelvin"][()], t["class"][()], t["neb_converged"][()])}
    rows[o] = r
    conv = sum(v[3] for v in r.values())
    print(f"| {o} | {float(open(f'{o}.seconds').read()):.1f} | {neb.group(2) if neb else '-'} | {len(r)} | {conv} |")
if len(opts) == 2:
    a, b = (rows[o] for o in opts)
    common = sorted(set(a) & set(b))
    print(f"\nrows in both runs: {len(common)} of {len(a)} / {len(b)}")
    print(f"| domain | E_A | barrier {opts[0]} | barrier {opts[1]} | E_qs (K) {opts[0]} | {opts[1]} | class {opts[0]} | {opts[1]} |")
    print("|---|---|---|---|---|---|---|---|")
    for k in common:
        x, y = a[k], b[k]
        print(f"| {k[0]} | {k[1]} | {x[0]:.9f} | {y[0]:.9f} | {x[1]:.6g} | {y[1]:.6g} | {x[2]} | {y[2]} |")
    if common:
        db = np.array([abs(a[k][0] - b[k][0]) for k in common])
        print(f"\nlargest barrier difference {db.max():.2e} ε; classes equal in {sum(a[k][2] == b[k][2] for k in common)} of {len(common)} rows")
PY
