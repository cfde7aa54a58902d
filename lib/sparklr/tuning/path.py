"""The regularization path: J minimised at a decreasing sequence of λ, each fit warm-started
from the previous one, on the same objective (NumPy only; the data stay where they are).

λ_max. With w̃ = 0 the intercept's optimum is the log-odds b̃⁰
(:func:`sparklr.objective.log_odds_intercept`), and w̃ = 0 is optimal for J at λ iff the
subgradient condition |∂J/∂w̃_j| ≤ λρ holds for every j (the L2 term's gradient is 0 there). So

    λ_max = max_j |∂J/∂w̃_j (w̃ = 0, b̃ = b̃⁰)| / max(ρ, ρ_min),    ρ_min = 10⁻³,

is the smallest λ at which every penalized coefficient is 0 when ρ > 0. For ρ = 0 (pure L2) no
finite λ zeroes them; like glmnet we use ρ_min in the denominator, which makes λ_max the value
that would zero them at ρ = 10⁻³ — a start where the L2 fit is already close to 0.

The path (glmnet's): N values geometric from λ_max down to ``ratio`` · λ_max,
λ_k = λ_max · ratio^{k/(N−1)}, fitted in decreasing λ, each from the previous optimum (the
first from (0, b̃⁰), already optimal at λ_max when ρ > 0) and with what of the previous fit's
optimizer memory stays valid at the new λ (L-BFGS's pairs, shifted exactly to the new L2
term: :func:`sparklr.optimizers.warm_start`; on a 20-λ path this cut the passes by ~40%).
λ enters J only through ``objective.reg_param`` (l2 = λ(1−ρ), l1 = λρ), so the same
objective object, and with it the resident blocks, serves every point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sparklr.objective import LogisticObjective
from sparklr.optimizers import OptimizerState, warm_start

#: The mix used in λ_max's denominator when ρ is below it (glmnet's convention for ρ = 0).
MIN_MIX = 1e-3

#: (objective at this λ, start state) → converged state: the optimizer the caller chose.
Fit = Callable[[LogisticObjective, OptimizerState], OptimizerState]


@dataclass(frozen=True)
class PathPoint:
    """One fit of the path: λ, J and ‖∇J‖ at its optimum, its cost and θ = (w̃, b̃)."""

    reg_param: float
    loss: float
    grad_norm: float
    iterations: int
    evaluations: int
    stop_reason: str | None
    theta: np.ndarray

    @classmethod
    def of_state(cls, reg_param: float, state: OptimizerState) -> PathPoint:
        """The path's record of the fit at λ = ``reg_param`` that ended in ``state``."""
        last = state.history[-1]
        return cls(
            float(reg_param),
            last.loss,
            last.grad_norm,
            state.iteration,
            sum(r.evaluations for r in state.history),
            state.stop_reason,
            state.theta.copy(),
        )

    @property
    def nonzeros(self) -> int:
        """Number of penalized coefficients w̃_j ≠ 0."""
        return int(np.count_nonzero(self.theta[:-1]))


def null_theta(n_features: int, intercept: float) -> np.ndarray:
    """θ = (0, b̃⁰): the model with every penalized coefficient 0 and the log-odds intercept."""
    return np.append(np.zeros(n_features), intercept)


def lambda_max(objective: LogisticObjective, intercept: float) -> float:
    """λ_max of the module docstring, from one evaluation of ∇J at (0, ``intercept``)."""
    grad = objective.evaluate(null_theta(objective.n_features, intercept)).grad
    return float(np.max(np.abs(grad[:-1]), initial=0.0)) / max(objective.elastic_net, MIN_MIX)


def geometric_path(top: float, count: int, ratio: float) -> np.ndarray:
    """``count`` values from ``top`` down to ``ratio`` · ``top``, equally spaced in log λ."""
    if count == 1:
        return np.array([top])
    return top * ratio ** (np.arange(count) / (count - 1))


def next_start(state: OptimizerState, l2: float | None, new_l2: float) -> OptimizerState:
    """The start at the next λ from ``state``: ``state`` itself (a fresh start) when ``l2`` is
    None, else the warm start from its optimum at L2 coefficient ``l2``."""
    if l2 is None:
        return OptimizerState(0, state.theta.copy(), memory=dict(state.memory))
    return warm_start(state, new_l2 - l2)


def fit_path(
    objective: LogisticObjective, reg_params: Sequence[float], fit: Fit, theta0: np.ndarray
) -> list[PathPoint]:
    """Fit J at each λ of ``reg_params`` (in decreasing order), each warm-started from the
    previous optimum (:func:`next_start`) and the first from ``theta0``.
    ``objective.reg_param`` is restored."""
    saved = objective.reg_param
    state = OptimizerState(0, np.asarray(theta0, dtype=np.float64).copy())
    l2 = None
    points = []
    try:
        for lam in sorted(reg_params, reverse=True):
            objective.reg_param = float(lam)
            state = fit(objective, next_start(state, l2, objective.l2))
            l2 = objective.l2
            points.append(PathPoint.of_state(lam, state))
    finally:
        objective.reg_param = saved
    return points
