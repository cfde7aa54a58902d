"""The command line of ``jobs/benchmark.py`` (what it measures: :mod:`sparklr.bench`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from sparklr.app.common import run_job
from sparklr.errors import ConfigError
from sparklr.output import write_json_atomic


@dataclass(frozen=True)
class Settings:
    """The benchmark's arguments (``--name`` ↔ ``name``, dashes as underscores)."""

    rows: int = 2_000_000
    features: int = 50
    partitions: int = 2
    iterations: int = 15
    warmup: int = 3
    master: str = "local[2]"
    driver_memory: str = "4g"
    dtype: str = "float64"
    seed: int = 7
    data: str | None = None
    label: str = "label"
    source: str = "parquet"
    reader: str = "auto"
    workdir: str | None = None
    json: str | None = None
    skip_mllib: bool = False
    skip_sklearn: bool = False
    skip_float32: bool = False
    mllib_iterations: int = 10
    load_repeats: int = 3
    tiny_rows: int = 1000


#: Arguments that must be at least 1.
_POSITIVE = ("rows", "features", "partitions", "iterations", "mllib_iterations", "load_repeats")


def _parser() -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="benchmark.py",
        description="sparklr vs NumPy / MLlib / scikit-learn, measured in one run.",
    )
    p.add_argument("--rows", type=int, default=d.rows)
    p.add_argument("--features", type=int, default=d.features)
    p.add_argument("--partitions", type=int, default=d.partitions)
    p.add_argument(
        "--iterations", type=int, default=d.iterations, help="timed iterations per method"
    )
    p.add_argument("--warmup", type=int, default=d.warmup, help="untimed iterations before timing")
    p.add_argument("--master", default=d.master)
    p.add_argument(
        "--driver-memory", default=d.driver_memory, help="for local masters (MLlib's cache)"
    )
    p.add_argument("--dtype", choices=["float64", "float32"], default=d.dtype)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--data", help="existing Parquet dataset to use instead of generating one")
    p.add_argument("--label", default=d.label, help="label column of --data")
    p.add_argument(
        "--source",
        choices=["parquet", "generator"],
        default=d.source,
        help="generated data: write Parquet once and load it (default), or load the generator",
    )
    p.add_argument(
        "--reader",
        choices=["auto", "pyarrow", "spark"],
        default=d.reader,
        help="how sparklr reads Parquet into its blocks (data.reader of the training job)",
    )
    p.add_argument("--workdir", help="scratch directory (default: a temporary directory)")
    p.add_argument("--json", metavar="PATH", help="write all figures as JSON here")
    p.add_argument("--skip-mllib", action="store_true")
    p.add_argument("--skip-sklearn", action="store_true")
    p.add_argument("--skip-float32", action="store_true", help="no float32 accuracy check")
    p.add_argument(
        "--mllib-iterations", type=int, default=d.mllib_iterations, help="fixed maxIter for MLlib"
    )
    p.add_argument(
        "--load-repeats",
        type=int,
        default=d.load_repeats,
        help="loads of each tool, alternating sparklr and MLlib (median reported)",
    )
    p.add_argument(
        "--tiny-rows", type=int, default=d.tiny_rows, help="rows of the overhead dataset"
    )
    return p


def parse_args(argv: list[str] | None) -> Settings:
    """The settings of ``argv``; a :class:`ConfigError` naming the flag when one is bad."""
    try:
        settings = Settings(**vars(_parser().parse_args(argv)))
    except SystemExit as exc:
        if exc.code:
            raise ConfigError("bad command line (see --help)") from None
        raise
    for name in _POSITIVE:
        if getattr(settings, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
    if settings.warmup < 0:
        raise ConfigError("--warmup must be at least 0")
    return settings


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print its table, optionally write its JSON; the exit code."""
    return run_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    from sparklr.bench.report import format_table, to_json
    from sparklr.bench.run import run_benchmark

    settings = parse_args(argv)
    result = run_benchmark(settings)
    print(format_table(result))
    if settings.json:
        write_json_atomic(Path(settings.json), to_json(result))
        print(f"\nJSON: {settings.json}")
    return 0
