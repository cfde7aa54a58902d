"""The extra per-block sums robust inference needs, and their training-coordinate form (NumPy).

A weighted Gram sum of one block with per-sample weights u_i, kept in the three pieces the
kernels use for the Hessian (row layout: X_p is m_p × n_x, one sample per row)::

    ww = Σ u_i x⁽ⁱ⁾ x⁽ⁱ⁾ᵀ        wb = Σ u_i x⁽ⁱ⁾        bb = Σ u_i

so that Σ u_i [x⁽ⁱ⁾; 1][x⁽ⁱ⁾; 1]ᵀ = [[ww, wb], [wbᵀ, bb]]. The Hessian of m J is this sum with
u = v a(1 − a) (``kernels.block_sums(..., hessian=True)``); the meat of the HC0 sandwich
(:mod:`sparklr.inference`) is this sum with

    u_i = v_i r_i²,    r = a − y,   a = σ(X_p w + b),

at the raw (w, b) of the optimum. The weight enters once, not squared: ``data.weight`` are
frequency weights, a sample of weight v is v independent copies, each adding (r x)(r x)ᵀ.

Training coordinates. With x̃ = s ⊙ (x − c) (:class:`sparklr.objective.FeatureMap`),
[x̃; 1] = Tᵀ [x; 1] for T = [[diag(s), 0], [−(s⊙c)ᵀ, 1]], so the sum over [x̃; 1] is Tᵀ G T,
the transform ``FeatureMap.hessian`` applies to the Hessian sums::

    ww̃ = (ww − c wbᵀ − wb cᵀ + bb c cᵀ) ⊙ s sᵀ,    wb̃ = s ⊙ (wb − bb c),    bb̃ = bb.

One pass over the block: rows in cache-sized chunks; each chunk is converted to float64
before its products are formed (float32 storage still accumulates in float64 throughout).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparklr.kernels import sigmoid
from sparklr.kernels.dense import chunk_rows_for
from sparklr.objective import FeatureMap


@dataclass
class GramSums:
    """Σ u [x; 1][x; 1]ᵀ of one or more blocks, in pieces (see module docstring); add to combine."""

    ww: np.ndarray
    wb: np.ndarray
    bb: float
    rows: int = 0

    @classmethod
    def zeros(cls, n_features: int) -> GramSums:
        return cls(np.zeros((n_features, n_features)), np.zeros(n_features), 0.0, 0)

    def __add__(self, other: GramSums) -> GramSums:
        return GramSums(
            self.ww + other.ww, self.wb + other.wb, self.bb + other.bb, self.rows + other.rows
        )

    def in_training_coordinates(self, feature_map: FeatureMap) -> np.ndarray:
        """The (n_x + 1)² matrix Σ u [x̃; 1][x̃; 1]ᵀ = Tᵀ G T (see module docstring)."""
        c, s = feature_map.shift, feature_map.scale
        ww = self.ww - np.outer(c, self.wb) - np.outer(self.wb, c) + self.bb * np.outer(c, c)
        n = len(s)
        G = np.empty((n + 1, n + 1))
        G[:n, :n] = ww * np.outer(s, s)
        G[:n, n] = G[n, :n] = s * (self.wb - self.bb * c)
        G[n, n] = self.bb
        return G


def meat_sums(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    sample_weight: np.ndarray | None = None,
    *,
    chunk_rows: int | None = None,
) -> GramSums:
    """Σ v r² [x; 1][x; 1]ᵀ of one dense block at raw (w, b), r = σ(X w + b) − y.

    ``X`` is (m_p, n_x), float64 or float32; ``y`` and ``sample_weight`` are vectors of length
    m_p (weights 1 when None).
    """
    m_p, n = X.shape
    total = GramSums.zeros(n)
    total.rows = m_p
    w64 = np.asarray(w, dtype=np.float64)
    step = chunk_rows or chunk_rows_for(n)
    for start in range(0, m_p, step):
        stop = min(start + step, m_p)
        Xc = X[start:stop].astype(np.float64, copy=False)
        r = sigmoid(Xc @ w64 + b) - y[start:stop]
        u = r * r
        if sample_weight is not None:
            u *= sample_weight[start:stop]
        total.ww += (Xc.T * u) @ Xc
        total.wb += Xc.T @ u
        total.bb += float(u.sum())
    return total
