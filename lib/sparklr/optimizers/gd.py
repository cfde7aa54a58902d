"""Batch gradient descent, the seed's method, and its two optional accelerations.

Plain GD (the default, exactly the seed)::

    θ_{k+1} = θ_k − α ∇J(θ_k)        (w ← w − α ∂J/∂w,  b ← b − α ∂J/∂b)

with a fixed learning rate α. One evaluation (one pass over the data) per iteration. With
α ≤ 1/L, L the curvature bound of :meth:`LogisticObjective.lipschitz`, J never increases, so
an increase of J means α is too large: the run stops with :class:`DivergenceError`.

L1 (λρ > 0, ρ = ``elastic_net`` the mix of the penalty): the step becomes the proximal-gradient
step (ISTA): with f the smooth part of J, θ_{k+1} = prox(θ_k − α ∇f(θ_k)), where prox
soft-thresholds every w̃_j by α λρ (w̃_j ← sign(w̃_j) max(|w̃_j| − α λρ, 0)) and leaves b̃
alone. Without L1, prox is the identity.

``line_search = True`` (Armijo backtracking). The trial step starts at the step accepted in
the previous iteration, doubled when that one was accepted at its first trial (α at the
start), and is halved until

    J(θ⁺) ≤ J(θ_k) + c Δ,   Δ = ∇f(θ_k)ᵀ(θ⁺ − θ_k) + λρ (‖w̃⁺‖₁ − ‖w̃_k‖₁)  (< 0),  c = 10⁻⁴

(Δ = −α‖∇J‖² without L1). Every trial is one pass; the accepted trial's pass is the next
iteration's evaluation, so an iteration costs 1 + (number of rejected trials) passes. When
|Δ| is below J's round-off the test uses ‖∇J‖ instead (see
:func:`~sparklr.optimizers.base.sufficient_decrease`), so tight tolerances do not stall.

``momentum = "nesterov"`` (FISTA with adaptive restart). With x_k the proximal-gradient
iterates and y_k the evaluated points::

    x_{k+1} = prox(y_k − α ∇f(y_k))
    t_{k+1} = (1 + √(1 + 4 t_k²)) / 2
    y_{k+1} = x_{k+1} + ((t_k − 1) / t_{k+1}) (x_{k+1} − x_k)

starting from y_0 = x_0 = θ_0, t_0 = 1. When (y_k − x_{k+1})ᵀ(x_{k+1} − x_k) > 0 (the step
points against the momentum) t is reset to 1 (O'Donoghue & Candès' gradient restart), which
keeps the linear rate on strongly convex problems. J is reported at y_k and the run stops at
the first y_k that meets the stopping rule. J(y_k) need not decrease monotonically; a run
whose J exceeds 100 (J(θ_0) + 1) is reported as divergence. One pass per iteration.
Nesterov uses the fixed α; it is not combined with the line search.

Each variant is a :class:`~sparklr.optimizers.driver.Method` of the shared driver loop. State
(for checkpoints): θ (y_k for nesterov); memory "step" (line search), "x_prev" and "t"
(nesterov). A resumed run re-evaluates θ_k (deterministic) and continues bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from sparklr.errors import DivergenceError
from sparklr.objective import Evaluation, LogisticObjective
from sparklr.optimizers.base import (
    Callback,
    OptimizerOptions,
    OptimizerState,
    StopRule,
    soft_threshold,
    sufficient_decrease,
)
from sparklr.optimizers.driver import Method, Move, drive

#: J may rise by this relative amount (round-off) before it counts as divergence.
RISE_TOLERANCE = 1e-10
LEARNING_RATE_HINT = 'the learning rate is too large; use train.learning_rate = "auto"'
#: Armijo's sufficient-decrease constant, the step's shrink and growth factors.
ARMIJO_C = 1e-4
SHRINK = 0.5
GROW = 2.0
MAX_TRIALS = 60
#: Nesterov: J(y_k) above this multiple of (J(θ_0) + 1) is divergence.
NESTEROV_BLOWUP = 100.0
#: The momentum choices of gd (config.py checks train.momentum against them).
MOMENTA = ("none", "nesterov")


class FixedStep(Method):
    """θ_{k+1} = prox(θ_k − α ∇f(θ_k)); with α ≤ 1/L, J never rises."""

    hint = LEARNING_RATE_HINT

    def __init__(self, objective: LogisticObjective, learning_rate: float):
        self.objective = objective
        self.learning_rate = learning_rate

    def check(self, current: Evaluation, state: OptimizerState) -> None:
        if not state.history:
            return
        previous = state.history[-1].loss
        if current.loss > previous + RISE_TOLERANCE * max(1.0, abs(previous)):
            raise DivergenceError(
                f"training diverged at iteration {state.iteration}: J rose from {previous:.6g} "
                f"to {current.loss:.6g} with learning rate {self.learning_rate:g}; {self.hint}"
            )

    def step(self, current: Evaluation, state: OptimizerState) -> Move:
        return Move(self.prox_gradient(current), self.learning_rate)

    def prox_gradient(self, current: Evaluation) -> np.ndarray:
        """prox(θ − α ∇f(θ)) at θ = ``current.theta``."""
        rate = self.learning_rate
        return soft_threshold(current.theta - rate * current.grad, rate * self.objective.l1)


class ArmijoStep(FixedStep):
    """The proximal-gradient step with Armijo backtracking; memory "step" is the next trial."""

    def step(self, current: Evaluation, state: OptimizerState) -> Move:
        trial = float(state.memory.get("step", self.learning_rate))
        taken, evaluation, trials = _armijo(self.objective, current, trial, state.iteration)
        following = taken * GROW if trials == 1 else taken
        return Move(evaluation.theta, taken, evaluation, {"step": following})


def _armijo(
    objective: LogisticObjective, current: Evaluation, step: float, k: int
) -> tuple[float, Evaluation, int]:
    """Backtrack from ``step``; returns (accepted step, evaluation at θ⁺, passes used)."""
    theta, g = current.theta, current.grad
    l1 = objective.l1
    norm1 = float(np.abs(theta[:-1]).sum()) if l1 else 0.0
    for trial in range(1, MAX_TRIALS + 1):
        candidate = soft_threshold(theta - step * g, step * l1)
        d = candidate - theta
        predicted = float(g @ d)
        if l1:
            predicted += l1 * (float(np.abs(candidate[:-1]).sum()) - norm1)
        trial_eval = objective.evaluate(candidate)
        if sufficient_decrease(current, trial_eval, predicted, ARMIJO_C):
            return step, trial_eval, trial
        step *= SHRINK
    raise DivergenceError(
        f"line search failed at iteration {k}: no decrease of J after {MAX_TRIALS} halvings "
        f"of the step (J = {current.loss:.6g}, |grad J| = {current.grad_norm:.3e})"
    )


class NesterovStep(FixedStep):
    """FISTA with gradient restart; memory "x_prev" (x_k) and "t" (t_k)."""

    def check(self, current: Evaluation, state: OptimizerState) -> None:
        first = state.history[0].loss if state.history else current.loss
        if current.loss > NESTEROV_BLOWUP * (abs(first) + 1.0):
            raise DivergenceError(
                f"training diverged at iteration {state.iteration}: J = {current.loss:.6g} "
                f"(started at {first:.6g}) with learning rate {self.learning_rate:g}; "
                f"{self.hint}"
            )

    def step(self, current: Evaluation, state: OptimizerState) -> Move:
        y = current.theta
        x_prev = np.asarray(state.memory.get("x_prev", y), dtype=np.float64)
        t = float(state.memory.get("t", 1.0))
        x = self.prox_gradient(current)
        if float((y - x) @ (x - x_prev)) > 0:
            t = 1.0  # restart: the momentum points uphill
        t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
        y_next = x + ((t - 1.0) / t_next) * (x - x_prev)
        return Move(y_next, self.learning_rate, memory={"x_prev": x, "t": t_next})


def gd_method(
    objective: LogisticObjective,
    learning_rate: float,
    *,
    line_search: bool = False,
    momentum: str = "none",
) -> Method:
    """The step of GD with α = ``learning_rate``: fixed, Armijo line search, or Nesterov."""
    if momentum not in MOMENTA:
        raise ValueError(f"momentum must be one of {', '.join(MOMENTA)}; got {momentum!r}")
    if momentum == "nesterov" and line_search:
        raise ValueError("nesterov momentum uses the fixed step: it takes no line search")
    if momentum == "nesterov":
        return NesterovStep(objective, learning_rate)
    if line_search:
        return ArmijoStep(objective, learning_rate)
    return FixedStep(objective, learning_rate)


def gradient_descent(
    objective: LogisticObjective,
    state: OptimizerState,
    *,
    learning_rate: float,
    stop: StopRule,
    callback: Callback | None = None,
    line_search: bool = False,
    momentum: str = "none",
) -> OptimizerState:
    """Run GD from ``state`` until ``stop`` says so; returns the final state (θ_k evaluated)."""
    step = gd_method(objective, learning_rate, line_search=line_search, momentum=momentum)
    return drive(objective, state, step, stop, callback)


def method(objective: LogisticObjective, options: OptimizerOptions) -> Method:
    """The registry's step for ``train.optimizer = gd`` (see :mod:`sparklr.optimizers`)."""
    if options.learning_rate is None:
        raise ValueError("gd needs a learning rate (1/L for auto)")
    return gd_method(
        objective,
        options.learning_rate,
        line_search=options.line_search,
        momentum=options.momentum,
    )
