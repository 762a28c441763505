# Sourced by the CLI tests (tests/cli/*.sh, run as `bash script.sh TLSMAP MPIEXEC SRC`): the
# arguments, a scratch directory removed on exit, and the input tables of a short KA glass.
set -eu
TLSMAP=$1 MPIEXEC=$2 SRC=$3
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT && cd "$work"

# glass_input OUTPUT SEED N_BEADS STEPS [SYSTEM_LINES]: [run], [system] (with any extra lines) and
# [pack] for STEPS equilibration and STEPS quench steps; callers append their own tables.
glass_input() {
  cat <<T
[run]
output = "$1"
seed = $2
log_every = 100000
[system]
n_beads = $3
${5:-}
[pack]
equil_steps = $4
quench_steps = $4
T
}
