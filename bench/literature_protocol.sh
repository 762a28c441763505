#!/usr/bin/env bash
# TLS pairs per core-hour: the literature protocol run with LAMMPS against `tlsmap search`, on one glass.
#
#   bench/literature_protocol.sh [WORK]
#
# Defaults: ~8 core-minutes, ~15 min wall on the shared 2-core machine (most of it the NEBs: 7 ranks
# on 2 cores). Figures and discussion: docs/search.md, "Comparison with the literature protocol".
#
# 1. Glass: `tlsmap pack` + `tlsmap charge` on INPUT (default inputs/default.toml: 1000 KA beads,
#    ρ = 1.2), one rank; `tlsmap energy --lammps` writes it as a LAMMPS data file.
# 2. tlsmap side: `tlsmap search` on a copy (all domains, SEARCH_ATTEMPTS attempts each), one rank.
# 3. Literature protocol, serial LAMMPS on the same glass (Heuer & Silbey 1993 and later work use
#    variants of it): NVT MD (Nosé–Hoover) at T_MD; after EQUIL_STEPS, every EVERY steps a copy of the
#    configuration is minimised (CG, |F|_2 <= MIN_FTOL); two inherent structures are the same state
#    when every bead is within SAME_DISP of its position and |ΔE| < SAME_DE; each distinct pair
#    of consecutive states (deduplicated, permutational copies left out) gets a climbing-image NEB
#    (LAMMPS `neb`, REPLICA package, NEB_REPLICAS partitions of one rank); pairs whose final band has
#    no intermediate minimum and its highest image inside (a barrier) are double-well pairs.
# 4. Report (bench/literature_protocol.py): pairs and low-asymmetry pairs (THRESHOLDS) per core-hour
#    on both sides and their ratio. CPU = user + sys of /usr/bin/time. LAMMPS's NEB needs one process
#    per replica; on a machine with fewer cores the waiting replicas burn CPU, so the NEB is also
#    costed as work: steps x replicas x the CPU of one serial force call (from the minimisations).
# Environment: TLSMAP (build/tlsmap), INPUT, LMP (lmp), MPIEXEC (mpiexec), NICE (5), and the
# parameters below. Needs LAMMPS with the REPLICA package (Debian's `lammps` has it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_ka.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
INPUT=${INPUT:-$here/../inputs/default.toml}
LMP=${LMP:-lmp}
WORK=${1:-${WORK:-$(mktemp -d)}}
NICE=${NICE:-5}
# --- literature protocol (reduced LJ units) ---
T_MD=${T_MD:-0.30}            # MD temperature (see docs/search.md for why not 0.45 on this glass)
TDAMP=${TDAMP:-0.5}           # Nosé–Hoover damping time (100 dt)
DT=${DT:-0.005}
MD_SEED=${MD_SEED:-2026}      # initial velocities
EQUIL_STEPS=${EQUIL_STEPS:-1000}  # MD before the first minimised copy (5 τ)
EVERY=${EVERY:-50}            # minimise a copy every EVERY steps (0.25 τ)
SAMPLES=${SAMPLES:-24}        # number of intervals: SAMPLES + 1 minimisations
MIN_FTOL=${MIN_FTOL:-1e-10}   # CG stop: 2-norm of the whole force vector (tlsmap: max |F_i| <= 1e-10)
SAME_DISP=${SAME_DISP:-0.05}  # σ: same state if max_i |r_i^A - r_i^B| is below this (tlsmap's dedup_distance:
SAME_DE=${SAME_DE:-0.01}      # ε: cut-off kinks make micro-minima ~1e-3 σ apart) and |E_A - E_B| below this
NEB_REPLICAS=${NEB_REPLICAS:-7}   # including both ends; one MPI rank each
NEB_SPRING=${NEB_SPRING:-5.0}
NEB_FTOL=${NEB_FTOL:-0.01}    # ε/σ, largest per-atom force (min_modify norm max)
NEB_N1=${NEB_N1:-1000}        # FIRE steps, plain NEB
NEB_N2=${NEB_N2:-500}         # FIRE steps, climbing image
NEB_DMAX=${NEB_DMAX:-0.05}    # σ, largest FIRE step of an atom (LAMMPS default 0.1)
NEB_EVERY=${NEB_EVERY:-100}   # band printed every this many steps (N1, N2 must be multiples)
MOVING=${MOVING:-0.02}        # σ: a bead "moves" above this (tlsmap's moving_threshold)
THRESHOLDS=${THRESHOLDS:-"1.0 0.1 0.01"}  # ε: low-asymmetry classes (0.01 ε ≈ 1.2 K for argon)
# --- tlsmap side ---
SEARCH_ATTEMPTS=${SEARCH_ATTEMPTS:-8}
SEARCH_DOMAINS=${SEARCH_DOMAINS:-0}   # 0: all domains
SKIP_SEARCH=${SKIP_SEARCH:-0}         # 1: reuse WORK/search.h5 and WORK/time.search

mkdir -p "$WORK/is" "$WORK/neb"
WORK=$(cd "$WORK" && pwd)
source "$here/../scripts/mpi_env.sh"
command -v "$LMP" > /dev/null || { echo "literature_protocol: $LMP (LAMMPS) not found" >&2; exit 2; }
[[ $("$LMP" -h) == *" REPLICA "* ]] || { echo "literature_protocol: LAMMPS lacks the REPLICA package (neb)" >&2; exit 2; }
timed() {  # timed NAME CMD...: CPU and wall of CMD into WORK/time.NAME (WORK/neb/time.neb.J for the NEBs)
  local out=$WORK/time.$1; [[ $1 == neb.* ]] && out=$WORK/neb/time.$1
  shift; /usr/bin/time -f "%e %U %S" -o "$out" nice -n "$NICE" "$@"
}
mpi1=("${MPIEXEC:-mpiexec}" -n 1)
cat > "$WORK/settings.env" <<EOF
T_MD=$T_MD
EVERY=$EVERY
SAME_DISP=$SAME_DISP
SAME_DE=$SAME_DE
NEB_REPLICAS=$NEB_REPLICAS
NEB_FTOL=$NEB_FTOL
NEB_N1=$NEB_N1
NEB_N2=$NEB_N2
NEB_EVERY=$NEB_EVERY
MOVING=$MOVING
THRESHOLDS=$THRESHOLDS
EOF

# 1. The glass.
if [[ ! -s $WORK/glass.data ]]; then
  sed -e "s|^output = .*|output = \"$WORK/glass.h5\"|" \
      -e "s|^max_domains = .*|max_domains = $SEARCH_DOMAINS|" -e "s|^max_attempts = .*|max_attempts = $SEARCH_ATTEMPTS|" \
      "$INPUT" > "$WORK/glass.toml"
  grep -q "^max_attempts = $SEARCH_ATTEMPTS" "$WORK/glass.toml" || printf '[search]\nmax_domains = %s\nmax_attempts = %s\n' \
      "$SEARCH_DOMAINS" "$SEARCH_ATTEMPTS" >> "$WORK/glass.toml"
  nice -n "$NICE" "${mpi1[@]}" "$TLSMAP" pack "$WORK/glass.toml" > "$WORK/pack.log"
  nice -n "$NICE" "${mpi1[@]}" "$TLSMAP" charge "$WORK/glass.toml" > "$WORK/charge.log"
  nice -n "$NICE" "${mpi1[@]}" "$TLSMAP" energy "$WORK/glass.h5" --json --lammps "$WORK/glass.data" > "$WORK/glass.json"
  grep "inherent structure" "$WORK/pack.log"
fi

# 2. tlsmap side.
if [[ $SKIP_SEARCH != 1 ]]; then
  cp "$WORK/glass.h5" "$WORK/search.h5"
  sed -e "s|^output = .*|output = \"$WORK/search.h5\"|" "$WORK/glass.toml" > "$WORK/search.toml"
  timed search "${mpi1[@]}" "$TLSMAP" search "$WORK/search.toml" > "$WORK/search.log"
  tail -1 "$WORK/search.log"
fi

# 3. Literature protocol. Kob–Andersen in LAMMPS: lj/cut, cut-offs 2.5 σ_αβ, shifted (as in
# bench/lammps_crosscheck.sh); `tlsmap energy --lammps` wrote the glass with charges, which lj/cut ignores.
header() {
  cat <<EOF
units           lj
atom_style      charge
atom_modify     map array sort 0 0.0
boundary        p p p
read_data       $WORK/glass.data
$(lammps_ka_pair)
neighbor        0.3 bin
neigh_modify    every 1 delay 0 check yes
thermo_modify   norm no
timestep        $DT
EOF
}
{ header; cat <<EOF
velocity        all create $T_MD $MD_SEED dist gaussian mom yes
fix             bath all nvt temp $T_MD $T_MD $TDAMP
thermo          500
run             $EQUIL_STEPS
dump            traj all custom $EVERY $WORK/traj.dump id type x y z ix iy iz
dump_modify     traj sort id format float %.17g
run             $((EVERY * SAMPLES))
EOF
} > "$WORK/in.md"
timed md "$LMP" -nocite -in "$WORK/in.md" -log "$WORK/log.md" -screen none

{ header; cat <<EOF
min_style       cg
thermo          100000
variable        k loop 0 $SAMPLES
label           frame
variable        s equal $EQUIL_STEPS+\${k}*$EVERY
read_dump       $WORK/traj.dump \${s} x y z ix iy iz box no
minimize        0.0 $MIN_FTOL 100000 1000000
print           "IS \${k} \${s} \$(pe:%.12f) \$(fnorm:%.3e)" append $WORK/is.txt screen no
reset_timestep  0
write_dump      all custom $WORK/is/is_\${k}.dump id type x y z ix iy iz modify sort id format float %.17g
next            k
jump            SELF frame
EOF
} > "$WORK/in.min"
rm -f "$WORK/is.txt"
timed min "$LMP" -nocite -in "$WORK/in.min" -log "$WORK/log.min" -screen none

rm -f "$WORK"/neb/pair_*.lmp
/usr/bin/python3 "$here/literature_protocol.py" pairs "$WORK"
for pair in "$WORK"/neb/pair_*.lmp; do
  [[ -e $pair ]] || break
  j=${pair##*/pair_}; j=${j%.lmp}
  { header; cat <<EOF
variable        u uloop $NEB_REPLICAS
fix             band all neb $NEB_SPRING parallel neigh
min_style       fire
min_modify      norm max dmax $NEB_DMAX
thermo          100000
EOF
    cat "$pair"; } > "$WORK/neb/in.neb.$j"
  timed "neb.$j" "${MPIEXEC:-mpiexec}" -n "$NEB_REPLICAS" "$LMP" -nocite -partition "${NEB_REPLICAS}x1" \
    -in "$WORK/neb/in.neb.$j" -log "$WORK/neb/log.neb.$j" -screen none -plog none -pscreen none \
    > "$WORK/neb/out.$j" 2>&1 || echo "literature_protocol: NEB of pair $j failed (see $WORK/neb/log.neb.$j)"
done

# 4. Report.
/usr/bin/python3 "$here/literature_protocol.py" report "$WORK" | tee "$WORK/report.md"
