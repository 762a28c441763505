#!/usr/bin/env bash
# The main job: install what is missing, build, run `tlsmap run` on the default input
# (inputs/default.toml) on NP ranks (default 2), then the report (postprocess/tlsmap-report).
# Output goes to out/default/: the HDF5 file and report/ (report.md and the PNG figures).
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
h5=$(pwd)/$(grep -E '^output' ../../inputs/default.toml | sed -E 's/.*"(.*)".*/\1/')
echo "run: done; output file: $h5"
/usr/bin/python3 ../../postprocess/tlsmap-report report "$h5"
echo "report: $(pwd)/report/report.md (figures: $(pwd)/report/*.png)"
