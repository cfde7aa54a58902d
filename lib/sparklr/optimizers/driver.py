"""The one iteration loop every optimizer runs (NumPy only); each method supplies its step.

Iteration k, for every method (:func:`drive`):

1. J, ∇J (and ∇²J when the method asks for it) at θ_k: the evaluation the previous step
   already made (a line search's accepted trial), else one pass ``objective.evaluate(θ_k)``;
2. J and ∇J must be finite (else :class:`DivergenceError` with the method's hint), then the
   method's own divergence test (:meth:`Method.check`); the separation monitor sees θ_k;
3. stop when the shared :class:`StopRule` or the method's own rule (:meth:`Method.stop`) says
   so; otherwise take the method's step (:meth:`Method.step`): θ_{k+1} with the step length,
   the evaluation at θ_{k+1} if the step made one and the memory to keep — or a stop reason
   when no step is possible ("no_progress");
4. append the history line of θ_k, whose ``evaluations`` counts this iteration's passes. When
   stopping, set the stop reason and the separation verdict (``state.separation``), call back
   and return with θ_k; otherwise move to θ_{k+1}, store the memory, call back.

The callback receives the state to continue from (θ_{k+1}, k + 1, the memory) and the record of
θ_k; at the end it receives the final state. Everything a method carries from one iteration to
the next is in ``state.memory``, and a step reads it from the state it is given, so a run
started from a checkpointed state continues bit for bit (it re-evaluates θ_k, one pass more
than the uninterrupted run spent there). The wall clock continues from the last record.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sparklr.errors import DivergenceError
from sparklr.objective import Evaluation, LogisticObjective
from sparklr.optimizers.base import Callback, IterationRecord, OptimizerState, StopRule
from sparklr.optimizers.separation import SeparationMonitor

#: What a DivergenceError suggests when J or ∇J is not finite (methods may say more).
DIVERGENCE_HINT = "the data or the configuration produce non-finite values"


@dataclass(frozen=True)
class Move:
    """A step from θ_k: θ_{k+1}, the step length to record, J at θ_{k+1} when the step has
    evaluated it (the next iteration reuses it) and the ``state.memory`` entries to keep."""

    theta: np.ndarray
    step: float
    evaluation: Evaluation | None = None
    memory: dict[str, Any] = field(default_factory=dict)


class Method:
    """One optimizer as the driver sees it: :meth:`step`, and hooks that default to nothing."""

    #: Every evaluation includes ∇²J (newton).
    hessian: bool = False
    #: The advice of the DivergenceError when J or ∇J is not finite.
    hint: str = DIVERGENCE_HINT

    def check(self, current: Evaluation, state: OptimizerState) -> None:
        """Raise :class:`DivergenceError` when J at θ_k (``current``) shows divergence;
        ``state.history`` holds the records of θ_0 … θ_{k−1}."""

    def stop(self, current: Evaluation) -> str | None:
        """A stop reason of this method at θ_k, asked when the shared rule does not stop."""
        return None

    def step(self, current: Evaluation, state: OptimizerState) -> Move | str:
        """The step from θ_k (``current``, with ``state.memory``), or why none is possible."""
        raise NotImplementedError


def check_finite(evaluation: Evaluation, iteration: int, hint: str) -> None:
    """Stop at once when J or its gradient is NaN or infinite."""
    if not (math.isfinite(evaluation.loss) and np.all(np.isfinite(evaluation.grad))):
        raise DivergenceError(
            f"training diverged at iteration {iteration}: "
            f"J = {evaluation.loss} is not finite; {hint}"
        )


def drive(
    objective: LogisticObjective,
    state: OptimizerState,
    method: Method,
    stop: StopRule,
    callback: Callback | None = None,
) -> OptimizerState:
    """Run ``method`` from ``state`` until it or ``stop`` ends the run (module docstring)."""
    started = time.perf_counter() - (state.history[-1].seconds if state.history else 0.0)
    monitor = SeparationMonitor()
    pending: Evaluation | None = None
    while True:
        k = state.iteration
        before = objective.evaluations
        current = pending
        if current is None:
            current = objective.evaluate(state.theta, hessian=method.hessian)
        check_finite(current, k, method.hint)
        method.check(current, state)
        monitor.observe(k, current.loss, current.theta, current.accuracy)
        reason = stop.reason(current, k) or method.stop(current)
        move = None if reason else method.step(current, state)
        if isinstance(move, str):
            reason, move = move, None
        record = IterationRecord(
            iteration=k,
            loss=current.loss,
            grad_norm=current.grad_norm,
            step=move.step if move else 0.0,
            seconds=time.perf_counter() - started,
            accuracy=current.accuracy,
            evaluations=objective.evaluations - before,
        )
        state.history.append(record)
        if reason:
            state.stop_reason = reason
            state.separation = monitor.verdict(objective, state)
            if callback:
                callback(state, record)
            return state
        state.theta = move.theta.copy()
        state.memory.update(move.memory)
        state.iteration = k + 1
        pending = move.evaluation
        if callback:
            callback(state, record)
