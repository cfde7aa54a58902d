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
import json
import time
from dataclasses import dataclass

import numpy as np

from sparklr.app.common import run_job
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get

TARGET = 1e-8


class _Reached(Exception):
    pass


@dataclass
class Row:
    name: str
    reached: bool
    iterations: int
    passes: int
    seconds: float
    loss: float


def time_to_optimum(objective, name, options, j_star, budget) -> Row:
    """Run optimizer ``name`` from θ⁰ = 0 until J ≤ J* (1 + TARGET) (or ``budget`` iterations)."""
    goal = j_star + TARGET * abs(j_star)
    before = objective.evaluations
    seen = {"it": 0, "loss": float("inf")}

    def callback(state, record):
        seen["it"], seen["loss"] = record.iteration, record.loss
        if record.loss <= goal:
            raise _Reached

    started = time.perf_counter()
    reached = False
    try:
        state = get(name)(
            objective,
            OptimizerState(0, np.zeros(objective.n_params)),
            options=options,
            stop=StopRule(budget, 0.0),
            callback=callback,
        )
        reached = state.history[-1].loss <= goal
    except _Reached:
        reached = True
    seconds = time.perf_counter() - started
    return Row(name, reached, seen["it"], objective.evaluations - before, seconds, seen["loss"])


def run(rows: int, features: int, partitions: int, reg_param: float, budget: int) -> dict:
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import load_training_frame
    from sparklr.spark.session import build_session

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
    moments = blocks.moments
    objective = LogisticObjective(
        blocks, FeatureMap.from_moments(moments, True), reg_param=reg_param
    )
    rate = 1.0 / objective.lipschitz(moments)
    reference = get("newton")(
        objective,
        OptimizerState(0, np.zeros(objective.n_params)),
        options=OptimizerOptions(),
        stop=StopRule(100, 1e-12),
    )
    j_star = reference.history[-1].loss
    # one evaluation as the unit cost of a pass
    t1 = time.perf_counter()
    objective.evaluate(np.zeros(objective.n_params))
    pass_seconds = time.perf_counter() - t1
    runs = [
        ("gd", OptimizerOptions(learning_rate=rate)),
        ("gd+line_search", OptimizerOptions(learning_rate=rate, line_search=True)),
        ("nesterov", OptimizerOptions(learning_rate=rate, momentum="nesterov")),
        ("lbfgs", OptimizerOptions()),
        ("newton", OptimizerOptions()),
    ]
    results = []
    for label, options in runs:
        name = label.split("+")[0] if label != "nesterov" else "gd"
        row = time_to_optimum(objective, name, options, j_star, budget)
        row.name = label
        results.append(row)
        print(f"  {label}: {row}", flush=True)

    assembled = VectorAssembler(inputCols=names, outputCol="features").transform(frame)
    assembled = assembled.select("features", "label").cache()
    t2 = time.perf_counter()
    assembled.count()
    mllib_load = time.perf_counter() - t2
    lr = LogisticRegression(regParam=reg_param, standardization=True, tol=1e-12, maxIter=budget)
    t3 = time.perf_counter()
    model = lr.fit(assembled)
    mllib_seconds = time.perf_counter() - t3
    w_ml = model.coefficients.toArray()
    ml_theta = objective.feature_map.from_raw(w_ml, model.intercept)
    ml_loss = objective.evaluate(ml_theta).loss
    ml_iterations = model.summary.totalIterations
    results.append(
        Row(
            "mllib",
            ml_loss <= j_star + TARGET * abs(j_star),
            ml_iterations,
            -1,
            mllib_seconds,
            ml_loss,
        )
    )
    assembled.unpersist()
    blocks.unpersist()
    spark.stop()
    return {
        "rows": rows,
        "features": features,
        "partitions": partitions,
        "reg_param": reg_param,
        "target": f"J <= J* (1 + {TARGET:g})",
        "j_star": j_star,
        "seconds_per_pass": pass_seconds,
        "sparklr_load_seconds": load_seconds,
        "mllib_assemble_cache_seconds": mllib_load,
        "results": [r.__dict__ for r in results],
    }


def format_table(report: dict) -> str:
    mllib = next(r for r in report["results"] if r["name"] == "mllib")
    lines = [
        f"time to J <= J*(1+{TARGET:g}) on {report['rows']:,} x {report['features']} "
        f"(local[{report['partitions']}], reg_param {report['reg_param']:g}); "
        f"J* = {report['j_star']:.12g}; one pass = {report['seconds_per_pass']:.3f}s",
        f"{'optimizer':<16}{'reached':>8}{'iters':>7}{'passes':>8}{'seconds':>10}{'vs MLlib':>10}",
    ]
    for r in report["results"]:
        ratio = (
            f"{r['seconds'] / mllib['seconds']:.2f}x"
            if r["reached"] and mllib["reached"]
            else "n/a"
        )
        passes = r["passes"] if r["passes"] >= 0 else "-"
        lines.append(
            f"{r['name']:<16}{'yes' if r['reached'] else 'NO':>8}{r['iterations']:>7}"
            f"{passes:>8}{r['seconds']:>10.2f}{ratio:>10}"
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
            with open(args.json, "w") as fh:
                json.dump(report, fh, indent=2)
        return 0

    return run_job(body)
