#!/usr/bin/env bash
# The domain search's convergence in its budget (issue 16's check): the same glass searched at doubling
# budgets (search.max_attempts), every domain, each run from the unsearched glass; then
# bench/search_convergence.py tabulates, per budget, the rows adjacent to O, the pairs with
# |ε| ≤ 0.05 T_f, ⟨ε⟩ and ⟨|ε|⟩, the classes, and the change from the previous budget, and draws the curve.
#
#   bench/search_convergence.sh GLASS.h5 INPUT.toml WORK [BUDGETS]
#
# GLASS.h5: a packed (and charged) glass without /search; INPUT.toml: its input (T_f is read from
# [pack] t_final); BUDGETS: default "10 20 40". Each budget runs `tlsmap search` on its own copy with
# search.max_domains = 0 (unless $SET gives it), search.max_attempts = b, search.target_missing = 0 (the
# budget alone stops a domain, besides stop_after_stale) and any extra key=value in $SET. NP ranks (default 1), NICE (5).
# Attempts are keyed by (seed, domain, attempt), so budget b's attempts are the first b of budget 2b's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
MPIEXEC=${MPIEXEC:-mpiexec}
NP=${NP:-1}
NICE=${NICE:-5}
[[ $# -ge 3 ]] || { sed -n '2,14p' "$0"; exit 2; }
glass=$1 input=$2 work=$3
budgets=${4:-"10 20 40"}
[[ -f $glass ]] || { echo "search_convergence: no glass file $glass" >&2; exit 1; }
[[ -f $input ]] || { echo "search_convergence: no input file $input" >&2; exit 1; }
mkdir -p "$work"
read -ra extra <<< "${SET:-}"
for b in $budgets; do
  out=$work/budget-$b
  mkdir -p "$out"
  if [[ -f $out/done ]]; then echo "budget $b: done before, kept"; continue; fi
  cp "$glass" "$out/glass.h5"
  keys=('run.output="glass.h5"' search.max_attempts="$b" search.target_missing=0)
  [[ " ${extra[*]} " == *" search.max_domains="* ]] || keys+=(search.max_domains=0)   # SET may choose the domains
  /usr/bin/python3 "$here/../jobs/lib/tlsmap_jobs.py" set "$input" "$out/input.toml" "${keys[@]}" "${extra[@]}"
  echo "budget $b: $MPIEXEC -n $NP tlsmap search ($out)"
  ( cd "$out" && /usr/bin/time -f "%e %U %S" -o time.txt nice -n "$NICE" \
      "$MPIEXEC" -n "$NP" "$TLSMAP" search input.toml > search.log 2>&1 ) ||
    { tail -n 20 "$out/search.log" >&2; exit 1; }
  touch "$out/done"
done
/usr/bin/python3 "$here/search_convergence.py" "$work" $budgets
