#!/usr/bin/env bash
# The job scripts of jobs/ run through jobs/local_launch.sh on a tiny sweep (2 seeds x 2 ζ, 300 beads,
# stages pack + charge): every task writes its sample with the swept keys; a rerun skips finished
# stages and changes nothing; the PBS variant (stages = "run") gives the same sample as the Slurm one;
# the large-sample script runs on 2 ranks; the strong-scaling script writes its table; a bad array index fails with one
# clear message; postprocess/tlsmap-report merges the sweep into report.md. The stability campaign
# (linked keys T_f/steps) on 2 T_f x 2 seeds of a 300-bead swap glass, stages pack charge search:
# each task's input holds its own pair, and the report's stability series has both T_f points.
# Stages are a parameter (STAGES): add search/dipole/interact here once they exist.
set -eu
TLSMAP=$1 MPIEXEC=$2 SRC=$3
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT && cd "$work"
cat > tiny.toml <<'T'
# tiny template: the job scripts set run.seed, run.output and the swept keys
[run]
output = "unused.h5"
seed = 1
log_every = 100000

[system]
n_beads = 300

[pack]
equil_steps = 100
quench_steps = 100   # short quench

[search]             # `tlsmap run` includes search: one small domain, tiny budget
xi = 3.5
max_domains = 1
max_attempts = 2

[charge]
zeta = 0.2
T
export TLSMAP TLSMAP_SRC=$SRC MPIRUN=$MPIEXEC STAGES="pack charge" TEMPLATE=$work/tiny.toml
export SEEDS="1 2" SWEEP="charge.zeta=0.05,0.1" NP=1 OUT_DIR=$work/sweep
launch() { bash "$SRC/jobs/local_launch.sh" --logdir "$work/logs" "$@"; }

[[ $(bash "$SRC/jobs/slurm/sweep_array.sbatch" --count) == 4 ]]
launch --parallel 2 "$SRC/jobs/slurm/sweep_array.sbatch" > launch1.txt
grep -q "4 task(s) run" launch1.txt
sums=$(md5sum sweep/*/seed-*/sample.h5)
launch --parallel 2 "$SRC/jobs/slurm/sweep_array.sbatch" > launch2.txt
[[ $(cat logs/sweep_array-*.out | grep -c "already done, skipped") == 8 ]] || { echo "FAIL: rerun did not skip"; exit 1; }
[[ $(md5sum sweep/*/seed-*/sample.h5) == "$sums" ]] || { echo "FAIL: rerun changed a sample"; exit 1; }

OUT_DIR=$work/pbs STAGES=run launch --array 1 "$SRC/jobs/pbs/sweep_array.pbs" > pbs.txt
OUT_DIR=$work/large STAGES=run REPORT=0 TLSMAP_ARGS="" INPUT=$work/tiny.toml \
  launch --ntasks 2 "$SRC/jobs/slurm/large_sample.sbatch" > large.txt
OUT_DIR=$work/scaling RANKS="1 2" N_BEADS=300 SET="pack.equil_steps=50 pack.quench_steps=50" \
  STAGES=pack INPUT=$work/tiny.toml launch --ntasks 2 "$SRC/jobs/slurm/scaling.sbatch" > scaling.txt
[[ $(wc -l < scaling/scaling.tsv) == 3 ]] || { cat scaling/scaling.tsv; echo "FAIL: scaling table"; exit 1; }
grep -qP "^strong\t2\t300\tpack\t" scaling/scaling.tsv

set +e
launch --array 9 "$SRC/jobs/slurm/sweep_array.sbatch" > bad.txt 2> bad_err.txt
rc=$?
set -e
[[ $rc == 1 ]] || { echo "FAIL: bad index exit $rc"; exit 1; }
grep -q "task index 9 outside 0..3" logs/sweep_array-*_9.out || { cat logs/sweep_array-*_9.out; exit 1; }

/usr/bin/python3 - <<'PY'
import h5py, numpy as np, tomllib
f = {}
for z in ("0.05", "0.1"):
    for s in (1, 2):
        f[z, s] = h5py.File(f"sweep/zeta-{z}/seed-{s}/sample.h5", "r")
        inp = tomllib.loads(f[z, s].attrs["input"].decode())
        assert inp["run"]["seed"] == s and inp["charge"]["zeta"] == float(z), inp
        assert f[z, s]["charge"].attrs["zeta"] == float(z)
        assert f[z, s]["particles/all/position/value"].shape == (1, 300, 3)
pos = lambda g: g["particles/all/position/value"][()]
# ζ does not enter the packing: same seed, same glass; different seeds differ
assert np.array_equal(pos(f["0.05", 1]), pos(f["0.1", 1]))
assert not np.array_equal(pos(f["0.05", 1]), pos(f["0.05", 2]))
# the PBS script's task 1 is the Slurm script's task 1 (zeta 0.05, seed 2)
p = h5py.File("pbs/zeta-0.05/seed-2/sample.h5", "r")
assert np.array_equal(pos(p), pos(f["0.05", 2])) and np.array_equal(p["charge/bonds"][()], f["0.05", 2]["charge/bonds"][()])
g = h5py.File("large/sample.h5", "r")
assert g["charge"].attrs["zeta"] == 0.2 and g["particles/all/position/value"].shape == (1, 300, 3)
print("jobs: 4 sweep samples with the swept keys, PBS = Slurm task, large sample on 2 ranks")
PY

/usr/bin/python3 "$SRC/postprocess/tlsmap-report" report sweep > report.txt
grep -q "4 sample(s) in 2 group(s), 0 skipped" report.txt
grep -q "## Group: zeta=0.05" report/report.md
grep -q "## Group: zeta=0.1" report/report.md
grep -q "/tls: not present in the input files" report/report.md
[[ -f report/merged.h5 ]]
cat report.txt scaling/scaling.tsv

# The stability campaign: linked keys, a tiny polydisperse swap glass per task, the series in the report.
cat > tinypoly.toml <<'T'
[run]
output = "unused.h5"
seed = 1
log_every = 100000

[system]
model = "polydisperse-soft-sphere"
n_beads = 300
density = 1.0

[md]
dt = 0.01

[pack]
t_parent = 0.3
equil_steps = 100
quench = "instant"
t_final = 0.2
quench_steps = 100
swap = true
swap_every = 10

[charge]
zeta = 0.1

[search]
xi = 3.5
max_domains = 1
max_attempts = 2
T
[[ $(TEMPLATE= SWEEP= SEEDS= bash "$SRC/jobs/slurm/stability_campaign.sbatch" --count) == 25 ]]   # the defaults: 5 T_f x 5
export TEMPLATE=$work/tinypoly.toml OUT_DIR=$work/campaign STAGES="pack charge search"
export SWEEP="pack.t_final/pack.quench_steps=0.3/100,0.2/200"
[[ $(bash "$SRC/jobs/pbs/stability_campaign.pbs" --count) == 4 ]]
set +e
SWEEP="pack.t_final/pack.quench_steps=0.3/100,0.2" bash "$SRC/jobs/slurm/stability_campaign.sbatch" --count \
  > linked.txt 2>&1
rc=$?
set -e
[[ $rc != 0 ]] && grep -q "value '0.2' has 1 part(s) for 2 linked key(s)" linked.txt || { cat linked.txt; exit 1; }
launch --ntasks 1 --parallel 2 "$SRC/jobs/slurm/stability_campaign.sbatch" > campaign.txt
grep -q "4 task(s) run" campaign.txt
/usr/bin/python3 - <<'PY'
import h5py, tomllib
for t_f, steps in ((0.3, 100), (0.2, 200)):
    for s in (1, 2):
        with h5py.File(f"campaign/t_final-{t_f}_quench_steps-{steps}/seed-{s}/sample.h5", "r") as f:
            inp = tomllib.loads(f.attrs["input"].decode())
            assert (inp["pack"]["t_final"], inp["pack"]["quench_steps"], inp["run"]["seed"]) == (t_f, steps, s), inp
            assert "tls" in f and "class" in f["tls"], "search stage output missing"
print("campaign: 4 tasks, each with its linked (T_f, steps) pair, searched")
PY
/usr/bin/python3 "$SRC/postprocess/tlsmap-report" campaign_report campaign > campaign_report.txt
grep -q "4 sample(s) in 2 group(s), 0 skipped" campaign_report.txt
grep -q "## Stability series: TLS against the preparation temperature" campaign_report/report.md
grep -qE "^\| T_f=0\.3[^|]* \| 0\.3 \| 2 \| 600 \|" campaign_report/report.md
grep -qE "^\| T_f=0\.2[^|]* \| 0\.2 \| 2 \| 600 \|" campaign_report/report.md
[[ -f campaign_report/stability_series.png ]]
