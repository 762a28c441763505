#!/usr/bin/env bash
# A full disk, simulated by a file-size limit on the ranks (`ulimit -f` in a wrapper mpiexec starts:
# Open MPI gives its ranks neither the shell's limit-free launcher nor its SIGXFSZ disposition, and
# mpiexec itself must not run under the limit: its PMIx store is a file). Writes past the limit
# fail with EFBIG (tlsmap ignores SIGXFSZ), as they fail with ENOSPC on a full disk. At 1 and 2
# ranks, for pack (a new file replacing an old one) and charge (an update of a copy), with limits
# that make the copy fail, a dataset creation fail and the final flush fail (the check before the
# close): exit status 1 (not a signal, not a timeout), exactly one "tlsmap:" line naming the output,
# no <output>.tmp left, the previous output byte for byte the same (cmp). Then, with room enough,
# the same stage succeeds. (2 ranks, a creation failing: HDF5 leaves the other rank inside a barrier
# of its own, so the failing rank aborts the job after TLSMAP_IO_WAIT_SECONDS, 5 s here.)
source "$(dirname "$0")/common.bash"
export TLSMAP_IO_WAIT_SECONDS=5 OMPI_MCA_btl=self,tcp  # no shared-memory segment files under the limit
glass_input out.h5 7 250 200 > in.toml
timeout 120 "$MPIEXEC" -n 1 "$TLSMAP" pack in.toml > pack.txt 2>&1 || { echo "FAIL: pack"; cat pack.txt; exit 1; }
cp out.h5 packed.h5
size_kb=$(( ($(stat -c %s out.h5) + 1023) / 1024 ))
echo "packed file: $size_kb kB"
fail=0
# limited NAME NP KB STAGE: STAGE on out.h5 (= packed.h5) with the ranks' files limited to KB kB.
limited() {
  local name=$1 np=$2 kb=$3 stage=$4 got=0 why=""
  cp packed.h5 out.h5
  timeout 90 "$MPIEXEC" -n "$np" bash -c 'ulimit -f "$0"; exec "$@"' "$kb" "$TLSMAP" "$stage" in.toml > out.txt 2> err.txt || got=$?
  if [[ $got -ne 1 ]]; then why="exit $got, want 1"
  elif [[ $(grep -c '^tlsmap:' err.txt) -ne 1 ]]; then why="not exactly one 'tlsmap:' line"
  elif ! grep '^tlsmap:' err.txt | grep -q 'out\.h5'; then why="the message names no output"
  elif [[ -e out.h5.tmp ]]; then why="out.h5.tmp left"
  elif ! cmp -s out.h5 packed.h5; then why="the previous output changed"
  fi
  if [[ -n $why ]]; then echo "FAIL $name ($stage, np $np, ${kb} kB): $why"; cat out.txt err.txt; fail=1
  else echo "ok   $name ($stage, np $np, ${kb} kB): $(grep '^tlsmap:' err.txt)"; fi
}
for np in 1 2; do
  limited pack-create $np $((size_kb - 6)) pack     # a dataset cannot be created
  limited charge-copy $np $((size_kb - 10)) charge  # the copy to out.h5.tmp fails
  limited charge-write $np $((size_kb + 2)) charge  # charge's datasets cannot be created
  limited charge-close $np $((size_kb + 12)) charge # everything written; no room for the close
  # With room enough the same stage runs under the limit (the check before the close is not too strict).
  cp packed.h5 out.h5
  if timeout 90 "$MPIEXEC" -n "$np" bash -c 'ulimit -f "$0"; exec "$@"' $((size_kb + 200)) "$TLSMAP" charge in.toml > out.txt 2>&1; then
    echo "ok   charge with room (np $np): $(stat -c %s out.h5) bytes"
  else echo "FAIL charge with room (np $np)"; cat out.txt; fail=1; fi
done

# A real full disk (ENOSPC), where this machine lets us mount a small tmpfs (root with CAP_SYS_ADMIN):
# the file system holds the input and out.h5, with room for the copy but not for charge's datasets,
# then without room for the copy. Elsewhere the file-size limit above stands in for it (said here).
mkdir mnt
if mount -t tmpfs -o size=$((2 * size_kb + 8))k tmpfs mnt 2> /dev/null; then
  trap 'umount -l "$work/mnt" 2> /dev/null || true; rm -rf "$work"' EXIT
  cp in.toml mnt/
  for case in "enospc-write $((2 * size_kb + 8))" "enospc-copy $((size_kb * 3 / 2))"; do
    set -- $case
    for np in 1 2; do
      mount -o remount,size=$((2 * size_kb + 8))k mnt && cp packed.h5 mnt/out.h5 && mount -o remount,size=${2}k mnt
      got=0 why=""
      (cd mnt && timeout 90 "$MPIEXEC" -n "$np" "$TLSMAP" charge in.toml > ../out.txt 2> ../err.txt) || got=$?
      if [[ $got -ne 1 ]]; then why="exit $got, want 1"
      elif [[ $(grep -c '^tlsmap:' err.txt) -ne 1 ]]; then why="not exactly one 'tlsmap:' line"
      elif ! grep '^tlsmap:' err.txt | grep -q 'out\.h5'; then why="the message names no output"
      elif [[ -e mnt/out.h5.tmp ]]; then why="out.h5.tmp left"
      elif ! cmp -s mnt/out.h5 packed.h5; then why="the previous output changed"
      fi
      if [[ -n $why ]]; then echo "FAIL $1 (charge, np $np, tmpfs of $2 kB): $why"; cat out.txt err.txt; fail=1
      else echo "ok   $1 (charge, np $np, tmpfs of $2 kB): $(grep '^tlsmap:' err.txt)"; fi
    done
  done
  # An aborted job's daemons may hold the mount a moment longer: retry, then leave it to the trap.
  for _ in 1 2 3 4 5; do umount mnt 2> /dev/null && break; sleep 1; done
else
  echo "note: a real full disk (tmpfs) not tried: mounting needs root with CAP_SYS_ADMIN; the file-size limit above stands in"
fi
exit $fail
