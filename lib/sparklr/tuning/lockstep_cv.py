"""K-fold cross-validation and the full-data path in one set of passes (NumPy only).

The same results as :func:`sparklr.tuning.cv.cross_validate` (each fold's warm-started path
scored on its held-out rows) and :func:`sparklr.tuning.path.fit_path` (the full data's path),
but the K + 1 fits at each λ run in lockstep (:mod:`sparklr.tuning.lockstep`), so one pass
evaluates all of them. Per λ_i, in decreasing order:

1. the K fold models (J_k over f ≠ k) and the full-data model start from their optima at
   λ_{i−1} (the first from θ⁰), each with its carried optimizer memory
   (:func:`sparklr.tuning.path.next_start`), and run to convergence together;
2. the held-out metric M_{λ_i k} at fold k's optimum: "log_loss" = Σ_{f = k} L / rows comes
   with the sums of the model's final evaluation (no pass); "auc" (or a final point that was
   not the last evaluated, after "no_progress") takes one batched scoring pass for the folds
   that need it (``source.held_out_scores``);
3. the full-data optimum is the path's point at λ_i; the state so far (:class:`Progress`) goes
   to ``on_lambda`` (the training job checkpoints it), and a run given that state continues at
   λ_{i+1} with bit-identical results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sparklr.kernels.multi import ALL_ROWS
from sparklr.objective import LogisticObjective
from sparklr.optimizers import OptimizerState
from sparklr.optimizers.base import array_from_json, to_jsonable
from sparklr.tuning.cv import CvResult, FoldedSource, choose, held_out_metric
from sparklr.tuning.lockstep import Lockstep
from sparklr.tuning.path import Fit, PathPoint, next_start


@dataclass
class Progress:
    """The state at a λ boundary: λ values done, the K + 1 optima (folds, then the full
    data) with their optimizer memory, the metric per (λ, fold) so far (NaN after ``done``)
    and the full-data path."""

    done: int
    states: list[OptimizerState]
    values: np.ndarray
    points: list[PathPoint]

    def to_json(self, *, binary: bool = False) -> dict:
        """The state as JSON; ``binary``: every θ and memory array stays a float64 ndarray,
        for the checkpoint, which writes them in binary beside its JSON
        (:mod:`sparklr.app.checkpoint`)."""
        return {
            "done": self.done,
            "states": [_start_json(state, binary) for state in self.states],
            "values": [[None if np.isnan(x) else float(x) for x in row] for row in self.values],
            "points": [_point_json(p, binary) for p in self.points],
        }

    @classmethod
    def from_json(cls, data: dict) -> Progress:
        values = np.array(
            [[np.nan if x is None else x for x in row] for row in data["values"]], dtype=float
        )
        points = [PathPoint(**{**p, "theta": array_from_json(p["theta"])}) for p in data["points"]]
        states = [
            OptimizerState.from_json({**s, "theta": array_from_json(s["theta"])})
            for s in data["states"]
        ]
        return cls(int(data["done"]), states, values, points)


def _start_json(state: OptimizerState, binary: bool) -> dict:
    """θ and memory: what the next λ starts from (the fit's history is in the path), θ as
    base64 like the memory (K + 1 θ as lists of numbers were ~half of a checkpoint's
    encoding time at n_x = 16,384; lists, as older checkpoints hold them, still read), or
    both as arrays when ``binary``."""
    start = OptimizerState(0, state.theta[:0], memory=state.memory).to_json(binary=binary)
    return {**start, "theta": to_jsonable(state.theta, binary)}


def _point_json(p: PathPoint, binary: bool) -> dict:
    return {
        "reg_param": p.reg_param,
        "loss": p.loss,
        "grad_norm": p.grad_norm,
        "iterations": p.iterations,
        "evaluations": p.evaluations,
        "stop_reason": p.stop_reason,
        "theta": to_jsonable(p.theta, binary),
    }


def cross_validate_path(
    objective: LogisticObjective,
    source: FoldedSource,
    reg_params: Sequence[float],
    fit: Fit,
    theta0: np.ndarray,
    *,
    metric: str = "log_loss",
    rule: str = "min",
    progress: Progress | None = None,
    on_lambda: Callable[[Progress], None] | None = None,
) -> tuple[CvResult, list[PathPoint], int]:
    """(the CV result, the full-data path, the passes made) of the module docstring, from
    ``progress`` when given. ``objective`` gives the feature map, mix, class weight and
    intercept; ``source`` must have ``multi_sums`` and ``held_out_scores``."""
    lambdas = np.array(sorted(reg_params, reverse=True), dtype=np.float64)
    K = source.folds
    lockstep = Lockstep(source, [*range(K), ALL_ROWS], objective.class_weight)
    models = [
        LogisticObjective(
            lockstep.source_of(j),
            objective.feature_map,
            elastic_net=objective.elastic_net,
            class_weight=objective.class_weight,
            fit_intercept=objective.fit_intercept,
        )
        for j in range(K + 1)
    ]
    if progress is None:
        theta = np.asarray(theta0, dtype=np.float64)
        progress = Progress(
            0,
            [OptimizerState(0, theta.copy()) for _ in models],
            np.full((len(lambdas), K), np.nan),
            [],
        )
    passes = 0
    for i in range(progress.done, len(lambdas)):
        l2 = objective.l2_of(lambdas[i - 1]) if i else None
        for model in models:
            model.reg_param = float(lambdas[i])
        jobs = [
            _job(fit, model, next_start(state, l2, model.l2))
            for model, state in zip(models, progress.states, strict=True)
        ]
        states = lockstep.run(jobs)
        thetas = [s.theta.copy() for s in states]
        values = progress.values.copy()
        values[i], scored = _held_out(objective, source, lockstep, thetas[:K], metric)
        passes += scored
        points = [*progress.points, PathPoint.of_state(lambdas[i], states[K])]
        progress = Progress(i + 1, states, values, points)
        if on_lambda is not None:
            on_lambda(progress)
    passes += lockstep.passes
    chosen = choose(lambdas, progress.values, metric, rule)
    return CvResult(lambdas, progress.values, metric, rule, chosen), progress.points, passes


def _job(fit: Fit, objective: LogisticObjective, start: OptimizerState):
    return lambda: fit(objective, start)


def _held_out(objective, source, lockstep: Lockstep, thetas, metric: str) -> tuple[np.ndarray, int]:
    """(M_k at fold k's optimum for every k, the scoring passes made: 0 or 1)."""
    raw = [objective.feature_map.to_raw(theta) for theta in thetas]
    values = np.full(len(thetas), np.nan)
    need = []
    for k, (w, b) in enumerate(raw):
        held = lockstep.held_out(k, w, b) if metric == "log_loss" else None
        if held is None:
            need.append(k)
        else:
            loss, rows = held
            values[k] = loss / rows if rows else np.nan
    if not need:
        return values, 0
    W = np.column_stack([raw[k][0] for k in need])
    B = np.array([raw[k][1] for k in need])
    for k, summary in zip(need, source.held_out_scores(W, B, np.array(need)), strict=True):
        values[k] = held_out_metric(summary, metric)
    return values, 1
