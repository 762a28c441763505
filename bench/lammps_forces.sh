#!/usr/bin/env bash
# LAMMPS on the same benchmark as bench_forces: NVE velocity Verlet (dt 0.005) on the KA liquid read
# from the data file bench_forces wrote, lj/cut with the KA cutoffs 2.5 σ_αβ shifted, skin 0.3,
# rebuild checked every step (LAMMPS rebuilds when a bead moved more than skin/2, as tlsmap does).
#
#   bench/lammps_forces.sh DATA RANKS STEPS [SUFFIX] [WORKDIR]
#
# SUFFIX: "" for plain lj/cut, "opt" for the OPT package (lj/cut/opt). Prints LAMMPS's thermo
# lines for the first and last step and one "RESULT code=lammps..." line in the format of
# bench_forces (loop time, bead-steps/s, and the Pair/Neigh/Comm/Modify/Other min/avg/max).
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/../scripts/lammps_ka.sh"
data=${1:?usage: lammps_forces.sh DATA RANKS STEPS [SUFFIX] [WORKDIR]}
ranks=${2:?RANKS}
steps=${3:?STEPS}
suffix=${4:-}
work=${5:-$(mktemp -d)}
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

input=$work/in.ka_nve
log=$work/log.lammps.np$ranks${suffix:+.$suffix}
cat > "$input" <<EOF
# Kob-Andersen NVE benchmark (tlsmap bench/lammps_forces.sh)
units           lj
atom_style      atomic
boundary        p p p
read_data       $(realpath "$data")
$(lammps_ka_pair)
neighbor        0.3 bin
neigh_modify    every 1 delay 0 check yes
timestep        0.005
fix             nve all nve
thermo_style    custom step pe ke etotal press
thermo_modify   format float %.10f
thermo          $steps
run             $steps
EOF

sf=()
[[ -n $suffix ]] && sf=(-sf "$suffix")
mpiexec -n "$ranks" lmp -nocite -in "$input" -log "$log" -screen none "${sf[@]}"

# Thermo lines: the two numeric rows after the "Step PotEng ..." header.
awk '/^ *Step /{on=1; next} on && /^ *[0-9]+ /{printf "lammps step %6d  pe %s  ke %s  etotal %s  press %s\n", $1, $2, $3, $4, $5} /^Loop time/{on=0}' "$log"

awk -v ranks="$ranks" -v suffix="${suffix:-none}" '
  /^Loop time of/ {loop=$4; nsteps=$9; natoms=$12}
  /^Neighbor list builds/ {builds=$5}
  /^(Pair|Neigh|Comm|Modify|Other|Output) *\|/ {
    gsub(/\|/, " "); name=tolower($1)
    t[name] = (name == "other") ? "-/" $2 "/-" : $2 "/" $3 "/" $4
  }
  /% CPU use with/ {cpu=$1; sub(/%/, "", cpu)}
  END {
    rate = natoms * nsteps / loop
    printf "RESULT code=lammps%s ranks=%d n=%d steps=%d loop=%.6f rate=%.6g cpu=%.1f builds=%d force=%s neigh=%s comm=%s modify=%s other=%s output=%s\n",
      (suffix == "none" ? "" : "-" suffix), ranks, natoms, nsteps, loop, rate, cpu, builds,
      t["pair"], t["neigh"], t["comm"], t["modify"], t["other"], t["output"]
  }' "$log"
