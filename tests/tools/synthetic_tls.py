"""A synthetic /tls catalogue for the stage tests (tests/cli/*.sh): one row per site bead, its mobile
set the beads within `reach` of that bead (minimum image), each moved in state B by a uniform random
displacement in [-amplitude, amplitude] per component (one numpy Generator, sites in order).

usage (from a test): PYTHONPATH="$SRC/tests/tools" python3 -c \
    'import synthetic_tls; synthetic_tls.write("glass.h5", [0, 250], 0.01, seed=5, radius=1.2)'
"""
import h5py
import numpy as np


def write(path, sites, amplitude, seed, radius, reach=1.0):
    """Add /tls (center, radius, mobile_offset, mobile_id, position_a, position_b) to the packed file."""
    with h5py.File(path, "r+") as f:
        pos = f["particles/all/position/value"][0]
        edges = f["particles/all/box/edges/value"][0]
        rng = np.random.default_rng(seed)
        off, ids, pa, pb = [0], [], [], []
        for s in sites:
            d = pos - pos[s]
            d -= edges * np.round(d / edges)
            sel = np.nonzero(np.linalg.norm(d, axis=1) < reach)[0]
            ids += (sel + 1).tolist()
            pa.append(pos[sel])
            pb.append(pos[sel] + rng.uniform(-amplitude, amplitude, (len(sel), 3)))
            off.append(len(ids))
        g = f.create_group("tls")
        g["center"] = pos[list(sites)]
        g["radius"] = np.full(len(sites), radius)
        g["mobile_offset"] = np.array(off, dtype=np.int64)
        g["mobile_id"] = np.array(ids, dtype=np.int64)
        g["position_a"] = np.concatenate(pa)
        g["position_b"] = np.concatenate(pb)
