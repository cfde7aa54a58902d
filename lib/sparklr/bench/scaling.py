"""The scaling series (``jobs/benchmark_scaling.py``): the cost of one sums pass over resident
blocks vs the number of blocks P and executors N, against an empty job of the same shape, and
the cost model fitted to it (:mod:`sparklr.bench.scaling_model`).

    python jobs/benchmark_scaling.py [--executors 2,4,8] [--blocks 2,4,...,256]
        [--rows 200000,1000000] [--features 50] [--json PATH]     (--quick: a smoke test)

For every N a ``local-cluster[N,1,512]`` SparkSession (N executors of one core and 512 MiB,
real executor JVMs on this machine: the pip package's Spark starts them itself); for every
data size and P, synthetic rows generated on the executors are built into P resident blocks,
then ``--repeats`` passes of sparklr's sums (one GD iteration's Spark job: P tasks on the
cached metas) and of the empty job (:meth:`~sparklr.spark.blockset.BlockSet.empty_pass`: the
same P tasks on the same cached metas, doing nothing) are taken in turn after ``--warmup``
untimed ones; medians are reported. The sums series is fitted with fixed + per-task +
per-byte terms, the empty series with fixed + per-task, and the best form predicts a pass
of issue 16's 1e9 rows × 100 features on 100 executors × 8 cores.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import sparklr
from sparklr.app.common import run_job
from sparklr.bench.scaling_model import CostModel, Point, Target, fit_all
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
    p.add_argument("--json", help="write the figures and the fits here")
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    return args


def measure_cluster(executors: int, args: argparse.Namespace) -> list[Measurement]:
    """Every (data size, P) on one ``local-cluster[executors,1,MiB]`` session."""
    from sparklr.spark.session import build_session

    mib = args.executor_memory
    conf = {
        "spark.executor.memory": f"{mib}m",
        "spark.executor.memoryOverhead": "256m",
        # Wait for every executor before the first job, so blocks spread over all of them.
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
        "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
    }
    master = f"local-cluster[{executors},1,{mib}]"
    _export_package_path()
    spark = build_session(master, f"sparklr-scaling-{executors}", "WARN", conf)
    try:
        return [
            _measure(spark, executors, rows, blocks, args)
            for rows in args.rows
            for blocks in args.blocks
        ]
    finally:
        spark.stop()


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


def fits(measurements: list[Measurement], cpus: int) -> dict[str, list[CostModel]]:
    """The sums series fitted with all three terms, the empty series without bytes."""

    def points(seconds_of, with_bytes: bool) -> list[Point]:
        return [
            Point(m.executors, 1, m.blocks, m.block_bytes if with_bytes else 0, seconds_of(m))
            for m in measurements
        ]

    return {
        "sums": fit_all(points(lambda m: m.sums_seconds, True), cpus),
        "empty": fit_all(points(lambda m: m.empty_seconds, False), cpus),
    }


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
    """The table, every fit (best first) and the best sums model's prediction."""
    target = Target()
    lines = [
        f"sparklr scaling: one sums pass vs an empty job of the same shape, local-cluster[N,1,*]"
        f" on {cpus} CPUs; medians",
        _HEADER,
        *(_line(m) for m in measurements),
        "",
        "fits: t = fixed + per_task * g(P, N) + per_byte * bytes / min(N, cpus)",
        f"{'series':<7}{'form g':<9}{'fixed s':>10}{'per task ms':>13}{'per GB s':>10}"
        f"{'rms ms':>9}",
    ]
    for series, models in fitted.items():
        for k, model in enumerate(models):
            lines.append(
                f"{series if k == 0 else '':<7}{model.form:<9}{model.fixed:>10.4f}"
                f"{model.per_task * 1e3:>13.3f}{model.per_byte * 1e9:>10.3f}{model.rms * 1e3:>9.2f}"
            )
    best = fitted["sums"][0]
    if fitted["sums"][1].rms <= best.rms * (1 + 1e-9):
        lines.append("(the forms fit equally well: these points cannot tell them apart)")
    lines += [
        "",
        f"prediction ({best.form}, the best sums fit): {target.rows:.0e} rows x "
        f"{target.features} features ({target.total_bytes / 1e9:.0f} GB) on "
        f"{target.executors} executors x {target.cores} cores, {target.slots} blocks: "
        f"{target.predict(best):.3f} s per pass",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> int:
        cpus = os.cpu_count() or 1
        measurements: list[Measurement] = []
        print(_HEADER, flush=True)
        for n in args.executors:
            measurements += measure_cluster(n, args)
        fitted = fits(measurements, cpus)
        print(format_report(measurements, fitted, cpus))
        if args.json:
            figures = {
                "cpus": cpus,
                "measurements": [asdict(m) for m in measurements],
                "fits": {k: [asdict(m) for m in v] for k, v in fitted.items()},
                "prediction_seconds": Target().predict(fitted["sums"][0]),
            }
            write_json_atomic(Path(args.json), figures)
        return 0

    return run_job(body)
