"""Writes a synthetic logistic-regression dataset, generated on the executors.

    spark-submit jobs/make_data.py --output DIR [--rows N] [--features N] [--partitions N]
                                   [--seed S] [--format parquet|csv] [--overwrite]

The true model (see :mod:`sparklr.spark.synthetic`) is written beside the data as
``<output>/_truth.json`` (Spark readers skip files starting with "_").
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from sparklr.app.common import run_job
from sparklr.errors import ConfigError
from sparklr.output import check_output_target, discard, publish, staging_path, write_json_atomic

log = logging.getLogger("sparklr.make_data")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make_data.py", description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", default="parquet", choices=["parquet", "csv"])
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--master", default="")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            raise ConfigError("bad command line (see --help)") from None
        raise
    for name in ("rows", "features", "partitions"):
        if getattr(args, name) <= 0:
            raise ConfigError(f"--{name} must be > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    from pyspark.sql import SparkSession

    from sparklr.spark.session import build_session
    from sparklr.spark.synthetic import synthetic_frame

    args = parse_args(argv)
    output = Path(args.output)
    check_output_target(output, args.overwrite)
    owns_session = SparkSession.getActiveSession() is None
    spark = build_session(args.master, "sparklr-make-data")
    staging = staging_path(output)
    try:
        frame, truth = synthetic_frame(spark, args.rows, args.features, args.partitions, args.seed)
        discard(staging)
        writer = frame.write
        if args.format == "csv":
            writer.option("header", True).csv(str(staging))
        else:
            writer.parquet(str(staging))
        write_json_atomic(staging / "_truth.json", truth.to_json())
        publish(staging, output, args.overwrite)
    except BaseException:
        discard(staging)
        raise
    finally:
        if owns_session:
            spark.stop()
    print(f"sparklr: wrote {args.rows:,} rows x {args.features} features to {output}")
    return 0
