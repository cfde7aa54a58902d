"""The training job: config → Spark session → resident blocks → optimizer → model directory.

    spark-submit jobs/train.py [--config conf/train.toml] [--set KEY=VALUE ...] [--resume]

Writes ``output.path`` atomically: ``model.json``, ``history.json`` / ``history.csv`` and the
final ``checkpoint.json``. See README.md for every key and for the failure behaviour.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sparklr
from sparklr import optimizers
from sparklr.app import checkpoint
from sparklr.app.common import default_config_path, parse_command_line, run_job
from sparklr.app.measure import measure_inference, measure_metrics
from sparklr.app.model_dir import write_model_dir
from sparklr.config import Config, load_config
from sparklr.inference import InferenceResult
from sparklr.logs import ProgressLog
from sparklr.model import Model
from sparklr.objective import (
    FeatureMap,
    LogisticObjective,
    balanced_class_weight,
    log_odds_intercept,
)
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule
from sparklr.output import (
    check_output_target,
    open_staging,
    staging_path,
)
from sparklr.stats import FeatureMoments

if TYPE_CHECKING:
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import Frames

log = logging.getLogger("sparklr.train")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="train.py", description="Train logistic regression on Spark (see README.md)."
    )
    parser.add_argument("--config", help="TOML config file (default: conf/train.toml)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.max_iter=50 (repeatable)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the checkpoint of an interrupted run with the same config and data",
    )
    return parse_command_line(parser, argv)


def main(argv: list[str] | None = None) -> int:
    return run_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    config_path = args.config or default_config_path("train.toml")
    config = load_config(config_path, args.set)
    result = train(config, resume=args.resume)
    print(result.summary())
    return 0


@dataclasses.dataclass
class TrainResult:
    model: Model
    output: Path
    rows: int
    partitions: int
    load_seconds: float
    train_seconds: float
    state: OptimizerState
    inference: InferenceResult | None = None

    def summary(self) -> str:
        last = self.state.history[-1]
        return "\n".join(
            [
                f"sparklr: trained on {self.rows:,} rows x {len(self.model.feature_names)} "
                f"features ({self.partitions} partitions)",
                f"  iterations: {self.state.iteration} ({self.state.stop_reason})",
                f"  final J: {last.loss:.10g}   |grad J|: {last.grad_norm:.3e}   "
                f"training accuracy: {last.accuracy:.4f}",
                f"  time: {self.load_seconds:.1f}s loading, {self.train_seconds:.1f}s training",
                *_metric_lines(self.model.metadata.get("metrics", {})),
                f"  model: {self.output / 'model.json'}",
                *_notes(self.model.metadata),
                *([] if self.inference is None else ["", self.inference.format_table()]),
            ]
        )


def _notes(meta: dict) -> list[str]:
    notes = []
    if meta.get("dropped_rows"):
        notes.append(f"  dropped: {meta['dropped_rows']} row(s) with NaN, ±Inf or null")
    if meta.get("separation_suspected"):
        notes.append("  warning: the data look perfectly separable (see the log)")
    return notes


def _metric_lines(metrics: dict) -> list[str]:
    from sparklr.report import fmt

    return [
        f"  {name}: log-loss {fmt(m['log_loss'], '.6f')}  accuracy {fmt(m['accuracy'], '.4f')}"
        f"  AUC {fmt(m['auc'], '.4f')}  ({m['rows']:,} rows)"
        for name, m in metrics.items()
    ]


def train(config: Config, *, resume: bool = False) -> TrainResult:
    """Train as ``config`` says and publish the model directory; see the module docstring.

    The steps: load (frames → resident blocks) → objective (J, ∇J, learning rate α) → fit
    (the optimizer from θ⁰ or the checkpoint) → model (θ on the original scale, metadata) →
    measure (metrics on the executors, inference at the optimum) → publish (the files, then
    one rename). What a failure leaves: :func:`sparklr.app.checkpoint.discard_on_failure`.
    """
    # Imported here so that config errors are reported without starting a JVM.
    from pyspark.sql import SparkSession

    from sparklr.spark.session import build_session

    output = Path(config.output.path)
    staging = _open_staging(output, config, resume)
    owns_session = SparkSession.getActiveSession() is None
    spark = loaded = None
    try:
        with checkpoint.discard_on_failure(staging, resume):
            s = config.spark
            spark = build_session(s.master, s.app_name, s.log_level, s.conf)
            loaded = _load(spark, config)
            problem = _objective(config, loaded)
            fit = _fit(config, loaded, problem, staging, resume)
            model = _model(config, loaded, problem, fit)
            histograms = measure_metrics(config, loaded.blocks, loaded.frames.validation, model)
            inference = measure_inference(
                config, problem.objective, fit.state, problem.moments, model
            )
            seconds = (loaded.seconds, fit.seconds)
            write_model_dir(
                staging,
                output,
                config,
                model,
                fit.state,
                problem.moments,
                histograms,
                seconds,
                inference,
            )
            rows, partitions = loaded.blocks.rows, loaded.blocks.partitions
            return TrainResult(
                model, output, rows, partitions, loaded.seconds, fit.seconds, fit.state, inference
            )
    finally:
        _release(loaded, spark, owns_session)


@dataclasses.dataclass
class _Loaded:
    """Load → objective: the frames, and the resident blocks of the training frame."""

    frames: Frames
    blocks: BlockSet
    seconds: float


@dataclasses.dataclass
class _Problem:
    """Objective → fit: J, the moments that standardize it, constant features, α."""

    objective: LogisticObjective
    moments: FeatureMoments
    class_weight: tuple[float, float] | None
    constant: list[str]
    learning_rate: float


@dataclasses.dataclass
class _Fit:
    """Fit → measure: the final optimizer state and the separation verdict."""

    state: OptimizerState
    seconds: float
    separation_suspected: bool
    weight_norm: float


def _open_staging(output: Path, config: Config, resume: bool) -> Path:
    """Check the output target (and the checkpoint to resume from), then open the staging
    directory; before Spark starts, so that a bad target fails in a second, not a minute."""
    check_output_target(output, config.output.overwrite)
    if resume:
        checkpoint.require_checkpoint(staging_path(output))
    return open_staging(output, resume=resume)


def _release(loaded: _Loaded | None, spark, owns_session: bool) -> None:
    """Delete the resident blocks (never masking the run's outcome); stop a session we made."""
    if loaded is not None:
        try:
            loaded.blocks.unpersist()
        except Exception as exc:
            log.debug("cleanup failed: %s", exc)
    if owns_session and spark is not None:
        spark.stop()


def _load(spark, config: Config) -> _Loaded:
    """Read (or generate) data.* and build the resident blocks of the training frame."""
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import load_frames

    started = time.perf_counter()
    d = config.data
    frames = load_frames(
        spark,
        fmt=d.format,
        path=d.path,
        label=d.label,
        features=d.features,
        partitions=d.partitions,
        synthetic=dataclasses.astuple(d.synthetic),  # (rows, features, partitions, seed)
        weight=d.weight,
        validation_path=d.validation_path,
        validation_fraction=d.validation_fraction,
        validation_seed=d.validation_seed,
        reader=d.reader,
    )
    blocks = BlockSet(
        spark,
        frames.train,
        d.label,
        frames.names,
        dtype=d.dtype,
        drop_invalid=d.drop_invalid,
        weight=d.weight,
        parquet=frames.parquet,
    ).build()
    seconds = time.perf_counter() - started
    log.info(
        "blocks ready: %d rows x %d features in %d partitions (%.1fs)",
        blocks.rows,
        blocks.n_features,
        blocks.partitions,
        seconds,
    )
    if blocks.dropped:
        log.warning("dropped %d row(s) with NaN, ±Inf or null values", blocks.dropped)
    return _Loaded(frames, blocks, seconds)


def _objective(config: Config, loaded: _Loaded) -> _Problem:
    """J over the resident blocks, standardized by their moments (train.standardize), with
    train.reg_param / elastic_net / class_weight; and the learning rate α."""
    t = config.train
    moments = loaded.blocks.moments
    feature_map = FeatureMap.from_moments(moments, t.standardize)
    names = loaded.frames.names
    constant = [n for n, c in zip(names, feature_map.constant_features, strict=True) if c]
    if constant:
        log.warning("constant feature(s) get coefficient 0: %s", ", ".join(constant))
    class_weight = balanced_class_weight(moments) if t.class_weight == "balanced" else None
    objective = LogisticObjective(
        loaded.blocks,
        feature_map,
        reg_param=t.reg_param,
        elastic_net=t.elastic_net,
        class_weight=class_weight,
    )
    learning_rate = _learning_rate(config, objective, moments)
    return _Problem(objective, moments, class_weight, constant, learning_rate)


def _learning_rate(config: Config, objective: LogisticObjective, moments) -> float:
    if config.train.learning_rate == "auto":
        lipschitz = objective.lipschitz(moments)
        rate = 1.0 / lipschitz
        log.info("learning rate auto: 1/L = %.6g (curvature bound L = %.6g)", rate, lipschitz)
        return rate
    return float(config.train.learning_rate)


def _fit(config: Config, loaded: _Loaded, problem: _Problem, staging: Path, resume: bool) -> _Fit:
    """Run train.optimizer from θ⁰ (or the checkpoint), logging progress, checkpointing every
    train.checkpoint_every iterations and at the end, and watching for separation."""
    t = config.train
    prints = checkpoint.fingerprints(config, loaded.blocks.fingerprint())
    state = _start_state(config, loaded, problem, staging, prints, resume)
    progress = ProgressLog(log, t.max_iter, t.log_every)
    every = t.checkpoint_every

    def on_iteration(st: OptimizerState, record) -> None:
        progress(st, record)
        if every and st.stop_reason is None and st.iteration % every == 0:
            checkpoint.write_checkpoint(staging, st, prints)

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
        callback=on_iteration,
    )
    seconds = time.perf_counter() - t0
    separation = state.separation  # proven / suspected / none (optimizers.separation)
    if separation.flagged:
        log.warning("%s", separation.message)
    checkpoint.write_checkpoint(staging, state, prints)
    return _Fit(state, seconds, separation.flagged, separation.weight_norm)


def _start_state(config, loaded, problem, staging, prints, resume) -> OptimizerState:
    """θ⁰ (with b⁰ = the log-odds when train.init says so), or the checkpointed state."""
    state = checkpoint.initial_state(config, loaded.blocks.n_features, staging, prints, resume)
    if not resume and config.train.init == "log_odds":
        state.theta[-1] = log_odds_intercept(problem.moments, problem.class_weight)
    return state


def _model(config: Config, loaded: _Loaded, problem: _Problem, fit: _Fit) -> Model:
    """The fitted θ on the original feature scale, with what model.json records of the run."""
    import numpy
    import pyarrow
    import pyspark

    state, blocks = fit.state, loaded.blocks
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
        "config": config.to_dict(),
        "data_fingerprint": blocks.fingerprint(),
        "block_locations": blocks.locations(),
        "block_bytes": blocks.block_bytes,
        "versions": {
            "sparklr": sparklr.__version__,
            "pyspark": pyspark.__version__,
            "numpy": numpy.__version__,
            "pyarrow": pyarrow.__version__,
            "python": platform.python_version(),
        },
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "separation_suspected": fit.separation_suspected,
        "weight_norm": fit.weight_norm,
    }
    return Model(
        feature_names=loaded.frames.names,
        coefficients=w,
        intercept=b,
        label=config.data.label,
        metadata=metadata,
    )


__all__ = ["TrainResult", "main", "train"]
