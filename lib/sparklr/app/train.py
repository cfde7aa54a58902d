"""The training job: config → Spark session → resident blocks → optimizer → model directory.

    spark-submit jobs/train.py [--config conf/train.toml] [--set KEY=VALUE ...] [--resume]

Writes ``output.path`` atomically: ``model.json``, ``history.json`` / ``history.csv`` and the
final ``checkpoint.json``. See README.md for every key and for the failure behaviour.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import logging
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import sparklr
from sparklr import optimizers
from sparklr.app.common import default_config_path, parse_command_line, run_job
from sparklr.config import Config, load_config
from sparklr.errors import ConfigError, DataError, DivergenceError, OutputError, SparklrError
from sparklr.logs import ProgressLog
from sparklr.model import Model
from sparklr.objective import (
    FeatureMap,
    LogisticObjective,
    balanced_class_weight,
    log_odds_intercept,
)
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule
from sparklr.optimizers.diagnostics import SeparationMonitor
from sparklr.output import (
    check_output_target,
    discard,
    discard_unless_resumable,
    open_staging,
    publish,
    staging_path,
    write_json_atomic,
)

log = logging.getLogger("sparklr.train")

CHECKPOINT = "checkpoint.json"
#: Subdirectory of the model directory holding the Spark ML export (output.spark_ml).
SPARK_ML_DIR = "spark-ml"


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
            ]
        )


def _notes(meta: dict) -> list[str]:
    notes = []
    if meta.get("dropped_rows"):
        notes.append(f"  dropped: {meta['dropped_rows']} row(s) with NaN, ±Inf or null")
    if meta.get("separation_suspected"):
        notes.append("  warning: the data look perfectly separable (see the log)")
    return notes


def train(config: Config, *, resume: bool = False) -> TrainResult:
    """Train as ``config`` says and publish the model directory; see the module docstring."""
    # Imported here so that config errors are reported without starting a JVM.
    from pyspark.sql import SparkSession

    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import load_frames
    from sparklr.spark.session import build_session

    output = Path(config.output.path)
    # Output checks come before Spark starts: a bad target fails in a second, not a minute.
    check_output_target(output, config.output.overwrite)
    if resume and not (staging_path(output) / CHECKPOINT).is_file():
        raise ConfigError(f"--resume: no checkpoint at {staging_path(output) / CHECKPOINT}")
    staging = open_staging(output, resume=resume)
    owns_session = SparkSession.getActiveSession() is None
    blocks = None
    try:
        spark = build_session(
            config.spark.master, config.spark.app_name, config.spark.log_level, config.spark.conf
        )
    except BaseException:
        discard_unless_resumable(staging, CHECKPOINT)
        raise
    try:
        started = time.perf_counter()
        d = config.data
        frames = load_frames(
            spark,
            fmt=d.format,
            path=d.path,
            label=d.label,
            features=d.features,
            partitions=d.partitions,
            synthetic=(
                d.synthetic.rows,
                d.synthetic.features,
                d.synthetic.partitions,
                d.synthetic.seed,
            ),
            weight=d.weight,
            validation_path=d.validation_path,
            validation_fraction=d.validation_fraction,
            validation_seed=d.validation_seed,
            reader=d.reader,
        )
        frame, names = frames.train, frames.names
        blocks = BlockSet(
            spark,
            frame,
            config.data.label,
            names,
            dtype=config.data.dtype,
            drop_invalid=config.data.drop_invalid,
            weight=config.data.weight,
            parquet=frames.parquet,
        ).build()
        load_seconds = time.perf_counter() - started
        log.info(
            "blocks ready: %d rows x %d features in %d partitions (%.1fs)",
            blocks.rows,
            blocks.n_features,
            blocks.partitions,
            load_seconds,
        )
        if blocks.dropped:
            log.warning("dropped %d row(s) with NaN, ±Inf or null values", blocks.dropped)

        moments = blocks.moments
        feature_map = FeatureMap.from_moments(moments, config.train.standardize)
        constant = [n for n, c in zip(names, feature_map.constant_features, strict=True) if c]
        if constant:
            log.warning("constant feature(s) get coefficient 0: %s", ", ".join(constant))
        t = config.train
        class_weight = balanced_class_weight(moments) if t.class_weight == "balanced" else None
        objective = LogisticObjective(
            blocks,
            feature_map,
            reg_param=t.reg_param,
            elastic_net=t.elastic_net,
            class_weight=class_weight,
        )
        learning_rate = _learning_rate(config, objective, moments)

        fingerprints = {
            "config": _config_fingerprint(config),
            "data": blocks.fingerprint(),
        }
        state = _initial_state(config, blocks.n_features, staging, fingerprints, resume)
        if not resume and t.init == "log_odds":
            state.theta[-1] = log_odds_intercept(moments, class_weight)
        progress = ProgressLog(log, config.train.max_iter, config.train.log_every)
        every = config.train.checkpoint_every
        separation = SeparationMonitor()
        evaluated = [state.theta.copy()]  # θ_k that the next record was evaluated at

        def on_iteration(st: OptimizerState, record) -> None:
            separation.observe(record.iteration, record.loss, evaluated[0], record.accuracy)
            evaluated[0] = st.theta.copy()
            progress(st, record)
            if every and st.stop_reason is None and st.iteration % every == 0:
                _write_checkpoint(staging, st, fingerprints)

        t0 = time.perf_counter()
        state = optimizers.get(t.optimizer)(
            objective,
            state,
            options=OptimizerOptions(
                learning_rate=learning_rate,
                line_search=t.line_search,
                momentum=t.momentum,
                history_size=t.lbfgs_memory,
            ),
            stop=StopRule(t.max_iter, t.tol),
            callback=on_iteration,
        )
        train_seconds = time.perf_counter() - t0
        # Separation: proven when θ classifies every sample (optimizers.separation_detected),
        # suspected when ‖w‖ keeps growing while J → 0 (SeparationMonitor). Both only matter
        # without a penalty (with one, the optimum exists).
        separated = optimizers.separation_detected(objective, state)
        growing = objective.reg_param == 0 and separation.suspected
        if separated:
            log.warning("%s", optimizers.base.SEPARATION_MESSAGE)
        elif growing:
            log.warning("%s", separation.message())

        w, b = feature_map.to_raw(state.theta)
        model = Model(
            feature_names=names,
            coefficients=w,
            intercept=b,
            label=config.data.label,
            metadata=_metadata(config, state, blocks, learning_rate, constant),
        )
        model.metadata["separation_suspected"] = bool(separated or growing)
        model.metadata["weight_norm"] = separation.weight_norm
        _write_checkpoint(staging, state, fingerprints)
        histograms = _measure(config, frames, model)
        if config.output.spark_ml:
            from sparklr.mlexport import write_spark_ml

            write_spark_ml(model, staging / SPARK_ML_DIR, overwrite=True)
        if config.output.report:
            _write_report(
                staging, config, model, state, moments, histograms, load_seconds, train_seconds
            )
        write_json_atomic(staging / "history.json", [dataclasses.asdict(r) for r in state.history])
        _write_history_csv(staging / "history.csv", state)
        write_json_atomic(staging / "model.json", model.to_json())
        publish(staging, output, config.output.overwrite)
        staging = None
        return TrainResult(
            model, output, blocks.rows, blocks.partitions, load_seconds, train_seconds, state
        )
    except (ConfigError, DataError, DivergenceError, OutputError):
        # The run cannot succeed as configured: remove its staging directory, except that a
        # refused or failed --resume keeps the checkpoint it was asked to continue from.
        if staging is not None:
            if resume:
                discard_unless_resumable(staging, CHECKPOINT)
            else:
                discard(staging)
        raise
    except BaseException:
        # Infrastructure failures, interrupts, bugs: keep the staging directory only if it
        # holds a checkpoint that --resume can continue from.
        if staging is not None:
            discard_unless_resumable(staging, CHECKPOINT)
        raise
    finally:
        if blocks is not None:
            try:
                blocks.unpersist()
            except Exception as exc:  # never mask the real outcome
                log.debug("cleanup failed: %s", exc)
        if owns_session:
            spark.stop()


def _learning_rate(config: Config, objective: LogisticObjective, moments) -> float:
    if config.train.learning_rate == "auto":
        lipschitz = objective.lipschitz(moments)
        rate = 1.0 / lipschitz
        log.info("learning rate auto: 1/L = %.6g (curvature bound L = %.6g)", rate, lipschitz)
        return rate
    return float(config.train.learning_rate)


def _config_fingerprint(config: Config) -> str:
    """Fingerprint of what determines the result: the data and train sections, minus
    the keys that only change reporting."""
    reporting = {"checkpoint_every": 0, "log_every": 0}
    same = dataclasses.replace(config, train=dataclasses.replace(config.train, **reporting))
    return same.fingerprint("data", "train")


def _initial_state(
    config: Config, n_features: int, staging: Path, fingerprints: dict, resume: bool
) -> OptimizerState:
    if resume:
        path = staging / CHECKPOINT
        import json

        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"--resume: cannot read checkpoint {path}: {exc}") from exc
        for key in ("config", "data"):
            if data.get("fingerprints", {}).get(key) != fingerprints[key]:
                raise ConfigError(
                    f"--resume: the {key} differs from the checkpointed run's ({path}); "
                    "start a fresh run instead"
                )
        state = OptimizerState.from_json(data["state"])
        state.stop_reason = None
        log.info("resuming at iteration %d from %s", state.iteration, path)
        return state
    rng = np.random.default_rng(config.train.seed)
    w0 = config.train.init_scale * rng.standard_normal(n_features)
    return OptimizerState(iteration=0, theta=np.append(w0, 0.0))


def _write_checkpoint(staging: Path, state: OptimizerState, fingerprints: dict) -> None:
    write_json_atomic(
        staging / CHECKPOINT, {"fingerprints": fingerprints, "state": state.to_json()}
    )


def _write_history_csv(path: Path, state: OptimizerState) -> None:
    buffer = io.StringIO()
    fields = [f.name for f in dataclasses.fields(state.history[0])]
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for record in state.history:
        writer.writerow(dataclasses.asdict(record))
    path.write_text(buffer.getvalue())


def _metadata(config, state, blocks, learning_rate, constant) -> dict:
    import numpy
    import pyarrow
    import pyspark

    last = state.history[-1]
    return {
        "iterations": state.iteration,
        "stop_reason": state.stop_reason,
        "final_loss": last.loss,
        "final_grad_norm": last.grad_norm,
        "training_accuracy": last.accuracy,
        "learning_rate": learning_rate,
        "rows": blocks.rows,
        "dropped_rows": blocks.dropped,
        "partitions": blocks.partitions,
        "constant_features": constant,
        "config": config.to_dict(),
        "data_fingerprint": blocks.fingerprint(),
        "block_locations": blocks.locations(),
        "versions": {
            "sparklr": sparklr.__version__,
            "pyspark": pyspark.__version__,
            "numpy": numpy.__version__,
            "pyarrow": pyarrow.__version__,
            "python": platform.python_version(),
        },
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _metric_lines(metrics: dict) -> list[str]:
    from sparklr.report import fmt

    return [
        f"  {name}: log-loss {fmt(m['log_loss'], '.6f')}  accuracy {fmt(m['accuracy'], '.4f')}"
        f"  AUC {fmt(m['auc'], '.4f')}  ({m['rows']:,} rows)"
        for name, m in metrics.items()
    ]


def _measure(config: Config, frames, model: Model) -> dict[str, dict]:
    """Log-loss, accuracy and AUC on the training (and validation) data, computed on the
    executors; stored in ``model.metadata["metrics"]``. Returns the probability histograms."""
    from sparklr.spark.scoring import model_metrics

    t0 = time.perf_counter()
    metrics, histograms = {}, {}
    parts = [("train", frames.train), ("validation", frames.validation)]
    for name, frame in parts:
        if frame is None:
            continue
        metrics[name], histograms[name] = model_metrics(
            frame, config.data.label, model.feature_names, model.coefficients, model.intercept
        )
        log.info("%s metrics: %s", name, metrics[name])
    model.metadata["metrics"] = metrics
    log.info("metrics computed in %.1fs", time.perf_counter() - t0)
    return histograms


def _write_report(
    staging, config, model, state, moments, histograms, load_seconds, train_seconds
) -> None:
    from sparklr.report import top_coefficients, write_report

    metrics = model.metadata["metrics"]
    last = state.history[-1]
    summary = {
        "rows": model.metadata["rows"],
        "features": len(model.feature_names),
        "partitions": model.metadata["partitions"],
        "validation_rows": metrics.get("validation", {}).get("rows"),
        "iterations": state.iteration,
        "stop_reason": state.stop_reason,
        "optimizer": config.train.optimizer,
        "learning_rate": model.metadata["learning_rate"],
        "load_seconds": load_seconds,
        "train_seconds": train_seconds,
        "final_loss": last.loss,
        "final_grad_norm": last.grad_norm,
    }
    top = top_coefficients(model.feature_names, model.coefficients, moments.std)
    history = [dataclasses.asdict(r) for r in state.history]
    files = write_report(staging, summary, history, metrics, histograms, top)
    log.info("report: %s", ", ".join(files))


__all__ = ["SparklrError", "TrainResult", "main", "train"]
