#!/usr/bin/env bash
# Run a tlsmap Slurm or PBS job script on this machine, without a scheduler.
#
#   bash jobs/local_launch.sh [options] SCRIPT [ARGS...]
#     --array LIST     array task ids: "0-3", "0,2,5" or "0-7:2" (default: the script's own
#                      #SBATCH --array / #PBS -J range, reduced to the sweep size via --count)
#     --ntasks N       MPI ranks per job (default: the number of cores, nproc)
#     --parallel J     run up to J array tasks at the same time (default 1; then OpenMPI's core
#                      binding is off unless OMPI_MCA_hwloc_base_binding_policy says otherwise)
#     --logdir DIR     where the per-task logs go (default: the current directory)
#
# It sets what the scheduler would — SLURM_ARRAY_TASK_ID, SLURM_NTASKS, SLURM_SUBMIT_DIR ... for
# *.sbatch (the job id as LOCAL_JOB_ID: a SLURM_JOB_ID would send mpiexec looking for Slurm); PBS_JOBID, PBS_ARRAY_INDEX, PBS_ARRAYID, PBS_O_WORKDIR and a
# PBS_NODEFILE with N lines for *.pbs — plus MPIRUN=mpiexec (unless set) and TLSMAP_SRC (this tree),
# then runs the script with bash once per array task. Every other variable of the environment
# reaches the script, so its parameters can be overridden here as with `sbatch --export`.
# Logs: <logdir>/<script>-<job>_<task>.out, like Slurm's; the exit status is 1 if any task failed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
array="" ntasks=$(nproc 2> /dev/null || echo 1) parallel=1 logdir=$PWD
while [[ $# -gt 0 ]]; do
  case $1 in
    --array) array=$2; shift 2 ;;
    --ntasks) ntasks=$2; shift 2 ;;
    --parallel) parallel=$2; shift 2 ;;
    --logdir) logdir=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    --) shift; break ;;
    -*) echo "local_launch: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { echo "usage: local_launch.sh [--array LIST] [--ntasks N] [--parallel J] SCRIPT [ARGS]" >&2; exit 2; }
script=$1
shift
[[ -f $script ]] || { echo "local_launch: $script: no such file" >&2; exit 2; }
flavour=slurm
[[ $script == *.pbs ]] && flavour=pbs

export TLSMAP_SRC=${TLSMAP_SRC:-$(cd "$here/.." && pwd)}
export MPIRUN=${MPIRUN:-mpiexec}
# What OpenMPI needs on the project's machines (root, oversubscription); harmless elsewhere.
[[ -f $TLSMAP_SRC/scripts/mpi_env.sh ]] && source "$TLSMAP_SRC/scripts/mpi_env.sh"
# Tasks at once: OpenMPI binds every job's ranks from core 0 up, so two one-rank tasks would share
# core 0 while core 1 idled (each ran at half speed, measured). Let the kernel place them instead.
if ((parallel > 1)); then export OMPI_MCA_hwloc_base_binding_policy=${OMPI_MCA_hwloc_base_binding_policy:-none}; fi

# Array ids: --array, else the script's directive, cut to the sweep size if the script can count.
if [[ -z $array ]]; then
  array=$(sed -nE 's/^#SBATCH[[:space:]]+(--array=|-a[[:space:]]*)([^[:space:]%]+).*/\2/p; s/^#PBS[[:space:]]+-[Jt][[:space:]]+([^[:space:]]+).*/\1/p' "$script" | head -n1)
  if [[ -n $array ]] && count=$(bash "$script" --count 2> /dev/null) && [[ $count =~ ^[0-9]+$ ]]; then
    array="0-$((count - 1))"
  fi
fi
ids=()
if [[ -n $array ]]; then
  IFS=, read -ra parts <<< "$array"
  for part in "${parts[@]}"; do
    step=1
    [[ $part == *:* ]] && { step=${part#*:}; part=${part%%:*}; }
    if [[ $part == *-* ]]; then
      for ((k = ${part%-*}; k <= ${part#*-}; k += step)); do ids+=("$k"); done
    else
      ids+=("$part")
    fi
  done
fi

job=local$$
mkdir -p "$logdir"
nodefile=$(mktemp)
trap 'rm -f "$nodefile"' EXIT
for ((k = 0; k < ntasks; k++)); do hostname; done > "$nodefile"

run_one() {  # run_one <task id or empty>
  local id=$1 name log
  name=$(basename "$script")
  name=${name%.*}
  log=$logdir/$name-$job${id:+_$id}.out
  (
    if [[ $flavour == slurm ]]; then
      # Not SLURM_JOB_ID / SLURM_JOBID: MPI launchers (OpenMPI, MPICH) take them as "inside a Slurm
      # allocation" and ask Slurm for nodes. The scripts read LOCAL_JOB_ID as a fallback.
      export LOCAL_JOB_ID=$job SLURM_SUBMIT_DIR=$PWD SLURM_NTASKS=$ntasks SLURM_NPROCS=$ntasks
      export SLURM_NNODES=1 SLURM_JOB_NUM_NODES=1 SLURM_CPUS_ON_NODE=$ntasks SLURM_JOB_NAME=$name
      if [[ -n $id ]]; then
        export SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_COUNT=${#ids[@]}
        export SLURM_ARRAY_TASK_MIN=${ids[0]} SLURM_ARRAY_TASK_MAX=${ids[-1]}
      fi
    else
      # PBS_JOBID without PBS_ENVIRONMENT: OpenMPI's PBS (tm) support stays off, mpiexec runs locally.
      export PBS_JOBID=$job PBS_JOBNAME=$name PBS_O_WORKDIR=$PWD PBS_NODEFILE=$nodefile PBS_NP=$ntasks NCPUS=$ntasks
      [[ -n $id ]] && export PBS_ARRAY_INDEX=$id PBS_ARRAYID=$id
    fi
    # OpenMPI's session directory: one base per task. Tasks that run at once (--parallel) and share
    # one raced: an mpiexec that ended removed the base's ompi.<host>.<uid> while another was
    # creating its session there ("orte_session_dir failed", seen in cli_jobs_local).
    export OMPI_MCA_orte_tmpdir_base=$statusdir/mpi_tmp${id:+_$id}
    mkdir -p "$OMPI_MCA_orte_tmpdir_base"
    exec bash "$script" "$@"
  ) > "$log" 2>&1
}

statusdir=$(mktemp -d)
trap 'rm -rf "$nodefile" "$statusdir"' EXIT
if [[ ${#ids[@]} -eq 0 ]]; then ids=(""); fi
for id in "${ids[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge $parallel ]]; do wait -n || true; done
  { st=0; run_one "$id" "$@" || st=$?; echo $st > "$statusdir/${id:-job}"; } &
done
wait
fail=0
name=$(basename "${script%.*}")
for id in "${ids[@]}"; do
  if [[ $(cat "$statusdir/${id:-job}" 2> /dev/null) != 0 ]]; then
    echo "local_launch: task ${id:-job} of $(basename "$script") failed; end of its log:" >&2
    tail -n 20 "$logdir/$name-$job${id:+_$id}.out" >&2 || true
    fail=1
  fi
done
echo "local_launch: $(basename "$script"): ${#ids[@]} task(s) run, logs in $logdir/$name-$job*.out"
exit $fail
