# Shared body of the tlsmap job scripts (Slurm, PBS and the local launcher all source this file).
# The scheduler scripts only set parameters and call one of the job_* functions below, so a fix
# here reaches every variant. Expects: TLSMAP, TLSMAP_SRC, MPIRUN, STAGES (see the scripts' tops).
#
# Stages are resumable: after a stage succeeds, a marker .done-<stage> is written next to the
# input; a rerun skips stages whose marker exists, and running a stage again removes the markers
# of the stages after it (their results depend on it). tlsmap itself writes every file through a
# temporary name and renames it only on success, so a killed job leaves the last complete state.

JOBS_PY=${JOBS_PY:-/usr/bin/python3}
[[ -x $JOBS_PY ]] || JOBS_PY=python3

jobs_log() { echo "[$(date -u +%Y-%m-%dT%H:%M:%SZ)] $*"; }

jobs_fail() { echo "tlsmap job: error: $*" >&2; exit 1; }

jobs_check() {  # the executable and the source tree exist
  [[ -f $TLSMAP_SRC/jobs/lib/tlsmap_jobs.py ]] || jobs_fail "TLSMAP_SRC=$TLSMAP_SRC is not the tlsmap source tree"
  command -v "$TLSMAP" > /dev/null || jobs_fail "TLSMAP=$TLSMAP: no such executable"
}

# make_input TEMPLATE OUT key=value ...
make_input() { "$JOBS_PY" "$TLSMAP_SRC/jobs/lib/tlsmap_jobs.py" set "$@"; }

# The fixed extra keys of $SET ("key=value key=value"), one word each.
set_words() { local -a w; read -ra w <<< "${SET:-}"; [[ ${#w[@]} -eq 0 ]] || printf "%s\n" "${w[@]}"; }

# run_stages DIR NP: run every stage of $STAGES in DIR on NP ranks; log to DIR/log.txt.
run_stages() {
  local dir=$1 np=$2 stage later k=0
  local -a stages
  # shellcheck disable=SC2153  # STAGES is set by the calling script
  read -ra stages <<< "$STAGES"
  for stage in "${stages[@]}"; do
    k=$((k + 1))
    if [[ -f $dir/.done-$stage ]]; then
      jobs_log "$dir: $stage already done, skipped"
      continue
    fi
    for later in "${stages[@]:k}"; do rm -f "$dir/.done-$later"; done
    jobs_log "$dir: $MPIRUN -n $np $TLSMAP $stage input.toml ${TLSMAP_ARGS:-}"
    local t0=$SECONDS
    # shellcheck disable=SC2086  # MPIRUN and TLSMAP_ARGS may hold several words
    if ! (cd "$dir" && $MPIRUN -n "$np" ${MPIRUN_ARGS:-} "$TLSMAP" "$stage" input.toml ${TLSMAP_ARGS:-} \
            >> log.txt 2>&1); then
      tail -n 20 "$dir/log.txt" >&2
      jobs_fail "$dir: stage $stage failed (log: $dir/log.txt)"
    fi
    echo "$((SECONDS - t0)) s" > "$dir/.done-$stage"
    jobs_log "$dir: $stage done in $((SECONDS - t0)) s"
  done
}

# maybe_report OUTDIR FILES_OR_DIRS...: run the postprocess report when REPORT=1.
maybe_report() {
  [[ ${REPORT:-0} == 1 ]] || return 0
  local out=$1
  shift
  /usr/bin/python3 "$TLSMAP_SRC/postprocess/tlsmap-report" "$out" "$@"
}

# (a) One sample on all ranks of the allocation.
job_large_sample() {
  jobs_check
  mkdir -p "$OUT_DIR"
  local -a extra
  mapfile -t extra < <(set_words)
  make_input "$INPUT" "$OUT_DIR/input.toml" run.seed="$SEED" 'run.output="sample.h5"' "${extra[@]}"
  jobs_log "one sample on $NP ranks in $OUT_DIR (stages: $STAGES)"
  run_stages "$OUT_DIR" "$NP"
  maybe_report "$OUT_DIR/report" "$OUT_DIR/sample.h5"
}


# Number of array tasks of the sweep (SEEDS x every SWEEP key's values).
sweep_count() { "$JOBS_PY" "$TLSMAP_SRC/jobs/lib/tlsmap_jobs.py" count --seeds "$SEEDS" --sweep "$SWEEP"; }
sweep_list() { "$JOBS_PY" "$TLSMAP_SRC/jobs/lib/tlsmap_jobs.py" list --seeds "$SEEDS" --sweep "$SWEEP"; }

# (b) One task of the sweep: write its input from the template, run the stages in its directory.
job_sweep_task() {
  local index=$1 dir
  local -a extra
  mapfile -t extra < <(set_words)
  jobs_check
  [[ -n $index ]] || jobs_fail "no array task index (SLURM_ARRAY_TASK_ID / PBS_ARRAY_INDEX); submit as an array"
  dir=$("$JOBS_PY" "$TLSMAP_SRC/jobs/lib/tlsmap_jobs.py" task --seeds "$SEEDS" --sweep "$SWEEP" \
        --template "$TEMPLATE" --outdir "$OUT_DIR" --index "$index" "${extra[@]}") || jobs_fail "task $index: no input"
  jobs_log "task $index -> $dir on $NP ranks (stages: $STAGES)"
  run_stages "$dir" "$NP"
}

# (c) Strong or weak scaling: the same stage at each rank count in RANKS.
# strong: N_BEADS beads at every rank count; weak: N_PER_RANK beads per rank.
# Writes OUT_DIR/scaling.tsv: mode, ranks, beads, stage, wall seconds, parallel efficiency.
job_scaling() {
  jobs_check
  mkdir -p "$OUT_DIR"
  local tsv=$OUT_DIR/scaling.tsv p n dir t0 t1 secs
  printf "mode\tranks\tbeads\tstages\tseconds\tefficiency\n" > "$tsv"
  local base=""
  local -a extra
  mapfile -t extra < <(set_words)
  for p in $RANKS; do
    if [[ $MODE == strong ]]; then n=$N_BEADS; else n=$((N_PER_RANK * p)); fi
    dir=$OUT_DIR/$MODE-np$p
    mkdir -p "$dir"
    rm -f "$dir"/.done-*            # timings: always rerun
    make_input "$INPUT" "$dir/input.toml" run.seed="$SEED" 'run.output="sample.h5"' system.n_beads="$n" "${extra[@]}"
    t0=$(date +%s.%N)
    run_stages "$dir" "$p"
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    [[ -n $base ]] || base="$p $secs"
    # strong: E = T(p0) p0 / (T(p) p); weak: E = T(p0) / T(p)
    awk -v m="$MODE" -v p="$p" -v n="$n" -v st="$STAGES" -v s="$secs" -v b="$base" 'BEGIN {
      split(b, x, " "); e = (m == "strong") ? x[2] * x[1] / (s * p) : x[2] / s
      printf "%s\t%d\t%d\t%s\t%s\t%.3f\n", m, p, n, st, s, e }' >> "$tsv"
    jobs_log "$MODE scaling: $p ranks, $n beads: $secs s"
  done
  column -t -s $'\t' "$tsv" 2> /dev/null || cat "$tsv"
}
