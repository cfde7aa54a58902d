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
    parser.add_argument("--format", default="parquet", choices=["parquet", "csv"])
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
    from sparklr.spark.scoring import model_metrics, score_frame, unseen_levels

    with (
        spark_session(master, "sparklr-predict") as spark,
        staged_directory(output, overwrite) as staging,
    ):
        frame = read_table(spark, data, fmt)
        missing = [n for n in model.input_columns if n not in frame.columns]
        if missing:
            raise DataError(
                f"input {data} lacks the model's feature column(s): {', '.join(missing)}"
            )
        for name in ("probability", "prediction"):
            if name in frame.columns:
                raise DataError(f"input {data} already has a column named {name!r}")
        design = model.encoding
        if design is not None:
            _log_unseen(unseen_levels(frame, design))
        scored = score_frame(
            frame, model.feature_names, model.coefficients, model.intercept, threshold, design
        )
        scored.write.parquet(str(staging))
        metrics = None
        if model.label in frame.columns:
            # The written rows without the scores: cheaper to read back than the input (CSV).
            written = spark.read.parquet(str(staging)).drop("probability", "prediction")
            metrics, _ = model_metrics(
                written,
                model.label,
                model.feature_names,
                model.coefficients,
                model.intercept,
                threshold,
                design=design,
            )
            write_json_atomic(staging / "_metrics.json", metrics)
            log.info("metrics: %s", json.dumps(metrics))
        return metrics


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
