#!/usr/bin/env bash
# Format every C++ source of the project with .clang-format (clang-format >= 14, Debian 12).
# `bash scripts/format.sh --check` changes nothing and exits 1 listing the files that would change.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'src/*.cpp' 'include/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp')
if [[ ${1:-} == --check ]]; then
  clang-format --dry-run --Werror "${files[@]}" 2> /dev/null && { echo "format: ${#files[@]} files clean"; exit 0; }
  for f in "${files[@]}"; do clang-format --dry-run --Werror "$f" > /dev/null 2>&1 || echo "format: would change $f"; done
  exit 1
fi
clang-format -i "${files[@]}"
echo "format: ${#files[@]} files formatted"
