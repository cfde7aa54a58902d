"""Timing of the CSR kernel variants of docs/sparse.md (scipy.sparse vs NumPy).

python docs/scripts/csr_kernel_timing.py
"""

import time

import numpy as np
import scipy.sparse as sp

rng = np.random.default_rng(0)
m, n, k = 200_000, 1 << 20, 30
nnz = m * k
indptr = np.arange(0, nnz + 1, k, dtype=np.int64)
# zipf-like columns, sorted unique per row (approx: sort, ignore dupes for timing)
idx = (rng.zipf(1.3, size=nnz) % n).astype(np.int32).reshape(m, k)
idx.sort(axis=1)
indices = idx.ravel()
values = np.ones(nnz)
y = (rng.random(m) < 0.3).astype(float)
w = rng.normal(size=n) * 0.01


def t(f, reps=5):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


X = sp.csr_matrix((values, indices, indptr), shape=(m, n))


def scipy_pass():
    z = X @ w
    r = 1 / (1 + np.exp(-z)) - y
    return X.T @ r


def scipy_pass_rmatvec():
    z = X @ w
    r = 1 / (1 + np.exp(-z)) - y
    return X.T.dot(r)


def numpy_pass(chunk=None):
    rows = np.repeat(np.arange(m), np.diff(indptr))
    z = np.bincount(rows, weights=w[indices], minlength=m)
    r = 1 / (1 + np.exp(-z)) - y
    return np.bincount(indices, weights=r[rows], minlength=n)


def numpy_vals():
    rows = np.repeat(np.arange(m), np.diff(indptr))
    z = np.bincount(rows, weights=w[indices] * values, minlength=m)
    r = 1 / (1 + np.exp(-z)) - y
    return np.bincount(indices, weights=r[rows] * values, minlength=n)


def numpy_reduceat():
    z = np.add.reduceat(w[indices], indptr[:-1])  # no empty rows here
    r = 1 / (1 + np.exp(-z)) - y
    return np.bincount(indices, weights=np.repeat(r, np.diff(indptr)), minlength=n)


for name, f in [
    ("scipy", scipy_pass),
    ("numpy bincount binary", numpy_pass),
    ("numpy bincount values", numpy_vals),
    ("numpy reduceat binary", numpy_reduceat),
]:
    print(f"{name:28s} {t(f) * 1000:8.1f} ms")
a = scipy_pass()
b = numpy_pass()
print(np.abs(a - b).max())


def scipy_ones_alloc():
    ones = np.ones(nnz)
    Xo = sp.csr_matrix((ones, indices, indptr), shape=(m, n))
    z = Xo @ w
    r = 1 / (1 + np.exp(-z)) - y
    return Xo.T @ r


ONES = np.ones(max(1 << 20, n))


CHUNK_NNZ = max(1 << 20, n)


def scipy_chunked(vals=None, chunk_nnz=CHUNK_NNZ):
    g = np.zeros(n)
    start = 0
    while start < m:
        # rows so that chunk nnz ≈ chunk_nnz
        stop = int(np.searchsorted(indptr, indptr[start] + chunk_nnz, side="right")) - 1
        stop = max(stop, start + 1)
        stop = min(stop, m)
        lo, hi = indptr[start], indptr[stop]
        d = ONES[: hi - lo] if vals is None else vals[lo:hi]
        Xc = sp.csr_matrix(
            (d, indices[lo:hi], indptr[start : stop + 1] - lo), shape=(stop - start, n)
        )
        z = Xc @ w
        r = 1 / (1 + np.exp(-z)) - y[start:stop]
        g += Xc.T @ r
        start = stop
    return g


v32 = values.astype(np.float32)
X32 = sp.csr_matrix((v32, indices, indptr), shape=(m, n))


def scipy_f32():
    z = X32 @ w
    r = 1 / (1 + np.exp(-z)) - y
    return X32.T @ r


for name, f in [
    ("scipy ones alloc", scipy_ones_alloc),
    ("scipy chunked ones", scipy_chunked),
    ("scipy chunked values", lambda: scipy_chunked(values)),
    ("scipy f32", scipy_f32),
]:
    print(f"{name:28s} {t(f) * 1000:8.1f} ms")
print(np.abs(scipy_chunked() - scipy_pass()).max())
