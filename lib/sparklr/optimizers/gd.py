"""Batch gradient descent, the seed's method.

    θ_{k+1} = θ_k − α ∇J(θ_k)        (w ← w − α ∂J/∂w,  b ← b − α ∂J/∂b)

with a fixed learning rate α. One evaluation (one pass over the data) per iteration. With
α ≤ 1/L, L the curvature bound of :meth:`LogisticObjective.lipschitz`, J never increases, so
an increase of J means α is too large: the run stops with :class:`DivergenceError`.
"""

from __future__ import annotations

import time

from sparklr.errors import DivergenceError
from sparklr.objective import LogisticObjective
from sparklr.optimizers.base import (
    Callback,
    IterationRecord,
    OptimizerState,
    StopRule,
    check_finite,
)

#: J may rise by this relative amount (round-off) before it counts as divergence.
RISE_TOLERANCE = 1e-10
DIVERGENCE_HINT = 'the learning rate is too large; use train.learning_rate = "auto"'


def gradient_descent(
    objective: LogisticObjective,
    state: OptimizerState,
    *,
    learning_rate: float,
    stop: StopRule,
    callback: Callback | None = None,
) -> OptimizerState:
    """Run GD from ``state`` until ``stop`` says so; returns the final state (θ_k evaluated)."""
    start = time.perf_counter() - (state.history[-1].seconds if state.history else 0.0)
    previous = state.history[-1].loss if state.history else None
    while True:
        k = state.iteration
        evaluation = objective.evaluate(state.theta)
        check_finite(evaluation, k, DIVERGENCE_HINT)
        if previous is not None and evaluation.loss > previous + RISE_TOLERANCE * max(
            1.0, abs(previous)
        ):
            raise DivergenceError(
                f"training diverged at iteration {k}: J rose from {previous:.6g} to "
                f"{evaluation.loss:.6g} with learning rate {learning_rate:g}; {DIVERGENCE_HINT}"
            )
        reason = stop.reason(evaluation, k)
        step = 0.0 if reason else learning_rate
        record = IterationRecord(
            iteration=k,
            loss=evaluation.loss,
            grad_norm=evaluation.grad_norm,
            step=step,
            seconds=time.perf_counter() - start,
            accuracy=evaluation.accuracy,
        )
        state.history.append(record)
        if reason:
            state.stop_reason = reason
            if callback:
                callback(state, record)
            return state
        state.theta = state.theta - learning_rate * evaluation.grad
        state.iteration = k + 1
        previous = evaluation.loss
        if callback:
            callback(state, record)
