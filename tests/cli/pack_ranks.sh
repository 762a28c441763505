#!/usr/bin/env bash
# `tlsmap pack` on a tiny glass at 1, 2 and 4 ranks: the files open in h5py with the documented
# layout, the minimum has max|F| <= 1e-10, and positions are identical bit for bit across rank counts
# and between the generic build of the force and list loops and the machine's best variant
# (TLSMAP_KERNEL_ISA, core/kernel_isa.hpp).
source "$(dirname "$0")/common.bash"
for np in 1 2 4; do
  cat > in$np.toml <<T
[run]
output = "np$np.h5"
seed = 7
log_every = 500
[system]
n_beads = 400
[pack]
equil_steps = 500
quench_steps = 500
T
  timeout 300 "$MPIEXEC" -n $np "$TLSMAP" pack in$np.toml > log$np.txt
  grep -q "wrote np$np.h5" log$np.txt
done
sed 's/np2.h5/generic.h5/' in2.toml > generic.toml
TLSMAP_KERNEL_ISA=generic timeout 300 "$MPIEXEC" -n 2 "$TLSMAP" pack generic.toml > log_generic.txt
echo "kernel variant of the other runs: $("$TLSMAP" --version)"
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
files = [h5py.File(f"{n}.h5", "r") for n in ("np1", "np2", "np4", "generic")]
f = files[0]
assert list(f["h5md"].attrs["version"]) == [1, 1]
pos = f["particles/all/position/value"]
assert pos.shape == (1, 400, 3), pos.shape
assert f["particles/all/id/value"][0].tolist() == list(range(1, 401))
assert f["particles/all/box"].attrs["boundary"].tolist() in ([b"periodic"] * 3, ["periodic"] * 3)
assert np.all(f["particles/all/charge/value"][0] == 0.0)
assert f["pack"].attrs["max_force"] <= 1e-10
trace = f["pack/quench_trace"]
assert trace.shape[1] == 5 and trace.shape[0] > 10
for g in files[1:]:
    for name in ("position", "species", "image"):
        a, b = f[f"particles/all/{name}/value"][()], g[f"particles/all/{name}/value"][()]
        assert np.array_equal(a, b), f"{name} differs between rank counts in {g.filename}"
    assert f["pack"].attrs["e_is_per_bead"] == g["pack"].attrs["e_is_per_bead"]
print("pack files identical at 1, 2, 4 ranks and with the generic kernels; e_IS =", f["pack"].attrs["e_is_per_bead"])
PY
