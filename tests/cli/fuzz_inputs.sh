#!/usr/bin/env bash
# Fuzz corpus (tests/tools/fuzz_corpus.py): a few hundred malformed inputs — every input key without
# a value, of the wrong type, NaN, inf, negative, huge, given twice; truncated, binary, empty and
# deeply nested input files; missing, directory, FIFO and unwritable paths; HDF5 files of the later
# stages truncated, with flipped bytes, a dataset deleted or of the wrong shape or type, NaN
# positions, coincident beads, a box smaller than the cutoff; broken LAMMPS data for [pack] from.
# Every case must end with exit status exactly 1 (not a signal, not a timeout), exactly one line
# starting with "tlsmap: error" that names the file and the key or dataset, and its directory
# exactly as before (no output, no <output>.tmp, every pre-existing file byte for byte).
# About 20 cases run at 2 ranks. Cases run four at a time (they mostly wait on MPI start-up); a table of counts per category ends the
# log. Cases listed in the corpus's KNOWN (a fix due outside the validation work) count as XFAIL.
set -u
TLSMAP=$1 MPIEXEC=$2 SRC=$3
PYTHON=${TLSMAP_TEST_PYTHON:-/usr/bin/python3}
if ! "$PYTHON" -c "import h5py, numpy" 2> /dev/null; then
  echo "SKIP: $PYTHON with h5py and numpy is needed to make the corpus"
  [[ ${TLSMAP_REQUIRE_PEERS:-0} == 1 ]] && exit 1
  exit 77
fi
work=$(mktemp -d) && cd "$work"
trap 'if [[ ${TLSMAP_FUZZ_KEEP:-0} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi' EXIT
start=$SECONDS
"$PYTHON" "$SRC/tests/tools/fuzz_corpus.py" "$TLSMAP" "$work" || { echo "FAIL: could not make the corpus"; exit 1; }
mkdir -p logs results

# run_case DIR: run one case in its directory and write "category<TAB>verdict<TAB>name<TAB>why" to results/.
run_case() {
  local dir=$1
  (
    source "$dir/case.env"
    cd "$dir" || exit
    # Everything in the directory: type and path, and the checksum of regular files (never open a FIFO;
    # one md5sum for all of them, not one process per file).
    snapshot() {
      find . -mindepth 1 ! -name case.env -printf '%y %p\n' | LC_ALL=C sort
      find . -mindepth 1 -type f ! -name case.env -exec md5sum {} + 2>&1 | LC_ALL=C sort
    }
    local before after rc why="" err="$work/logs/$name.err"
    before=$(snapshot)
    # Isolated singletons all call their session directory "job 0": one temp base per case.
    export OMPI_MCA_orte_tmpdir_base="$work/mpi_tmp/$name" && mkdir -p "$OMPI_MCA_orte_tmpdir_base"
    if [[ $np -gt 1 ]]; then
      timeout -k 5 20 "$MPIEXEC" -n "$np" "$TLSMAP" "${args[@]}" > "$work/logs/$name.out" 2> "$err" < /dev/null
    else
      timeout -k 5 20 "$TLSMAP" "${args[@]}" > "$work/logs/$name.out" 2> "$err" < /dev/null
    fi
    rc=$?
    after=$(snapshot)
    local lines first
    lines=$(grep -c '^tlsmap: error' "$err")
    first=$(grep -m1 '^tlsmap: error' "$err")
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then why="timeout (20 s)"
    elif [[ $rc -ne 1 ]]; then why="exit status $rc"
    elif [[ $lines -ne 1 ]]; then why="$lines lines start with 'tlsmap: error'"
    else
      for needle in "${needles[@]}"; do
        [[ $first == *"$needle"* ]] || { why="error line does not name '$needle'"; break; }
      done
    fi
    if [[ $before != "$after" ]]; then  # nothing written, nothing removed, nothing changed: checked in every case
      why="${why:+$why; }directory changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -3 | tr '\n' ' ')"
    fi
    local verdict=PASS
    if [[ -n $why ]]; then verdict=FAIL; [[ -n $known ]] && verdict=XFAIL; why="$why [np $np] ${first:0:160}"
    elif [[ -n $known ]]; then verdict=XPASS; why="passes now: remove it from KNOWN ($known)"; fi
    [[ $verdict == XFAIL ]] && why="$why -- known: $known"
    printf '%s\t%s\t%s\t%s\n' "$category" "$verdict" "$name" "$why" > "$work/results/$name"
  )
}
export -f run_case
export TLSMAP MPIEXEC work
find "$work/cases" -mindepth 1 -maxdepth 1 -type d | sort | xargs -P 4 -I{} bash -c 'run_case "$1"' _ {}

cat results/* > all.tsv
n_cases=$(find "$work/cases" -mindepth 1 -maxdepth 1 -type d | wc -l)
n_done=$(wc -l < all.tsv)
echo
awk -F'\t' '$2 != "PASS" { printf "%-6s %s: %s\n", $2, $3, $4 }' all.tsv
echo
awk -F'\t' '{ n[$1]++; c[$1, $2]++; t[$2]++; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  END {
    printf "| %-28s | %5s | %6s | %6s | %5s | %5s |\n", "category", "cases", "passed", "failed", "xfail", "xpass"
    printf "|%s|%s|%s|%s|%s|%s|\n", "------------------------------", "-------", "--------", "--------", "-------", "-------"
    for (i = 1; i <= k; i++) { g = order[i]
      printf "| %-28s | %5d | %6d | %6d | %5d | %5d |\n", g, n[g], c[g, "PASS"], c[g, "FAIL"], c[g, "XFAIL"], c[g, "XPASS"] }
    printf "| %-28s | %5d | %6d | %6d | %5d | %5d |\n", "all", NR, t["PASS"], t["FAIL"], t["XFAIL"], t["XPASS"]
  }' all.tsv
echo "$n_done of $n_cases cases ran in $((SECONDS - start)) s"
[[ $n_done -eq $n_cases ]] || { echo "FAIL: some cases left no result"; exit 1; }
! grep -q $'\tFAIL\t' all.tsv
