"""NumPy kernels: the partial sums of the logistic loss and its derivatives over one block.

Notation (the seed's). A block holds m_p samples x⁽ⁱ⁾ with labels y_i ∈ {0, 1} and optional
sample weights v_i (1 when absent). For parameters (w, b)::

    z = wᵀx + b              a = σ(z) = 1 / (1 + e^(−z))            r = a − y
    L(z, y) = log(1 + e^z) − y z  = −(y ln a + (1 − y) ln(1 − a))

``L`` is evaluated as softplus(z) − y z with softplus(z) = max(z, 0) + log1p(e^(−|z|)), which
never forms ln(σ(z)) and neither overflows nor loses digits for any finite z.

Every block type's kernel (one module each: :mod:`sparklr.kernels.dense`) returns the block's
partial sums as :class:`BlockSums` (float64, whatever the storage dtype)::

    loss       = Σ v_i L(z_i, y_i)      grad_w = Σ v_i r_i x⁽ⁱ⁾   (= X(A−Y)ᵀ in the seed's layout)
    weight_sum = Σ v_i                  grad_b = Σ v_i r_i        (= Σ(A−Y))
    rows       = m_p                    correct = Σ v_i [1(z_i ≥ 0) = y_i]  (accuracy at ½)

and, when asked (``hessian``), the pieces of a curvature sum Σ v_i d_i [x⁽ⁱ⁾; 1][x⁽ⁱ⁾; 1]ᵀ::

    hess_ww = Σ v_i d_i x⁽ⁱ⁾ x⁽ⁱ⁾ᵀ       hess_wb = Σ v_i d_i x⁽ⁱ⁾       hess_bb = Σ v_i d_i

with d_i = a_i (1 − a_i) for ``curvature = FISHER`` (the Hessian of Σ v L: the information
matrix) or d_i = r_i² for ``curvature = ROBUST`` (the "meat" of the HC0 sandwich estimator; the
weight enters once: sample weights are frequency weights, v copies of a sample).

With ``class_weight`` = (c₀, c₁) every v_i is further multiplied by c_{y_i}
(``train.class_weight = "balanced"``). Dividing by m = Σ weight_sum gives J = (1/m) Σ v L,
∂J/∂w = (1/m) X(A−Y)ᵀ and ∂J/∂b (see :mod:`sparklr.objective`). Sums of blocks add
(:func:`sum_in_order`), so this package knows nothing of where the blocks live: no Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The curvature sums a kernel can return in the hess_* fields (see the module docstring).
FISHER = "fisher"
ROBUST = "robust"
CURVATURES = (FISHER, ROBUST)


@dataclass
class BlockSums:
    """Partial sums of one or more blocks (see module docstring); add them to combine blocks."""

    loss: float
    grad_w: np.ndarray
    grad_b: float
    #: Σ v_i: the (sample × class) weight of the rows summed, m_p without weights.
    weight_sum: float
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
            weight_sum=0.0,
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
            weight_sum=self.weight_sum + other.weight_sum,
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


def sigmoid_and_softplus(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) and softplus(z) from a single exponential."""
    e = np.exp(-np.abs(z))
    a = np.where(z >= 0, 1.0, e) / (1.0 + e)
    return a, np.maximum(z, 0.0) + np.log1p(e)


def log_loss_terms(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sample loss L(z, y) = softplus(z) − y z."""
    return softplus(z) - y * z
