#!/usr/bin/env bash
# Killed launchers and ranks (docs/verification.md, "Crash-safe files"). A dipole stage on a very fine
# grid (a minute or more) at 2 ranks, started in the background once its <output>.tmp exists:
#  * mpiexec alone killed by SIGKILL (it cannot forward anything): within 10 s no rank of that run is
#    left (each asked Linux for SIGTERM when its parent dies: PR_SET_PDEATHSIG), no out.h5.tmp is
#    left, and out.h5 is byte for byte as before;
#  * one rank (rank 1) killed by SIGKILL: mpiexec ends within 30 s with a non-zero status and a
#    message, no rank is left, no out.h5.tmp, out.h5 unchanged.
# Ranks are found in /proc by their command line (the input's path is unique to this test's scratch
# directory).
source "$(dirname "$0")/common.bash"
tiny_tls_input out.h5 > in.toml
for stage in pack charge search; do
  timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" $stage in.toml > $stage.txt 2>&1 || { echo "FAIL $stage"; cat $stage.txt; exit 1; }
done
sed 's/^spacing = 0.25$/spacing = 0.04/' in.toml > "$work/slow.toml"
cp out.h5 before.h5
ranks() {  # the pids whose command line is this run's rank (no procps needed)
  local d cmd
  for d in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$d/cmdline" 2> /dev/null) || continue
    [[ $cmd == "$TLSMAP dipole $work/slow.toml"* ]] && echo "${d#/proc/}"
  done
  return 0
}
start() {  # the slow dipole stage in the background; returns once its temp file exists
  # setsid: a session of its own, so nothing mpiexec signals on the way out can reach this script
  setsid "$MPIEXEC" -n 2 "$TLSMAP" dipole "$work/slow.toml" > run.txt 2> run.err &
  launcher=$!
  for _ in $(seq 1 300); do [[ -e out.h5.tmp ]] && break; sleep 0.1; done
  sleep 1
  [[ -e out.h5.tmp && $(ranks | wc -l) -eq 2 ]] || { echo "FAIL: the stage did not start (2 ranks, out.h5.tmp)"; cat run.txt run.err; exit 1; }
}
fail=0
verdict() {  # verdict NAME WHY
  if [[ -n $2 ]]; then echo "FAIL $1: $2"; ls; cat run.txt run.err; fail=1; ranks | xargs -r kill -9; else echo "ok   $1"; fi
}

# mpiexec killed by SIGKILL.
start
kill -9 "$launcher"
t0=$SECONDS
while [[ -n $(ranks) && $((SECONDS - t0)) -lt 10 ]]; do sleep 0.1; done
why=""
[[ -n $(ranks) ]] && why="ranks still running 10 s after mpiexec was killed: $(ranks | tr '\n' ' ')"
[[ -z $why && -e out.h5.tmp ]] && why="out.h5.tmp left"
[[ -z $why ]] && ! cmp -s out.h5 before.h5 && why="out.h5 changed"
wait "$launcher" 2> /dev/null || true
verdict "mpiexec killed: ranks gone after $((SECONDS - t0)) s, no temp file, out.h5 unchanged" "$why"

# One rank (rank 1) killed by SIGKILL: the job ends with a non-zero status and a message.
start
victim=""
for p in $(ranks); do
  tr '\0' '\n' < /proc/$p/environ 2> /dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1\|PMI_RANK=1\|PMIX_RANK=1' && victim=$p
done
[[ -n $victim ]] || victim=$(ranks | tail -1)
kill -9 "$victim"
t0=$SECONDS
got=0
timeout 30 tail --pid="$launcher" -f /dev/null || got=124  # wait for mpiexec, at most 30 s
[[ $got -eq 0 ]] && { wait "$launcher" 2> /dev/null && got=0 || got=$?; }
why=""
if [[ $got -eq 124 ]]; then why="mpiexec still running 30 s after a rank was killed"
elif [[ $got -eq 0 ]]; then why="exit status 0"
elif [[ ! -s run.err ]]; then why="no message"
elif [[ -n $(ranks) ]]; then why="ranks left: $(ranks | tr '\n' ' ')"
elif [[ -e out.h5.tmp ]]; then why="out.h5.tmp left"
elif ! cmp -s out.h5 before.h5; then why="out.h5 changed"
fi
verdict "rank 1 killed: mpiexec exit $got after $((SECONDS - t0)) s, $(grep -m1 -o 'exited on signal [0-9]*' run.err || head -c 80 run.err)" "$why"
[[ $got -eq 124 ]] && kill -9 "$launcher" 2> /dev/null
exit $fail
