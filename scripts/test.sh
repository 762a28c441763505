#!/usr/bin/env bash
# Install what is missing, build, and run the whole test suite through CTest (every MPI test at
# 1, 2 and 4 ranks). Extra arguments go to ctest (e.g. -R engine). Tests share the cores (ctest -j
# nproc): each MPI test declares its ranks (PROCESSORS), which ctest counts against those slots.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
