"""The cost model of one iteration, fitted to the scaling series (NumPy only).

One point = one configuration: N executors × c cores (slots S = N c), P blocks, B bytes of
blocks in all, and the measured seconds t of one pass. The model

    t(P, N, B) = fixed + per_task · g(P, S) + per_byte · B / lanes,     lanes = min(S, cpus)

with one of three task terms g (:data:`FORMS`):

* ``P``        every task costs the driver (scheduling, launch, result) in turn: serial;
* ``P/slots``  the tasks' cost spreads over the executors' slots;
* ``P/lanes``  ... over the slots that really run at once (``cpus`` physical cores here).

``lanes`` divides the bytes because the blocks are streamed by all running tasks at once; on
the measuring machine that is at most its ``cpus``, on the predicted cluster every slot. The
coefficients are least squares (``numpy.linalg.lstsq``); :func:`fit_all` fits every form and
sorts them by residual, so the report can say which one the figures support. With every B = 0
(the empty job) the per-byte term is left out. A fit whose columns are linearly dependent
(e.g. one data size with lanes the same at every N: B / lanes is then a constant, the fixed
term's twin) is marked ``determined=False``: its coefficients are one of many equal fits.
On a machine with cpus ≤ every N, lanes = cpus throughout and the forms P and P/lanes differ
by a constant factor: they always fit equally well there, and predict differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FORMS: dict[str, Callable[[float, float, float], float]] = {
    "P": lambda blocks, slots, lanes: blocks,
    "P/slots": lambda blocks, slots, lanes: blocks / slots,
    "P/lanes": lambda blocks, slots, lanes: blocks / lanes,
}


@dataclass(frozen=True)
class Point:
    """One measured configuration (``seconds`` of one pass, a median)."""

    executors: int
    cores: int
    blocks: int
    bytes: int
    seconds: float

    @property
    def slots(self) -> int:
        return self.executors * self.cores


@dataclass(frozen=True)
class CostModel:
    """A fitted t(P, N, B) (see the module docstring); ``rms`` its root-mean-square residual
    (seconds) on the points it was fitted to."""

    form: str
    fixed: float
    per_task: float
    per_byte: float
    rms: float
    points: int
    determined: bool = True

    def predict(self, blocks: int, slots: int, total_bytes: float, lanes: int) -> float:
        """Seconds of one pass of ``blocks`` tasks on ``slots`` slots, ``lanes`` of them running
        at once, over ``total_bytes`` of blocks."""
        g = FORMS[self.form](blocks, slots, lanes)
        return self.fixed + self.per_task * g + self.per_byte * total_bytes / lanes


def lanes_of(slots: int, cpus: int) -> int:
    """Slots that run at once: min(slots, physical cores)."""
    return max(1, min(slots, cpus))


def residuals(model: CostModel, points: list[Point], cpus: int) -> np.ndarray:
    """Measured minus fitted seconds, one per point."""
    fitted = [model.predict(p.blocks, p.slots, p.bytes, lanes_of(p.slots, cpus)) for p in points]
    return np.array([p.seconds for p in points]) - np.array(fitted)


def fit(points: list[Point], form: str, cpus: int) -> CostModel:
    """Least-squares fit of one form to ``points`` measured on a machine of ``cpus`` cores."""
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; one of {', '.join(FORMS)}")
    with_bytes = any(p.bytes for p in points)
    rows = []
    for p in points:
        lanes = lanes_of(p.slots, cpus)
        row = [1.0, FORMS[form](p.blocks, p.slots, lanes)]
        rows.append([*row, p.bytes / lanes] if with_bytes else row)
    A = np.array(rows, dtype=np.float64)
    t = np.array([p.seconds for p in points], dtype=np.float64)
    if len(points) < A.shape[1]:
        raise ValueError(f"{len(points)} points cannot fit {A.shape[1]} coefficients")
    # Columns of very different magnitude (1, P, bytes): scale them for a well-posed solve.
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = 1.0
    coef, _, rank, _ = np.linalg.lstsq(A / norms, t, rcond=None)
    coef = coef / norms
    residual = t - A @ coef
    return CostModel(
        form=form,
        fixed=float(coef[0]),
        per_task=float(coef[1]),
        per_byte=float(coef[2]) if with_bytes else 0.0,
        rms=float(np.sqrt(np.mean(residual**2))),
        points=len(points),
        determined=bool(rank == A.shape[1]),
    )


def fit_all(points: list[Point], cpus: int) -> list[CostModel]:
    """Every form fitted, the best (lowest residual) first."""
    return sorted((fit(points, form, cpus) for form in FORMS), key=lambda m: m.rms)


@dataclass(frozen=True)
class Target:
    """The configuration to predict: issue 16's 1e9 rows × 100 features on 100 × 8 cores,
    float64 blocks (8 bytes a value and a label), one block per core by default."""

    rows: int = 1_000_000_000
    features: int = 100
    executors: int = 100
    cores: int = 8
    blocks: int = 0  # 0 = executors × cores

    @property
    def slots(self) -> int:
        return self.executors * self.cores

    @property
    def total_bytes(self) -> int:
        return self.rows * (self.features * 8 + 8)

    def predict(self, model: CostModel) -> float:
        blocks = self.blocks or self.slots
        return model.predict(blocks, self.slots, self.total_bytes, lanes=self.slots)
