"""What every optimizer shares: its state, its history, the stopping rule (NumPy only).

An optimizer is a loop over ``objective.evaluate(θ)`` (see :mod:`sparklr.objective`); it
never sees Spark. Its whole state is an :class:`OptimizerState`: small, serializable to JSON
(checkpoints), and enough to continue a run bit for bit.

Stopping rule (all optimizers): stop at the first evaluated θ_k with ‖∇J(θ_k)‖₂ ≤ ``tol``
("converged"), or after ``max_iter`` iterations ("max_iter"). The gradient is in training
coordinates and J is a mean over samples, so ``tol`` does not depend on m.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sparklr.errors import DivergenceError
from sparklr.objective import Evaluation


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
