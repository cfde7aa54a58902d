"""The kernel of a dense block: its :class:`~sparklr.kernels.BlockSums` in one pass over X_p.

A dense block stores its features row-major as ``X_p`` with shape (m_p, n_x) -- the transpose
of the seed's column layout, so that each sample is one contiguous row -- in float64 or
float32. Then z = X_p w + b for the whole block, and grad_w = X_pᵀ (v ⊙ r) (see
:mod:`sparklr.kernels` for the sums).

The block is read once: rows are processed in chunks of about :data:`CHUNK_BYTES`, computing z,
r and the chunk's contribution to X_pᵀr (and to the Hessian pieces) while the chunk is still in
cache. Accumulation is float64; for float32 storage each chunk's X_pᵀr is formed in float32 and
then added into the float64 total. :func:`score_summary` reads the block the same way.
"""

from __future__ import annotations

import numpy as np

from sparklr.kernels import (
    AUC_BINS,
    FISHER,
    HISTOGRAM_BINS,
    AucTally,
    BlockSums,
    ScoreSummary,
    probability_bins,
    sigmoid_and_softplus,
)
from sparklr.kernels.multi import ColumnSums, MultiSums, check_models, chunk_rows_for_models

#: Target size in bytes of one chunk of rows: 1 MiB stays in L2/L3 while z, a − y and Xᵀr are
#: formed, and amortizes the ~20 NumPy calls per chunk (measured: 512 KiB chunks cost ~10%
#: more per pass at 50 features; 4 MiB and up fall out of cache on this machine kind).
CHUNK_BYTES = 1 << 20


def chunk_rows_for(n_features: int, itemsize: int = 8) -> int:
    """Rows per chunk so that one chunk of X is about CHUNK_BYTES."""
    return max(64, CHUNK_BYTES // max(1, n_features * itemsize))


def block_sums(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    sample_weight: np.ndarray | None = None,
    *,
    hessian: bool = False,
    chunk_rows: int | None = None,
    class_weight: tuple[float, float] | None = None,
    curvature: str = FISHER,
) -> BlockSums:
    """Partial sums of one dense block at (w, b), in one pass over X (see module docstring).

    ``X`` is (m_p, n_x), float64 or float32, C-contiguous; ``y`` and ``sample_weight`` are
    float64 vectors of length m_p.
    """
    m_p, n = X.shape
    total = BlockSums.zeros(n, hessian)
    total.rows = m_p
    if m_p == 0:
        return total
    w_x = np.ascontiguousarray(w, dtype=X.dtype)
    step = chunk_rows or chunk_rows_for(n, X.dtype.itemsize)
    loss = 0.0
    grad_b = 0.0
    weight_sum = 0.0
    correct = 0.0
    hess_bb = 0.0
    for start in range(0, m_p, step):
        stop = min(start + step, m_p)
        Xc = X[start:stop]
        yc = y[start:stop]
        z = (Xc @ w_x).astype(np.float64, copy=False) + b
        a, sp = sigmoid_and_softplus(z)
        r = a - yc
        terms = sp - yc * z
        hit = (z >= 0) == (yc == 1)
        if class_weight is not None:
            vc = np.where(yc == 1, class_weight[1], class_weight[0])
            if sample_weight is not None:
                vc = vc * sample_weight[start:stop]
        elif sample_weight is not None:
            vc = sample_weight[start:stop]
        else:
            vc = None
        if vc is not None:
            r *= vc
            loss += float(vc @ terms)
            weight_sum += float(vc.sum())
            correct += float(vc @ hit)
        else:
            loss += float(terms.sum())
            weight_sum += float(stop - start)
            correct += float(np.count_nonzero(hit))
        grad_b += float(r.sum())
        total.grad_w += Xc.T @ r.astype(X.dtype, copy=False)
        if hessian:
            d = a * (1.0 - a) if curvature == FISHER else np.square(a - yc)
            if vc is not None:
                d *= vc
            total.hess_wb += Xc.T @ d.astype(X.dtype, copy=False)
            hess_bb += float(d.sum())
            total.hess_ww += (Xc.T * d.astype(X.dtype, copy=False)) @ Xc
    total.loss = loss
    total.grad_b = grad_b
    total.weight_sum = weight_sum
    total.correct = correct
    if hessian:
        total.hess_bb = hess_bb
    return total


def multi_block_sums(
    X: np.ndarray,
    y: np.ndarray,
    v: np.ndarray | None,
    f: np.ndarray | None,
    W: np.ndarray,
    B: np.ndarray,
    folds: np.ndarray,
    *,
    class_weight: tuple[float, float] | None = None,
    hessian: bool = False,
    chunk_rows: int | None = None,
) -> MultiSums:
    """The sums of the K' models (W, B, ``folds``) of :mod:`sparklr.kernels.multi` over one
    dense block, chunk by chunk as :func:`block_sums`: per chunk Z = X_c W + B and
    X_cᵀ(R ⊙ V), two BLAS-3 products on the chunk while it is in cache (and with ``hessian``
    the chunk's curvature products, :func:`_add_multi_hessians`)."""
    m_p, n = X.shape
    W = np.asarray(W, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    folds = np.asarray(folds, dtype=np.int64)
    check_models(W, B, folds, n)
    total = MultiSums.zeros(n, len(B), hessian)
    W_x = np.ascontiguousarray(W, dtype=X.dtype)
    step = chunk_rows or min(chunk_rows_for(n, X.dtype.itemsize), chunk_rows_for_models(len(B)))
    columns = ColumnSums(y, v, f, folds, class_weight, step, hessian)
    Z = np.empty((min(step, m_p), len(B)))
    for start in range(0, m_p, step):
        stop = min(start + step, m_p)
        Xc, Zc = X[start:stop], Z[: stop - start]
        if X.dtype == np.float64:
            np.matmul(Xc, W_x, out=Zc)
        else:
            Zc[:] = Xc @ W_x
        Zc += B
        R, D = columns.add(Zc, start)
        total.grad_w += Xc.T @ R.astype(X.dtype, copy=False)
        if D is not None:
            _add_multi_hessians(total, Xc, D)
    columns.finish(total)
    return total


def _add_multi_hessians(total: MultiSums, Xc: np.ndarray, D: np.ndarray) -> None:
    """A chunk's curvature products into ``total``: X_cᵀ D into hess_wb (one BLAS-3
    product), (X_c ⊙ d_j)ᵀ X_c into hess_ww[j] per model j, formed in the storage dtype as
    :func:`block_sums` forms its own."""
    D_x = D.astype(Xc.dtype, copy=False)
    total.hess_wb += Xc.T @ D_x
    for j in range(D.shape[1]):
        total.hess_ww[j] += (Xc.T * D_x[:, j]) @ Xc


def score_summary(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    *,
    exact_auc: bool = False,
    chunk_rows: int | None = None,
) -> ScoreSummary:
    """The block's :class:`~sparklr.kernels.ScoreSummary` at raw (w, b), unweighted, in one
    pass over X: z = X_p w + b, p = σ(z), Σ L, the histograms. The AUC tally's keys are p
    (``exact_auc``) or the bins ⌊p · AUC_BINS⌋."""
    m_p, n = X.shape
    total = ScoreSummary.zeros()
    if m_p == 0:
        return total
    w_x = np.ascontiguousarray(w, dtype=X.dtype)
    step = chunk_rows or chunk_rows_for(n, X.dtype.itemsize)
    keys = np.empty(m_p, dtype=np.float64 if exact_auc else np.int64)
    loss = 0.0
    for start in range(0, m_p, step):
        stop = min(start + step, m_p)
        yc = y[start:stop]
        z = (X[start:stop] @ w_x).astype(np.float64, copy=False) + b
        p, sp = sigmoid_and_softplus(z)
        loss += float((sp - yc * z).sum())
        total.correct += int(np.count_nonzero((z >= 0) == (yc == 1)))
        coarse = probability_bins(p, HISTOGRAM_BINS)
        total.count += np.bincount(coarse, minlength=HISTOGRAM_BINS)
        total.bin_positives += np.bincount(coarse[yc == 1], minlength=HISTOGRAM_BINS)
        total.sum_probability += np.bincount(coarse, weights=p, minlength=HISTOGRAM_BINS)
        keys[start:stop] = p if exact_auc else probability_bins(p, AUC_BINS)
    total.rows = m_p
    total.loss = loss
    total.positives = int(np.count_nonzero(y == 1))
    total.tally = AucTally.of(keys, y, exact=True) if exact_auc else AucTally.of_bins(keys, y)
    return total


def gram_sums(
    X: np.ndarray, v: np.ndarray | None, w: np.ndarray, b: float
) -> tuple[np.ndarray, float, float]:
    """(Σ v_i z_i x⁽ⁱ⁾, Σ v_i z_i, Σ v_i) with z = X_p w + b, chunk by chunk (see
    :func:`sparklr.kernels.csr.gram_sums`)."""
    m_p, n = X.shape
    out = np.zeros(n)
    total_z = 0.0
    step = chunk_rows_for(n, X.dtype.itemsize)
    for start in range(0, m_p, step):
        Xc = X[start : start + step].astype(np.float64, copy=False)
        z = Xc @ w + b
        if v is not None:
            z *= v[start : start + step]
        out += Xc.T @ z
        total_z += float(z.sum())
    return out, total_z, float(m_p if v is None else v.sum())
