"""The training job's model-selection step (``[tune]``): the regularization path on the
resident blocks, written beside the model.

With ``tune.path = N`` or ``tune.reg_params``, after the objective is built and before the
model is fitted, :func:`write_path` fits J at each λ in decreasing order, each fit warm-started
from the previous one (:mod:`sparklr.tuning.path`), with train.optimizer, train.max_iter and
train.tol (and gd's α = 1/L at each λ when train.learning_rate = "auto"), and writes into the
staging directory:

* ``path.json``: λ_max, ρ, the feature names and per λ: J, ‖∇J‖, iterations, passes, stop
  reason, non-zeros, the coefficients w and intercept b on the original scale;
* ``path.csv``: the same, one row per λ, one column per coefficient;
* ``path.png``: the penalized coefficients w̃ (the scale the penalty acts on) against log₁₀ λ,
  at most :data:`MAX_PLOTTED` of them (the largest along the path; skipped with a warning
  without matplotlib, the ``plot`` extra);

and report.md gets a "Regularization path" section (:func:`append_path_section`).

Without ``tune.folds`` the run's model is still the fit at ``train.reg_param``. With
``tune.folds = K`` the same λ values are cross-validated on the folds fixed in the blocks,
``cv.json``/``cv.csv``/``cv.png`` written (:mod:`sparklr.app.cv_files`) and the run's model
is the refit on all rows at the chosen λ, started from the path's optimum there. The K fold
fits and the full-data path's fit run in lockstep at each λ, every pass serving all of them
(:mod:`sparklr.tuning.lockstep_cv`), with every optimizer — newton too, whose passes then
carry each model's ∇²J sums; checkpointed at λ boundaries (the checkpoint's "path"
section: every λ, or spaced so that a wide model's writes take at most about a tenth of the
time, :data:`WRITE_SPACING`), so ``--resume`` continues mid-path with the same results.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sparklr.app import checkpoint
from sparklr.app.fit import Problem, run_optimizer, step_size
from sparklr.config import Config
from sparklr.objective import LogisticObjective, log_odds_intercept
from sparklr.optimizers import OptimizerState
from sparklr.output import float_list, write_json_atomic
from sparklr.tuning.cv import CvResult
from sparklr.tuning.lockstep_cv import Progress, cross_validate_path
from sparklr.tuning.path import PathPoint, fit_path, geometric_path, lambda_max, null_theta

log = logging.getLogger("sparklr.train")

PATH_JSON, PATH_CSV, PATH_PNG = "path.json", "path.csv", "path.png"

#: The CV's checkpoint at a λ boundary is written when the last one took at most
#: CHEAP_WRITE_SECONDS, or when the work since it is ≥ WRITE_SPACING × its seconds: it holds
#: the K + 1 models' θ and L-BFGS pairs, ~2.4M numbers at n_x = 16,384 — in binary ~0.03 s
#: (as base64 JSON 0.18 s, as lists of numbers 0.4 s, which at every λ was half the CV's
#: time on the sparse benchmark); far wider models write less often than every λ.
CHEAP_WRITE_SECONDS = 0.05
WRITE_SPACING = 10.0
#: The checkpoint's section holding the lockstep path's progress at its latest λ boundary.
PATH_SECTION = "path"


def write_path(
    config: Config, problem: Problem, names: list[str], staging: Path
) -> list[PathPoint]:
    """Fit and write the path of the module docstring; [] when [tune] asks for none.
    ``problem`` is the training job's objective step (objective, moments, class weight)."""
    if not (config.tune.path or config.tune.reg_params):
        return []
    objective = problem.objective
    b0, top, lambdas = _lambdas(config, problem)
    points = fit_path(objective, lambdas, _fitter(config, problem), null_theta(len(names), b0))
    _write_files(staging, objective, names, top, points)
    return points


def _lambdas(config: Config, problem: Problem) -> tuple[float, float, list[float]]:
    """(b̃⁰, λ_max, the path's λ values): one pass for λ_max."""
    u = config.tune
    b0 = (
        log_odds_intercept(problem.moments, problem.class_weight)
        if config.train.fit_intercept
        else 0.0
    )
    top = lambda_max(problem.objective, b0)
    lambdas = list(geometric_path(top, u.path, u.path_ratio)) if u.path else list(u.reg_params)
    log.info("path: %d values of λ from %.6g (λ_max = %.6g)", len(lambdas), max(lambdas), top)
    return b0, top, lambdas


def write_tuning(
    config: Config,
    problem: Problem,
    blocks,
    names: list[str],
    staging: Path,
    *,
    resume: bool = False,
    fingerprints: dict | None = None,
) -> Selection | None:
    """The [tune] step (module docstring): the path's files, and with tune.folds the CV's
    files and ``problem`` set to the refit at λ̂ (whose :class:`Selection` it returns)."""
    u = config.tune
    if not (u.path or u.reg_params):
        return None
    if not u.folds:
        write_path(config, problem, names, staging)
        return None
    objective = problem.objective
    b0, top, lambdas = _lambdas(config, problem)
    saved = checkpoint.read_section(staging, PATH_SECTION, fingerprints) if resume else None
    if saved is not None and saved["tune"] != config.fingerprint("tune"):
        saved = None  # another [tune]: start the path afresh
    prior = saved["cost"] if saved else {"passes": 0, "seconds": 0.0}
    passes, t0 = blocks.evaluations, time.perf_counter()

    def cost() -> dict:
        return {
            "passes": prior["passes"] + blocks.evaluations - passes,
            "seconds": prior["seconds"] + time.perf_counter() - t0,
        }

    spacing = WriteSpacing()

    def on_lambda(progress: Progress) -> None:
        started = time.perf_counter()
        if not spacing.due(started):
            return
        section = {
            "tune": config.fingerprint("tune"),
            "cost": cost(),
            "progress": progress.to_json(binary=True),
        }
        checkpoint.write_section(staging, PATH_SECTION, section, fingerprints)
        spacing.wrote(started, time.perf_counter())

    if saved:
        log.info(
            "path: resuming after %d of %d values of λ", saved["progress"]["done"], len(lambdas)
        )
    result, points, _ = cross_validate_path(
        objective,
        blocks,
        lambdas,
        _fitter(config, problem),
        null_theta(len(names), b0),
        metric=u.metric,
        rule=u.rule,
        progress=Progress.from_json(saved["progress"]) if saved else None,
        on_lambda=on_lambda if fingerprints is not None else None,
    )
    _write_files(staging, objective, names, top, points)
    return _select(config, problem, staging, result, points, {**cost(), "mode": "lockstep"})


@dataclass
class WriteSpacing:
    """When the CV's checkpoint is written at a λ boundary: always after a write that took
    at most CHEAP_WRITE_SECONDS, else once the time since it ended is ≥ WRITE_SPACING × its
    seconds (so writing costs at most ~1/WRITE_SPACING of the run)."""

    ended: float = -math.inf
    seconds: float = 0.0

    def due(self, now: float) -> bool:
        return self.seconds <= CHEAP_WRITE_SECONDS or now - self.ended >= (
            WRITE_SPACING * self.seconds
        )

    def wrote(self, started: float, ended: float) -> None:
        self.ended, self.seconds = ended, ended - started


@dataclass(frozen=True)
class Selection:
    """What cross-validation hands to the model's fit: λ̂, the start θ (the full data's path
    optimum at λ̂) and the summary model.json records under "cv"."""

    reg_param: float
    theta: np.ndarray
    summary: dict


def _select(
    config: Config,
    problem: Problem,
    staging: Path,
    result: CvResult,
    points: list[PathPoint],
    cost: dict,
) -> Selection:
    """Write the CV files and set ``problem`` to the refit at λ̂: its objective's λ, its α
    (when "auto"); the :class:`Selection` for the model's fit."""
    from sparklr.app.cv_files import write_cv_files

    u = config.tune
    objective = problem.objective
    summary = write_cv_files(staging, config, result, cost)
    chosen = points[result.chosen]
    assert chosen.reg_param == result.chosen_reg_param  # both in decreasing λ
    objective.reg_param = chosen.reg_param
    problem.learning_rate = step_size(config.train, objective, problem.moments, {})
    selection = Selection(chosen.reg_param, chosen.theta.copy(), summary)
    log.info(
        "cv: %d folds, %s by %s, %s: λ = %.6g (%d passes, %.1fs)",
        u.folds,
        u.metric,
        u.rule,
        cost["mode"],
        chosen.reg_param,
        cost["passes"],
        cost["seconds"],
    )
    return selection


def _fitter(config: Config, problem: Problem):
    """(objective at λ, start) → converged state, as train.* configure the optimizer (the
    shared :func:`~sparklr.app.fit.run_optimizer`; gd's α = 1/L follows λ, :func:`step_size`)."""
    t = config.train
    data_bounds: dict[int, float] = {}  # per model's objective, alive for the whole path

    def fit(objective: LogisticObjective, state: OptimizerState) -> OptimizerState:
        rate = step_size(t, objective, problem.moments, data_bounds)
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


def append_path_section(report: Path) -> None:
    """Add a "Regularization path" section to a written report.md when the run wrote a
    path.json beside it (nothing otherwise)."""
    from sparklr.report import fmt

    source = report.parent / PATH_JSON
    if not source.is_file():
        return
    data = json.loads(source.read_text())
    points = data["points"]
    lam = [p["reg_param"] for p in points]
    lines = [
        "",
        "## Regularization path",
        "",
        f"- {len(points)} values of λ from {fmt(max(lam))} down to {fmt(min(lam))} "
        f"(λ_max = {fmt(data['lambda_max'])}, ρ = {fmt(data['elastic_net'])}), in decreasing "
        "order, each fit warm-started from the previous one",
        f"- non-zero coefficients: {points[0]['nonzeros']} at the largest λ, "
        f"{points[-1]['nonzeros']} at the smallest; "
        f"{sum(p['evaluations'] for p in points)} evaluations of J in all",
        f"- per λ: J, ‖∇J‖, iterations, non-zeros and the coefficients in {PATH_JSON}, {PATH_CSV}",
        "",
    ]
    if (report.parent / PATH_PNG).exists():
        lines += [f"![Regularization path]({PATH_PNG})", ""]
    with report.open("a") as out:
        out.write("\n".join(lines))


def _rows(objective: LogisticObjective, points: list[PathPoint]) -> tuple[list[dict], list]:
    """path.json's points, and per point the repr texts of its coefficients w, which
    path.json (:func:`~sparklr.output.float_list`) and path.csv both write: repr is most of
    either file's cost (20 × 16,384 coefficients: ~0.25 s each time)."""
    rows, texts = [], []
    for p in points:
        w, b = objective.feature_map.to_raw(p.theta)
        texts.append(list(map(repr, w.tolist())))
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
                "coefficients": float_list(texts[-1]),
            }
        )
    return rows, texts


def _write_files(staging, objective, names, top, points) -> None:
    rows, texts = _rows(objective, points)
    write_json_atomic(
        staging / PATH_JSON,
        {
            "lambda_max": top,
            "elastic_net": objective.elastic_net,
            "feature_names": list(names),
            "points": rows,
        },
    )
    head = [k for k in rows[0] if k != "coefficients"]
    lines = [_csv_line(head + list(names))]
    lines += [_csv_line([row[k] for k in head], w) for row, w in zip(rows, texts, strict=True)]
    (staging / PATH_CSV).write_text("".join(lines))
    _plot(staging / PATH_PNG, names, points)


def _csv_line(fields: list, numbers: Sequence[str] = ()) -> str:
    """csv.writer's line of ``fields`` + the floats whose repr texts are ``numbers`` (the
    texts it would write for them: a float's repr never needs quoting)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return ",".join([buffer.getvalue(), *numbers]) + "\r\n"


#: path.png draws at most this many coefficients (a line per coefficient of a wide model would
#: take longer to draw than the fits and show nothing); path.json/csv keep them all.
MAX_PLOTTED = 40


def plotted_columns(coef: np.ndarray, limit: int = MAX_PLOTTED) -> list[int]:
    """The columns of ``coef`` (λ × n_x) path.png draws: all when at most ``limit``, else the
    ``limit`` largest in max |w̃| along the path, in column order."""
    if coef.shape[1] <= limit:
        return list(range(coef.shape[1]))
    size = np.abs(coef).max(axis=0)
    return sorted(int(j) for j in np.argsort(-size, kind="stable")[:limit])


def _plot(path: Path, names: list[str], points: list[PathPoint]) -> None:
    from sparklr.report import pyplot

    plt = pyplot()
    if plt is None:
        log.warning("path: %s skipped: matplotlib is not installed (the `plot` extra)", path.name)
        return
    lam = np.array([p.reg_param for p in points])
    shown = lam > 0
    coef = np.array([p.theta[:-1] for p in points])
    columns = plotted_columns(coef)
    title = "Regularization path"
    if len(columns) < len(names):
        title += f": the {len(columns)} of {len(names)} coefficients largest along it"
        log.info("path: %s draws %d of %d coefficients", path.name, len(columns), len(names))
    fig, ax = plt.subplots(figsize=(7, 5), dpi=100)
    for j in columns:
        ax.plot(np.log10(lam[shown]), coef[shown, j], lw=1.2, label=names[j])
    ax.axhline(0.0, color="black", lw=0.5)
    ax.set_xlabel("log₁₀ λ")
    ax.set_ylabel("coefficient w̃ (training scale)")
    ax.set_title(title)
    ax.invert_xaxis()
    if len(names) <= 12:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
