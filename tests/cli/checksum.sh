#!/usr/bin/env bash
# Fletcher32 checksums (docs/file-format.md, "Checksums"): a file written by the real pipeline (pack,
# charge, search on a 250-bead glass, 2 ranks), then one byte flipped inside the raw data of a
# dataset (its chunk's offset from h5py): /particles/all/position/value (read by every stage) and
# /charge/bonds (read by dipole). The next stage, at 1 and 2 ranks, must end with exit status 1
# within 60 s (no hang), one "tlsmap: error" line naming the file, the dataset and the checksum, no
# HDF5 error stack, no <output>.tmp left, and the damaged file byte for byte as it was; the same
# stage on the undamaged file must succeed. Also: every dataset with data carries the filter.
source "$(dirname "$0")/common.bash"
PYTHON=${TLSMAP_TEST_PYTHON:-/usr/bin/python3}
if ! "$PYTHON" -c "import h5py" 2> /dev/null; then
  echo "SKIP: $PYTHON with h5py is needed to find a dataset's bytes"
  [[ ${TLSMAP_REQUIRE_PEERS:-0} == 1 ]] && exit 1
  exit 77
fi
input() {  # input OUTPUT
  tiny_tls_input "$1"
}
input good.h5 > good.toml
for stage in pack charge search; do
  timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" $stage good.toml > $stage.txt 2>&1 || { echo "FAIL $stage"; cat $stage.txt; exit 1; }
done

# Every non-empty dataset is chunked with the Fletcher32 filter; empty ones are contiguous.
"$PYTHON" - <<'PY'
import h5py
bad, n = [], 0
def visit(name, o):
    global n
    if isinstance(o, h5py.Dataset):
        n += 1
        if o.size > 0 and not (o.chunks and o.fletcher32): bad.append(name)
h5py.File("good.h5", "r").visititems(visit)
assert not bad, f"datasets without a checksum: {bad}"
print(f"all {n} datasets with data carry Fletcher32")
PY

# flip FILE DATASET: xor one byte in the middle of the dataset's first chunk (a one-byte change
# always changes the Fletcher32 sum: it changes one 16-bit word by 1..255 or 256..65280).
flip() {
  "$PYTHON" - "$1" "$2" <<'PY'
import sys, h5py
path, name = sys.argv[1], sys.argv[2]
with h5py.File(path, "r") as f:
    d = f[name]
    info = d.id.get_chunk_info(0)
    offset = info.byte_offset + info.size // 2
with open(path, "r+b") as f:
    f.seek(offset); b = f.read(1); f.seek(offset); f.write(bytes([b[0] ^ 0x10]))
print(f"flipped byte {offset} of {path} ({name}, chunk of {info.size} bytes at {info.byte_offset})")
PY
}

fail=0
# damaged NAME NP STAGE DATASET: the stage on a copy of good.h5 with DATASET damaged.
damaged() {
  local name=$1 np=$2 stage=$3 dset=$4 f=$1.h5
  cp good.h5 "$f" && flip "$f" "$dset" > /dev/null
  input "$f" > "$name.toml"
  cp "$f" before.h5
  local got=0 why=""
  timeout 60 "$MPIEXEC" -n "$np" "$TLSMAP" "$stage" "$name.toml" > out.txt 2> err.txt || got=$?
  if [[ $got -ne 1 ]]; then why="exit $got, want 1"
  elif [[ $(grep -c '^tlsmap: error' err.txt) -ne 1 ]]; then why="not exactly one 'tlsmap: error' line"
  elif ! grep '^tlsmap: error' err.txt | grep -qF "$f: $dset: data corrupted (checksum"; then why="message names no file, dataset and checksum"
  elif grep -q 'HDF5-DIAG\|H5D\.c\|#00' err.txt out.txt; then why="HDF5 error stack printed"
  elif [[ -e $f.tmp ]]; then why="$f.tmp left"
  elif ! cmp -s "$f" before.h5; then why="damaged file changed"
  fi
  if [[ -n $why ]]; then echo "FAIL $name at np $np: $why"; cat out.txt err.txt; fail=1
  else echo "ok   $name at np $np: $(grep '^tlsmap: error' err.txt)"; fi
  rm -f "$f" "$f.tmp" before.h5
}
for np in 1 2; do
  damaged position $np charge /particles/all/position/value
  damaged bonds $np dipole /charge/bonds
  # The undamaged file still works (a copy: the dipole stage adds its columns to it).
  cp good.h5 intact.h5 && input intact.h5 > intact.toml
  if timeout 120 "$MPIEXEC" -n $np "$TLSMAP" dipole intact.toml > out.txt 2>&1; then echo "ok   intact at np $np: dipole ran"
  else echo "FAIL intact at np $np: dipole failed on the undamaged file"; cat out.txt; fail=1; fi
done
exit $fail
