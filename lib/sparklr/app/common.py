"""What every job shares: the error-to-exit-code wrapper and the default config location."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sparklr.errors import (
    ConfigError,
    DataError,
    InfrastructureError,
    SparklrError,
    first_message,
    is_read_failure,
)
from sparklr.logs import setup_logging
from sparklr.output import discard, publish, staging_path

log = logging.getLogger("sparklr")

#: conf/ of a source checkout (jobs/ and lib/ sit beside it).
REPO_CONF = Path(__file__).resolve().parents[3] / "conf"


def default_config_path(name: str) -> Path | None:
    path = REPO_CONF / name
    return path if path.exists() else None


def run_job(body: Callable[[], int | None]) -> int:
    """Run ``body``; map failures to a one-line message on stderr and an exit code.

    Exit codes: see :mod:`sparklr.errors` (0 ok, 2 config, 3 data, 4 divergence, 5 output,
    6 infrastructure — the only one worth retrying —, 1 unexpected).
    """
    setup_logging()
    # Spark reads log4j2.properties (quiet startup) and spark-defaults.conf from SPARK_CONF_DIR;
    # from a source checkout, default it to conf/ so that jobs log like the README shows.
    if REPO_CONF.is_dir():
        os.environ.setdefault("SPARK_CONF_DIR", str(REPO_CONF))
    try:
        return body() or 0
    except SparklrError as exc:
        log.error("%s", exc)
        print(f"sparklr: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sparklr: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        known = _as_known(exc)
        if known is not None:
            log.error("%s", known)
            print(f"sparklr: error: {known}", file=sys.stderr)
            return known.exit_code
        log.exception("unexpected failure")
        print(f"sparklr: error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _as_known(exc: Exception) -> SparklrError | None:
    """Classify a Spark/Py4J failure that escaped the job.

    An input file that cannot be read or parsed (Spark's FAILED_READ_FILE, a bad Parquet
    footer, a malformed record...) is bad data: exit 3, and Spark's message names the file.
    Anything else from Spark/Py4J (lost executors, JVM gone, job aborted) is infrastructure:
    exit 6, the one failure worth retrying. Other exceptions are bugs (None → exit 1).
    """
    module = type(exc).__module__ or ""
    if not module.startswith(("py4j", "pyspark")):
        return None
    if is_read_failure(exc):
        return DataError(f"cannot read the input: {first_message(exc)}")
    return InfrastructureError(f"Spark failed: {first_message(exc, 500)}")


def parse_command_line(parser: argparse.ArgumentParser, argv: list[str] | None):
    """argparse, with a usage error turned into ConfigError (exit code 2, one line)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            raise ConfigError("bad command line (see --help)") from None
        raise


@contextmanager
def spark_session(master: str, app_name: str) -> Iterator:
    """The job's SparkSession (made on first use: :class:`~sparklr.spark.session.LazySession`),
    stopped at the end unless Spark was already running."""
    from sparklr.spark.session import spark_running, start_spark, stop_session

    owns_session = not spark_running()
    spark = start_spark(master, app_name)
    try:
        yield spark
    finally:
        if owns_session:
            stop_session(spark)


@contextmanager
def staged_directory(output: Path, overwrite: bool) -> Iterator[Path]:
    """A fresh staging directory, published to ``output`` on success, removed on failure."""
    staging = staging_path(output)
    discard(staging)
    try:
        yield staging
        publish(staging, output, overwrite)
    except BaseException:
        discard(staging)
        raise
