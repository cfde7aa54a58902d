"""Feature statistics gathered in the same pass that builds the blocks (NumPy only).

For a block with m_p rows x⁽ⁱ⁾ the block contributes its count m_p, its mean μ_p and its
scatter matrix S_p = Σ (x⁽ⁱ⁾ − μ_p)(x⁽ⁱ⁾ − μ_p)ᵀ. Blocks are merged with Chan et al.'s
pairwise update, which is exact and free of the cancellation of Σx² − m μ²::

    m = m_1 + m_2,   δ = μ_2 − μ_1,   μ = μ_1 + δ m_2 / m,
    S = S_1 + S_2 + δ δᵀ m_1 m_2 / m

From the merged moments: μ, the sample standard deviation σ_j = sqrt(S_jj / (m − 1)) (the
definition MLlib uses for standardization) and the Gram matrix of the (optionally
standardized) features with the intercept column, whose largest eigenvalue bounds the
curvature of J (see :mod:`sparklr.objective`).

Sample weights v_i (``data.weight``). With weights, m_p becomes the weight W_p = Σ v_i (the
row count stays in ``count``), μ_p and S_p become the weighted mean and scatter
Σ v_i (x⁽ⁱ⁾ − μ_p)(x⁽ⁱ⁾ − μ_p)ᵀ, the same pairwise update merges them with W in place of m, and
σ_j = sqrt(S_jj / (W − Σv²/W)): MLlib's unbiased weighted variance, equal to S_jj / (m − 1) when
every v_i = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparklr.kernels.dense import chunk_rows_for

#: Above this many features the n_x × n_x scatter matrix is not gathered (only its diagonal).
MAX_GRAM_FEATURES = 2048


@dataclass
class FeatureMoments:
    """Count, mean and scatter of the features of one or more blocks, plus label counts."""

    count: int
    mean: np.ndarray
    scatter: np.ndarray  # (n, n), or (n,) diagonal only when n > MAX_GRAM_FEATURES
    positives: float  # Σ v_i y_i
    #: Σ v_i and Σ v_i² when the data are weighted; None = unit weights (then both are count).
    weight_sum: float | None = None
    weight_sq_sum: float | None = None

    @property
    def weighted(self) -> bool:
        return self.weight_sum is not None

    @property
    def total_weight(self) -> float:
        """W = Σ v_i (the row count without weights)."""
        return float(self.count) if self.weight_sum is None else self.weight_sum

    @property
    def total_weight_sq(self) -> float:
        return float(self.count) if self.weight_sq_sum is None else self.weight_sq_sum

    @property
    def full(self) -> bool:
        return self.scatter.ndim == 2

    @classmethod
    def empty(cls, n_features: int, full: bool | None = None) -> FeatureMoments:
        """No rows; the scatter full (n × n) when ``full``, by default when n ≤
        MAX_GRAM_FEATURES."""
        if full is None:
            full = n_features <= MAX_GRAM_FEATURES
        shape = (n_features, n_features) if full else (n_features,)
        return cls(0, np.zeros(n_features), np.zeros(shape), 0.0)

    @classmethod
    def of_block(
        cls, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
    ) -> FeatureMoments:
        """Moments of one block, the scatter formed chunk by chunk around the block mean."""
        if weights is not None:
            return cls._of_weighted_block(X, y, np.asarray(weights, dtype=np.float64))
        m_p, n = X.shape
        moments = cls.empty(n)
        if m_p == 0:
            return moments
        mean = X.sum(axis=0, dtype=np.float64) / m_p
        scatter = moments.scatter
        step = chunk_rows_for(n)
        for start in range(0, m_p, step):
            centered = X[start : start + step].astype(np.float64) - mean
            if moments.full:
                scatter += centered.T @ centered
            else:
                scatter += np.einsum("ij,ij->j", centered, centered)
        return cls(m_p, mean, scatter, float(y.sum()))

    @classmethod
    def _of_weighted_block(cls, X: np.ndarray, y: np.ndarray, v: np.ndarray) -> FeatureMoments:
        m_p, n = X.shape
        moments = cls.empty(n)
        W = float(v.sum())
        moments.count = m_p
        moments.weight_sum, moments.weight_sq_sum = W, float(v @ v)
        if m_p == 0 or W <= 0:
            return moments
        moments.mean = (v @ X).astype(np.float64) / W
        moments.positives = float(v @ y)
        step = chunk_rows_for(n)
        for start in range(0, m_p, step):
            centered = X[start : start + step].astype(np.float64) - moments.mean
            weighted = centered * v[start : start + step, None]
            if moments.full:
                moments.scatter += weighted.T @ centered
            else:
                moments.scatter += np.einsum("ij,ij->j", weighted, centered)
        return moments

    def merge(self, other: FeatureMoments) -> FeatureMoments:
        if self.weighted or other.weighted:
            return self._merge_weighted(other)
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        m = self.count + other.count
        delta = other.mean - self.mean
        weight = self.count * other.count / m
        if self.full:
            correction = np.outer(delta, delta) * weight
        else:
            correction = delta * delta * weight
        return FeatureMoments(
            count=m,
            mean=self.mean + delta * (other.count / m),
            scatter=self.scatter + other.scatter + correction,
            positives=self.positives + other.positives,
        )

    def _merge_weighted(self, other: FeatureMoments) -> FeatureMoments:
        w1, w2 = self.total_weight, other.total_weight
        W = w1 + w2
        merged = FeatureMoments(
            count=self.count + other.count,
            mean=self.mean,
            scatter=self.scatter + other.scatter,
            positives=self.positives + other.positives,
            weight_sum=W,
            weight_sq_sum=self.total_weight_sq + other.total_weight_sq,
        )
        if w2 <= 0:
            return merged
        if w1 <= 0:
            merged.mean = other.mean
            return merged
        delta = other.mean - self.mean
        factor = w1 * w2 / W
        merged.mean = self.mean + delta * (w2 / W)
        merged.scatter = merged.scatter + (
            np.outer(delta, delta) * factor if self.full else delta * delta * factor
        )
        return merged

    @property
    def variance_diag(self) -> np.ndarray:
        s = np.diag(self.scatter) if self.full else self.scatter
        if self.weighted:
            W = self.total_weight
            denominator = W - self.total_weight_sq / W if W > 0 else 0.0
            return s / denominator if denominator > 0 else np.zeros_like(s)
        return s / max(self.count - 1, 1)

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation (denominator m − 1, or W − Σv²/W), as MLlib standardizes."""
        return np.sqrt(np.maximum(self.variance_diag, 0.0))


def merge_all(parts: list[FeatureMoments], n_features: int) -> FeatureMoments:
    """Merge block moments in the given (partition) order (the scatter full or diagonal as
    the parts': a CSR block's is always diagonal)."""
    total = FeatureMoments.empty(n_features, parts[0].full if parts else None)
    for part in parts:
        total = total.merge(part)
    return total
