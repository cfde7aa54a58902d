"""The partial sums of several models over one block, from one read of X (K-fold CV in lockstep).

K' models j = 0 … K'−1 with parameters (w_j, b_j) — the columns of W (n_x × K') and the
entries of B — share the block's rows, each with its own row weights: model j has a fold
k_j, and sums only its training rows f ≠ k_j (k_j = :data:`ALL_ROWS` = −1 for the full-data
model, which no fold id equals). For the block's fold ids f (int8, from the build)::

    Z = X W + B                 (one BLAS-3 product: X is read once for all K' models)
    A = σ(Z),  R = A − y,  T = L(Z, y) = softplus(Z) − y ⊙ Z        (elementwise, m_p × K')
    V_ij = v_i c_{y_i} [f_i ≠ k_j]                                 (v = 1 unweighted, c = 1
                                                                    without class weights)

and per model j (column j; :class:`MultiSums`)::

    loss_j = Σ_i V_ij T_ij       grad_w[:, j] = Xᵀ (R ⊙ V)[:, j]   (one more BLAS-3 product)
    grad_b_j = Σ_i V_ij R_ij     weight_sum_j = Σ_i V_ij       rows_j = #{i : f_i ≠ k_j}
    correct_j = Σ_i V_ij [1(z_ij ≥ 0) = y_i]

— column j is model j's :class:`~sparklr.kernels.BlockSums` (:meth:`MultiSums.model`), the
same as the single-model kernel with the sample weights v ⊙ [f ≠ k_j]. Nearly free beside
them, the held-out log-loss at the same point, unweighted per row as the model's metrics::

    held_loss_j = Σ_{i : f_i = k_j} T_ij       held_rows_j = #{i : f_i = k_j}

Column j's numbers depend on X, y, v, f and column j alone; with the same shape of W and the
same column they are bit-identical whatever the other columns hold (a GEMM's summation order
per element depends on the shapes, not the values), which the lockstep driver relies on
(:mod:`sparklr.tuning.lockstep`). No Hessian: Newton runs the folds one after another.

The block types' kernels: :func:`sparklr.kernels.dense.multi_block_sums`,
:func:`sparklr.kernels.csr.multi_block_sums`; both form Z and Xᵀ(R ⊙ V) and share
:func:`column_sums` for everything elementwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparklr.kernels import BlockSums, sigmoid_and_softplus

#: k_j of the full-data model: every row is a training row, none is held out.
ALL_ROWS = -1


@dataclass
class MultiSums:
    """The sums of K' models over one or more blocks (module docstring); they add."""

    loss: np.ndarray
    #: n_x × K': column j is model j's Σ v r x.
    grad_w: np.ndarray
    grad_b: np.ndarray
    weight_sum: np.ndarray
    rows: np.ndarray
    correct: np.ndarray
    held_loss: np.ndarray
    held_rows: np.ndarray

    @classmethod
    def zeros(cls, n_features: int, models: int) -> MultiSums:
        z = np.zeros(models)
        return cls(
            z.copy(),
            np.zeros((n_features, models)),
            z.copy(),
            z.copy(),
            np.zeros(models, dtype=np.int64),
            z.copy(),
            z.copy(),
            np.zeros(models, dtype=np.int64),
        )

    def __add__(self, other: MultiSums) -> MultiSums:
        return MultiSums(
            self.loss + other.loss,
            self.grad_w + other.grad_w,
            self.grad_b + other.grad_b,
            self.weight_sum + other.weight_sum,
            self.rows + other.rows,
            self.correct + other.correct,
            self.held_loss + other.held_loss,
            self.held_rows + other.held_rows,
        )

    def model(self, j: int) -> BlockSums:
        """Model j's training sums, as the single-model kernel returns them."""
        return BlockSums(
            loss=float(self.loss[j]),
            grad_w=self.grad_w[:, j].copy(),
            grad_b=float(self.grad_b[j]),
            weight_sum=float(self.weight_sum[j]),
            rows=int(self.rows[j]),
            correct=float(self.correct[j]),
        )


def check_models(W: np.ndarray, B: np.ndarray, folds: np.ndarray, n_features: int) -> None:
    """W is n_x × K', B and ``folds`` have K' entries."""
    if W.ndim != 2 or W.shape[0] != n_features or B.shape != (W.shape[1],):
        raise ValueError(
            f"W must be {n_features} × K' and B of length K', got {W.shape}, {B.shape}"
        )
    if folds.shape != B.shape:
        raise ValueError(f"one fold per model: {folds.shape} folds for {B.shape[0]} models")


def column_sums(
    Z: np.ndarray,
    y: np.ndarray,
    v: np.ndarray | None,
    f: np.ndarray | None,
    folds: np.ndarray,
    class_weight: tuple[float, float] | None,
    total: MultiSums,
) -> np.ndarray:
    """Add the elementwise sums of margins Z (rows × K') into ``total``; returns R ⊙ V, whose
    Xᵀ(R ⊙ V) the caller adds to ``total.grad_w``."""
    yc = y[:, None]
    A, softplus = sigmoid_and_softplus(Z)
    T = softplus - yc * Z
    if f is None:
        if np.any(folds != ALL_ROWS):
            raise ValueError("a fold model needs the block's fold ids f")
        train = np.ones(Z.shape, dtype=bool)
    else:
        train = f[:, None] != folds[None, :]
    V = train.astype(np.float64)
    row_weight = v
    if class_weight is not None:
        c = np.where(y == 1, class_weight[1], class_weight[0])
        row_weight = c if v is None else c * v
    if row_weight is not None:
        V *= row_weight[:, None]
    R = (A - yc) * V
    held = ~train
    total.loss += (V * T).sum(axis=0)
    total.grad_b += R.sum(axis=0)
    total.weight_sum += V.sum(axis=0)
    total.rows += train.sum(axis=0)
    total.correct += (V * ((Z >= 0) == (yc == 1))).sum(axis=0)
    total.held_loss += np.where(held, T, 0.0).sum(axis=0)
    total.held_rows += held.sum(axis=0)
    return R
