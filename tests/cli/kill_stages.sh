#!/usr/bin/env bash
# SIGKILL of a whole job (mpiexec and every rank: nobody can clean up) at random moments of pack,
# search, dipole and interact, at 1 and 2 ranks, on a 500-bead charged KA glass (2 domains searched,
# a checkpoint after every domain). For each kill:
#  * the file the stage works on is intact: byte for byte as before (pack, dipole, interact write a
#    temp file and rename it only when done), or — killed after the rename, or for search after a
#    checkpoint — a complete file: every dataset reads back through its Fletcher32 checksum;
#  * a stale <output>.tmp (the kill's, or a truncated copy planted when it left none) does not break
#    the next run: the same stage rerun succeeds, leaves no .tmp, and gives the one-go result (pack
#    positions and /tls of search bitwise; μ_eq13, J_el, J_mech to 1e-6 relative: the solvers'
#    tolerance at another rank count).
# Search, in addition, is killed right after its first checkpoint at 1 and 2 ranks: the rerun says
# that at least every checkpointed domain is already in the file (at most one checkpoint interval
# lost) and ends with the one-go catalogue, bitwise.
# The kill moment is drawn from a fixed seed (RANDOM=18) as a fraction 0.1–0.9 of the stage's
# measured one-go time; a kill that comes after the job ended is reported and followed by one at
# 0.3 s, and each stage must have been killed while running once per rank count, or the test fails.
source "$(dirname "$0")/common.bash"
input() {  # input OUTPUT
  glass_input "$1" 9 500 300
  cat <<T
[charge]
zeta = 0.1
[search]
xi = 3.5
spacing = 3.7
max_domains = 2
max_attempts = 2
stop_after_stale = 2
neb_images = 6
checkpoint_every = 1
[dipole]
spacing = 0.4
[interact]
check_pairs = 0
T
}
fail=0
declare -A seconds
# The one-go run, stage by stage, each stage's input kept (before_<stage>.h5) and timed.
input ref.h5 > ref.toml
for stage in pack charge search dipole interact; do
  [[ -e ref.h5 ]] && cp ref.h5 before_$stage.h5
  start=$(date +%s.%N)
  timeout 300 "$MPIEXEC" -n 1 "$TLSMAP" $stage ref.toml > ref_$stage.txt 2>&1 || { echo "FAIL one-go $stage"; cat ref_$stage.txt; exit 1; }
  seconds[$stage]=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  cp ref.h5 after_$stage.h5
done
cp after_interact.h5 before_pack.h5  # pack replaces an existing output
echo "one-go seconds: pack ${seconds[pack]}, search ${seconds[search]}, dipole ${seconds[dipole]}, interact ${seconds[interact]}"

# check STAGE FILE: FILE holds STAGE's result equal to the one-go run's (exit 0) or not (exit 1).
check() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
import h5py, numpy as np
stage, path = sys.argv[1], sys.argv[2]
ref, got = h5py.File(f"after_{stage}.h5", "r"), h5py.File(path, "r")
def visit(f):  # every dataset read whole: a checksum mismatch raises here
    out = {}
    f.visititems(lambda k, v: out.__setitem__(k, v[()]) if isinstance(v, h5py.Dataset) else None)
    return out
r, g = visit(ref), visit(got)
keys = {"pack": ["particles/all/position/value"], "charge": ["charge/bonds"],
        "search": [k for k in r if k.startswith("tls/")],
        "dipole": ["tls/mu_eq13", "tls/mu_direct"], "interact": ["interactions/j_el", "interactions/j_mech"]}[stage]
for k in keys:
    a, b = r[k], g.get(k)
    if b is None or a.shape != b.shape:
        sys.exit(f"{path}: {k} missing or of another shape")
    if stage in ("dipole", "interact"):
        if not np.allclose(a, b, rtol=1e-6, atol=1e-12 * np.abs(a).max()):
            sys.exit(f"{path}: {k} differs from the one-go run: {np.abs(a - b).max()}")
    elif not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):  # NaN: columns a later stage fills
        sys.exit(f"{path}: {k} differs from the one-go run")
PY
}
# readable FILE: every dataset reads back (checksums verified).
readable() {
  /usr/bin/python3 -c "
import sys, h5py
h5py.File(sys.argv[1], 'r').visititems(lambda k, v: v[()] if isinstance(v, h5py.Dataset) else None)" "$1"
}

# kill_at STAGE NP DELAY: the stage on a fresh copy of its input file, the whole job killed after
# DELAY seconds; then the file checked and the stage rerun. Sets `running` (killed while running).
kill_at() {
  local stage=$1 np=$2 delay=$3 why=""
  cp before_$stage.h5 out.h5 && rm -f out.h5.tmp
  input out.h5 > out.toml
  local before
  before=$(md5sum < out.h5)
  setsid "$MPIEXEC" -n "$np" "$TLSMAP" "$stage" out.toml > killed.txt 2>&1 &
  local job=$!
  sleep "$delay"
  running=0
  kill -0 "$job" 2> /dev/null && running=1
  kill -9 -- -"$job" 2> /dev/null || true
  wait "$job" 2> /dev/null || true
  sleep 0.2
  if [[ $(md5sum < out.h5) != "$before" ]]; then  # renamed before the kill, or a search checkpoint
    readable out.h5 > err.txt 2>&1 || why="the file changed and does not read back: $(tail -1 err.txt)"
  fi
  # The temp file a kill leaves when it lands while the stage writes; otherwise one is planted (a
  # truncated copy, as a kill in mid-write leaves), so that every rerun meets a stale temp file.
  local tmp="left by the kill"
  [[ -e out.h5.tmp ]] || { head -c 10000 out.h5 > out.h5.tmp; tmp="planted (the kill left none)"; }
  if [[ -z $why ]]; then
    timeout 300 "$MPIEXEC" -n "$np" "$TLSMAP" "$stage" out.toml > rerun.txt 2>&1 || why="the rerun failed: $(tail -2 rerun.txt)"
  fi
  [[ -z $why && -e out.h5.tmp ]] && why="the rerun left out.h5.tmp"
  [[ -z $why ]] && { check "$stage" out.h5 > err.txt 2>&1 || why="$(tail -1 err.txt)"; }
  local when="after ${delay} s ($([[ $running == 1 ]] && echo running || echo "after the job ended")), temp file $tmp"
  if [[ -n $why ]]; then echo "FAIL $stage np $np killed $when: $why"; cat killed.txt; fail=1
  else echo "ok   $stage np $np killed $when: file intact, rerun = one-go"; fi
}

RANDOM=18
for stage in pack search dipole interact; do
  for np in 1 2; do
    r=$((10 + RANDOM % 81))  # drawn here: $RANDOM inside $(...) would not advance the sequence
    delay=$(awk -v t="${seconds[$stage]}" -v r="$r" 'BEGIN { printf "%.2f", t * r / 100 }')
    kill_at "$stage" "$np" "$delay"
    if [[ $running -eq 0 ]]; then
      kill_at "$stage" "$np" 0.3  # early enough to find it running
      [[ $running -eq 1 ]] || { echo "FAIL $stage np $np: never killed while running"; fail=1; }
    fi
  done
done

# Search killed right after its first checkpoint: the checkpointed domains are kept.
for np in 1 2; do
  cp before_search.h5 out.h5 && rm -f out.h5.tmp && input out.h5 > out.toml
  setsid "$MPIEXEC" -n "$np" "$TLSMAP" search out.toml > killed.txt 2>&1 &
  job=$!
  for _ in $(seq 1 1200); do grep -q "checkpoint: 1 of" killed.txt && break; sleep 0.05; done
  kill -9 -- -"$job" 2> /dev/null || true
  wait "$job" 2> /dev/null || true
  saved=$(grep -c "checkpoint: " killed.txt || true)
  timeout 300 "$MPIEXEC" -n "$np" "$TLSMAP" search out.toml > rerun.txt 2>&1 || { echo "FAIL search rerun np $np"; cat rerun.txt; fail=1; continue; }
  kept=$(grep -o "[0-9]* already in the file" rerun.txt | awk '{print $1}')
  if grep -q "wrote /tls" killed.txt; then echo "FAIL search np $np: ended before the kill"; fail=1
  elif [[ -z $kept || $kept -lt $saved ]]; then echo "FAIL search np $np: $saved checkpoints before the kill, rerun kept ${kept:-?}"; fail=1
  elif ! check search out.h5; then echo "FAIL search np $np: resumed catalogue differs"; fail=1
  else echo "ok   search np $np killed after $saved checkpoint(s): rerun kept $kept domain(s), catalogue = one-go"; fi
done
exit $fail
