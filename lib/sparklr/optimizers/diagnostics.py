"""Run diagnostics every optimizer can use (NumPy only): detecting separable data.

When the classes are perfectly separable by a hyperplane, the unregularized logistic loss has
no minimizer: J(θ) → 0 as ‖w‖ → ∞ along the separating direction, and every optimizer keeps
growing ‖w‖ while J shrinks towards 0. The run then ends at ``max_iter`` (or at a tiny
gradient) with coefficients whose size only says how long it ran.

:class:`SeparationMonitor` watches the iterates and reports separation as *suspected* when,
over the trailing ``window`` iterations (at least ``min_window``):

* ‖w̃‖₂ (training coordinates, intercept excluded) rose at every iteration, and
* J fell at every iteration, and
* the training data is classified perfectly (accuracy = 1, i.e. the current w̃, b̃ already
  separate it — a certificate that the optimum is at infinity) or J < ``small_loss``.

On non-separable data ‖w̃‖ converges to a finite value and the accuracy stays below 1, so
the first or the last condition fails once the run has settled.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Observation:
    iteration: int
    loss: float
    weight_norm: float
    accuracy: float


class SeparationMonitor:
    """Feed it every iterate with :meth:`observe`; read :attr:`suspected` at the end."""

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
