"""Newton's method (= IRLS for logistic regression) with a safeguarded step.

Each pass returns, besides J and ∇J, the Hessian of the data term: every partition adds its
X_p D_p X_pᵀ with D = diag(v a(1 − a)) (the kernels' ``hess_*`` sums, mapped to training
coordinates by the objective, plus λ(1 − α) on the w̃ diagonal). The driver solves

    ∇²J(θ_k) d = −∇J(θ_k)

by Cholesky, and steps θ_{k+1} = θ_k + α d with α from Armijo backtracking starting at 1
(J(θ + αd) ≤ J(θ) + c α ∇Jᵀd, c = 10⁻⁴; each trial one pass, which also returns the Hessian
the next iteration needs). Near the optimum α = 1 is accepted and convergence is quadratic:
a handful of passes. Safeguards: coordinates whose Hessian diagonal is 0 (constant features)
are held at their value; a Hessian that is not numerically positive definite (nearly
separable data, duplicated features) gets a Levenberg term μI, μ growing tenfold from
10⁻¹⁰ × its largest diagonal entry until Cholesky succeeds.

Cost per pass: O(m n_x²) flops on the executors (the XᵀDX) and an (n_x + 1)² matrix per
partition over the network, O(n_x³) on the driver: meant for n_x up to a few thousand.
L1 is not supported (J is not twice differentiable); use lbfgs (OWL-QN) or gd (proximal).

Stopping: the shared rule, plus "separated" (unpenalized and every sample classified correctly:
no finite optimum) and "no_progress" (no decrease beyond J's round-off). Newton keeps no memory
between iterations, so a resumed run continues bit for bit.
"""

from __future__ import annotations

import time

import numpy as np

from sparklr.errors import ConfigError
from sparklr.objective import Evaluation, LogisticObjective
from sparklr.optimizers.base import (
    Callback,
    OptimizerOptions,
    OptimizerState,
    StopRule,
    check_finite,
    record_iteration,
    separates,
    sufficient_decrease,
)

C1 = 1e-4
MAX_TRIALS = 40
DIVERGENCE_HINT = "the data or the configuration produce non-finite values"
L1_UNSUPPORTED = (
    "config key train.optimizer = newton does not support an L1 penalty "
    "(train.reg_param > 0 with train.elastic_net > 0); use lbfgs (OWL-QN) or gd (proximal)"
)


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


def newton(
    objective: LogisticObjective,
    state: OptimizerState,
    *,
    stop: StopRule,
    callback: Callback | None = None,
) -> OptimizerState:
    """Run Newton from ``state`` until ``stop`` says so (see module docstring)."""
    if objective.l1:
        raise ConfigError(L1_UNSUPPORTED)
    start = time.perf_counter() - (state.history[-1].seconds if state.history else 0.0)
    pending: Evaluation | None = None
    while True:
        k = state.iteration
        before = objective.evaluations
        if pending is None:
            current = objective.evaluate(state.theta, hessian=True)
        else:
            current, pending = pending, None
        check_finite(current, k, DIVERGENCE_HINT)
        reason = stop.reason(current, k)
        if reason is None and separates(objective, current.theta, current.accuracy):
            reason = "separated"
        step = 0.0
        if reason is None:
            d = newton_direction(current.hessian, current.grad)
            result = _backtrack(objective, current, d)
            if result is None:
                reason = "no_progress"
            else:
                step, pending = result
        record = record_iteration(
            state,
            current,
            step=step,
            started=start,
            reason=reason,
            callback=callback,
            evaluations=objective.evaluations - before,
        )
        if record is None:
            return state
        state.theta = pending.theta.copy()
        state.iteration = k + 1
        if callback:
            callback(state, record)


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


def run(
    objective: LogisticObjective,
    state: OptimizerState,
    *,
    options: OptimizerOptions,
    stop: StopRule,
    callback: Callback | None = None,
) -> OptimizerState:
    """The registry's entry point (see :func:`sparklr.optimizers.get`)."""
    return newton(objective, state, stop=stop, callback=callback)
