"""The kernel of a CSR block: its :class:`~sparklr.kernels.BlockSums` in one pass over X_p.

A CSR block (:class:`CsrMatrix`) stores the non-zeros of X_p (m_p × n_x) row by row: row i's
column indices are ``indices[indptr[i]:indptr[i+1]]`` (ascending, unique) and its values the
same slice of ``values`` (float64 or float32). A *binary* block (every stored value 1.0, as
one-hot and hashed indicator data are) has ``values = None``: it stores no values at all, and
the kernel multiplies by an all-ones array, made once per process (:func:`ones`).

One pass: z = X_p w + b (a CSR mat-vec), a = σ(z), r = v ⊙ (a − y), then
grad_w = X_pᵀ r (the CSC mat-vec of the same arrays, no transpose copy), Σ r, Σ v L; every sum
float64 (float32 values are widened by scipy inside the mat-vecs).

Why scipy.sparse. Measured here (2 shared cores, 200,000 rows × 2²⁰ columns × 30 non-zeros
per row, Zipf column frequencies; z, r and Xᵀr, best of 5; /tmp script, numbers in ms)::

    scipy.sparse csr @ w, csr.T @ r (float64 values)           30.5
    scipy.sparse, binary: np.ones(nnz) made per call            38.6
    scipy.sparse, float32 values (widened in the mat-vec)       48.5
    scipy.sparse in row chunks of max(2²⁰, n_x) non-zeros       44.9   (a zeros(n_x) per chunk)
    NumPy: np.add.reduceat(w[indices], indptr) + np.bincount     64.8
    NumPy: np.bincount over row ids (np.repeat) both ways        86.0

so scipy.sparse, one mat-vec each way over the whole block (chunking rows only adds an
n_x-long temporary per chunk for Xᵀr, which is what made it slower: the block's z and r are
m_p doubles, small beside its non-zeros).

Hessian. ``hessian=True`` forms X_pᵀ D X_p as a dense n_x × n_x matrix (a sparse product,
then densified), allowed for n_x ≤ :data:`MAX_HESSIAN_FEATURES` only; above, a ValueError
names the limit (Newton's refusal of wide problems is the optimizer's, before any pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sparklr.kernels import FISHER, BlockSums, ScoreSummary, row_weights, sigmoid_and_softplus
from sparklr.kernels.multi import ColumnSums, MultiSums, check_models, chunk_rows_for_models

#: Largest n_x for which the CSR kernel forms the dense n_x × n_x Hessian (128 MiB of doubles).
MAX_HESSIAN_FEATURES = 4096


_ONES = np.ones(0)


def ones(n: int) -> np.ndarray:
    """n ones, read-only: a view of one array per process. A binary block's scipy view needs
    its values; a fresh np.ones per pass cost ~10 % of a CSR pass in page faults and writes
    (15M non-zeros: 19 of ~180 ms), so the ones are made once per Python worker and kept
    (8 bytes × the block's non-zeros). The array is remade at n when n exceeds it or is under
    half of it: scipy copies a view of less than half its base (its ``prune``), and the
    blocks a worker serves are of about one size."""
    global _ONES
    if not len(_ONES) // 2 <= n <= len(_ONES):
        _ONES = np.ones(n)
        _ONES.flags.writeable = False
    return _ONES[:n]


@dataclass(frozen=True)
class CsrMatrix:
    """X_p in CSR form (module docstring); ``values`` None = every stored value is 1.0."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray | None
    n_features: int

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def nbytes(self) -> int:
        """Bytes of the stored arrays (as ndarray.nbytes)."""
        arrays = (self.indptr, self.indices, self.values)
        return sum(a.nbytes for a in arrays if a is not None)

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1]) if len(self.indptr) else 0

    @property
    def binary(self) -> bool:
        return self.values is None

    def scipy(self) -> sp.csr_matrix:
        """The same arrays as a scipy CSR matrix (no copy of indices or values; a binary
        block's values are a read-only view of :func:`ones`)."""
        data = ones(self.nnz) if self.values is None else self.values
        return sp.csr_matrix(
            (data, self.indices, self.indptr), shape=(self.rows, self.n_features), copy=False
        )

    @classmethod
    def of_dense(cls, X: np.ndarray, binary_ok: bool = True) -> CsrMatrix:
        """The CSR form of a dense matrix (tests, and the dense-vs-CSR comparisons)."""
        A = sp.csr_matrix(X)
        A.sort_indices()
        values = None if binary_ok and np.all(A.data == 1.0) else A.data
        return cls(A.indptr.astype(np.int64), A.indices.astype(np.int32), values, X.shape[1])


def block_sums(
    X: CsrMatrix,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    sample_weight: np.ndarray | None = None,
    *,
    hessian: bool = False,
    class_weight: tuple[float, float] | None = None,
    curvature: str = FISHER,
) -> BlockSums:
    """Partial sums of one CSR block at (w, b), in one pass (see module docstring)."""
    n = X.n_features
    if hessian:
        _check_hessian_width(n)
    total = BlockSums.zeros(n, hessian)
    total.rows = X.rows
    if X.rows == 0:
        return total
    A = X.scipy()
    z = A @ np.asarray(w, dtype=np.float64) + b
    a, softplus = sigmoid_and_softplus(z)
    r = a - y
    terms = softplus - y * z
    hit = (z >= 0) == (y == 1)
    v = row_weights(y, sample_weight, class_weight)
    if v is None:
        total.loss = float(terms.sum())
        total.weight_sum = float(X.rows)
        total.correct = float(np.count_nonzero(hit))
    else:
        r = r * v
        total.loss = float(v @ terms)
        total.weight_sum = float(v.sum())
        total.correct = float(v @ hit)
    total.grad_b = float(r.sum())
    total.grad_w = A.T @ r
    if hessian:
        d = a * (1.0 - a) if curvature == FISHER else np.square(a - y)
        if v is not None:
            d = d * v
        total.hess_wb = A.T @ d
        total.hess_bb = float(d.sum())
        total.hess_ww = _weighted_gram(A, d)
    return total


def _check_hessian_width(n: int) -> None:
    if n > MAX_HESSIAN_FEATURES:
        raise ValueError(
            f"the CSR kernel forms the Hessian only for n_x ≤ {MAX_HESSIAN_FEATURES} "
            f"(got {n}); use a first-order optimizer (lbfgs)"
        )


def _weighted_gram(A: sp.csr_matrix, d: np.ndarray) -> np.ndarray:
    """Aᵀ diag(d) A, dense (n_x × n_x)."""
    return (A.T @ A.multiply(d[:, None]).tocsr()).toarray()


def multi_block_sums(
    X: CsrMatrix,
    y: np.ndarray,
    v: np.ndarray | None,
    f: np.ndarray | None,
    W: np.ndarray,
    B: np.ndarray,
    folds: np.ndarray,
    *,
    class_weight: tuple[float, float] | None = None,
    hessian: bool = False,
) -> MultiSums:
    """The sums of the K' models (W, B, ``folds``) of :mod:`sparklr.kernels.multi` over one
    CSR block: Z = X_p W + B and X_pᵀ(R ⊙ V), one sparse × dense product each way; with
    ``hessian`` also X_pᵀ D and X_pᵀ diag(d_j) X_p per model j, as :func:`block_sums`."""
    W = np.asarray(W, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    folds = np.asarray(folds, dtype=np.int64)
    check_models(W, B, folds, X.n_features)
    if hessian:
        _check_hessian_width(X.n_features)
    total = MultiSums.zeros(X.n_features, len(B), hessian)
    if X.rows == 0:
        return total
    A = X.scipy()
    Z = np.asarray(A @ W)
    Z += B
    step = chunk_rows_for_models(len(B))
    columns = ColumnSums(y, v, f, folds, class_weight, step, hessian)
    D = np.empty_like(Z) if hessian else None
    for start in range(0, X.rows, step):
        rows = slice(start, start + step)
        _, D_c = columns.add(Z[rows], start, out=Z[rows])  # Z's rows become R ⊙ V
        if hessian:
            D[rows] = D_c
    columns.finish(total)
    total.grad_w += np.asarray(A.T @ Z)
    if hessian:
        total.hess_wb += np.asarray(A.T @ D)
        for j in range(len(B)):
            total.hess_ww[j] += _weighted_gram(A, D[:, j])
    return total


def score_summary(
    X: CsrMatrix, y: np.ndarray, w: np.ndarray, b: float, *, exact_auc: bool = False
) -> ScoreSummary:
    """The block's :class:`~sparklr.kernels.ScoreSummary` at raw (w, b), unweighted: the
    margins z = X_p w + b in one mat-vec, then :meth:`ScoreSummary.of_margins`."""
    if X.rows == 0:
        return ScoreSummary.zeros()
    z = X.scipy() @ np.asarray(w, dtype=np.float64) + b
    return ScoreSummary.of_margins(z, y, exact_auc=exact_auc)


def gram_sums(
    X: CsrMatrix, v: np.ndarray | None, w: np.ndarray, b: float
) -> tuple[np.ndarray, float, float]:
    """(Σ v_i z_i x⁽ⁱ⁾, Σ v_i z_i, Σ v_i) with z = X_p w + b: one block's share of the
    product of the (uncentred) Gram matrix Σ v [x; 1][x; 1]ᵀ with (w, b), for the power
    iteration of :func:`sparklr.objective.gram_power_bound`."""
    if X.rows == 0:
        return np.zeros(X.n_features), 0.0, 0.0
    A = X.scipy()
    z = A @ np.asarray(w, dtype=np.float64) + b
    if v is not None:
        z = z * v
    return A.T @ z, float(z.sum()), float(X.rows if v is None else v.sum())
