#!/usr/bin/python3
"""Independent enumeration of the LJ7 minima and transition states (reference for the event search).

Not tlsmap code: numpy/scipy only, a different method from tlsmap's activation-relaxation search.
Transition states are located by eigenvector following (partitioned rational-function steps, the
method of Cerjan & Miller and of Wales used for the published LJ_N stationary-point counts):
  * from every minimum along every one of its 15 internal Hessian modes, both directions, and
  * from many random compact configurations (uphill along the lowest mode),
then polished by Newton steps and kept if exactly one of the 15 internal eigenvalues is negative.
Minima come from random starts + L-BFGS. Everything is counted once per structure (permutations,
rotations, translations and inversion identified by energy and sorted pair distances).

Writes a table (energy, the minima each saddle connects by steepest descent) to stdout; its output
for the default arguments is tests/data/lj7_stationary_points.txt, which test_search_kernel reads.

    /usr/bin/python3 tests/reference/lj7_stationary_points.py [n_random] > tests/data/lj7_stationary_points.txt
"""
import sys

import numpy as np
from scipy.optimize import minimize

N = 7


def energy_gradient(x):
    p = x.reshape(N, 3)
    d = p[:, None, :] - p[None, :, :]
    s = (d * d).sum(-1)
    np.fill_diagonal(s, 1.0)
    inv6 = s ** -3
    e = 4.0 * (inv6 * inv6 - inv6)
    np.fill_diagonal(e, 0.0)
    a = 4.0 * (-12.0 * s ** -7 + 6.0 * s ** -4)  # φ'(r)/r
    np.fill_diagonal(a, 0.0)
    g = (a[:, :, None] * d).sum(1)
    return 0.5 * e.sum(), g.ravel()


def hessian(x):
    p = x.reshape(N, 3)
    h = np.zeros((3 * N, 3 * N))
    for i in range(N):
        for j in range(i + 1, N):
            d = p[i] - p[j]
            s = d @ d
            a = 4.0 * (-12.0 * s ** -7 + 6.0 * s ** -4)
            dads = 4.0 * (84.0 * s ** -8 - 24.0 * s ** -5)
            b = a * np.eye(3) + 2.0 * dads * np.outer(d, d)
            h[3 * i:3 * i + 3, 3 * i:3 * i + 3] += b
            h[3 * j:3 * j + 3, 3 * j:3 * j + 3] += b
            h[3 * i:3 * i + 3, 3 * j:3 * j + 3] -= b
            h[3 * j:3 * j + 3, 3 * i:3 * i + 3] -= b
    return h


def internal_basis(x):
    """Orthonormal basis (21 x 15) of the complement of the 6 rigid-body motions at x."""
    p = x.reshape(N, 3) - x.reshape(N, 3).mean(0)
    r = []
    for a in range(3):
        t = np.zeros((N, 3))
        t[:, a] = 1.0
        r.append(t.ravel())
        e = np.zeros(3)
        e[a] = 1.0
        r.append(np.cross(e, p).ravel())
    q, _ = np.linalg.qr(np.array(r).T, mode="complete")
    return q[:, 6:]


def internal(x):
    q = internal_basis(x)
    e, g = energy_gradient(x)
    b, v = np.linalg.eigh(q.T @ hessian(x) @ q)
    return e, q, q.T @ g, b, v


def eigenvector_follow(x, mode, max_step=0.1, max_iter=2000):
    """Uphill along the internal mode overlapping `mode` most, downhill along the others."""
    for _ in range(max_iter):
        if not np.all(np.isfinite(x)):
            return None
        f = fingerprint(x)
        if f[0] < 0.6 or f[-1] > 4.0:
            return None  # uphill into a collision, or a bead left the cluster
        e, q, g, b, v = internal(x)
        w = np.abs(v.T @ (q.T @ mode))
        k = int(np.argmax(w))
        mode = q @ v[:, k]
        gk = v.T @ g
        h = np.empty_like(gk)
        for i in range(len(b)):
            f = 2.0 * gk[i] / (abs(b[i]) + np.hypot(b[i], 2.0 * gk[i]))
            h[i] = f if i == k else -f
        step = q @ (v @ h)
        n = np.linalg.norm(step)
        if n > max_step:
            step *= max_step / n
        x = x + step
        if np.abs(g).max() < 1e-11:
            return x
    return None


def newton_polish(x, iters=5):
    for _ in range(iters):
        e, q, g, b, v = internal(x)
        if np.any(np.abs(b) < 1e-8):
            return None
        x = x - q @ (v @ ((v.T @ g) / b))
    return x


def fingerprint(x):
    p = x.reshape(N, 3)
    d = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))
    return np.sort(d[np.triu_indices(N, 1)])


class Catalogue:
    def __init__(self):
        self.items = []  # (energy, fingerprint, x)

    def add(self, x):
        e = energy_gradient(x)[0]
        f = fingerprint(x)
        for k, (ek, fk, _) in enumerate(self.items):
            if abs(ek - e) < 1e-7 and np.abs(fk - f).max() < 1e-4:
                return k
        self.items.append((e, f, x))
        return len(self.items) - 1


def minimise(x):
    r = minimize(lambda y: energy_gradient(y), x, jac=True, method="L-BFGS-B",
                 options={"gtol": 1e-12, "ftol": 0.0, "maxiter": 20000})
    y = newton_polish(r.x)
    return y if y is not None else r.x


def random_cluster(rng):
    while True:
        p = rng.uniform(-1.0, 1.0, (N, 3)) * 1.1
        d = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)) + 10 * np.eye(N)
        if d.min() > 0.75:
            return p.ravel()


def index_of(x):
    _, _, g, b, _ = internal(x)
    return int((b < 0).sum()), float(np.abs(g).max())


def main():
    n_random = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rng = np.random.default_rng(7)
    minima, saddles = Catalogue(), Catalogue()
    for _ in range(200):
        x = minimise(random_cluster(rng))
        n_neg, gmax = index_of(x)
        if n_neg == 0 and gmax < 1e-10:
            minima.add(x)

    found_by = {}  # saddle index -> set of routes that reached it

    def try_saddle(x, route):
        if x is None:
            return
        x = newton_polish(x)
        if x is None:
            return
        n_neg, gmax = index_of(x)
        if n_neg == 1 and gmax < 1e-10:
            found_by.setdefault(saddles.add(x), set()).add(route)

    for em, _, xm in list(minima.items):
        _, q, _, b, v = internal(xm)
        for k in range(len(b)):
            for sgn in (-1.0, 1.0):
                mode = q @ v[:, k]
                try_saddle(eigenvector_follow(xm + sgn * 0.05 * mode, mode), "modes")
    for _ in range(n_random):
        x = random_cluster(rng)
        _, q, _, b, v = internal(x)
        try_saddle(eigenvector_follow(x, q @ v[:, 0]), "random")

    # Steepest-descent connections: step off each saddle along its negative mode, minimise.
    print("# LJ7 (eps = sigma = 1, no cut-off): minima and first-order saddles, one per structure")
    print(f"# generated by tests/reference/lj7_stationary_points.py {n_random}")
    order_m = sorted(range(len(minima.items)), key=lambda k: minima.items[k][0])
    label = {k: i for i, k in enumerate(order_m)}
    for k in order_m:
        print(f"minimum {minima.items[k][0]:.8f}")
    for k in sorted(range(len(saddles.items)), key=lambda k: saddles.items[k][0]):
        e, _, xs = saddles.items[k]
        _, q, _, b, v = internal(xs)
        ends = []
        for sgn in (-1.0, 1.0):
            y = minimise(xs + sgn * 0.02 * (q @ v[:, 0]))
            ends.append(label.get(minima.add(y), -1))
        print(f"saddle {e:.8f} {min(ends)} {max(ends)}  # found by: {'+'.join(sorted(found_by[k]))}")


if __name__ == "__main__":
    main()
