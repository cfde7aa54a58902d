"""The training job: config → Spark session → resident blocks → optimizer → model directory.

    spark-submit jobs/train.py [--config conf/train.toml] [--set KEY=VALUE ...] [--resume]

Writes ``output.path`` atomically: ``model.json``, ``history.json`` / ``history.csv`` and the
final ``checkpoint.json``. See README.md for every key and for the failure behaviour.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sparklr.app import checkpoint, sources
from sparklr.app.common import default_config_path, parse_command_line, run_job
from sparklr.app.fit import (
    Fit,
    Problem,
    check_width,
    fitted_model,
    make_problem,
    run_optimizer,
    with_log_odds,
)
from sparklr.app.measure import measure_inference, measure_metrics
from sparklr.app.model_dir import write_model_dir
from sparklr.app.tune import Selection, write_tuning
from sparklr.config import Config, load_config
from sparklr.encoding import CategoricalRules
from sparklr.inference import InferenceResult
from sparklr.logs import ProgressLog
from sparklr.model import Model
from sparklr.optimizers import OptimizerState
from sparklr.output import (
    check_output_target,
    open_staging,
    staging_path,
)
from sparklr.tuning.warm_start import initial_theta

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
    from sparklr.report import pyplot
    from sparklr.spark.session import spark_running, start_spark

    output = Path(config.output.path)
    staging = _open_staging(output, config, resume)
    owns_session = not spark_running()
    spark = loaded = None
    try:
        with checkpoint.discard_on_failure(staging, resume):
            s = config.spark
            # matplotlib (the report's plots) is imported while the JVM starts
            spark = start_spark(s.master, s.app_name, s.log_level, s.conf, while_starting=[pyplot])
            # the JIT of a JVM this job started (not a notebook's or a test's) yields the
            # cores to the Python workers once the JVM has no more data to read
            loaded = _load(spark, config, yield_jit=owns_session)
            problem = make_problem(loaded.blocks, loaded.frames.names, config.train)
            prints = checkpoint.fingerprints(config, loaded.blocks.fingerprint())
            names = loaded.frames.names
            selection = write_tuning(  # [tune] (issue 14): the path, and λ̂ by CV
                config, problem, loaded.blocks, names, staging, resume=resume, fingerprints=prints
            )
            fit = _fit(config, loaded, problem, staging, resume, selection)
            frames = loaded.frames
            model = fitted_model(
                config,
                loaded.blocks,
                frames.names,
                problem,
                fit,
                encoding=frames.design if frames.design and frames.design.categorical else None,
                columns=frames.roles,
            )
            model.metadata["source"] = sources.describe_sources(config.data)
            if selection is not None:
                model.metadata["cv"] = selection.summary
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
        from sparklr.spark.session import stop_session

        stop_session(spark)


def _load(spark, config: Config, yield_jit: bool = False) -> _Loaded:
    """Read (or generate) data.* and build the resident blocks of the training frame. With
    ``yield_jit``, the local JVM's JIT compilers are put at low priority
    (:func:`~sparklr.spark.session.yield_jit_to_workers`) as soon as the JVM reads no more
    data: before the build when pyarrow reads the files or the tasks generate the rows, after
    it when the build reads Spark's scan."""
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import Categorical, load_frames
    from sparklr.spark.session import yield_jit_to_workers

    started = time.perf_counter()
    d = config.data
    frames = load_frames(
        spark,
        source=sources.training_source(d),
        label=d.label,
        features=d.features,
        partitions=d.partitions,
        synthetic=dataclasses.astuple(d.synthetic),  # (rows, features, partitions, seed)
        weight=d.weight,
        validation_source=sources.validation_source(d),
        validation_fraction=d.validation_fraction,
        validation_seed=d.validation_seed,
        reader=d.reader,
        categorical=Categorical(tuple(d.categorical), _categorical_rules(config)),
        features_col=d.features_col,
        block_type=d.block_type,
        num_features=d.num_features,
        dtype=d.dtype,
    )
    check_width(config.train, len(frames.names))
    jvm_reads = frames.parquet is None and frames.synthetic is None
    if yield_jit and not jvm_reads:
        yield_jit_to_workers(spark.sparkContext)
    blocks = BlockSet(
        spark,
        frames.train,
        d.label,
        frames.names,
        dtype=d.dtype,
        drop_invalid=d.drop_invalid,
        weight=d.weight,
        parquet=frames.parquet,
        synthetic=frames.synthetic,
        design=frames.design,
        block_type=frames.block_type,
        aggregation_depth=config.train.aggregation_depth,
        folds=config.tune.folds,  # fold ids in the blocks (issue 14)
        fold_seed=config.tune.seed,
    ).build()
    if yield_jit and jvm_reads:
        yield_jit_to_workers(spark.sparkContext)
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


def _categorical_rules(config: Config) -> CategoricalRules:
    d = config.data
    return CategoricalRules(
        nulls=d.categorical_nulls,
        max_levels=d.max_levels,
        coding=d.categorical_coding,
        references=dict(d.categorical_reference),
        penalized=config.train.reg_param > 0,
    )


def _fit(
    config: Config,
    loaded: _Loaded,
    problem: Problem,
    staging: Path,
    resume: bool,
    selection: Selection | None = None,
) -> Fit:
    """Run train.optimizer from θ⁰ (or the checkpoint), logging progress, checkpointing every
    train.checkpoint_every iterations and at the end, and watching for separation."""
    t = config.train
    prints = checkpoint.fingerprints(config, loaded.blocks.fingerprint())
    state = _start_state(config, loaded, problem, staging, prints, resume, selection)
    progress = ProgressLog(log, t.max_iter, t.log_every)
    every = t.checkpoint_every

    def on_iteration(st: OptimizerState, record) -> None:
        progress(st, record)
        if every and st.stop_reason is None and st.iteration % every == 0:
            checkpoint.write_checkpoint(staging, st, prints)

    fit = run_optimizer(t, problem, state, on_iteration)
    checkpoint.write_checkpoint(staging, fit.state, prints)
    return fit


def _start_state(config, loaded, problem, staging, prints, resume, selection) -> OptimizerState:
    """θ⁰ (with b⁰ = the log-odds when train.init says so, train.init_model's θ, or CV's
    ``selection``), or the checkpointed state."""
    resumed = checkpoint.read_checkpoint(staging, prints) if resume else None
    if resumed is not None:
        return resumed
    state = checkpoint.initial_state(config, loaded.blocks.n_features, staging, prints, False)
    if config.train.init_model:  # warm start (issue 14)
        state.theta = initial_theta(
            config.train.init_model, loaded.frames.names, problem.objective.feature_map
        )
        return state
    if selection is not None:  # CV's λ̂: from the full data's path θ there (issue 14)
        state.theta = selection.theta.copy()
        return state
    return with_log_odds(config.train, problem, state)


__all__ = ["TrainResult", "main", "train"]
