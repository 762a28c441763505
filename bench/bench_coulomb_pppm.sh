#!/usr/bin/env bash
# tlsmap's Coulomb split (grid + real space) against LAMMPS PPPM: time per force evaluation and
# measured RMS force error, on a charged glass and its 2×2×2 replica (N and 8N), for both tlsmap
# reciprocal solvers (fft = P3M on FFTW, mg = multigrid; docs/electrostatics.md §8, §10).
#
#   bench/bench_coulomb_pppm.sh GLASS.data
#
# GLASS.data: a charged glass as a LAMMPS data file (e.g. written by `tlsmap energy glass.h5
# --lammps glass.data`, see bench/lammps_coulomb_crosscheck.sh). Environment: BENCH (bench_coulomb
# executable, default build/bench/bench_coulomb), RANKS ("1 2"), ACCURACY (tlsmap δ list,
# "1e-4 1e-5"), SOLVERS (tlsmap reciprocal solvers, "fft mg"), PPPM (LAMMPS kspace accuracies,
# "1e-3 1e-4 1e-5"), SIZES ("small big": N and its 2×2×2 replica), WORK (temp dir).
#
# Errors: every code's Coulomb forces against tlsmap's split at δ = 1e-8 (validated against the Ewald
# sum to 2e-8 in tests/test_coulomb.cpp), reported as RMS |ΔF| / RMS |F_C|. LAMMPS computes Coulomb
# only (pair lj/cut/coul/long with ε_LJ = 0, so its pair time is the real-space Coulomb work),
# real-space cutoff r_c = 4.07 (tlsmap's automatic one at δ = 1e-5), `pair_modify table 0`,
# kspace_style pppm A, 20 steps of NVE at dt = 1e-4 (nearby configurations), time per step = (Pair +
# Kspace) from its timing breakdown. tlsmap: bench_coulomb glass, 10 evaluations after small
# displacements (previous φ as initial guess, preconditioner kept), max over ranks of the time per
# evaluation. The machine load (uptime) is printed with the figures.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BENCH=${BENCH:-$here/../build/bench/bench_coulomb}
RANKS=${RANKS:-"1 2"}
ACCURACY=${ACCURACY:-"1e-4 1e-5"}
SOLVERS=${SOLVERS:-"fft mg"}
PPPM=${PPPM:-"1e-3 1e-4 1e-5"}
SIZES=${SIZES:-"small big"}
RC=${RC:-4.07}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
glass=$(readlink -f "$1")

# The 2×2×2 replica.
cat > "$WORK/in.replicate" <<EOF
units lj
atom_style charge
read_data $glass
replicate 2 2 2
write_data $WORK/big.data nocoeff
EOF
lmp -nocite -in "$WORK/in.replicate" -log none -screen none

rms_rel() {  # rms_rel <forces> <reference forces> <skip rows of the first>
  /usr/bin/python3 - "$@" <<'PY'
import sys, numpy as np
f = np.loadtxt(sys.argv[1], skiprows=int(sys.argv[3])); r = np.loadtxt(sys.argv[2])
f = f[np.argsort(f[:, 0])]
assert np.array_equal(f[:, 0], r[:, 0])
d = f[:, 1:] - r[:, 1:]
print(f"{np.sqrt((d ** 2).sum(1).mean() / (r[:, 1:] ** 2).sum(1).mean()):.2e}")
PY
}

for sys_name in $SIZES; do
  data=$glass
  [[ $sys_name == big ]] && data=$WORK/big.data
  n=$(awk '/ atoms/ {print $1; exit}' "$data")
  echo "== N = $n ($data); load: $(uptime | sed 's/.*load average: //')"
  mpiexec -n 2 "$BENCH" glass --data "$data" --accuracy 1e-8 --evals 0 --forces "$WORK/ref.$sys_name" > "$WORK/ref.$sys_name.log"
  for np_ in $RANKS; do
    for solver in $SOLVERS; do
      for acc in $ACCURACY; do
        line=$(mpiexec -n "$np_" "$BENCH" glass --data "$data" --accuracy "$acc" --evals 10 --solver "$solver" \
          --forces "$WORK/f.$sys_name.$acc")
        err=$(rms_rel "$WORK/f.$sys_name.$acc" "$WORK/ref.$sys_name" 0)
        per=$(echo "$line" | sed 's/.*per evaluation \([0-9.]*\) \/ \([0-9.]*\) \/ \([0-9.]*\) s.*/\3/')
        grid=$(echo "$line" | sed 's/.*grid \([0-9]* [0-9]* [0-9]*\) order.*/\1/')
        its=$(echo "$line" | sed 's/.*CG its \([0-9.]*\).*/\1/')
        mem=$(echo "$line" | sed 's/.*grid memory \([0-9.]*\) MB.*/\1/')
        echo "tlsmap $solver  ranks $np_  delta $acc  grid $grid  RMS err $err  s/eval $per  CG its $its  grid MB $mem"
      done
    done
    for a in $PPPM; do
      cat > "$WORK/in.pppm" <<EOF
units           lj
atom_style      charge
read_data       $data
pair_style      lj/cut/coul/long 2.5 $RC
pair_coeff      * * 0.0 1.0
pair_modify     table 0
kspace_style    pppm $a
neighbor        0.3 bin
dump            f all custom 1 $WORK/lmp.forces id fx fy fz
dump_modify     f sort id format float %.17g
run             0
undump          f
fix             1 all nve
timestep        0.0001
thermo          20
run             20
EOF
      mpiexec -n "$np_" lmp -nocite -in "$WORK/in.pppm" -log "$WORK/log.pppm" -screen none
      err=$(rms_rel "$WORK/lmp.forces" "$WORK/ref.$sys_name" 9)
      grid=$(grep -m1 "grid = " "$WORK/log.pppm" | sed 's/.*grid = //')
      pair=$(awk '/^Pair  /{print $5}' "$WORK/log.pppm" | tail -1)
      ksp=$(awk '/^Kspace/{print $5}' "$WORK/log.pppm" | tail -1)
      per=$(echo "($pair + $ksp) / 20" | bc -l)
      printf "lammps  ranks %s  pppm %s  grid %s  RMS err %s  s/step %.4f  (pair %.4f kspace %.4f)\n" "$np_" "$a" "$grid" \
        "$err" "$per" "$(echo "$pair / 20" | bc -l)" "$(echo "$ksp / 20" | bc -l)"
    done
  done
done
echo "load after: $(uptime | sed 's/.*load average: //')"
