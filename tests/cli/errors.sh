#!/usr/bin/env bash
# Bad input through the real executable at 1, 2 and 4 ranks: one clear message naming file, line
# and key; exit status 1; no output file (nor its temp file) left behind; no hang. `tlsmap run` with a
# bad later-stage input fails before it packs anything.
set -u
TLSMAP=$1 MPIEXEC=$2 SRC=$3
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT && cd "$work"
fail=0
check() {  # check <name> <np> <expected status> <expected substring> <args...>
  local name=$1 np=$2 want=$3 text=$4; shift 4
  timeout 120 "$MPIEXEC" -n "$np" "$TLSMAP" "$@" > out.txt 2> err.txt
  local got=$?
  if [[ $got -ne $want ]]; then echo "FAIL $name (np $np): exit $got, want $want"; cat out.txt err.txt; fail=1; return; fi
  if ! grep -qF -- "$text" err.txt out.txt; then echo "FAIL $name (np $np): no '$text' in output"; cat err.txt; fail=1; return; fi
  local n_msgs; n_msgs=$(grep -c "tlsmap: error" err.txt)
  if [[ $want -eq 1 && $n_msgs -ne 1 ]]; then echo "FAIL $name (np $np): $n_msgs error lines, want 1"; cat err.txt; fail=1; return; fi
  # (compgen: `ls a b` fails when either glob matches nothing, so it missed a lone x.h5)
  if compgen -G "./*.h5" > /dev/null || compgen -G "./*.tmp" > /dev/null; then
    echo "FAIL $name (np $np): output left behind"; ls; rm -f ./*.h5 ./*.tmp; fail=1; return
  fi
  echo "ok   $name (np $np)"
}
cat > bad_range.toml <<'T'
[run]
output = "x.h5"
[md]
dt = -0.1
T
cat > bad_key.toml <<'T'
[run]
output = "x.h5"
[system]
n_bead = 10
T
cat > bad_type.toml <<'T'
[run]
output = "x.h5"
[system]
n_beads = "many"
T
cat > small_box.toml <<'T'
[run]
output = "x.h5"
[system]
n_beads = 20
T
cat > few_iterations.toml <<'T'
[run]
output = "x.h5"
[system]
n_beads = 256
[pack]
equil_steps = 10
quench_steps = 10
[minimize]
max_iter = 3
T
# `tlsmap run` checks every stage's input before its first stage (src/main.cpp, check_run_input): an
# error of [interact], [search] (the domains against the box pack will make) or of the polar local
# model's cut-off stops it at once, with no packed file left behind.
printf '[run]\noutput = "x.h5"\n[system]\nn_beads = 1000\n[interact]\nfar = "dipole"\n' > run_interact.toml
printf '[run]\noutput = "x.h5"\n[system]\nn_beads = 300\n[search]\nxi = 12.0\n' > run_xi.toml
printf '[run]\noutput = "x.h5"\n[system]\nmodel = "polar-dimers"\nn_beads = 400\ndensity = 1.0\n[charge]\nmode = "active"\nzeta = 0.02\n' \
  > run_polar.toml
for np in 1 2 4; do
  check run-late-interact $np 1 "run_interact.toml: [interact] far = \"dipole\"" run run_interact.toml
  check run-late-xi $np 1 "run_xi.toml:6: key 'search.xi' = 12.0: domain radius" run run_xi.toml
  check run-late-polar-shell $np 1 "run_polar.toml: key 'search.shell': is the local model's Coulomb cut-off" run run_polar.toml
done
for np in 1 2 4; do
  check minimiser-cap $np 1 "in 3 iterations (max|F| = " pack few_iterations.toml
  check minimiser-cap-hint $np 1 "); raise minimize.max_iter" pack few_iterations.toml
  check out-of-range $np 1 "bad_range.toml:4: key 'md.dt'" pack bad_range.toml
  check unknown-key  $np 1 "bad_key.toml:4:" pack bad_key.toml
  check suggestion   $np 1 "did you mean 'system.n_beads'" pack bad_key.toml
  check wrong-type   $np 1 "bad_type.toml:4: key 'system.n_beads'" pack bad_type.toml
  check missing-file $np 1 "nonexistent.toml" pack nonexistent.toml
  check small-box    $np 1 "shorter than twice the interaction range" pack small_box.toml
  check unknown-stage $np 1 "unknown stage 'pak'" pak bad_range.toml
  export TLSMAP_KERNEL_ISA=avx9  # an instruction-set variant that does not exist (kernel_isa.hpp)
  check kernel-isa   $np 1 "TLSMAP_KERNEL_ISA = 'avx9'" pack bad_range.toml
  unset TLSMAP_KERNEL_ISA
done
check usage 1 2 "usage: tlsmap" pack
"$TLSMAP" --help | grep -q "stages:" || { echo "FAIL --help"; fail=1; }
"$TLSMAP" --help-input | grep -q "system.n_beads" || { echo "FAIL --help-input"; fail=1; }
exit $fail
