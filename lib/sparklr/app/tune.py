"""The training job's model-selection step (``[tune]``): the regularization path on the
resident blocks, written beside the model.

With ``tune.path = N`` or ``tune.reg_params``, after the objective is built and before the
model is fitted, :func:`write_path` fits J at each λ in decreasing order, each fit warm-started
from the previous one (:mod:`sparklr.tuning.path`), with train.optimizer, train.max_iter and
train.tol (and α = 1/L at each λ when train.learning_rate = "auto"), and writes into the
staging directory:

* ``path.json``: λ_max, ρ, the feature names and per λ: J, ‖∇J‖, iterations, passes, stop
  reason, non-zeros, the coefficients w and intercept b on the original scale;
* ``path.csv``: the same, one row per λ, one column per coefficient;
* ``path.png``: the penalized coefficients w̃ (the scale the penalty acts on) against log₁₀ λ
  (skipped with a warning without matplotlib, the ``plot`` extra).

Without ``tune.folds`` the run's model is still the fit at ``train.reg_param``. With
``tune.folds = K``, :func:`write_cv` then cross-validates the same λ values on the folds fixed
in the blocks (:mod:`sparklr.tuning.cv`), writes ``cv.json``/``cv.csv``/``cv.png``
(:mod:`sparklr.app.cv_files`) and makes the run's model the refit on all rows at the chosen
λ, started from the path's optimum there.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sparklr.app.fit import Problem, run_optimizer
from sparklr.config import Config
from sparklr.objective import LogisticObjective, log_odds_intercept
from sparklr.optimizers import OptimizerState
from sparklr.output import write_json_atomic
from sparklr.tuning.cv import cross_validate
from sparklr.tuning.path import PathPoint, fit_path, geometric_path, lambda_max, null_theta

log = logging.getLogger("sparklr.train")

PATH_JSON, PATH_CSV, PATH_PNG = "path.json", "path.csv", "path.png"


def write_path(
    config: Config, problem: Problem, names: list[str], staging: Path
) -> list[PathPoint]:
    """Fit and write the path of the module docstring; [] when [tune] asks for none.
    ``problem`` is the training job's objective step (objective, moments, class weight)."""
    u = config.tune
    if not (u.path or u.reg_params):
        return []
    objective = problem.objective
    b0 = (
        log_odds_intercept(problem.moments, problem.class_weight)
        if config.train.fit_intercept
        else 0.0
    )
    top = lambda_max(objective, b0)
    lambdas = geometric_path(top, u.path, u.path_ratio) if u.path else u.reg_params
    log.info("path: %d values of λ from %.6g (λ_max = %.6g)", len(lambdas), max(lambdas), top)
    points = fit_path(objective, lambdas, _fitter(config, problem), null_theta(len(names), b0))
    _write_files(staging, objective, names, top, points)
    return points


@dataclass(frozen=True)
class Selection:
    """What cross-validation hands to the model's fit: λ̂, the start θ (the full data's path
    optimum at λ̂) and the summary model.json records under "cv"."""

    reg_param: float
    theta: np.ndarray
    summary: dict


def write_cv(
    config: Config, problem: Problem, blocks, staging: Path, points: list[PathPoint]
) -> Selection | None:
    """Cross-validate the path's λ values (module docstring) and set ``problem`` to the
    refit at the chosen λ̂: its objective's λ, its α (when "auto") and ``problem.selection``.
    Nothing happens without tune.folds."""
    u = config.tune
    if not u.folds:
        return None
    from sparklr.app.cv_files import write_cv_files

    objective = problem.objective
    b0 = (
        log_odds_intercept(problem.moments, problem.class_weight)
        if config.train.fit_intercept
        else 0.0
    )
    passes, t0 = blocks.evaluations, time.perf_counter()
    result = cross_validate(
        objective,
        blocks,
        [p.reg_param for p in points],
        _fitter(config, problem),
        null_theta(objective.n_features, b0),
        metric=u.metric,
        rule=u.rule,
    )
    cost = {"passes": blocks.evaluations - passes, "seconds": time.perf_counter() - t0}
    summary = write_cv_files(staging, config, result, cost)
    chosen = points[result.chosen]
    assert chosen.reg_param == result.chosen_reg_param  # both in decreasing λ
    objective.reg_param = chosen.reg_param
    if config.train.learning_rate == "auto":
        problem.learning_rate = 1.0 / objective.lipschitz(problem.moments)
    selection = Selection(chosen.reg_param, chosen.theta.copy(), summary)
    log.info(
        "cv: %d folds, %s by %s: λ = %.6g (%d passes, %.1fs)",
        u.folds,
        u.metric,
        u.rule,
        chosen.reg_param,
        cost["passes"],
        cost["seconds"],
    )
    return selection


def _fitter(config: Config, problem: Problem):
    """(objective at λ, start) → converged state, as train.* configure the optimizer (the
    shared :func:`~sparklr.app.fit.run_optimizer`; α = 1/L is recomputed at each λ)."""
    t = config.train

    def fit(objective: LogisticObjective, state: OptimizerState) -> OptimizerState:
        rate = t.learning_rate
        rate = 1.0 / objective.lipschitz(problem.moments) if rate == "auto" else float(rate)
        at_lambda = replace(problem, objective=objective, learning_rate=rate)
        state = run_optimizer(t, at_lambda, state).state
        log.info(
            "path: λ = %.6g  J = %.10g  %d iterations (%s)",
            objective.reg_param,
            state.history[-1].loss,
            state.iteration,
            state.stop_reason,
        )
        return state

    return fit


def _rows(objective: LogisticObjective, points: list[PathPoint]) -> list[dict]:
    rows = []
    for p in points:
        w, b = objective.feature_map.to_raw(p.theta)
        rows.append(
            {
                "reg_param": p.reg_param,
                "loss": p.loss,
                "grad_norm": p.grad_norm,
                "iterations": p.iterations,
                "evaluations": p.evaluations,
                "stop_reason": p.stop_reason,
                "nonzeros": p.nonzeros,
                "intercept": b,
                "coefficients": [float(c) for c in w],
            }
        )
    return rows


def _write_files(staging, objective, names, top, points) -> None:
    rows = _rows(objective, points)
    write_json_atomic(
        staging / PATH_JSON,
        {
            "lambda_max": top,
            "elastic_net": objective.elastic_net,
            "feature_names": list(names),
            "points": rows,
        },
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    head = [k for k in rows[0] if k != "coefficients"]
    writer.writerow(head + list(names))
    for row in rows:
        writer.writerow([row[k] for k in head] + row["coefficients"])
    (staging / PATH_CSV).write_text(buffer.getvalue())
    _plot(staging / PATH_PNG, names, points)


def _plot(path: Path, names: list[str], points: list[PathPoint]) -> None:
    from sparklr.report import _pyplot

    plt = _pyplot()
    if plt is None:
        log.warning("path: %s skipped: matplotlib is not installed (the `plot` extra)", path.name)
        return
    lam = np.array([p.reg_param for p in points])
    shown = lam > 0
    coef = np.array([p.theta[:-1] for p in points])
    fig, ax = plt.subplots(figsize=(7, 5), dpi=100)
    for j, name in enumerate(names):
        ax.plot(np.log10(lam[shown]), coef[shown, j], lw=1.2, label=name)
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_xlabel("log₁₀ λ")
    ax.set_ylabel("coefficient w̃ (training scale)")
    ax.set_title("Regularization path")
    ax.invert_xaxis()
    if len(names) <= 12:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
