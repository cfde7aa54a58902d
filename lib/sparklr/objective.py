"""The objective the optimizers minimise, in training coordinates (NumPy only).

Training coordinates. The optimizers see one flat parameter vector θ = (w̃, b̃) of length
n_x + 1. A :class:`FeatureMap` with a shift c and a scale s (both n_x vectors) defines the
features the model is trained on, x̃ = s ⊙ (x − c):

* ``standardize = true``: c = μ, s_j = 1/σ_j (training on standardized features, as MLlib);
* ``standardize = false``: c = 0, s_j = 1 (the seed's raw features).

Without an intercept (``fit_intercept = false``) the model is z = wᵀx: b̃ stays in θ (so every
optimizer, the checkpoints and inference keep one layout) but is pinned at 0 — its gradient
and its Hessian row and column are zeroed, so no step moves it — and the features are never
centred (c = 0, only s_j = 1/σ_j when standardizing, as MLlib), hence b = b̃ − wᵀc = 0.

A constant feature (σ_j = 0) gets s_j = 0 in both cases, so its coefficient is 0. Because
z = w̃ᵀx̃ + b̃ = wᵀx + b with

    w = s ⊙ w̃,    b = b̃ − wᵀc,

the kernels always run on the stored raw blocks with (w, b): standardization never
materializes a second copy of X. The chain rule maps their sums back (m = Σ count):

    ∂J/∂w̃ = s ⊙ (Σ r x − c Σ r) / m,    ∂J/∂b̃ = Σ r / m.

The objective (MLlib's definition of the elastic-net penalty, intercept never penalised)::

    J(θ) = (1/m) Σ v_i L(z_i, y_i) + λ (½ (1 − ρ) ‖w̃‖² + ρ ‖w̃‖₁)

with λ = ``reg_param`` and the mix ρ = ``elastic_net`` (α is the learning rate). The smooth
part is evaluated here; the L1 part's value is included in J, and its non-smooth handling
belongs to the optimizer.

The penalty acts on w̃, which is the scale MLlib penalizes: the standardized coefficients
w̃_j = σ_j w_j when ``standardize = true``, the original-scale coefficients w when
``standardize = false`` (there s = 1 and c = 0, so w̃ = w).

Weights. v_i are the sample weights (``data.weight``, 1 without) times the class weight c_{y_i}
(``class_weight`` = (c₀, c₁), e.g. "balanced": c_k = W / (2 W_k) with W_k = Σ_{y_i = k} v_i), and
m = Σ v_i: J is a weighted mean. With L1 (λρ > 0) the reported ‖∇J‖ is the norm of the
minimum-norm subgradient (:attr:`Evaluation.pseudo_gradient`), which is 0 exactly at the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sparklr.kernels import FISHER, BlockSums
from sparklr.stats import FeatureMoments

#: The most features for which ∇²J (an (n_x + 1)² matrix: 134 MB at 4,096, per partial sum and
#: on the driver, where it is factored in O(n_x³)) is formed: newton and inference refuse above
#: it. MLlib's normal-equation solver has the same limit (WeightedLeastSquares, 4,096).
MAX_HESSIAN_FEATURES = 4096


class SumsSource(Protocol):
    """Anything that returns the summed :class:`BlockSums` of all its data at raw (w, b)."""

    n_features: int

    def sums(
        self, w: np.ndarray, b: float, *, hessian: bool = False, curvature: str = FISHER
    ) -> BlockSums: ...


@dataclass(frozen=True)
class FeatureMap:
    """x̃ = scale ⊙ (x − shift); see the module docstring."""

    shift: np.ndarray
    scale: np.ndarray

    @classmethod
    def identity(cls, n_features: int) -> FeatureMap:
        return cls(np.zeros(n_features), np.ones(n_features))

    @classmethod
    def from_moments(
        cls, moments: FeatureMoments, standardize: bool, *, center: bool = True
    ) -> FeatureMap:
        """c = μ (0 unless ``center``) and s = 1/σ when ``standardize``; else c = 0, s = 1."""
        std = moments.std
        constant = ~(std > 0)
        if standardize:
            scale = np.where(constant, 0.0, 1.0 / np.where(constant, 1.0, std))
            shift = moments.mean.copy() if center else np.zeros_like(std)
            return cls(shift, scale)
        return cls(np.zeros_like(std), np.where(constant, 0.0, 1.0))

    @property
    def constant_features(self) -> np.ndarray:
        return self.scale == 0

    def to_raw(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """(w̃, b̃) → (w, b) on the original feature scale."""
        w = self.scale * theta[:-1]
        return w, float(theta[-1] - w @ self.shift)

    def from_raw(self, w: np.ndarray, b: float) -> np.ndarray:
        """(w, b) → θ = (w̃, b̃); coefficients of constant features become 0."""
        safe = np.where(self.scale == 0, 1.0, self.scale)
        w_t = np.where(self.scale == 0, 0.0, w / safe)
        return np.append(w_t, b + w @ self.shift)

    def gradient(self, sums: BlockSums) -> np.ndarray:
        """Σ-form gradient in training coordinates (not yet divided by m)."""
        g_w = self.scale * (sums.grad_w - self.shift * sums.grad_b)
        return np.append(g_w, sums.grad_b)

    def hessian(self, sums: BlockSums) -> np.ndarray:
        """Σ-form Hessian of the data term in training coordinates (not yet divided by m)."""
        c, s = self.shift, self.scale
        hww = (
            sums.hess_ww
            - np.outer(c, sums.hess_wb)
            - np.outer(sums.hess_wb, c)
            + sums.hess_bb * np.outer(c, c)
        )
        hwb = sums.hess_wb - sums.hess_bb * c
        n = len(s)
        H = np.empty((n + 1, n + 1))
        H[:n, :n] = hww * np.outer(s, s)
        H[:n, n] = H[n, :n] = s * hwb
        H[n, n] = sums.hess_bb
        return H

    def gram_bound(self, moments: FeatureMoments) -> float:
        """λ_max of (1/m) Σ [x̃;1][x̃;1]ᵀ (or an upper bound when only its diagonal is known)."""
        m = moments.total_weight if moments.total_weight > 0 else 1.0
        delta = moments.mean - self.shift
        sd = self.scale * delta
        if moments.full:
            n = len(sd)
            M = np.empty((n + 1, n + 1))
            M[:n, :n] = (moments.scatter / m + np.outer(delta, delta)) * np.outer(
                self.scale, self.scale
            )
            M[:n, n] = M[n, :n] = sd
            M[n, n] = 1.0
            return float(np.linalg.eigvalsh(M)[-1])
        # Only the diagonal: λ_max ≤ trace.
        diag = (moments.scatter / m + delta * delta) * self.scale**2
        return float(diag.sum() + 1.0)


@dataclass
class Evaluation:
    """J, its gradient (and optionally Hessian) at θ, in training coordinates."""

    theta: np.ndarray
    loss: float
    grad: np.ndarray
    hessian: np.ndarray | None
    count: float
    rows: int
    accuracy: float = float("nan")
    #: λρ, the coefficient of ‖w̃‖₁ in ``loss`` (its subgradient is not in ``grad``).
    l1: float = 0.0

    @property
    def smooth_loss(self) -> float:
        """J without its L1 term."""
        if not self.l1:
            return self.loss
        return self.loss - self.l1 * float(np.abs(self.theta[:-1]).sum())

    @property
    def pseudo_gradient(self) -> np.ndarray:
        """The minimum-norm subgradient of J (``grad`` itself when there is no L1 term).

        For w̃_j ≠ 0 it is g_j + λρ sign(w̃_j); for w̃_j = 0 it is g_j shrunk towards 0 by λρ.
        """
        if not self.l1:
            return self.grad
        g = self.grad.copy()
        w, gw = self.theta[:-1], self.grad[:-1]
        shrunk = np.sign(gw) * np.maximum(np.abs(gw) - self.l1, 0.0)
        g[:-1] = np.where(w != 0, gw + self.l1 * np.sign(w), shrunk)
        return g

    @property
    def grad_norm(self) -> float:
        return float(np.linalg.norm(self.pseudo_gradient))


class LogisticObjective:
    """J(θ) of the module docstring over all the data a :class:`SumsSource` holds.

    One :meth:`evaluate` is one pass over the data: loss, gradient (and Hessian on request)
    come from the same pass. With ``fit_intercept = False`` b̃ is pinned at 0 (module
    docstring): θ must have b̃ = 0, and ∂J/∂b̃ and the b̃ row/column of ∇²J are 0.
    """

    def __init__(
        self,
        source: SumsSource,
        feature_map: FeatureMap | None = None,
        *,
        reg_param: float = 0.0,
        elastic_net: float = 0.0,
        class_weight: tuple[float, float] | None = None,
        fit_intercept: bool = True,
    ):
        self.source = source
        self.n_features = source.n_features
        self.feature_map = feature_map or FeatureMap.identity(self.n_features)
        self.reg_param = float(reg_param)
        self.elastic_net = float(elastic_net)
        self.class_weight = (
            None if class_weight is None else (float(class_weight[0]), float(class_weight[1]))
        )
        self.fit_intercept = bool(fit_intercept)
        if not self.fit_intercept and np.any(self.feature_map.shift != 0):
            raise ValueError("without an intercept the feature map must not centre (c = 0)")
        self.evaluations = 0

    @property
    def n_params(self) -> int:
        return self.n_features + 1

    @property
    def l2(self) -> float:
        """Coefficient of ½‖w̃‖² in J."""
        return self.l2_of(self.reg_param)

    def l2_of(self, reg_param: float) -> float:
        """The L2 coefficient λ(1 − ρ) at λ = ``reg_param``, this objective's mix ρ."""
        return float(reg_param) * (1.0 - self.elastic_net)

    @property
    def l1(self) -> float:
        """Coefficient of ‖w̃‖₁ in J."""
        return self.reg_param * self.elastic_net

    def evaluate(self, theta: np.ndarray, *, hessian: bool = False) -> Evaluation:
        if not self.fit_intercept and theta[-1] != 0:
            raise ValueError(f"fit_intercept is false but θ has b̃ = {theta[-1]!r}")
        w, b = self.feature_map.to_raw(theta)
        if self.class_weight is None:
            sums = self.source.sums(w, b, hessian=hessian)
        else:
            sums = self.source.sums(w, b, hessian=hessian, class_weight=self.class_weight)
        self.evaluations += 1
        m = sums.weight_sum
        if m <= 0:
            raise ValueError("the objective has no data (total sample weight is 0)")
        w_t = theta[:-1]
        loss = sums.loss / m + 0.5 * self.l2 * float(w_t @ w_t) + self.l1 * float(np.abs(w_t).sum())
        grad = self.feature_map.gradient(sums) / m
        grad[:-1] += self.l2 * w_t
        H = None
        if hessian:
            H = self.feature_map.hessian(sums) / m
            idx = np.arange(self.n_features)
            H[idx, idx] += self.l2
        if not self.fit_intercept:
            grad[-1] = 0.0
            if H is not None:
                H[-1, :] = H[:, -1] = 0.0
        return Evaluation(
            theta.copy(), float(loss), grad, H, m, sums.rows, sums.correct / m, self.l1
        )

    def lipschitz(self, moments: FeatureMoments) -> float:
        """An upper bound on the curvature of the smooth part of J: the data term's
        (:meth:`data_lipschitz`) + λ(1 − ρ). A step 1/L never increases J."""
        return self.data_lipschitz(moments) + self.l2

    def data_lipschitz(self, moments: FeatureMoments) -> float:
        """The data term's curvature bound, the same at every λ (a regularization path
        computes it once).

        The data term's Hessian is (1/m) Σ a(1−a) [x̃;1][x̃;1]ᵀ with a(1−a) ≤ ¼, so its
        curvature is at most ¼ λ_max((1/m) Σ [x̃;1][x̃;1]ᵀ).
        ``moments`` carry the sample weights; class weights c_k scale the data term by at
        most max(c) W / (c₀ W₀ + c₁ W₁), which multiplies the first term. λ_max comes from the
        moments' Gram matrix when they hold it (n_x ≤ MAX_GRAM_FEATURES, dense blocks), else
        from :func:`gram_power_bound` when the source has a ``gram_matvec`` (the Spark
        BlockSet: 10 passes), else the trace bound of the diagonal.
        """
        factor = 1.0
        if self.class_weight is not None:
            c0, c1 = self.class_weight
            W1 = moments.positives
            W0 = moments.total_weight - W1
            factor = max(c0, c1) * moments.total_weight / (c0 * W0 + c1 * W1)
        gram_matvec = getattr(self.source, "gram_matvec", None)
        if moments.full or gram_matvec is None:
            gram = self.feature_map.gram_bound(moments)
        else:
            gram = gram_power_bound(gram_matvec, self.feature_map)
        return 0.25 * factor * gram


def balanced_class_weight(moments: FeatureMoments) -> tuple[float, float]:
    """(c₀, c₁) with c_k = W / (2 W_k): scikit-learn's "balanced" on the weighted class totals."""
    W, W1 = moments.total_weight, moments.positives
    return (W / (2.0 * (W - W1)), W / (2.0 * W1))


def log_odds_intercept(
    moments: FeatureMoments, class_weight: tuple[float, float] | None = None
) -> float:
    """b⁰ = log(m₁ / m₀), with weighted class totals (times the class weights when given)."""
    W1 = moments.positives
    W0 = moments.total_weight - W1
    c0, c1 = class_weight or (1.0, 1.0)
    return float(np.log(c1 * W1) - np.log(c0 * W0))


#: Power iterations of :func:`gram_power_bound` (one pass over the data each).
GRAM_POWER_ITERATIONS = 10
#: Safety factor on the power estimate, which approaches λ_max from below (see there).
GRAM_POWER_MARGIN = 1.1


def gram_power_bound(
    matvec, feature_map: FeatureMap, iterations: int = GRAM_POWER_ITERATIONS
) -> float:
    """λ_max of M = (1/W) Σ v [x̃; 1][x̃; 1]ᵀ by power iteration, never forming M (n_x × n_x).

    ``matvec(w, b)`` returns (Σ v z x, Σ v z, W = Σ v) with z = wᵀx + b over the raw data
    (:meth:`sparklr.spark.blockset.BlockSet.gram_matvec`: one Spark pass). For u = (u_w, u_b)
    in training coordinates, [x̃; 1]ᵀu = wᵀx + b with w = s ⊙ u_w, b = u_b − wᵀc, so

        M u = (1/W) (s ⊙ (Σ v z x − c Σ v z), Σ v z).

    From a fixed positive start, u ← Mu / ‖Mu‖; the Rayleigh quotient uᵀMu rises to λ_max
    from below, so it is multiplied by :data:`GRAM_POWER_MARGIN`. Measured (docs/sparse.md:
    binary Zipf data, λ = 1e-3, GD to ‖∇J‖ ≤ 1e-5): 10 iterations reach 0.92-1.00 λ_max, so
    the bound is 1.01-1.10 λ_max and GD takes 1.01-1.10x the iterations of the exact λ_max
    (4536 vs 4124, 440 vs 434, 7852 vs 7138), where the trace bound (all the diagonal moments
    give) took 2.1-2.5x unstandardized and > 46x standardized (20000 vs 434, unfinished).
    An under-estimate is safe up to a factor 2 (GD at α = 1/L converges for any
    L > L_true / 2, and a(1 − a) ≤ ¼ is itself slack)."""
    c, s = feature_map.shift, feature_map.scale
    u = np.random.default_rng(0).uniform(0.5, 1.5, len(s) + 1)
    u /= np.linalg.norm(u)
    rayleigh = 0.0
    for _ in range(iterations):
        w = s * u[:-1]
        sum_zx, sum_z, total = matvec(w, float(u[-1] - w @ c))
        total = total if total > 0 else 1.0
        Mu = np.append(s * (sum_zx - c * sum_z), sum_z) / total
        rayleigh = float(u @ Mu)
        norm = float(np.linalg.norm(Mu))
        if norm == 0.0:
            break
        u = Mu / norm
    return GRAM_POWER_MARGIN * rayleigh
