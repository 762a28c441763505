#!/usr/bin/env bash
# `tlsmap energy FILE --epsilon E` on a charged glass (250 beads, ζ = 0.3): the Coulomb energy is
# q_i q_j /(ε r) summed, so at ε = 2 every part (real space, grid, self) is half its ε = 1 value and
# at ε = 4 a quarter — the reference is that physical law, not another run of the same formula; the
# LJ part is unchanged bit for bit. Tolerances: real space and self term 1e-14 relative (the same sums
# divided by ε), grid part and total 1e-7 relative (KSP rtol 1e-8 of each solve). Forces (LJ +
# Coulomb): F(1) − F(2) = F_C/2 and F(2) − F(4) = F_C/4, so the two differences agree to
# 2e-7 · max|F(1) − F(2)|. Catches a 1/ε missing from any part (e.g. the self term) or applied twice.
source "$(dirname "$0")/common.bash"
{ glass_input glass.h5 3 250 200; printf '[charge]\nzeta = 0.3\n'; } > in.toml
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" pack in.toml > pack.txt
timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" charge in.toml > charge.txt
for eps in 1 2 4; do
  timeout 120 "$MPIEXEC" -n 2 "$TLSMAP" energy glass.h5 --json --forces f$eps.txt --epsilon $eps > e$eps.json
done
/usr/bin/python3 - <<'PY'
import json, numpy as np
e = {k: json.load(open(f"e{k}.json")) for k in (1, 2, 4)}
f = {k: np.loadtxt(f"f{k}.txt")[:, 1:] for k in (1, 2, 4)}
c1 = e[1]["coulomb"]
assert c1 != 0 and e[1]["coulomb_self"] < 0, e[1]
worst = {}
for k in (2, 4):
    assert e[k]["lj"] == e[1]["lj"], (k, e[k]["lj"], e[1]["lj"])
    for part, tol in (("coulomb_real", 1e-14), ("coulomb_self", 1e-14), ("coulomb_reciprocal", 1e-7), ("coulomb", 1e-7)):
        got, want = e[k][part], e[1][part] / k
        assert abs(got - want) <= tol * abs(want), (k, part, got, want, abs(got / want - 1))
        worst[part] = max(worst.get(part, 0.0), abs(got / want - 1))
    assert abs(e[k]["total"] - e[k]["lj"] - e[k]["coulomb"]) <= 1e-12 * abs(e[k]["total"])
d12, d24 = f[1] - f[2], f[2] - f[4]  # F_C/2 and F_C/4
scale = np.abs(d12).max()
assert scale > 1e-6, "the Coulomb forces vanish: nothing tested"
err = np.abs(d12 - 2 * d24).max() / scale
assert err <= 2e-7, err
print(f"ok   energy --epsilon: coulomb {c1:.10g} (eps 1), {e[2]['coulomb']:.10g} (eps 2, ratio "
      f"{e[2]['coulomb'] / c1:.10f}), {e[4]['coulomb']:.10g} (eps 4, ratio {e[4]['coulomb'] / c1:.10f}); "
      f"self {e[1]['coulomb_self']:.8g} -> {e[2]['coulomb_self']:.8g}; largest |E(eps)/(E(1)/eps) - 1|: "
      + ", ".join(f"{p} {v:.1e}" for p, v in worst.items()) + f"; forces: max|dF(1,2) - 2 dF(2,4)| / max|dF(1,2)| = {err:.1e}")
PY
