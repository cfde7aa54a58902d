"""The model directory a training run publishes, written into its staging directory and then
renamed into place (:func:`sparklr.output.publish`):

* ``model.json``: the model and what the run records of itself (:class:`sparklr.model.Model`);
* ``history.json`` and ``history.csv``: one :class:`~sparklr.optimizers.IterationRecord` per
  iteration;
* ``checkpoint.json``: the final optimizer state (written by :mod:`sparklr.app.checkpoint`);
* with inference (``train.inference``): ``coefficients.csv``, one row per coefficient;
* with ``output.report``: ``report.md`` and its plots (:mod:`sparklr.report`);
* with ``output.spark_ml``: ``spark-ml/``, the Spark ML export (:mod:`sparklr.mlexport`; with
  categorical columns a PipelineModel on the raw columns: :mod:`sparklr.spark.pipeline_export`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
from pathlib import Path

from sparklr.config import Config
from sparklr.inference import InferenceResult
from sparklr.model import Model
from sparklr.optimizers import OptimizerState
from sparklr.output import publish, write_json_atomic
from sparklr.stats import FeatureMoments

log = logging.getLogger("sparklr.train")

#: Subdirectory of the model directory holding the Spark ML export (output.spark_ml).
SPARK_ML_DIR = "spark-ml"


def write_model_dir(
    staging: Path,
    output: Path,
    config: Config,
    model: Model,
    state: OptimizerState,
    moments: FeatureMoments,
    histograms: dict[str, dict],
    seconds: tuple[float, float],
    inference: InferenceResult | None = None,
) -> None:
    """Write the files above into ``staging``, then rename it to ``output``.

    ``model.metadata`` has the metrics already; ``moments`` give the report's standardized
    coefficients; ``seconds`` = (loading, training)."""
    if config.output.spark_ml and model.encoding is not None:
        from pyspark.sql import SparkSession

        from sparklr.spark.pipeline_export import write_pipeline

        write_pipeline(SparkSession.builder.getOrCreate(), model, staging / SPARK_ML_DIR)
    elif config.output.spark_ml:
        from sparklr.mlexport import write_spark_ml

        write_spark_ml(
            model,
            staging / SPARK_ML_DIR,
            overwrite=True,
            fit_intercept=config.train.fit_intercept,
        )
    if inference is not None:
        (staging / "coefficients.csv").write_text(inference.to_csv())
    if config.output.report:
        table = "" if inference is None else inference.format_table()
        _write_report(staging, config, model, state, moments, histograms, seconds, table)
    write_json_atomic(staging / "history.json", [dataclasses.asdict(r) for r in state.history])
    _write_history_csv(staging / "history.csv", state)
    write_json_atomic(staging / "model.json", model.to_json())
    publish(staging, output, config.output.overwrite)


def _write_history_csv(path: Path, state: OptimizerState) -> None:
    buffer = io.StringIO()
    fields = [f.name for f in dataclasses.fields(state.history[0])]
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for record in state.history:
        writer.writerow(dataclasses.asdict(record))
    path.write_text(buffer.getvalue())


def _write_report(staging, config, model, state, moments, histograms, seconds, table) -> None:
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
        "load_seconds": seconds[0],
        "train_seconds": seconds[1],
        "final_loss": last.loss,
        "final_grad_norm": last.grad_norm,
    }
    top = top_coefficients(model.feature_names, model.coefficients, moments.std)
    history = [dataclasses.asdict(r) for r in state.history]
    files = write_report(staging, summary, history, metrics, histograms, top, table)
    from sparklr.app.tune import append_path_section  # [tune] path (issue 14)

    append_path_section(staging / files[0])
    if "cv" in model.metadata:  # [tune] cross-validation (issue 14)
        from sparklr.app.cv_files import append_cv_section

        append_cv_section(staging / files[0], model.metadata["cv"])
    log.info("report: %s", ", ".join(files))
