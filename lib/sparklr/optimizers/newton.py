"""Newton's method (= IRLS for logistic regression) with a safeguarded step.

Each pass returns, besides J and ∇J, the Hessian of the data term: every partition adds its
X_pᵀ D_p X_p (X_p its m_p × n_x block, D_p = diag(v_i a_i (1 − a_i)) over its rows; the kernels'
``hess_*`` sums, mapped to training coordinates by the objective, plus λ(1 − ρ) on the w̃
diagonal, ρ = ``elastic_net``). The driver solves

    ∇²J(θ_k) d = −∇J(θ_k)

by Cholesky, and steps θ_{k+1} = θ_k + α d with α from Armijo backtracking starting at 1
(J(θ + αd) ≤ J(θ) + c α ∇Jᵀd, c = 10⁻⁴; each trial one pass, which also returns the Hessian
the next iteration needs). Near the optimum α = 1 is accepted and convergence is quadratic:
a handful of passes. Safeguards: coordinates whose Hessian diagonal is 0 (constant features)
are held at their value; a Hessian that is not numerically positive definite (nearly
separable data, duplicated features) gets a Levenberg term μI, μ growing tenfold from
10⁻¹⁰ × its largest diagonal entry until Cholesky succeeds.

Cost per pass: O(m n_x²) flops on the executors (the XᵀDX) and an (n_x + 1)² matrix per
partition over the network, O(n_x³) on the driver: refused above
:data:`~sparklr.objective.MAX_HESSIAN_FEATURES` = 4,096 features (:func:`width_refusal`).
L1 is not supported (J is not twice differentiable); use lbfgs (OWL-QN) or gd (proximal).

Stopping: the shared rule, plus "separated" (unpenalized and every sample classified correctly:
no finite optimum) and "no_progress" (no decrease beyond J's round-off). Newton keeps no memory
between iterations, so a resumed run continues bit for bit.
"""

from __future__ import annotations

import numpy as np

from sparklr.objective import MAX_HESSIAN_FEATURES, Evaluation, LogisticObjective
from sparklr.optimizers.base import (
    OptimizerOptions,
    OptimizerState,
    sufficient_decrease,
)
from sparklr.optimizers.driver import Method, Move
from sparklr.optimizers.separation import stop_if_separated

C1 = 1e-4
MAX_TRIALS = 40


def newton_direction(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """d solving H d = −g on the coordinates with H_jj > 0, damped if H is not PD."""
    active = np.diag(H) > 0
    d = np.zeros_like(g)
    Ha, ga = H[np.ix_(active, active)], g[active]
    if not len(ga):
        return d
    mu = 0.0
    scale = float(np.max(np.diag(Ha)))
    while True:
        try:
            L = np.linalg.cholesky(Ha + mu * np.eye(len(ga)) if mu else Ha)
            break
        except np.linalg.LinAlgError:
            mu = 1e-10 * scale if mu == 0 else mu * 10.0
            if mu > 1e10 * scale:
                raise
    u = np.linalg.solve(L, -ga)
    d[active] = np.linalg.solve(L.T, u)
    return d


def width_refusal(n_features: int) -> str | None:
    """Why newton cannot fit ``n_features`` features (None when it can)."""
    if n_features <= MAX_HESSIAN_FEATURES:
        return None
    return (
        f"newton forms the (n_x + 1)² Hessian, refused for {n_features} features > "
        f"{MAX_HESSIAN_FEATURES} ({8 * (n_features + 1) ** 2 / 1e9:.3g} GB per partial sum); "
        "use lbfgs (O(n_x) memory per iteration)"
    )


class NewtonStep(Method):
    """The safeguarded Newton step; every evaluation carries ∇²J."""

    hessian = True

    def __init__(self, objective: LogisticObjective):
        if objective.l1:
            raise ValueError(
                "newton needs a twice-differentiable J: the objective has an L1 term "
                f"(λρ = {objective.l1:g}); use lbfgs (OWL-QN) or gd (proximal)"
            )
        refusal = width_refusal(objective.n_features)
        if refusal:
            raise ValueError(refusal)
        self.objective = objective

    def stop(self, current: Evaluation) -> str | None:
        return stop_if_separated(self.objective, current)

    def step(self, current: Evaluation, state: OptimizerState) -> Move | str:
        d = newton_direction(current.hessian, current.grad)
        result = _backtrack(self.objective, current, d)
        if result is None:
            return "no_progress"
        alpha, trial = result
        return Move(trial.theta, alpha, trial)


def _backtrack(objective, current: Evaluation, d: np.ndarray):
    dg0 = float(current.grad @ d)
    if not dg0 < 0:
        return None
    alpha = 1.0
    for _ in range(MAX_TRIALS):
        candidate = objective.evaluate(current.theta + alpha * d, hessian=True)
        if sufficient_decrease(current, candidate, alpha * dg0, C1):
            return alpha, candidate
        alpha *= 0.5
    return None


def method(objective: LogisticObjective, options: OptimizerOptions) -> Method:
    """The registry's step for ``train.optimizer = newton`` (see :mod:`sparklr.optimizers`)."""
    return NewtonStep(objective)
