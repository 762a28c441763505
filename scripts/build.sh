#!/usr/bin/env bash
# Configure and build tlsmap (Release) in ./build. Extra arguments go to CMake's configure step.
# With CI set (and not "false"), compiler warnings are errors (-DTLSMAP_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
werror=()
if [[ -n "${CI:-}" && "${CI}" != "false" ]]; then werror=(-DTLSMAP_WERROR=ON); fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${werror[@]}" "$@" > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j "$(nproc)" >> build.log 2>&1 || { tail -50 build.log; exit 1; }
echo "build: ok (log in build.log; binary build/tlsmap)"
