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

# tiny_tls_input OUTPUT [N]: glass_input of 250 beads (seed 7, 200 + 200 steps) and [search], [dipole]
# tables for a quick catalogue: N domains (default 1) with N attempts each, a 0.25 σ dipole grid.
# Callers append or prepend their own tables ([charge], ...).
tiny_tls_input() {
  local n=${2:-1}
  glass_input "$1" 7 250 200
  cat <<T
[search]
xi = 3.5
spacing = 3.0
max_domains = $n
max_attempts = $n
stop_after_stale = $n
neb_images = 6
[dipole]
spacing = 0.25
radius_factor = 1.2
convergence_tls = 0
T
}
