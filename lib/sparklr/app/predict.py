"""The scoring job: a saved model + a dataset → Parquet with ``probability`` and ``prediction``.

    spark-submit jobs/predict.py --model DIR --data PATH [--format parquet|csv]
                                 --output DIR [--threshold 0.5] [--overwrite]

Every input column is kept. When the model's label column is present, log-loss, accuracy (at
``--threshold``) and AUC are printed and written to ``<output>/_metrics.json``, with the
training job's definitions and keys (:func:`sparklr.spark.scoring.model_metrics`): on the rows whose
label and features are all finite (every row is scored all the same), with labels that must be
0/1. The output directory is written to a staging directory and renamed into place when
complete.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path

from sparklr.app.common import parse_command_line, run_job, spark_session, staged_directory
from sparklr.errors import ConfigError, DataError
from sparklr.model import Model
from sparklr.output import check_output_target, write_json_atomic

log = logging.getLogger("sparklr.predict")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="predict.py", description="Score data with a model.")
    parser.add_argument("--model", required=True, help="model directory (or its model.json)")
    parser.add_argument("--data", required=True, help="input file or directory")
    parser.add_argument("--format", default="parquet", choices=["parquet", "csv", "libsvm"])
    parser.add_argument("--output", required=True, help="output directory (Parquet)")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--master", default="", help="Spark master (default: spark-submit's)")
    args = parse_command_line(parser, argv)
    if not (0.0 <= args.threshold <= 1.0) or math.isnan(args.threshold):
        raise ConfigError(f"--threshold must be in [0, 1], got {args.threshold}")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    model = Model.load(args.model)
    output = Path(args.output)
    check_output_target(output, args.overwrite)
    metrics = predict(
        model, args.data, args.format, output, args.threshold, args.overwrite, args.master
    )
    if metrics:
        from sparklr.report import fmt

        print(
            f"sparklr: scored {metrics['rows']:,} rows  log-loss {fmt(metrics['log_loss'], '.6f')}"
            f"  accuracy {fmt(metrics['accuracy'], '.4f')}  AUC {fmt(metrics['auc'], '.4f')}"
        )
    print(f"sparklr: predictions written to {output}")
    return 0


def predict(
    model: Model,
    data: str,
    fmt: str,
    output: Path,
    threshold: float = 0.5,
    overwrite: bool = False,
    master: str = "",
) -> dict | None:
    """Score ``data`` into ``output``; return the metrics (None without a label column)."""
    from sparklr.spark.data import read_table
    from sparklr.spark.scoring import model_metrics, score_frame

    vector = vector_column(model, fmt)
    with (
        spark_session(master, "sparklr-predict") as spark,
        staged_directory(output, overwrite) as staging,
    ):
        if fmt == "libsvm":
            from sparklr.spark.vector_input import read_libsvm

            frame, _ = read_libsvm(spark, data, len(model.feature_names))
        else:
            frame = read_table(spark, data, fmt)
        if vector:
            _check_vector_column(frame, vector, model, data)
        else:
            missing = [n for n in model.feature_names if n not in frame.columns]
            if missing:
                raise DataError(
                    f"input {data} lacks the model's feature column(s): {', '.join(missing)}"
                )
        for name in ("probability", "prediction"):
            if name in frame.columns:
                raise DataError(f"input {data} already has a column named {name!r}")
        features, w, b = _scoring_inputs(frame, vector, model)
        scored = score_frame(features, *w, b, threshold)
        scored.drop(MARGIN).write.parquet(str(staging))
        metrics = None
        if model.label in frame.columns:
            # The written rows without the scores: cheaper to read back than the input (CSV).
            written = spark.read.parquet(str(staging)).drop("probability", "prediction")
            written, w, b = _scoring_inputs(written, vector, model)
            metrics, _ = model_metrics(written, model.label, *w, b, threshold)
            write_json_atomic(staging / "_metrics.json", metrics)
            log.info("metrics: %s", json.dumps(metrics))
        return metrics


#: The margin column a vector input is scored through (dropped from the output).
MARGIN = "_sparklr_margin"


def vector_column(model: Model, fmt: str) -> str:
    """The Spark ML vector column the model's features are in ("" = plain columns): its
    training config's data.features_col, "features" for LIBSVM (training or scoring input)."""
    data = model.metadata.get("config", {}).get("data", {})
    if fmt == "libsvm" or data.get("format") == "libsvm":
        return data.get("features_col") or "features"
    return data.get("features_col", "")


def _check_vector_column(frame, column: str, model: Model, data: str) -> None:
    from sparklr.spark.vector_input import is_vector_column, metadata_size_and_names

    if column not in frame.columns or not is_vector_column(frame, column):
        raise DataError(f"input {data} lacks the model's vector column {column!r}")
    size, _ = metadata_size_and_names(frame, column)
    if size is not None and size != len(model.feature_names):
        raise DataError(
            f"input {data}: vector column {column!r} has size {size}, the model "
            f"{len(model.feature_names)} features"
        )


def _scoring_inputs(frame, vector: str, model: Model):
    """(frame, (feature columns, coefficients), intercept) for score_frame / model_metrics:
    the model's own columns, or for a vector column its margin z with coefficient 1."""
    if not vector:
        return frame, (model.feature_names, model.coefficients), model.intercept
    from sparklr.spark.scoring import vector_margins

    with_margin = vector_margins(frame, vector, model.coefficients, model.intercept, MARGIN)
    return with_margin, ([MARGIN], [1.0]), 0.0
