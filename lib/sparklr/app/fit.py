"""The fit both entry points share: resident blocks + a validated config → objective →
optimizer → :class:`~sparklr.model.Model`. The training job (:mod:`sparklr.app.train`) adds
loading, checkpoints and publishing around it; the Python API (:mod:`sparklr.estimator`) adds
the DataFrame → blocks step and the Spark ML model around it.

The steps: :func:`make_problem` (J over the blocks, standardized by their moments, with
λ = train.reg_param, ρ = train.elastic_net, the class weights and the learning rate α),
:func:`start_state` (θ⁰ = (w⁰, b⁰), w⁰ ~ init_scale · N(0, 1) seeded, b⁰ = 0 or the log-odds),
:func:`run_optimizer` (train.optimizer until ‖∇J‖ ≤ tol or max_iter) and :func:`fitted_model`
(θ on the original scale: w = s ⊙ w̃, b = b̃ − wᵀc, with what model.json records of the run).
"""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

import sparklr
from sparklr import optimizers
from sparklr.config import Config, TrainSection
from sparklr.encoding import Design
from sparklr.errors import ConfigError
from sparklr.inference import width_refusal as inference_width_refusal
from sparklr.model import Model
from sparklr.objective import (
    FeatureMap,
    LogisticObjective,
    balanced_class_weight,
    log_odds_intercept,
)
from sparklr.optimizers import STEP_SIZE_OPTIMIZERS, OptimizerOptions, OptimizerState, StopRule
from sparklr.optimizers.base import Callback
from sparklr.optimizers.newton import width_refusal as newton_width_refusal
from sparklr.stats import FeatureMoments

if TYPE_CHECKING:
    from sparklr.spark.blockset import BlockSet

log = logging.getLogger("sparklr.train")


@dataclass
class Problem:
    """Objective → fit: J, the moments that standardize it, constant features, α."""

    objective: LogisticObjective
    moments: FeatureMoments
    class_weight: tuple[float, float] | None
    constant: list[str]
    learning_rate: float | None


@dataclass
class Fit:
    """Fit → model: the final optimizer state and the separation verdict."""

    state: OptimizerState
    seconds: float
    separation_suspected: bool
    weight_norm: float


def check_width(t: TrainSection, n_features: int) -> None:
    """The train.* keys that depend on n_x, checked as soon as it is known (before the blocks
    are built; config.py cannot, it does not know n_x): Newton's and the standard errors'
    (n_x + 1)² matrices above :data:`~sparklr.objective.MAX_HESSIAN_FEATURES`."""
    refusal = newton_width_refusal(n_features) if t.optimizer == "newton" else None
    if refusal:
        raise ConfigError(f"config key train.optimizer = newton: {refusal}")
    refusal = inference_width_refusal(t.inference, n_features)
    if refusal:
        raise ConfigError(refusal)


def make_problem(blocks: BlockSet, names: list[str], t: TrainSection) -> Problem:
    """J over the resident ``blocks`` (features ``names``), standardized by their moments
    (train.standardize; centred only with train.fit_intercept), with train.reg_param /
    elastic_net / class_weight; and the learning rate α."""
    moments = blocks.moments
    feature_map = FeatureMap.from_moments(moments, t.standardize, center=t.fit_intercept)
    constant = [n for n, c in zip(names, feature_map.constant_features, strict=True) if c]
    if constant:
        log.warning("constant feature(s) get coefficient 0: %s", ", ".join(constant))
    class_weight = balanced_class_weight(moments) if t.class_weight == "balanced" else None
    objective = LogisticObjective(
        blocks,
        feature_map,
        reg_param=t.reg_param,
        elastic_net=t.elastic_net,
        class_weight=class_weight,
        fit_intercept=t.fit_intercept,
    )
    learning_rate = _learning_rate(t, objective, moments)
    return Problem(objective, moments, class_weight, constant, learning_rate)


def _learning_rate(t: TrainSection, objective: LogisticObjective, moments) -> float | None:
    """:func:`step_size` at train.reg_param, logged when it is 1/L."""
    rate = step_size(t, objective, moments, {})
    if rate is not None and t.learning_rate == "auto":
        log.info("learning rate auto: 1/L = %.6g (curvature bound L = %.6g)", rate, 1.0 / rate)
    return rate


def step_size(
    t: TrainSection,
    objective: LogisticObjective,
    moments,
    data_bounds: dict[int, float],
) -> float | None:
    """gd's α at the objective's λ: train.learning_rate, or 1/L with L = the data term's
    bound (computed once per objective, kept in ``data_bounds``: it can cost 10 passes) +
    λ(1 − ρ); None for the optimizers that search their steps."""
    if t.optimizer not in STEP_SIZE_OPTIMIZERS:
        return None
    if t.learning_rate != "auto":
        return float(t.learning_rate)
    if id(objective) not in data_bounds:
        data_bounds[id(objective)] = objective.data_lipschitz(moments)
    return 1.0 / (data_bounds[id(objective)] + objective.l2)


def seeded_state(t: TrainSection, n_features: int) -> OptimizerState:
    """θ⁰ = (w⁰, 0) with w⁰ ~ init_scale · N(0, 1) seeded by train.seed."""
    rng = np.random.default_rng(t.seed)
    w0 = t.init_scale * rng.standard_normal(n_features)
    return OptimizerState(iteration=0, theta=np.append(w0, 0.0))


def start_state(t: TrainSection, problem: Problem) -> OptimizerState:
    """:func:`seeded_state`, with b⁰ = log(m₁/m₀) when train.init = "log_odds" (and there is
    an intercept to fit)."""
    state = seeded_state(t, problem.objective.n_features)
    return with_log_odds(t, problem, state)


def with_log_odds(t: TrainSection, problem: Problem, state: OptimizerState) -> OptimizerState:
    """``state`` with b⁰ = log(m₁/m₀) when train.init says so (a fresh start, not a resume)."""
    if t.init == "log_odds" and t.fit_intercept:
        state.theta[-1] = log_odds_intercept(problem.moments, problem.class_weight)
    return state


def run_optimizer(
    t: TrainSection, problem: Problem, state: OptimizerState, callback: Callback | None = None
) -> Fit:
    """Run train.optimizer from ``state`` (``callback`` after every iteration) and log the
    separation verdict."""
    t0 = time.perf_counter()
    state = optimizers.get(t.optimizer)(
        problem.objective,
        state,
        options=OptimizerOptions(
            learning_rate=problem.learning_rate,
            line_search=t.line_search,
            momentum=t.momentum,
            lbfgs_memory=t.lbfgs_memory,
        ),
        stop=StopRule(t.max_iter, t.tol),
        callback=callback,
    )
    seconds = time.perf_counter() - t0
    separation = state.separation  # proven / suspected / none (optimizers.separation)
    if separation.flagged:
        log.warning("%s", separation.message)
    return Fit(state, seconds, separation.flagged, separation.weight_norm)


def fitted_model(
    config: Config,
    blocks: BlockSet,
    names: list[str],
    problem: Problem,
    fit: Fit,
    *,
    encoding: Design | None = None,
    columns: dict[str, str] | None = None,
) -> Model:
    """The fitted θ on the original feature scale, with what model.json records of the run
    (``encoding``: the categorical columns' :class:`~sparklr.encoding.Design`; ``columns``: the
    role of every input column)."""
    import pyarrow
    import pyspark

    state = fit.state
    last = state.history[-1]
    w, b = problem.objective.feature_map.to_raw(state.theta)
    metadata = {
        "iterations": state.iteration,
        "stop_reason": state.stop_reason,
        "final_loss": last.loss,
        "final_grad_norm": last.grad_norm,
        "training_accuracy": last.accuracy,
        "learning_rate": problem.learning_rate,
        "rows": blocks.rows,
        "dropped_rows": blocks.dropped,
        "partitions": blocks.partitions,
        "constant_features": problem.constant,
        **({"columns": columns} if columns is not None else {}),
        "config": config.to_dict(),
        "data_fingerprint": blocks.fingerprint(),
        "block_locations": blocks.locations(),
        "block_bytes": blocks.block_bytes,
        "versions": {
            "sparklr": sparklr.__version__,
            "pyspark": pyspark.__version__,
            "numpy": np.__version__,
            "pyarrow": pyarrow.__version__,
            "python": platform.python_version(),
        },
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "separation_suspected": fit.separation_suspected,
        "weight_norm": fit.weight_norm,
        "reg_param": problem.objective.reg_param,
    }
    return Model(
        feature_names=list(names),
        coefficients=w,
        intercept=b,
        label=config.data.label,
        metadata=metadata,
        encoding=encoding,
    )
