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
(:mod:`sparklr.tuning.lockstep`).

When asked (``hessian``, for Newton in lockstep), each model's curvature sums too, as the
single-model kernel's ``hessian=True`` (Fisher curvature, :mod:`sparklr.kernels`) with the
same weights: with D = V ⊙ A ⊙ (1 − A) (m_p × K')::

    hess_ww[j] = Xᵀ diag(D[:, j]) X      hess_wb[:, j] = Xᵀ D[:, j]      hess_bb_j = Σ_i D_ij

— Xᵀ D is one BLAS-3 product, hess_ww one (X ⊙ d_j)ᵀ X product per model (K' n_x² per row,
the cost of K' Newton passes' Hessians, for one read of X).

The block types' kernels: :func:`sparklr.kernels.dense.multi_block_sums`,
:func:`sparklr.kernels.csr.multi_block_sums`; both form Z and Xᵀ(R ⊙ V) and share
:func:`column_sums` for everything elementwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparklr.kernels import BlockSums, row_weights, sigmoid_and_softplus_into

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
    #: K' × n_x × n_x: entry j is model j's Σ V d x xᵀ (None without ``hessian``).
    hess_ww: np.ndarray | None = None
    #: n_x × K': column j is model j's Σ V d x.
    hess_wb: np.ndarray | None = None
    #: K': model j's Σ V d.
    hess_bb: np.ndarray | None = None

    @classmethod
    def zeros(cls, n_features: int, models: int, hessian: bool = False) -> MultiSums:
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
            np.zeros((models, n_features, n_features)) if hessian else None,
            np.zeros((n_features, models)) if hessian else None,
            z.copy() if hessian else None,
        )

    @property
    def has_hessian(self) -> bool:
        return self.hess_ww is not None

    def __add__(self, other: MultiSums) -> MultiSums:
        both = self.has_hessian and other.has_hessian
        return MultiSums(
            self.loss + other.loss,
            self.grad_w + other.grad_w,
            self.grad_b + other.grad_b,
            self.weight_sum + other.weight_sum,
            self.rows + other.rows,
            self.correct + other.correct,
            self.held_loss + other.held_loss,
            self.held_rows + other.held_rows,
            self.hess_ww + other.hess_ww if both else None,
            self.hess_wb + other.hess_wb if both else None,
            self.hess_bb + other.hess_bb if both else None,
        )

    def model(self, j: int) -> BlockSums:
        """Model j's training sums, as the single-model kernel returns them (with its Hessian
        pieces when these sums have them)."""
        hessian = self.has_hessian
        return BlockSums(
            loss=float(self.loss[j]),
            grad_w=self.grad_w[:, j].copy(),
            grad_b=float(self.grad_b[j]),
            weight_sum=float(self.weight_sum[j]),
            rows=int(self.rows[j]),
            correct=float(self.correct[j]),
            hess_ww=self.hess_ww[j].copy() if hessian else None,
            hess_wb=self.hess_wb[:, j].copy() if hessian else None,
            hess_bb=float(self.hess_bb[j]) if hessian else None,
        )


def check_models(W: np.ndarray, B: np.ndarray, folds: np.ndarray, n_features: int) -> None:
    """W is n_x × K', B and ``folds`` have K' entries."""
    if W.ndim != 2 or W.shape[0] != n_features or B.shape != (W.shape[1],):
        raise ValueError(
            f"W must be {n_features} × K' and B of length K', got {W.shape}, {B.shape}"
        )
    if folds.shape != B.shape:
        raise ValueError(f"one fold per model: {folds.shape} folds for {B.shape[0]} models")


#: Rows × K' elements per chunk of :class:`ColumnSums`: its buffers stay in cache.
CHUNK_ELEMENTS = 1 << 15


def chunk_rows_for_models(models: int) -> int:
    """Rows per chunk of the K'-model kernels (:data:`CHUNK_ELEMENTS` margins)."""
    return max(64, CHUNK_ELEMENTS // max(1, models))


class ColumnSums:
    """The elementwise part of the K' models' sums over one block (module docstring), chunk
    by chunk into buffers allocated once: :meth:`add` each chunk's margins Z_c = X_c W + B in
    row order — it returns the chunk's R ⊙ V, whose X_cᵀ(R ⊙ V) the caller adds to
    ``grad_w``, and with ``hessian`` its D = V ⊙ A ⊙ (1 − A), whose X_c products the caller
    adds to ``hess_wb`` and ``hess_ww`` (Σ D is summed here) — then :meth:`finish`.

    No m × K' mask is formed for the sums: with F the rows' one-hot fold matrix (m × g, g the
    fold ids present; one column of ones without folds), F_c = diag(c) F and I the g × K'
    matrix I_gj = [g ≠ k_j], each sum is a small product per fold then a masked sum over
    folds — loss_j = Σ_g I_gj (F_cᵀ T)_gj, held_loss_j = Σ_g (1 − I_gj)(Fᵀ T)_gj, and
    correct from (F_c ⊙ (2y − 1))ᵀ H with H = [Z ≥ 0], as [H = y] = (1 − y) + (2y − 1) H for
    0/1 labels; the data-only sums (rows, weights) are F's and F_c's column sums; and V = F_c I
    is one more small product. Column j of every product depends on column j of Z alone (the
    bit-identity the lockstep relies on)."""

    def __init__(
        self,
        y: np.ndarray,
        v: np.ndarray | None,
        f: np.ndarray | None,
        folds: np.ndarray,
        class_weight: tuple[float, float] | None,
        chunk_rows: int,
        hessian: bool = False,
    ) -> None:
        if f is None and np.any(folds != ALL_ROWS):
            raise ValueError("a fold model needs the block's fold ids f")
        self.y, self.f = y, f
        self.c = row_weights(y, v, class_weight)
        groups = 1 if f is None or len(f) == 0 else int(f.max()) + 1
        self.include = (np.arange(groups)[:, None] != folds[None, :]).astype(np.float64)
        self.eye = np.eye(groups)
        shape = (max(1, min(chunk_rows, len(y))), len(folds))
        self.a, self.t, self.scratch, self.r = (np.empty(shape) for _ in range(4))
        #: with ``hessian``: the chunk's D, and Σ D per model so far
        self.d = np.empty(shape) if hessian else None
        self.hess_bb = np.zeros(len(folds)) if hessian else None
        self.F, self.Fc, self.Fs = (np.empty((shape[0], groups)) for _ in range(3))
        self.ones = np.ones(shape[0])
        self.per_fold = np.zeros((4, groups, len(folds)))
        #: per fold: rows, Σ c, Σ c y (data only)
        self.data_sums = np.zeros((3, groups))

    def add(
        self, Z: np.ndarray, start: int, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows start … start + len(Z) − 1: their sums, and their R ⊙ V and D (None without
        ``hessian``; buffers, valid until the next call). R ⊙ V goes into ``out`` when given
        (Z itself may be passed: Z is read before R is written)."""
        m_c = Z.shape[0]
        rows = slice(start, start + m_c)
        y = self.y[rows, None]
        F, Fc, Fs = self.F[:m_c], self.Fc[:m_c], self.Fs[:m_c]
        if self.f is None:
            F.fill(1.0)
        else:
            np.take(self.eye, self.f[rows], axis=0, out=F)
        if self.c is None:
            Fc = F
        else:
            np.multiply(F, self.c[rows, None], out=Fc)
        ones = self.ones[:m_c]
        self.data_sums[0] += ones @ F
        self.data_sums[1] += ones @ Fc
        self.data_sums[2] += self.y[rows] @ Fc
        np.multiply(Fc, 2.0 * y - 1.0, out=Fs)
        A, T, scratch = self.a[:m_c], self.t[:m_c], self.scratch[:m_c]
        R = self.r[:m_c] if out is None else out
        sigmoid_and_softplus_into(Z, A, T, scratch)
        np.multiply(y, Z, out=scratch)
        T -= scratch  # L = softplus(z) − y z
        self.per_fold[0] += Fc.T @ T
        self.per_fold[1] += F.T @ T
        self.per_fold[2] += Fc.T @ A
        np.greater_equal(Z, 0.0, out=scratch, casting="unsafe")
        self.per_fold[3] += Fs.T @ scratch  # the last read of Z: R may overwrite it
        np.matmul(Fc, self.include, out=R)  # V = F_c I
        D = None
        if self.d is not None:
            D = self.d[:m_c]
            np.subtract(1.0, A, out=D)
            D *= A
            D *= R  # D = V ⊙ A ⊙ (1 − A)
            self.hess_bb += ones @ D
        A -= y
        R *= A
        return R, D

    def finish(self, total: MultiSums) -> None:
        """Add the block's sums (all its rows added) into ``total``."""
        loss, held, sig, hits = self.per_fold
        counts, weights, weighted_y = self.data_sums
        weighted_other = weights - weighted_y
        include = self.include
        exclude = 1.0 - include
        total.loss += (include * loss).sum(axis=0)
        total.grad_b += (include * (sig - weighted_y[:, None])).sum(axis=0)
        total.weight_sum += include.T @ weights
        total.rows += np.rint(include.T @ counts).astype(np.int64)
        total.correct += (include * (hits + weighted_other[:, None])).sum(axis=0)
        total.held_loss += (exclude * held).sum(axis=0)
        total.held_rows += np.rint(exclude.T @ counts).astype(np.int64)
        if self.d is not None:
            total.hess_bb += self.hess_bb
