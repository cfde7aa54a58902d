"""Export a saved sparklr model as a Spark ML LogisticRegressionModel directory (no Spark).

    python jobs/export_spark_ml.py --model DIR --output DIR [--features-col features]
                                   [--threshold 0.5] [--overwrite]

The training job already writes ``<model>/spark-ml/`` (``output.spark_ml = true``); this job
exports models trained without it, or with another features column name or threshold.
Load it with ``pyspark.ml.classification.LogisticRegressionModel.load(DIR)`` and feed it a
vector column assembled from the model's ``feature_names`` in that order. A model with
categorical columns is exported as a ``PipelineModel`` on the raw input columns instead
(``pyspark.ml.PipelineModel.load(DIR)``; :mod:`sparklr.spark.pipeline_export`), which needs a
local Spark session.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from sparklr.app.common import parse_command_line, run_job
from sparklr.errors import ConfigError, OutputError
from sparklr.mlexport import write_spark_ml
from sparklr.model import Model


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="export_spark_ml.py", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model directory (or its model.json)")
    parser.add_argument("--output", required=True, help="directory to write")
    parser.add_argument("--features-col", default="features", help="MLlib featuresCol")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--overwrite", action="store_true")
    args = parse_command_line(parser, argv)
    if not (0.0 <= args.threshold <= 1.0) or math.isnan(args.threshold):
        raise ConfigError(f"--threshold must be in [0, 1], got {args.threshold}")
    if not args.features_col:
        raise ConfigError("--features-col must not be empty")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    model = Model.load(args.model)
    if model.encoding is not None:
        return _export_pipeline(model, args)
    path = write_spark_ml(
        model,
        args.output,
        features_col=args.features_col,
        threshold=args.threshold,
        overwrite=args.overwrite,
    )
    print(
        f"sparklr: wrote Spark ML LogisticRegressionModel to {path}; features column "
        f"{args.features_col!r} = VectorAssembler(inputCols={model.feature_names})"
    )
    return 0


def _export_pipeline(model: Model, args: argparse.Namespace) -> int:
    from sparklr.app.common import spark_session
    from sparklr.spark.pipeline_export import write_pipeline

    if Path(args.output).exists() and not args.overwrite:
        raise OutputError(f"{args.output} already exists; refusing to replace it")
    with spark_session("local[1]", "sparklr-export") as spark:
        path = write_pipeline(
            spark, model, args.output, features_col=args.features_col, threshold=args.threshold
        )
    print(
        f"sparklr: wrote Spark ML PipelineModel to {path}; it takes the raw columns "
        f"{model.input_columns}"
    )
    return 0
