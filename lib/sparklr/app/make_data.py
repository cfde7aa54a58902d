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

from sparklr.app.common import parse_command_line, run_job, spark_session, staged_directory
from sparklr.errors import ConfigError
from sparklr.output import check_output_target, write_json_atomic

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
    args = parse_command_line(parser, argv)
    for name in ("rows", "features", "partitions"):
        if getattr(args, name) <= 0:
            raise ConfigError(f"--{name} must be > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    from sparklr.spark.synthetic import synthetic_frame

    args = parse_args(argv)
    output = Path(args.output)
    check_output_target(output, args.overwrite)
    with (
        spark_session(args.master, "sparklr-make-data") as spark,
        staged_directory(output, args.overwrite) as staging,
    ):
        frame, truth = synthetic_frame(spark, args.rows, args.features, args.partitions, args.seed)
        if args.format == "csv":
            frame.write.option("header", True).csv(str(staging))
        else:
            frame.write.parquet(str(staging))
        write_json_atomic(staging / "_truth.json", truth.to_json())
    print(f"sparklr: wrote {args.rows:,} rows x {args.features} features to {output}")
    return 0
