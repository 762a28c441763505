#!/usr/bin/env bash
# The main job: install what is missing, build, and run `tlsmap run` on the default input
# (inputs/default.toml) on NP ranks (default 2). Output goes to out/default/.
set -euo pipefail
cd "$(dirname "$0")/.."
NP=${NP:-2}
bash scripts/setup.sh
bash scripts/build.sh
source scripts/mpi_env.sh
mkdir -p out/default
cd out/default
echo "run: mpiexec -n $NP tlsmap run inputs/default.toml (in out/default/)"
mpiexec -n "$NP" ../../build/tlsmap run ../../inputs/default.toml
echo "run: done; output file: $(pwd)/$(grep -E '^output' ../../inputs/default.toml | sed -E 's/.*"(.*)".*/\1/')"
