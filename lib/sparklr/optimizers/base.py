"""What every optimizer shares: its state, its history, the stopping rule (NumPy only).

An optimizer is a loop over ``objective.evaluate(θ)`` (see :mod:`sparklr.objective`); it
never sees Spark. Its whole state is an :class:`OptimizerState`: small, serializable to JSON
(checkpoints), and enough to continue a run bit for bit.

Stopping rule (all optimizers): stop at the first evaluated θ_k with ‖∇J(θ_k)‖₂ ≤ ``tol``
("converged"), or after ``max_iter`` iterations ("max_iter"). The gradient is in training
coordinates and J is a mean over samples, so ``tol`` does not depend on m. With an L1 term,
‖∇J‖ is the norm of the minimum-norm subgradient (see :class:`sparklr.objective.Evaluation`).

Every optimizer has the signature of :data:`Optimizer` (see :func:`sparklr.optimizers.get`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from sparklr.errors import DivergenceError
from sparklr.objective import Evaluation, LogisticObjective


@dataclass
class IterationRecord:
    """One line of the history: J and ‖∇J‖ at θ_k, the step taken from θ_k, wall seconds."""

    iteration: int
    loss: float
    grad_norm: float
    step: float
    seconds: float
    accuracy: float = float("nan")
    evaluations: int = 1


@dataclass
class OptimizerState:
    """Everything needed to continue: θ_k, k, the history so far and optimizer memory."""

    iteration: int
    theta: np.ndarray
    history: list[IterationRecord] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    stop_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "theta": [float(v) for v in self.theta],
            "history": [asdict(r) for r in self.history],
            "memory": {k: _to_jsonable(v) for k, v in self.memory.items()},
            "stop_reason": self.stop_reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OptimizerState:
        return cls(
            iteration=int(data["iteration"]),
            theta=np.asarray(data["theta"], dtype=np.float64),
            history=[IterationRecord(**r) for r in data["history"]],
            memory={k: _from_jsonable(v) for k, v in data.get("memory", {}).items()},
            stop_reason=data.get("stop_reason"),
        )


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"ndarray": value.tolist()}
    if isinstance(value, list):
        return [_to_jsonable(v) for v in value]
    return value


def _from_jsonable(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"ndarray"}:
        return np.asarray(value["ndarray"], dtype=np.float64)
    if isinstance(value, list):
        return [_from_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class StopRule:
    max_iter: int
    tol: float

    def reason(self, evaluation: Evaluation, iteration: int) -> str | None:
        if evaluation.grad_norm <= self.tol:
            return "converged"
        if iteration >= self.max_iter:
            return "max_iter"
        return None


#: Called after every iteration with the state to continue from (for checkpoints, progress).
Callback = Callable[[OptimizerState, IterationRecord], None]


def check_finite(evaluation: Evaluation, iteration: int, hint: str) -> None:
    """Stop at once when J or its gradient is NaN or infinite."""
    if not (math.isfinite(evaluation.loss) and np.all(np.isfinite(evaluation.grad))):
        raise DivergenceError(
            f"training diverged at iteration {iteration}: "
            f"J = {evaluation.loss} is not finite; {hint}"
        )


@dataclass(frozen=True)
class OptimizerOptions:
    """The settings some optimizers use (the others ignore them)."""

    #: Step α of gd (the first trial step with line search); None = 1/L.
    learning_rate: float | None = None
    #: gd: Armijo backtracking line search.
    line_search: bool = False
    #: gd: "none" or "nesterov".
    momentum: str = "none"
    #: lbfgs: number of (s, y) pairs kept.
    history_size: int = 10


class Optimizer(Protocol):
    """``run(objective, state, options=..., stop=..., callback=...) → final state``."""

    def __call__(
        self,
        objective: LogisticObjective,
        state: OptimizerState,
        *,
        options: OptimizerOptions,
        stop: StopRule,
        callback: Callback | None = None,
    ) -> OptimizerState: ...


#: A decrease of J below this fraction of max(1, |J|) is within J's round-off.
ROUNDOFF = 1e-13


def sufficient_decrease(current: Evaluation, trial: Evaluation, predicted: float, c: float) -> bool:
    """Armijo's test J(θ⁺) ≤ J(θ) + c Δ for a step with predicted change Δ < 0.

    When |Δ| is below J's round-off, J cannot tell a good step from a bad one; the step is
    then accepted if J stays within round-off and ‖∇J‖ does not grow (the gradient, unlike J,
    is still accurate there). This keeps tight tolerances reachable without accepting steps
    that make things worse.
    """
    if not (math.isfinite(trial.loss) and np.all(np.isfinite(trial.grad))):
        return False
    if trial.loss <= current.loss + c * min(predicted, 0.0):
        return True
    slack = ROUNDOFF * max(1.0, abs(current.loss))
    return (
        -predicted <= slack
        and trial.loss <= current.loss + slack
        and trial.grad_norm <= current.grad_norm
    )


def soft_threshold(theta: np.ndarray, threshold: float) -> np.ndarray:
    """prox of threshold·‖w̃‖₁: shrink every w̃_j towards 0 by ``threshold`` (b̃ untouched)."""
    if threshold <= 0:
        return theta
    out = theta.copy()
    w = theta[:-1]
    out[:-1] = np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
    return out


#: Accuracy at or above this counts as "every sample on the right side" (weighted sums).
SEPARATION_ACCURACY = 1.0 - 1e-12


def separates(objective: LogisticObjective, theta: np.ndarray, accuracy: float) -> bool:
    """True when θ proves that the unpenalized optimum does not exist.

    If some θ with w̃ ≠ 0 classifies every sample correctly (z ≥ 0 exactly for y = 1), the
    classes are (quasi-)completely separated, and J → inf J is only approached as ‖w̃‖ → ∞
    along that direction (Albert & Anderson, 1984): there is no finite maximum-likelihood
    estimate. Any λ > 0 (L2 or L1) makes the optimum exist again.
    """
    return (
        objective.reg_param == 0
        and accuracy >= SEPARATION_ACCURACY
        and bool(np.any(theta[:-1] != 0))
    )


def separation_detected(objective: LogisticObjective, state: OptimizerState) -> bool:
    """Whether the last evaluated θ of ``state`` separates the data (see :func:`separates`).

    For any optimizer's result; lbfgs and newton also stop on it (stop reason "separated").
    """
    if state.stop_reason == "separated":
        return True
    if not state.history:
        return False
    return separates(objective, state.theta, state.history[-1].accuracy)


SEPARATION_MESSAGE = (
    "the classes are linearly separable: every training sample is classified correctly, so "
    "the unpenalized optimum does not exist (J → 0 only as ‖w‖ → ∞) and the coefficients are "
    "only one separating direction of arbitrary scale; set train.reg_param > 0"
)


def record_iteration(
    state: OptimizerState,
    evaluation: Evaluation,
    *,
    step: float,
    started: float,
    reason: str | None,
    callback: Callback | None,
    evaluations: int = 1,
) -> IterationRecord | None:
    """Append the history line of θ_k. When ``reason`` ends the run, set the stop reason, make
    the last callback and return None; otherwise return the record (the optimizer takes its
    step, then calls back with it)."""
    record = IterationRecord(
        iteration=state.iteration,
        loss=evaluation.loss,
        grad_norm=evaluation.grad_norm,
        step=step,
        seconds=time.perf_counter() - started,
        accuracy=evaluation.accuracy,
        evaluations=evaluations,
    )
    state.history.append(record)
    if reason is None:
        return record
    state.stop_reason = reason
    if callback:
        callback(state, record)
    return None
