#!/usr/bin/env bash
# Force + neighbour-list throughput, tlsmap against LAMMPS, on one KA system: one command.
#
#   bench/run_force_bench.sh            # REPEATS=5 STEPS=500 RANKS="1 2" NATIVE=1 OPT=1
#
# Builds bench_forces if needed (in $BUILD, and with -DTLSMAP_NATIVE=ON in $BUILD-native when
# NATIVE=1), makes the start configuration once (bench_forces writes $WORK/ka32000.data: KA,
# N = 32,000, ρ = 1.2, T = 1), then runs, REPEATS times and interleaved so that all codes share
# the machine's mood: tlsmap (the default build in the CPU's best kernel variant and held to the
# generic one, and the native build), LAMMPS lj/cut and LAMMPS lj/cut/opt (OPT=1), at every rank count in RANKS, each STEPS NVE steps from the same data file. Prints the
# medians over repeats: bead-steps/s (N · steps / loop wall time), CPU use, the time split, the
# ratio to LAMMPS lj/cut at the same rank count and the parallel efficiency against 1 rank —
# once over all repeats and once over the undisturbed ones (CPU use >= CLEAN_CPU %, default 95:
# on a shared machine the others measure the neighbours). All RESULT lines are kept in
# $WORK/results.txt; SUMMARY_ONLY=1 re-prints the tables from it without running anything.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(dirname "$here")
BUILD=${BUILD:-$src/build-bench}
WORK=${WORK:-$BUILD/forcebench}
REPEATS=${REPEATS:-5}
STEPS=${STEPS:-500}
RANKS=${RANKS:-"1 2"}
NATIVE=${NATIVE:-1}
OPT=${OPT:-1}
CLEAN_CPU=${CLEAN_CPU:-95}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

build() {  # build DIR [cmake args...]
  local dir=$1; shift
  [[ -f $dir/CMakeCache.txt ]] || cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" > /dev/null
  cmake --build "$dir" -j2 --target bench_forces > /dev/null
}
build "$BUILD"
# tlsmap runs its loops in the best instruction-set variant of the CPU (core/kernel_isa.hpp);
# tlsmap-generic is the same binary held to the generic x86-64 variant (TLSMAP_KERNEL_ISA=generic).
codes=("tlsmap:$BUILD/bench/bench_forces" "tlsmap-generic:$BUILD/bench/bench_forces")
if [[ $NATIVE == 1 ]]; then
  build "$BUILD-native" -DTLSMAP_NATIVE=ON -DTLSMAP_BUILD_TESTS=OFF
  codes+=("tlsmap-native:$BUILD-native/bench/bench_forces")
fi
codes+=("lammps:")
[[ $OPT == 1 ]] && codes+=("lammps-opt:opt")

mkdir -p "$WORK"
cd "$WORK"
data=ka32000.data
[[ -f $data ]] || mpiexec -n 2 "$BUILD/bench/bench_forces" --data "$data" --steps 0

results=$WORK/results.txt
[[ ${SUMMARY_ONLY:-0} == 1 ]] && REPEATS=0 || : > "$results"
for ((rep = 1; rep <= REPEATS; ++rep)); do
  for np in $RANKS; do
    for code in "${codes[@]}"; do
      name=${code%%:*} arg=${code#*:}
      if [[ $name == tlsmap* ]]; then
        isa=; [[ $name == tlsmap-generic ]] && isa=generic
        out=$(TLSMAP_KERNEL_ISA=$isa mpiexec -n "$np" "$arg" --data "$data" --steps "$STEPS")
        line=$(grep '^RESULT' <<< "$out" | sed "s/code=tlsmap/code=$name/")
      else
        out=$("$here/lammps_forces.sh" "$data" "$np" "$STEPS" "$arg" "$WORK/lammps")
        line=$(grep '^RESULT' <<< "$out")
      fi
      echo "$line" >> "$results"
      # Same system check: the first and last thermo lines of every code (first repeat only).
      if ((rep == 1)); then grep -E "^(start|end|lammps step)" <<< "$out" | sed "s/^/  [$name np$np] /" || true; fi
      echo "repeat $rep/$REPEATS  $name np$np  $(grep -o 'rate=[^ ]*' <<< "$line")  $(grep -o 'cpu=[^ ]*' <<< "$line")" >&2
    done
  done
done

/usr/bin/python3 - "$results" "$CLEAN_CPU" <<'EOF'
import statistics, sys
rows = []
for line in open(sys.argv[1]):
    rows.append(dict(w.split('=', 1) for w in line.split()[1:]))
clean_cpu = float(sys.argv[2])
avg = lambda s: float(s.split('/')[1])  # "min/avg/max" -> avg
med = statistics.median

def summarise(rs):
    return dict(n=len(rs), rate=med([float(r['rate']) for r in rs]), loop=med([float(r['loop']) for r in rs]),
                cpu=med([float(r['cpu']) for r in rs]), builds=rs[0]['builds'],
                force=med([avg(r['force']) for r in rs]), neigh=med([avg(r['neigh']) for r in rs]),
                comm=med([avg(r['comm']) for r in rs]))

def table(title, keep):
    groups = {}
    for r in rows:
        if keep(r):
            groups.setdefault((r['code'], int(r['ranks'])), []).append(r)
    t = {k: summarise(v) for k, v in groups.items()}
    print(f"\n{title}; N = {rows[0]['n']}, {rows[0]['steps']} steps; times in s (avg over ranks)")
    print(f"{'code':15s} {'ranks':>5s} {'runs':>4s} {'bead-steps/s':>13s} {'per rank':>11s} {'vs lammps':>9s}"
          f" {'par.eff':>7s} {'CPU%':>5s} {'loop':>7s} {'force':>7s} {'neigh':>7s} {'comm':>7s} {'builds':>6s}")
    codes = sorted({c for c, _ in t}, key=lambda c: (not c.startswith('tlsmap'), c))
    for c in codes:
        for (cc, np), s in sorted(t.items()):
            if cc != c:
                continue
            ref, one = t.get(('lammps', np)), t.get((c, 1))
            ratio = s['rate'] / ref['rate'] if ref else float('nan')
            eff = s['rate'] / (np * one['rate']) if one else float('nan')
            print(f"{c:15s} {np:5d} {s['n']:4d} {s['rate']:13.4g} {s['rate'] / np:11.4g} {ratio:9.2f} {eff:7.2f}"
                  f" {s['cpu']:5.0f} {s['loop']:7.3f} {s['force']:7.3f} {s['neigh']:7.3f} {s['comm']:7.3f} {s['builds']:>6s}")

table("medians over all repeats", lambda r: True)
# Best of all repeats: the least disturbed run of each (code, ranks).
best = {}
for r in rows:
    k = (r['code'], int(r['ranks']))
    if k not in best or float(r['rate']) > float(best[k]['rate']):
        best[k] = r
print(f"\nbest of all repeats (bead-steps/s; vs lammps at the same ranks; parallel efficiency)")
for (c, np), r in sorted(best.items(), key=lambda kv: (not kv[0][0].startswith('tlsmap'), kv[0])):
    rate, ref, one = float(r['rate']), best.get(('lammps', np)), best.get((c, 1))
    print(f"{c:15s} {np:5d} {rate:13.4g}  x{rate / float(ref['rate']):.2f}  eff {rate / (np * float(one['rate'])):.2f}"
          f"  CPU {r['cpu']}%  force {r['force']}  neigh {r['neigh']}  comm {r['comm']}")
# On a shared machine a run that got less than its cores measures the neighbours, not the code.
table(f"medians over undisturbed repeats (CPU use >= {clean_cpu:g}%)", lambda r: float(r['cpu']) >= clean_cpu)
EOF
