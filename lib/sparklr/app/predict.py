"""The scoring job: a saved model + a dataset → Parquet with ``probability`` and ``prediction``.

    spark-submit jobs/predict.py --model DIR (--data PATH [--format FORMAT] | --table NAME)
                                 [--option KEY=VALUE ...] [--filter SQL]
                                 --output DIR [--threshold 0.5] [--overwrite]

The input is described as the training job's data.* keys do (README "Configuration"):
``--format`` parquet (default), csv, orc, json, avro, delta or a data source class name, or
``--table db.name`` (a catalog table; format "table" implied), ``--option`` reader options
(data.options), ``--filter`` a SQL predicate selecting the rows to score (data.filter).

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sparklr.app.common import parse_command_line, run_job, spark_session, staged_directory
from sparklr.config_data import check_source
from sparklr.errors import ConfigError, DataError, task_data_error
from sparklr.model import Model
from sparklr.output import check_output_target, write_json_atomic

if TYPE_CHECKING:
    from sparklr.spark.sources import Source

log = logging.getLogger("sparklr.predict")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="predict.py", description="Score data with a model.")
    parser.add_argument("--model", required=True, help="model directory (or its model.json)")
    parser.add_argument("--data", default="", help="input file or directory")
    parser.add_argument("--format", default="", help="Spark source (default parquet)")
    parser.add_argument("--table", default="", help="catalog table to score (db.name)")
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="reader option"
    )
    parser.add_argument("--filter", default="", help="SQL predicate selecting the rows")
    parser.add_argument("--output", required=True, help="output directory (Parquet)")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--master", default="", help="Spark master (default: spark-submit's)")
    args = parse_command_line(parser, argv)
    if not (0.0 <= args.threshold <= 1.0) or math.isnan(args.threshold):
        raise ConfigError(f"--threshold must be in [0, 1], got {args.threshold}")
    args.format = args.format or ("table" if args.table else "parquet")
    args.options = _options(args.option)
    if args.format == "synthetic":
        raise ConfigError("--format synthetic: predict scores a dataset")
    check_source(args.format, args.data, args.table, args.options, args.filter, _flag)
    return args


def _flag(key: str) -> str:
    """The command-line flag of a data description key (for check_source's messages)."""
    return {"path": "--data", "options": "--option"}.get(key, f"--{key}")


def _options(items: list[str]) -> dict[str, str]:
    options = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option expects KEY=VALUE, got {item!r}")
        options[key.strip()] = value
    return options


def input_source(args: argparse.Namespace) -> Source:
    """The Source the flags describe."""
    from sparklr.spark.sources import Source

    return Source(args.format, args.data, args.table, args.options, args.filter, "--filter")


def main(argv: list[str] | None = None) -> int:
    return run_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    model = Model.load(args.model)
    output = Path(args.output)
    check_output_target(output, args.overwrite)
    metrics = predict(
        model, input_source(args), output, args.threshold, args.overwrite, args.master
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
    source: Source,
    output: Path,
    threshold: float = 0.5,
    overwrite: bool = False,
    master: str = "",
) -> dict | None:
    """Score the rows of ``source`` into ``output``; return the metrics (None without a
    label column)."""
    from sparklr.spark.scoring import model_metrics, score_frame, unseen_levels
    from sparklr.spark.sources import read_source

    vector = vector_column(model, source.format)
    with (
        spark_session(master, "sparklr-predict") as spark,
        staged_directory(output, overwrite) as staging,
    ):
        if source.format == "libsvm":
            from sparklr.spark.sources import apply_filter
            from sparklr.spark.vector_input import read_libsvm

            frame, _ = read_libsvm(spark, source.path, len(model.feature_names))
            frame = apply_filter(frame, source) if source.filter else frame
        else:
            frame = read_source(spark, source)
        if vector:
            _check_vector_column(frame, vector, model, source.name)
        else:
            missing = [n for n in model.input_columns if n not in frame.columns]
            if missing:
                raise DataError(
                    f"input {source.name} lacks the model's feature column(s): "
                    + ", ".join(missing)
                )
        for name in ("probability", "prediction"):
            if name in frame.columns:
                raise DataError(f"input {source.name} already has a column named {name!r}")
        design = model.encoding
        if design is not None:
            _log_unseen(unseen_levels(frame, design))
        features, w, b = _scoring_inputs(frame, vector, model)
        scored = score_frame(features, *w, b, threshold, design)
        with _data_errors_of_tasks(source.name):
            scored.drop(MARGIN).write.parquet(str(staging))
        metrics = None
        if model.label in frame.columns:
            # The written rows without the scores: cheaper to read back than the input (CSV).
            written = spark.read.parquet(str(staging)).drop("probability", "prediction")
            written, w, b = _scoring_inputs(written, vector, model)
            metrics, _ = model_metrics(written, model.label, *w, b, threshold, design=design)
            write_json_atomic(staging / "_metrics.json", metrics)
            log.info("metrics: %s", json.dumps(metrics))
        return metrics


@contextmanager
def _data_errors_of_tasks(data: str) -> Iterator[None]:
    """A DataError raised in a Spark task (a bad feature vector of the input ``data``: see
    :func:`sparklr.spark.scoring.vector_margins`) as a DataError on the driver: exit 3, and the
    staging directory is discarded."""
    try:
        yield
    except Exception as exc:
        found = task_data_error(exc)
        if found is None:
            raise
        raise DataError(f"input {data}: {found}") from None


def _log_unseen(counts: dict[str, dict]) -> None:
    """One warning per categorical column with levels (or nulls) not seen in training."""
    for column, c in counts.items():
        if c["unseen"]:
            log.warning(
                "%s: %d row(s) have a level not seen in training (e.g. %r): scored as the "
                "reference level (all indicators 0)",
                column,
                c["unseen"],
                c["example"],
            )
        if c["nulls"]:
            log.warning(
                "%s: %d null row(s) without a level of their own: %s",
                column,
                c["nulls"],
                "probability null (data.categorical_nulls = error)"
                if c["rule"] == "error"
                else "scored as the reference level",
            )


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
