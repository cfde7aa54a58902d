"""The scaling series (``jobs/benchmark_scaling.py``): the cost of one sums pass over resident
blocks vs the number of blocks P and executors N, against an empty job of the same shape, and
the cost model fitted to it (:mod:`sparklr.bench.scaling_model`).

    python jobs/benchmark_scaling.py [--executors 2,4,8] [--blocks 2,4,...,256]
        [--rows 200000,1000000] [--features 50] [--budget-minutes M] [--json PATH]
        (--quick: a smoke test; --refit PATH: the report of a JSON written before)

For every N a ``local-cluster[N,1,512]`` SparkSession (N executors of one core and 512 MiB,
real executor JVMs on this machine: the pip package's Spark starts them itself); for every
P and data size (P outer, so a series cut short still has every size), synthetic rows
generated on the executors are built into P resident blocks, then ``--repeats`` passes of
sparklr's sums (one GD iteration's Spark job: P tasks on the cached metas) and of the empty
job (:meth:`~sparklr.spark.blockset.BlockSet.empty_pass`: the same P tasks on the same cached
metas, doing nothing) are taken in turn after ``--warmup`` untimed ones; medians are
reported. The sums series is fitted with fixed + per-task + per-byte terms, the empty series
with fixed + per-task, and the best form predicts a pass
of issue 16's 1e9 rows × 100 features on 100 executors × 8 cores.

The JSON is rewritten after every point (a series cut short keeps what it measured) with the
load averages at the start and at the end. ``--budget-minutes`` gives each N an equal share of
the time: once its share is spent no further point of that N is started, and the points left
out are listed in the JSON (``skipped``) and the report.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import sparklr
from sparklr.app.common import run_job
from sparklr.bench.scaling_model import CostModel, Point, Target, fit_all, residuals
from sparklr.bench.timing import interleaved, median
from sparklr.output import write_json_atomic

QUICK = dict(executors=[2], blocks=[2, 4], rows=[2_000, 20_000], features=10, repeats=5,
             warmup=2)  # fmt: skip


@dataclass(frozen=True)
class Measurement:
    """One (N, P, data size): medians of one sums pass and one empty pass."""

    executors: int
    blocks: int
    rows: int
    features: int
    block_bytes: int
    sums_seconds: float
    empty_seconds: float
    executors_holding_blocks: int


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmark_scaling.py", description=__doc__.split("\n")[0])
    p.add_argument("--executors", type=_ints, default=[2, 4, 8], help="N, comma-separated")
    p.add_argument("--blocks", type=_ints, default=[2, 4, 8, 16, 32, 64, 128, 256])
    p.add_argument("--rows", type=_ints, default=[200_000, 1_000_000], help="data sizes")
    p.add_argument("--features", type=int, default=50)
    p.add_argument("--executor-memory", type=int, default=512, help="MiB per executor")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="N = 2, P = 2, 4, tiny data")
    p.add_argument("--budget-minutes", type=float, default=0.0, help="0 = no limit")
    p.add_argument("--json", help="write the figures and the fits here")
    p.add_argument("--refit", help="print the report of this JSON (no measuring)")
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    return args


@dataclass
class Series:
    """What a run measured so far, and the (N, P, rows) left out by the time budget."""

    measurements: list[Measurement]
    skipped: list[tuple[int, int, int]]
    loadavg_start: list[float]
    loadavg_end: list[float]


def measure_cluster(
    executors: int, args: argparse.Namespace, series: Series, deadline: float, saved: Callable
) -> None:
    """Every (P, data size) on one ``local-cluster[executors,1,MiB]`` session: see
    :func:`take_points`."""
    spark = cluster_session(executors, args.executor_memory, f"sparklr-scaling-{executors}")
    try:
        take_points(
            executors,
            args,
            series,
            deadline,
            saved,
            lambda rows, blocks: _measure(spark, executors, rows, blocks, args),
        )
    finally:
        spark.stop()


def cluster_session(executors: int, mib: int, app_name: str, log_level: str = "WARN"):
    """A ``local-cluster[executors,1,mib]`` SparkSession whose first job waits for every
    executor (so blocks spread over all of them), this sparklr first on their PYTHONPATH."""
    from sparklr.spark.session import build_session

    conf = {
        "spark.executor.memory": f"{mib}m",
        "spark.executor.memoryOverhead": "256m",
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
        "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
    }
    _export_package_path()
    return build_session(f"local-cluster[{executors},1,{mib}]", app_name, log_level, conf)


def take_points(
    executors: int,
    args: argparse.Namespace,
    series: Series,
    deadline: float,
    saved: Callable[[], None],
    measure: Callable[[int, int], Measurement],
) -> None:
    """``measure(rows, blocks)`` for every P (outer) and data size of one N while
    ``time.monotonic()`` is before ``deadline``, ``saved()`` after each; the rest skipped."""
    for blocks in args.blocks:
        for rows in args.rows:
            if time.monotonic() > deadline:
                series.skipped.append((executors, blocks, rows))
                continue
            series.measurements.append(measure(rows, blocks))
            saved()


def _export_package_path() -> None:
    """Put this sparklr's directory (absolute) first on PYTHONPATH: the executor JVMs inherit
    the environment and run their Python workers (and sparklr's daemon) in their own work
    directories, where a relative path would not resolve."""
    lib = str(Path(sparklr.__file__).resolve().parents[1])
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != lib]
    os.environ["PYTHONPATH"] = os.pathsep.join([lib, *rest])


def _measure(spark, executors: int, rows: int, blocks: int, args) -> Measurement:
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.data import select_columns
    from sparklr.spark.synthetic import feature_names, synthetic_frame

    names = feature_names(args.features)
    raw, _ = synthetic_frame(spark, rows, args.features, blocks, args.seed)
    frame, _ = select_columns(raw, "label", names)
    built = BlockSet(spark, frame, "label", names).build()
    try:
        w = np.full(args.features, 0.01)
        laps = interleaved(
            {"sums": lambda: built.sums(w, 0.0), "empty": built.empty_pass},
            args.repeats,
            args.warmup,
        )
        found = Measurement(
            executors=executors,
            blocks=built.partitions,
            rows=built.rows,
            features=args.features,
            block_bytes=built.block_bytes,
            sums_seconds=median(laps["sums"]),
            empty_seconds=median(laps["empty"]),
            executors_holding_blocks=len(built.locations()),
        )
    finally:
        built.unpersist()
    print(f"  {_line(found)}", flush=True)
    return found


def points_of(measurements: list[Measurement], series: str) -> list[Point]:
    """The ``series`` ("sums" or "empty") as cost-model points; the empty job has no bytes."""
    return [
        Point(
            m.executors,
            1,
            m.blocks,
            m.block_bytes if series == "sums" else 0,
            m.sums_seconds if series == "sums" else m.empty_seconds,
        )
        for m in measurements
    ]


def fits(measurements: list[Measurement], cpus: int) -> dict[str, list[CostModel]]:
    """The sums series fitted with all three terms, the empty series without bytes."""
    return {s: fit_all(points_of(measurements, s), cpus) for s in ("sums", "empty")}


_HEADER = (
    f"{'N':>3}{'P':>5}{'rows':>10}{'MiB':>9}{'sums s':>10}{'empty s':>10}{'sums-empty':>12}"
    f"{'held on':>9}"
)


def _line(m: Measurement) -> str:
    return (
        f"{m.executors:>3}{m.blocks:>5}{m.rows:>10,}{m.block_bytes / 2**20:>9.1f}"
        f"{m.sums_seconds:>10.4f}{m.empty_seconds:>10.4f}"
        f"{m.sums_seconds - m.empty_seconds:>12.4f}{m.executors_holding_blocks:>9}"
    )


def format_report(measurements: list[Measurement], fitted: dict, cpus: int) -> str:
    """The table with the best sums fit's residuals, every fit (best first), which forms the
    points cannot tell apart, and every sums form's prediction."""
    target = Target()
    best = fitted["sums"][0]
    resid = residuals(best, points_of(measurements, "sums"), cpus)
    lines = [
        f"sparklr scaling: one sums pass vs an empty job of the same shape, local-cluster[N,1,*]"
        f" on {cpus} CPUs; medians; resid = measured - best sums fit ({best.form})",
        f"{_HEADER}{'resid s':>10}",
        *(f"{_line(m)}{r:>10.4f}" for m, r in zip(measurements, resid, strict=True)),
        "",
        "fits: t = fixed + per_task * g(P, N) + per_byte * bytes / min(N, cpus)",
        f"{'series':<7}{'form g':<9}{'fixed s':>10}{'per task ms':>13}{'per GB s':>10}"
        f"{'rms ms':>9}",
    ]
    for series, models in fitted.items():
        for k, model in enumerate(models):
            lines.append(
                f"{series if k == 0 else '':<7}{model.form:<9}{model.fixed:>10.4f}"
                f"{model.per_task * 1e3:>13.3f}{model.per_byte * 1e9:>10.3f}"
                f"{model.rms * 1e3:>9.2f}{'' if model.determined else '  (not determined)'}"
            )
    tied = [m.form for m in fitted["sums"] if m.rms <= best.rms * (1 + 1e-9)]
    if len(tied) > 1:
        lines.append(
            f"(sums: {', '.join(tied)} fit equally well: these points cannot tell them apart)"
        )
    if not best.determined:
        lines.append("(the best sums fit is not determined: its terms are linearly dependent here)")
    lines += [
        "",
        f"prediction: {target.rows:.0e} rows x {target.features} features "
        f"({target.total_bytes / 1e9:.0f} GB) on {target.executors} executors x "
        f"{target.cores} cores, {target.slots} blocks, per pass:",
        *(
            f"  {m.form:<9}{target.predict(m):>9.3f} s{'  (best sums fit)' if m is best else ''}"
            for m in fitted["sums"]
        ),
    ]
    return "\n".join(lines)


def _figures(series: Series, cpus: int) -> dict:
    figures: dict = {
        "cpus": cpus,
        "loadavg_start": series.loadavg_start,
        "loadavg_end": series.loadavg_end,
        "measurements": [asdict(m) for m in series.measurements],
        "skipped": series.skipped,
    }
    try:
        fitted = fits(series.measurements, cpus)
    except ValueError:  # too few points so far
        return figures
    figures["fits"] = {k: [asdict(m) for m in v] for k, v in fitted.items()}
    figures["prediction_seconds"] = Target().predict(fitted["sums"][0])
    return figures


def _refit(path: str) -> int:
    figures = json.loads(Path(path).read_text())
    measurements = [Measurement(**m) for m in figures["measurements"]]
    cpus = figures["cpus"]
    print(format_report(measurements, fits(measurements, cpus), cpus))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> int:
        if args.refit:
            return _refit(args.refit)
        cpus = os.cpu_count() or 1
        series = Series([], [], list(os.getloadavg()), [])

        def saved() -> None:
            series.loadavg_end = list(os.getloadavg())
            if args.json:
                write_json_atomic(Path(args.json), _figures(series, cpus))

        share = 60 * args.budget_minutes / len(args.executors) if args.budget_minutes else None
        print(_HEADER, flush=True)
        for n in args.executors:
            deadline = time.monotonic() + share if share else float("inf")
            measure_cluster(n, args, series, deadline, saved)
        saved()
        print(format_report(series.measurements, fits(series.measurements, cpus), cpus))
        print(f"load average at start {series.loadavg_start}, at end {series.loadavg_end}")
        if series.skipped:
            print(f"skipped by the time budget (N, P, rows): {series.skipped}")
        return 0

    return run_job(body)
