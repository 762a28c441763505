#!/usr/bin/env bash
# The worked study of docs/study.md: several 1000-bead Kob–Andersen glasses at two charge
# fractions ζ, then the report. Reproducible: every number below and docs/study/study.toml fix
# the result (the search is keyed by run.seed and the domain, never by rank or schedule).
#
#   bash docs/study/run_study.sh [prep|interact|check|budget|report|all]      (default: all)
#   TLSMAP=/path/to/tlsmap OUT=/tmp/study bash docs/study/run_study.sh   (parameters from the environment)
#
# Charges are passive (charge.mode = "passive": they never enter the mechanics), so the glass and
# the TLS catalogue of one seed serve every ζ: pack, charge, search and dipole run once per seed at
# the first ζ; for each further ζ the file is copied after its search and `charge` (rescales the
# ±ζ charges: same bonds, same signs, same seed) and `dipole` (recomputes /tls/mu_direct, Eq. 13,
# g, ... from the new charges) are rerun. `interact` runs in every directory (J_el scales with ζ²,
# J_mech and /material do not depend on ζ). docs/study.md says why this sharing is exact.
#
# Stages are resumable: a stage whose marker .done-<stage> exists is skipped. Each stage's wall and
# CPU time (all ranks, from /usr/bin/time on mpiexec) is appended to $OUT/timings.tsv.
set -euo pipefail

# ---- parameters ----------------------------------------------------------------------------------
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}   # the tlsmap source tree
TLSMAP=${TLSMAP:-$SRC/build-study/tlsmap}     # the executable (docs/study.md: which commit)
TEMPLATE=${TEMPLATE:-$SRC/docs/study/study.toml}
OUT=${OUT:-/tmp/study}                        # scratch: one directory per (ζ, seed), the report
SEEDS=${SEEDS:-"1 2 3 4 5 6"}                 # one independent glass each
ZETAS=${ZETAS:-"0.1 0.2"}                     # the first one does pack/search; the others reuse it
NP=${NP:-2}                                   # MPI ranks per stage
BUDGET_SEEDS=${BUDGET_SEEDS:-"1 2"}          # budget check: these seeds searched again ...
BUDGET_ATTEMPTS=${BUDGET_ATTEMPTS:-30}       # ... with this many attempts per domain
NICE=${NICE:-"nice -n 5"}                     # the machine is shared
PY=${PY:-/usr/bin/python3}                    # Debian's python3 with h5py, numpy, scipy, matplotlib
# ---------------------------------------------------------------------------------------------------

source "$SRC/scripts/mpi_env.sh"
read -ra seeds <<< "$SEEDS"
read -ra zetas <<< "$ZETAS"
z0=${zetas[0]}
mkdir -p "$OUT"
[[ -f $OUT/timings.tsv ]] || printf "zeta\tseed\tstage\twall_s\tcpu_s\n" > "$OUT/timings.tsv"

log() { echo "[$(date -u +%H:%M:%S)] $*"; }
dir_of() { echo "${OUT_DIR_OF:-$OUT/zeta-$1/seed-$2}"; }

make_dir() {  # make_dir ZETA SEED: the directory and its input.toml
  local d; d=$(dir_of "$1" "$2")
  mkdir -p "$d"
  "$PY" "$SRC/jobs/lib/tlsmap_jobs.py" set "$TEMPLATE" "$d/input.toml" "run.seed=$2" "charge.zeta=$1"
}

stage() {  # stage ZETA SEED NAME: run one tlsmap stage in the sample directory, timed
  local z=$1 s=$2 name=$3 d t
  d=$(dir_of "$z" "$s")
  if [[ -f $d/.done-$name ]]; then log "zeta $z seed $s: $name already done"; return 0; fi
  log "zeta $z seed $s: $name"
  t=$(mktemp)
  if ! (cd "$d" && /usr/bin/time -f "%e %U %S" -o "$t" $NICE mpiexec -n "$NP" "$TLSMAP" "$name" input.toml \
          >> log.txt 2>&1); then
    tail -n 20 "$d/log.txt" >&2
    echo "run_study: $name failed in $d" >&2
    exit 1
  fi
  read -r wall user sys < "$t"
  rm -f "$t"
  printf "%s\t%s\t%s\t%s\t%s\n" "$z" "$s" "$name" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" >> "$OUT/timings.tsv"
  touch "$d/.done-$name"
  log "zeta $z seed $s: $name done, $wall s wall"
}

prep() {
  local s z d0 d
  for s in "${seeds[@]}"; do
    make_dir "$z0" "$s"
    for name in pack charge search dipole; do stage "$z0" "$s" "$name"; done
    d0=$(dir_of "$z0" "$s")
    for z in "${zetas[@]:1}"; do
      make_dir "$z" "$s"
      d=$(dir_of "$z" "$s")
      if [[ ! -f $d/.done-copy ]]; then   # the packed glass and its /tls catalogue, charges of ζ0
        cp "$d0/sample.h5" "$d/sample.h5"
        touch "$d/.done-copy"
      fi
      for name in charge dipole; do stage "$z" "$s" "$name"; done
    done
  done
}

interact() {
  local s z
  for s in "${seeds[@]}"; do
    for z in "${zetas[@]}"; do stage "$z" "$s" interact; done
  done
}

check() {  # J_mech cross-check: the exact pair-clamped response ("pair", one solve per pair) on the
           # first ζ's files (J_mech does not depend on ζ); /material skipped (elastic_strain = 0)
  local s d
  for s in "${seeds[@]}"; do
    d=$OUT/pair/seed-$s
    mkdir -p "$d"
    "$PY" "$SRC/jobs/lib/tlsmap_jobs.py" set "$(dir_of "$z0" "$s")/input.toml" "$d/input.toml" \
      'interact.mech_response="pair"' interact.elastic_strain=0
    [[ -f $d/.done-copy ]] || { cp "$(dir_of "$z0" "$s")/sample.h5" "$d/sample.h5"; touch "$d/.done-copy"; }
    OUT_DIR_OF=$d stage pair "$s" interact
  done
}

budget() {  # search-budget check: the same glasses searched with BUDGET_ATTEMPTS attempts per domain
  local s d
  for s in $BUDGET_SEEDS; do
    d=$OUT/budget/seed-$s
    mkdir -p "$d"
    "$PY" "$SRC/jobs/lib/tlsmap_jobs.py" set "$(dir_of "$z0" "$s")/input.toml" "$d/input.toml" \
      "search.max_attempts=$BUDGET_ATTEMPTS"
    [[ -f $d/.done-copy ]] || { cp "$(dir_of "$z0" "$s")/sample.h5" "$d/sample.h5"; touch "$d/.done-copy"; }
    OUT_DIR_OF=$d stage budget "$s" search
  done
}

report() {
  "$PY" "$SRC/postprocess/tlsmap-report" "$OUT/report" "$OUT"/zeta-*/
  "$PY" "$SRC/docs/study/study_numbers.py" "$OUT" | tee "$OUT/study_numbers.md"
}

case ${1:-all} in
  prep) prep ;;
  interact) interact ;;
  check) check ;;
  budget) budget ;;
  report) report ;;
  all) prep; interact; check; budget; report ;;
  *) echo "usage: $0 [prep|interact|check|budget|report|all]" >&2; exit 2 ;;
esac
