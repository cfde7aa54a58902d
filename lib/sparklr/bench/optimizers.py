"""Time-to-optimum of every optimizer, and of MLlib, on the same data in one run.

    python jobs/benchmark_optimizers.py [--rows 1000000] [--features 20] [--partitions 2]
        [--reg-param 0] [--json out.json]

Builds one synthetic dataset (generated on the executors) as resident blocks, finds the
optimum J* with Newton to ‖∇J‖ ≤ 1e-12, then runs from the same start θ⁰ (w⁰ = 0, b⁰ = 0):
gd (1/L), gd + line search, nesterov, lbfgs, newton, each until J ≤ J* + 1e-8 |J*| (or a pass
budget), recording iterations, passes over the data and seconds. MLlib ``LogisticRegression``
(same regParam, standardization = true, tol = 1e-12) is timed on the same session and data
(VectorAssembler + cache not included in its fit time); its J is evaluated by our objective at
its coefficients to check it reached the same target. Prints a table and optionally JSON; a
row that did not reach the target says so and has no ratio.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sparklr.app.common import run_job
from sparklr.bench.baselines import assemble_mllib, fit_mllib
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get
from sparklr.output import write_json_atomic
from sparklr.spark.blockset import BlockSet
from sparklr.spark.loading import load_training_frame
from sparklr.spark.session import build_session

#: An optimizer has reached the optimum when J ≤ J* (1 + TARGET) (J* > 0).
TARGET = 1e-8


class _Reached(Exception):
    pass


@dataclass(frozen=True)
class Row:
    """One optimizer's run to the target; ``passes`` −1: not counted (MLlib)."""

    name: str
    reached: bool
    iterations: int
    passes: int
    seconds: float
    loss: float


@dataclass(frozen=True)
class OptimizerBenchmark:
    """The run's data, J*, the cost of one pass and the rows (MLlib last)."""

    rows: int
    features: int
    partitions: int
    reg_param: float
    target: str
    j_star: float
    seconds_per_pass: float
    sparklr_load_seconds: float
    mllib_assemble_cache_seconds: float
    results: list[Row]


def goal(j_star: float) -> float:
    """The loss an optimizer must reach: J* + TARGET |J*|."""
    return j_star + TARGET * abs(j_star)


def time_to_optimum(
    objective: LogisticObjective,
    label: str,
    optimizer: str,
    options: OptimizerOptions,
    j_star: float,
    budget: int,
) -> Row:
    """Run ``optimizer`` from θ⁰ = 0 until J ≤ :func:`goal` (or ``budget`` iterations)."""
    target = goal(j_star)
    before = objective.evaluations
    seen = {"it": 0, "loss": float("inf")}

    def callback(state, record):
        seen["it"], seen["loss"] = record.iteration, record.loss
        if record.loss <= target:
            raise _Reached

    started = time.perf_counter()
    try:
        state = get(optimizer)(
            objective,
            OptimizerState(0, np.zeros(objective.n_params)),
            options=options,
            stop=StopRule(budget, 0.0),
            callback=callback,
        )
        reached = state.history[-1].loss <= target
    except _Reached:
        reached = True
    seconds = time.perf_counter() - started
    passes = objective.evaluations - before
    return Row(label, reached, seen["it"], passes, seconds, seen["loss"])


def _runs(rate: float) -> list[tuple[str, str, OptimizerOptions]]:
    """(row label, optimizer, options) of every sparklr run; ``rate`` = 1/L."""
    return [
        ("gd", "gd", OptimizerOptions(learning_rate=rate)),
        ("gd+line_search", "gd", OptimizerOptions(learning_rate=rate, line_search=True)),
        ("nesterov", "gd", OptimizerOptions(learning_rate=rate, momentum="nesterov")),
        ("lbfgs", "lbfgs", OptimizerOptions()),
        ("newton", "newton", OptimizerOptions()),
    ]


def run(
    rows: int, features: int, partitions: int, reg_param: float, budget: int
) -> OptimizerBenchmark:
    """The whole benchmark on a fresh ``local[partitions]`` session."""
    spark = build_session(f"local[{partitions}]", "sparklr-benchmark-optimizers", "WARN")
    frame, names = load_training_frame(
        spark,
        fmt="synthetic",
        path="",
        label="label",
        features=[],
        synthetic=(rows, features, partitions, 7),
    )
    t0 = time.perf_counter()
    blocks = BlockSet(spark, frame, "label", names).build()
    load_seconds = time.perf_counter() - t0
    objective = LogisticObjective(
        blocks, FeatureMap.from_moments(blocks.moments, True), reg_param=reg_param
    )
    j_star, pass_seconds = _optimum_and_pass_seconds(objective)
    results = []
    for label, optimizer, options in _runs(1.0 / objective.lipschitz(blocks.moments)):
        row = time_to_optimum(objective, label, optimizer, options, j_star, budget)
        results.append(row)
        print(f"  {label}: {row}", flush=True)
    mllib, mllib_load = _mllib_row(frame, names, objective, reg_param, j_star, budget)
    results.append(mllib)
    blocks.unpersist()
    spark.stop()
    return OptimizerBenchmark(
        rows=rows,
        features=features,
        partitions=partitions,
        reg_param=reg_param,
        target=f"J <= J* (1 + {TARGET:g})",
        j_star=j_star,
        seconds_per_pass=pass_seconds,
        sparklr_load_seconds=load_seconds,
        mllib_assemble_cache_seconds=mllib_load,
        results=results,
    )


def _optimum_and_pass_seconds(objective: LogisticObjective) -> tuple[float, float]:
    """J* by Newton to ‖∇J‖ ≤ 1e-12, and the seconds of one evaluation (the unit cost of a
    pass over the data)."""
    reference = get("newton")(
        objective,
        OptimizerState(0, np.zeros(objective.n_params)),
        options=OptimizerOptions(),
        stop=StopRule(100, 1e-12),
    )
    t0 = time.perf_counter()
    objective.evaluate(np.zeros(objective.n_params))
    return reference.history[-1].loss, time.perf_counter() - t0


def _mllib_row(
    frame, names: list[str], objective, reg_param: float, j_star: float, budget: int
) -> tuple[Row, float]:
    """MLlib's fit (its J by our objective at its raw (w, b)); and its assemble + cache time."""
    assembled, load = assemble_mllib(lambda: frame, "label", names)
    fit = fit_mllib(assembled, "label", max_iter=budget, tol=1e-12, reg_param=reg_param)
    theta = objective.feature_map.from_raw(fit.coefficients, fit.intercept)
    loss = objective.evaluate(theta).loss
    assembled.unpersist()
    return Row("mllib", loss <= goal(j_star), fit.iterations, -1, fit.seconds, loss), load


def format_table(report: OptimizerBenchmark) -> str:
    """One line per optimizer: reached, iterations, passes, seconds, seconds / MLlib's."""
    mllib = next(r for r in report.results if r.name == "mllib")
    lines = [
        f"time to J <= J*(1+{TARGET:g}) on {report.rows:,} x {report.features} "
        f"(local[{report.partitions}], reg_param {report.reg_param:g}); "
        f"J* = {report.j_star:.12g}; one pass = {report.seconds_per_pass:.3f}s",
        f"{'optimizer':<16}{'reached':>8}{'iters':>7}{'passes':>8}{'seconds':>10}{'vs MLlib':>10}",
    ]
    for r in report.results:
        ratio = f"{r.seconds / mllib.seconds:.2f}x" if r.reached and mllib.reached else "n/a"
        passes = r.passes if r.passes >= 0 else "-"
        lines.append(
            f"{r.name:<16}{'yes' if r.reached else 'NO':>8}{r.iterations:>7}"
            f"{passes:>8}{r.seconds:>10.2f}{ratio:>10}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmark_optimizers.py", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--reg-param", type=float, default=0.0)
    parser.add_argument("--budget", type=int, default=2000, help="max iterations per optimizer")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args(argv)

    def body() -> int:
        report = run(args.rows, args.features, args.partitions, args.reg_param, args.budget)
        print(format_table(report))
        if args.json:
            write_json_atomic(Path(args.json), asdict(report))
        return 0

    return run_job(body)
