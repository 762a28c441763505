#!/usr/bin/env bash
# The folders follow the layers of docs/architecture.md: tests/tools/check_layers.py finds no
# violation in the source tree, and it does find each kind of violation when one is planted in a
# copy of the tree (so a checker that matched nothing would fail here):
#   an upward include (core -> md), a same-layer include (md -> electrostatics), physics including
#   a file-access header (search -> io/h5md.hpp), an HDF5 call outside h5md.cpp, a stage including
#   another stage off the documented edges, a source file outside the layer folders.
# Needs no MPI and no build: never skipped.
set -u
SRC=$3
check="/usr/bin/python3 $SRC/tests/tools/check_layers.py"
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT
fail=0
out=$($check "$SRC") || { echo "FAIL: violations in the tree:"; echo "$out"; fail=1; }
n=$(find "$SRC/src" "$SRC/include/tlsmap" -name '*.[ch]pp' | wc -l)
[ "$n" -ge 50 ] || { echo "FAIL: only $n files under src/ and include/tlsmap/"; fail=1; }

plant() {  # plant NAME FILE LINE EXPECTED_MESSAGE_FRAGMENT
  rm -rf "$work/t" && mkdir -p "$work/t" && cp -r "$SRC/src" "$SRC/include" "$work/t/"
  printf '%s\n' "$3" >> "$work/t/$2"
  out=$($check "$work/t")
  if [ $? -ne 1 ] || ! grep -qF "$4" <<< "$out"; then
    echo "FAIL: planted '$1' not reported (wanted '$4'):"; echo "$out"; fail=1
  else
    echo "ok: planted '$1' reported"
  fi
}
plant upward src/core/box.cpp '#include "tlsmap/md/system.hpp"' "core includes md/system.hpp"
plant same-layer src/md/forces.cpp '#include "tlsmap/electrostatics/coulomb.hpp"' "md includes electrostatics/coulomb.hpp"
plant file-access src/search/relax.cpp '#include "tlsmap/io/h5md.hpp"' "file-access header io/h5md.hpp"
plant hdf5-call src/io/catalogue.cpp 'static void f(hid_t d) { H5Dclose(d); }' "HDF5 outside"
plant stage-edge src/stages/charge.cpp '#include "tlsmap/stages/pack.hpp"' "stage charge includes stage pack"
plant stray-file src/stray.cpp '// a file at src/' "only main.cpp sits at src/"
exit $fail
