"""NumPy kernels: the partial sums of the logistic loss and its derivatives over one block.

Notation (DEVELOPERS.md). A block holds m_p samples; its features are stored row-major as
``X_p`` with shape (m_p, n_x) -- the transpose of the seed's column layout, so that each sample
is one contiguous row -- its labels as ``y_p`` in {0, 1} and optional sample weights ``v_p``
(1 when absent). For parameters (w, b)::

    z = X_p w + b            a = σ(z) = 1 / (1 + e^(−z))            r = a − y
    L(z, y) = log(1 + e^z) − y z  = −(y ln a + (1 − y) ln(1 − a))

``L`` is evaluated as softplus(z) − y z with softplus(z) = max(z, 0) + log1p(e^(−|z|)), which
never forms ln(σ(z)) and neither overflows nor loses digits for any finite z.

One call returns the block's partial sums (float64, whatever the storage dtype)::

    loss   = Σ v_i L(z_i, y_i)          grad_w = Σ v_i r_i x⁽ⁱ⁾   (= X(A−Y)ᵀ in the seed's layout)
    count  = Σ v_i                      grad_b = Σ v_i r_i        (= Σ(A−Y))
    correct = Σ v_i [1(z_i ≥ 0) = y_i]  (accuracy at threshold ½, free since z is at hand)

and, when asked, the pieces of the Hessian with d_i = a_i (1 − a_i)::

    hess_ww = Σ v_i d_i x⁽ⁱ⁾ x⁽ⁱ⁾ᵀ       hess_wb = Σ v_i d_i x⁽ⁱ⁾       hess_bb = Σ v_i d_i

With ``class_weight`` = (c₀, c₁) every v_i is further multiplied by c_{y_i}
(``train.class_weight = "balanced"``). Dividing by m = Σ count gives J, ∂J/∂w, ∂J/∂b of
DEVELOPERS.md. The block is read once: rows are processed in cache-sized chunks, computing z,
r and the chunk's contribution to Xᵀr while the chunk is still in cache. This module knows
nothing of Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Target size in bytes of one chunk of rows: 1 MiB stays in L2/L3 while z, a − y and Xᵀr are
#: formed, and amortizes the ~20 NumPy calls per chunk (measured: 512 KiB chunks cost ~10%
#: more per pass at 50 features; 4 MiB and up fall out of cache on this machine kind).
CHUNK_BYTES = 1 << 20


@dataclass
class BlockSums:
    """Partial sums of one or more blocks (see module docstring); add them to combine blocks."""

    loss: float
    grad_w: np.ndarray
    grad_b: float
    count: float
    rows: int
    correct: float = 0.0
    hess_ww: np.ndarray | None = field(default=None)
    hess_wb: np.ndarray | None = field(default=None)
    hess_bb: float | None = field(default=None)

    @classmethod
    def zeros(cls, n_features: int, hessian: bool = False) -> BlockSums:
        return cls(
            loss=0.0,
            grad_w=np.zeros(n_features),
            grad_b=0.0,
            count=0.0,
            rows=0,
            hess_ww=np.zeros((n_features, n_features)) if hessian else None,
            hess_wb=np.zeros(n_features) if hessian else None,
            hess_bb=0.0 if hessian else None,
        )

    @property
    def has_hessian(self) -> bool:
        return self.hess_ww is not None

    def __add__(self, other: BlockSums) -> BlockSums:
        both = self.has_hessian and other.has_hessian
        return BlockSums(
            loss=self.loss + other.loss,
            grad_w=self.grad_w + other.grad_w,
            grad_b=self.grad_b + other.grad_b,
            count=self.count + other.count,
            rows=self.rows + other.rows,
            correct=self.correct + other.correct,
            hess_ww=self.hess_ww + other.hess_ww if both else None,
            hess_wb=self.hess_wb + other.hess_wb if both else None,
            hess_bb=self.hess_bb + other.hess_bb if both else None,
        )


def sum_in_order(parts: list[BlockSums], n_features: int, hessian: bool = False) -> BlockSums:
    """Add partial sums left to right, so that the result does not depend on arrival order."""
    total = BlockSums.zeros(n_features, hessian)
    for part in parts:
        total = total + part
    return total


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z), stable for every finite z."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)) without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def _sigmoid_and_softplus(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) and softplus(z) from a single exponential."""
    e = np.exp(-np.abs(z))
    one_plus_e = 1.0 + e
    a = np.where(z >= 0, 1.0, e) / one_plus_e
    sp = np.maximum(z, 0.0) + np.log1p(e)
    return a, sp


def log_loss_terms(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample loss L(z, y) = softplus(z) − y z."""
    return softplus(z) - y * z


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
) -> BlockSums:
    """Partial sums of one dense block at (w, b), in one pass over X (see module docstring).

    ``X`` is (m_p, n_x), float64 or float32, C-contiguous; ``y`` and ``sample_weight`` are
    float64 vectors of length m_p. Accumulation is float64; for float32 storage each chunk's
    Xᵀr is formed in float32 and then added into the float64 total.
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
    count = 0.0
    correct = 0.0
    hess_bb = 0.0
    for start in range(0, m_p, step):
        stop = min(start + step, m_p)
        Xc = X[start:stop]
        yc = y[start:stop]
        z = (Xc @ w_x).astype(np.float64, copy=False) + b
        a, sp = _sigmoid_and_softplus(z)
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
            count += float(vc.sum())
            correct += float(vc @ hit)
        else:
            loss += float(terms.sum())
            count += float(stop - start)
            correct += float(np.count_nonzero(hit))
        grad_b += float(r.sum())
        total.grad_w += Xc.T @ r.astype(X.dtype, copy=False)
        if hessian:
            d = a * (1.0 - a)
            if vc is not None:
                d *= vc
            total.hess_wb += Xc.T @ d.astype(X.dtype, copy=False)
            hess_bb += float(d.sum())
            total.hess_ww += (Xc.T * d.astype(X.dtype, copy=False)) @ Xc
    total.loss = loss
    total.grad_b = grad_b
    total.count = count
    total.correct = correct
    if hessian:
        total.hess_bb = hess_bb
    return total
