"""Separable data: one verdict per run, "proven", "suspected" or "none" (NumPy only).

When the classes are perfectly separable by a hyperplane, the unpenalized logistic loss has no
minimizer: J(θ) → 0 as ‖w̃‖ → ∞ along the separating direction, and every optimizer keeps
growing ‖w̃‖ while J shrinks towards 0. The run then ends at ``max_iter`` (or at a tiny
gradient) with coefficients whose size only says how long it ran. Two pieces of evidence:

* **proven** (:func:`separates`): without a penalty (λ = 0), an evaluated θ with w̃ ≠ 0 that
  classifies every sample correctly is a certificate that no finite optimum exists
  (Albert & Anderson, 1984). lbfgs and newton stop on it (stop reason "separated").
* **suspected** (:class:`SeparationMonitor`): over the trailing ``window`` iterations (at least
  ``min_window``) ‖w̃‖₂ (training coordinates, intercept excluded) rose at every iteration, J fell
  at every iteration, and the data are classified perfectly or J < ``small_loss``. On
  non-separable data ‖w̃‖ converges to a finite value and the accuracy stays below 1, so the
  first or the last condition fails once the run has settled.

Any λ > 0 (L2 or L1) makes the optimum exist again, so with a penalty the verdict is "none".
The driver loop (:mod:`sparklr.optimizers.driver`) feeds a monitor every evaluated θ_k and
leaves :meth:`SeparationMonitor.verdict` in ``state.separation`` when the run ends.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sparklr.objective import Evaluation, LogisticObjective
    from sparklr.optimizers.base import OptimizerState

#: The stop reason of a run that proved separation.
SEPARATED = "separated"
#: Accuracy at or above this counts as "every sample on the right side" (weighted sums).
SEPARATION_ACCURACY = 1.0 - 1e-12

SEPARATION_MESSAGE = (
    "the classes are linearly separable: every training sample is classified correctly, so "
    "the unpenalized optimum does not exist (J → 0 only as ‖w‖ → ∞) and the coefficients are "
    "only one separating direction of arbitrary scale; set train.reg_param > 0"
)


def separates(objective: LogisticObjective, theta: np.ndarray, accuracy: float) -> bool:
    """True when θ (evaluated with training ``accuracy``) proves that the unpenalized optimum
    does not exist: λ = 0, w̃ ≠ 0 and every sample classified correctly."""
    return (
        objective.reg_param == 0
        and accuracy >= SEPARATION_ACCURACY
        and bool(np.any(theta[:-1] != 0))
    )


def stop_if_separated(objective: LogisticObjective, current: Evaluation) -> str | None:
    """The stop reason "separated" when ``current`` proves separation (lbfgs and newton stop on
    it: no finite optimum exists to converge to), else None."""
    return SEPARATED if separates(objective, current.theta, current.accuracy) else None


def separation_detected(objective: LogisticObjective, state: OptimizerState) -> bool:
    """Whether the last evaluated θ of ``state`` separates the data (see :func:`separates`).

    For any optimizer's result; lbfgs and newton also stop on it (stop reason "separated").
    """
    if state.stop_reason == SEPARATED:
        return True
    if not state.history:
        return False
    return separates(objective, state.theta, state.history[-1].accuracy)


@dataclass(frozen=True)
class SeparationVerdict:
    """What a run says about separation."""

    #: "proven" (:func:`separates`), "suspected" (:class:`SeparationMonitor`) or "none".
    status: str
    #: The warning to log ("" for "none").
    message: str
    #: ‖w̃‖₂ of the last evaluated θ (NaN before any evaluation).
    weight_norm: float

    @property
    def flagged(self) -> bool:
        """Proven or suspected: the coefficients only reflect when training stopped."""
        return self.status != "none"


@dataclass(frozen=True)
class Observation:
    iteration: int
    loss: float
    weight_norm: float
    accuracy: float


class SeparationMonitor:
    """Feed it every iterate with :meth:`observe`; read :attr:`suspected` or :meth:`verdict`."""

    def __init__(self, window: int = 20, min_window: int = 5, small_loss: float = 1e-3):
        self.window = window
        self.min_window = min_window
        self.small_loss = small_loss
        self._recent: deque[Observation] = deque(maxlen=window)

    def observe(self, iteration: int, loss: float, theta: np.ndarray, accuracy: float) -> None:
        """θ = (w̃, b̃) evaluated at ``iteration`` with J = ``loss`` and training ``accuracy``."""
        norm = float(np.linalg.norm(np.asarray(theta, dtype=np.float64)[:-1]))
        if self._recent and self._recent[-1].iteration >= iteration:
            self._recent.clear()  # a restart: only a contiguous run counts
        self._recent.append(Observation(iteration, float(loss), norm, float(accuracy)))

    @property
    def weight_norm(self) -> float:
        return self._recent[-1].weight_norm if self._recent else math.nan

    @property
    def suspected(self) -> bool:
        obs = list(self._recent)
        if len(obs) < self.min_window:
            return False
        growing = all(b.weight_norm > a.weight_norm for a, b in itertools.pairwise(obs))
        falling = all(b.loss < a.loss for a, b in itertools.pairwise(obs))
        last = obs[-1]
        separated = last.accuracy == 1.0 or last.loss < self.small_loss
        return growing and falling and separated

    def message(self) -> str:
        last = self._recent[-1]
        return (
            "the training data look perfectly separable: over the last "
            f"{len(self._recent)} iterations ‖w‖ grew to {last.weight_norm:.4g} while J fell "
            f"to {last.loss:.3g} (training accuracy {last.accuracy:.4f}); the maximum-likelihood "
            "optimum is at infinity, so the coefficients only reflect when training stopped"
        )

    def verdict(self, objective: LogisticObjective, state: OptimizerState) -> SeparationVerdict:
        """The run's verdict: proven beats suspected; with a penalty (λ > 0) neither applies."""
        if separation_detected(objective, state):
            return SeparationVerdict("proven", SEPARATION_MESSAGE, self.weight_norm)
        if objective.reg_param == 0 and self.suspected:
            return SeparationVerdict("suspected", self.message(), self.weight_norm)
        return SeparationVerdict("none", "", self.weight_norm)
