#!/usr/bin/env bash
# `tlsmap pairs` against LAMMPS's NEB on inherent-structure pairs that LAMMPS made.
#
#   bench/lammps_pairs.sh [WORK]
#
# 1. Glass: `tlsmap pack` (N beads, EQUIL + QUENCH steps, seed 5), exported with `tlsmap energy --lammps`.
# 2. Pairs: for each seed in SEEDS, LAMMPS runs NVT MD at T_MD (up to MD_STEPS steps) from the glass
#    and minimises (CG, |F|_2 <= 1e-10) a copy every 10 steps until the inherent structure has
#    changed: the first rearrangement (tests/cli/pairs_stage.sh does the same). Those whose moving
#    beads (|d| > 0.02 σ) lie within LOCAL σ of their centroid are kept, one per distinct state B
#    (displacement fields apart by more than 0.05 σ somewhere): pair (glass, B).
# 3. tlsmap: `tlsmap pairs` with check_whole = true, once per margin in MARGINS: the production
#    barrier (moving beads + margin free, frozen shell at A) and the whole-sample band's.
# 4. LAMMPS: `neb` (REPLICA package) with REPLICAS replicas (one MPI rank each, oversubscribed),
#    FIRE, spring NEB_SPRING, NEB_N1 plain + NEB_N2 climbing steps, stop at max atom force NEB_FTOL;
#    the band starts on the straight line from the glass to B (nearest images).
# 5. Prints per pair: LAMMPS's forward barrier (EBF of the last step, and whether it stopped before
#    its step limit) against tlsmap's whole-sample and shell barriers, and the differences.
# Environment: TLSMAP (build/tlsmap), LMP (lmp), MPIEXEC (mpiexec), RANKS (tlsmap ranks, 2), and the
# parameters below (NEB_OPTIMIZER: tlsmap's band optimiser, docs/minimizers.md). docs/pairs.md quotes one run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../scripts/lammps_ka.sh"
source "$here/../scripts/mpi_env.sh"
TLSMAP=${TLSMAP:-$here/../build/tlsmap}
LMP=${LMP:-lmp}
MPIEXEC=${MPIEXEC:-mpiexec}
WORK=${1:-${WORK:-$(mktemp -d)}}
RANKS=${RANKS:-2}
N=${N:-1000}
EQUIL=${EQUIL:-1000}
QUENCH=${QUENCH:-1000}
SEEDS=${SEEDS:-"$(seq -s " " 1 16)"}
T_MD=${T_MD:-0.25}
MD_STEPS=${MD_STEPS:-300}        # MD from the glass; a copy is minimised every 10 steps
LOCAL=${LOCAL:-4.0}
MARGINS=${MARGINS:-"1.5 2.5 3.5"}
NEB_IMAGES=${NEB_IMAGES:-9}      # tlsmap: images including the ends
NEB_TOL=${NEB_TOL:-1e-4}         # tlsmap: max |F_NEB| (ε/σ)
NEB_OPTIMIZER=${NEB_OPTIMIZER:-fire}  # tlsmap: search.neb_optimizer (fire | lbfgs)
REPLICAS=${REPLICAS:-9}          # LAMMPS: replicas including the ends
NEB_SPRING=${NEB_SPRING:-5.0}
NEB_FTOL=${NEB_FTOL:-1e-4}       # LAMMPS: max atom force (ε/σ)
NEB_N1=${NEB_N1:-3000}
NEB_N2=${NEB_N2:-3000}
mkdir -p "$WORK/states"
WORK=$(cd "$WORK" && pwd)
cd "$WORK"
command -v "$LMP" > /dev/null || { echo "lammps_pairs: $LMP (LAMMPS) not found" >&2; exit 2; }
[[ $("$LMP" -h) == *" REPLICA "* ]] || { echo "lammps_pairs: LAMMPS lacks the REPLICA package (neb)" >&2; exit 2; }

# 1. The glass.
cat > glass.toml <<EOF
[run]
output = "glass.h5"
seed = 5
log_every = 100000
[system]
n_beads = $N
[pack]
equil_steps = $EQUIL
quench_steps = $QUENCH
EOF
"$MPIEXEC" -n "$RANKS" "$TLSMAP" pack glass.toml > pack.log
"$MPIEXEC" -n 1 "$TLSMAP" energy glass.h5 --lammps states/glass.data > /dev/null
cp glass.h5 states/glass.h5

# 2. First rearrangements from MD.
header() {
  cat <<L
units           lj
atom_style      charge
atom_modify     map array sort 0 0.0
boundary        p p p
read_data       $WORK/states/glass.data
$(lammps_ka_pair)
neighbor        0.3 bin
timestep        0.005
L
}
{ header; cat <<L
compute         d all displace/atom
compute         dmax all reduce max c_d[4]
thermo_style    custom step pe c_dmax
velocity        all create $T_MD \${seed} dist gaussian mom yes
fix             bath all nvt temp $T_MD $T_MD 0.5
dump            traj all custom 10 traj.dump id type x y z ix iy iz
dump_modify     traj sort id format float %.17g
run             $MD_STEPS
undump          traj
unfix           bath
min_style       cg
variable        k loop 1 $((MD_STEPS / 10))
label           frame
variable        s equal \${k}*10
read_dump       traj.dump \${s} x y z ix iy iz box no
minimize        0 1e-10 20000 200000
variable        m equal c_dmax
if "\${m} > 0.1" then "write_data states/b\${seed}.data nocoeff" "jump SELF done"
next            k
jump            SELF frame
label           done
L
} > first_event.lmp
for seed in $SEEDS; do
  "$LMP" -nocite -var seed "$seed" -in first_event.lmp -log "first_event.$seed.log" -screen none
done
/usr/bin/python3 - "$LOCAL" $SEEDS <<'PY'
import os, sys, numpy as np
local, seeds = float(sys.argv[1]), sys.argv[2:]
def atoms(path):
    lines = open(path).read().split("\n")
    L = [float(l.split()[1]) - float(l.split()[0]) for l in lines if l.endswith("xhi")][0]
    i = next(k for k, l in enumerate(lines) if l.startswith("Atoms"))
    rows = []
    for l in lines[i + 2:]:
        if not l.strip():
            break
        rows.append([float(w) for w in l.split()[:6]])
    a = np.array(rows)
    return a[np.argsort(a[:, 0])], L
a, L = atoms("states/glass.data")
os.makedirs("neb", exist_ok=True)
kept, fields = [], []
for s in seeds:
    p = f"states/b{s}.data"
    if not os.path.exists(p):
        print(f"seed {s}: no rearrangement"); continue
    b, _ = atoms(p)
    d = b[:, 3:6] - a[:, 3:6]
    d -= L * np.round(d / L)
    n = np.linalg.norm(d, axis=1)
    mov = n > 0.02
    r = a[mov, 3:6] - a[mov, 3:6][0]
    r -= L * np.round(r / L)
    r -= r.mean(0)
    rad = np.linalg.norm(r, axis=1).max()
    copy = any(np.abs(d - e).max() <= 0.05 for e in fields)  # the same state B from another seed
    ok = rad < local and not copy
    print(f"seed {s}: {mov.sum()} beads move > 0.02 sigma, largest {n.max():.3f}, within {rad:.2f} sigma: "
          f"{'kept' if ok else ('a copy of a kept one' if copy else 'not local')}")
    if ok:
        kept.append(s); fields.append(d)
        with open(f"neb/final.{s}.txt", "w") as o:  # B as the nearest image of A, bead by bead
            o.write(f"{len(b)}\n")
            for i in range(len(b)):
                x = a[i, 3:6] + d[i]
                o.write(f"{int(a[i, 0])} {x[0]!r} {x[1]!r} {x[2]!r}\n")
open("pairs.txt", "w").write("".join(f"glass.h5 b{s}.data\n" for s in kept))
open("kept.txt", "w").write(" ".join(kept))
PY
cp pairs.txt states/pairs.txt
kept=$(cat kept.txt)
[[ -n $kept ]] || { echo "lammps_pairs: no local rearrangement found (SEEDS, T_MD, LOCAL)" >&2; exit 1; }

# 3. tlsmap pairs, once per margin.
for m in $MARGINS; do
  cat > pairs.$m.toml <<EOF
[run]
output = "given.$m.h5"
[pairs]
list = "states/pairs.txt"
margin = $m
check_whole = true
[search]
neb_images = $NEB_IMAGES
neb_tol = $NEB_TOL
neb_optimizer = "$NEB_OPTIMIZER"
EOF
  /usr/bin/time -f "%e s wall, %U s user" -o "time.pairs.$m" "$MPIEXEC" -n "$RANKS" "$TLSMAP" pairs pairs.$m.toml > pairs.$m.log
  echo "tlsmap pairs, margin $m: $(tail -1 pairs.$m.log | sed 's/^\[pairs\] //') ($(cat time.pairs.$m))"
done

# 4. LAMMPS NEB per pair.
for s in $kept; do
  { header; cat <<L
variable        u uloop $REPLICAS
fix             band all neb $NEB_SPRING parallel neigh
thermo_modify   norm no
min_style       fire
min_modify      norm max dmax 0.05
thermo          100000
neb             0.0 $NEB_FTOL $NEB_N1 $NEB_N2 100 final $WORK/neb/final.$s.txt
L
  } > neb/in.neb.$s
  /usr/bin/time -f "%e s wall, %U s user" -o "neb/time.$s" "$MPIEXEC" -n "$REPLICAS" "$LMP" -nocite \
    -partition "${REPLICAS}x1" -in "neb/in.neb.$s" -log "neb/log.neb.$s" -screen none -plog none -pscreen none \
    > "neb/out.$s" 2>&1 || echo "lammps_pairs: NEB of seed $s failed (neb/log.neb.$s)"
done

# 5. The comparison.
/usr/bin/python3 - "$MARGINS" "$NEB_N1" "$NEB_N2" "$NEB_FTOL" $kept <<'PY'
import re, sys, h5py, numpy as np
margins, n1, n2, ftol, seeds = sys.argv[1].split(), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
def lammps(s):
    blocks, cur = [], None
    for line in open(f"neb/log.neb.{s}"):
        if line.startswith("Step MaxReplicaForce"):
            cur = []; blocks.append(cur)
        elif cur is not None:
            w = line.split()
            if w and re.fullmatch(r"\d+", w[0]) and len(w) > 9:
                cur.append([float(v) for v in w])
            elif w:
                cur = None
    last = blocks[-1][-1]
    steps = int(blocks[-1][-1][0] - blocks[-1][0][0])
    pe = np.array(last[10::2])
    return {"ebf": last[6], "force": last[2], "stopped": steps < n2, "asym": pe[-1] - pe[0], "steps": steps}
files = {m: h5py.File(f"given.{m}.h5", "r") for m in margins}
ref = files[margins[0]]
print(f"{'pair':>5} {'moving':>6} {'asym':>10} {'LAMMPS NEB':>11} {'conv':>5} {'whole':>10} {'whole-LMP':>10}"
      + "".join(f" {'shell ' + m:>10} {'ratio':>6}" for m in margins))
for k, s in enumerate(seeds):
    l = lammps(s)
    p = ref["pairs"]
    bw = p["barrier_whole"][k]
    row = (f"{k:>5} {p['n_moving_whole'][k]:>6} {ref['tls/asymmetry'][k]:>10.5f} {l['ebf']:>11.6f} "
           f"{'yes' if l['stopped'] else 'no':>5} {bw:>10.6f} {bw - l['ebf']:>10.2e}")
    for m in margins:
        b = files[m]["tls/barrier"][k]
        row += f" {b:>10.6f} {b / l['ebf']:>6.3f}"
    print(row)
    print(f"      LAMMPS: E_B - E_A {l['asym']:.6f}, max atom force {l['force']:.2e} after {l['steps']} climbing steps; "
          f"tlsmap whole-sample band converged {p['neb_converged_whole'][k]}, regions "
          + ", ".join(f"{files[m]['pairs/n_region'][k]} beads (margin {m})" for m in margins))
PY
