"""The cross-validation benchmark (``jobs/benchmark_cv.py``): K-fold CV over a λ path with
sparklr's job against one single fit and against MLlib's ``CrossValidator``, ratios in one run
on the same data (issue 14, "Performance").

    python jobs/benchmark_cv.py [--rows 1000000] [--features 20] [--json PATH]

The data: ``--rows`` × ``--features`` seeded logistic doubles with 0/1 labels, written once
with pyarrow into ``--files`` Parquet files in ``--workdir`` (:func:`sparklr.bench.job.write_data`,
reused when present). Then, in this order:

(b) sparklr's CV as users run it: one ``jobs/train.py`` process with ``tune.path = --path``
    (N λ geometric from λ_max down to ``tune.path_ratio`` · λ_max), ``tune.folds = --folds``,
    ``tune.metric``, ``tune.seed``, ``train.optimizer = lbfgs``: its wall seconds, the CV's
    seconds and passes (cv.json "cost"), the full-data path's passes (path.json), the chosen λ̂
    (cv.json) and the λ grid (path.json). It runs first because the grid comes from it.
(a) one single fit from cold: a fresh ``jobs/train.py`` process, lbfgs at the smallest λ of
    that grid, no [tune]: wall seconds, the load and training seconds it prints, iterations
    and passes (model.json, history.json).
(c) MLlib in this process (one SparkSession, started after the job runs): the same Parquet
    read, ``VectorAssembler`` into ``features``, cached and counted; then
    ``CrossValidator(LogisticRegression, ParamGridBuilder().addGrid(regParam, the same N λ),
    numFolds=K, parallelism=1, seed)`` fitted: K × N fits from scratch and the refit at the
    best λ. The evaluator is tune.metric's: log_loss ⇒ ``MulticlassClassificationEvaluator
    (metricName="logLoss")`` (mean −(y ln p + (1 − y) ln(1 − p)) over the held-out rows, as
    sparklr's Σ L / rows), auc ⇒ ``BinaryClassificationEvaluator(areaUnderROC)``.

Both tools fit the same objective: J = (1/m) Σ L + λ ½‖w̃‖² on standardized features, the
intercept unpenalized — sparklr's λ is MLlib's ``regParam`` (docs/optimizers.md), so MLlib
gets standardization=True, elasticNetParam=0, fitIntercept=True, the same λ values and the
same ``--max-iter``/``--tol`` numbers. The stopping rules differ (sparklr: ‖∇J‖₂ ≤ tol; MLlib's
L-BFGS: relative change of J ≤ tol), so MLlib stops earlier at the same number — in its
favour. The run checks the claim: MLlib's best model (all rows, at its λ̂) against sparklr's
path point at the same λ (path.json, all rows), max |Δw| / max |w| printed.

The chosen λ may differ: MLlib's folds are random splits (``rand(seed)`` per row, so fold
sizes vary), sparklr's are hash folds fixed in the blocks (f = h(seed, row) mod K); the fold
means differ by sampling noise, so where the CV curve is flat the argmin can move by a grid
step. Ties go to the larger λ in both (the grid is in decreasing λ and MLlib takes the first
best). The printed agreement is the index difference on the grid. On this synthetic data the
curve often still falls at the grid's end (a million rows need little penalty): then both
pick the smallest λ; ``--path-ratio`` reaches further down.

Ratios: (b)/(a) wall ≤ 3 and (c)/(b) wall ≥ 10. (c)'s wall is its load plus its fit, in a
JVM already started — a fresh ``train.py`` pays its JVM start-up inside (b) — again in MLlib's
favour.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from sparklr.app.common import run_job
from sparklr.bench.cv_report import (
    CvBenchResult,
    MllibCv,
    SingleFit,
    SparklrCv,
    format_table,
    grid_index,
    to_json,
)
from sparklr.bench.job import ROOT, TrainRun, run_train, write_data
from sparklr.bench.report import publish

#: --quick: every step on a small problem, a few minutes on a quiet laptop.
QUICK = dict(rows=20_000, features=5, files=2, path=4, folds=3)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmark_cv.py", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--files", type=int, default=4, help="Parquet files the rows are written to")
    p.add_argument("--path", type=int, default=20, help="tune.path: values of λ")
    p.add_argument("--path-ratio", type=float, default=1e-4, help="tune.path_ratio")
    p.add_argument("--folds", type=int, default=5, help="tune.folds and numFolds")
    p.add_argument("--metric", choices=["log_loss", "auc"], default="log_loss")
    p.add_argument("--seed", type=int, default=0, help="tune.seed and CrossValidator's seed")
    p.add_argument("--tol", type=float, default=1e-6, help="train.tol and MLlib's tol")
    p.add_argument("--max-iter", type=int, default=100, help="train.max_iter and maxIter")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--driver-memory", default="4g", help="this process's driver (MLlib)")
    p.add_argument("--workdir", default="out/benchmark-cv")
    p.add_argument("--skip-mllib", action="store_true")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    p.add_argument("--json", help="write all figures here")
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    return args


def job_sets(args: argparse.Namespace, data: Path) -> list[str]:
    """The ``--set`` of every job run: the data, the master, lbfgs with the shared tol and
    max_iter."""
    return [
        "data.format=parquet",
        f"data.path={data}",
        f"spark.master={args.master}",
        "train.optimizer=lbfgs",
        f"train.tol={args.tol}",
        f"train.max_iter={args.max_iter}",
    ]


def tune_sets(args: argparse.Namespace) -> list[str]:
    return [
        f"tune.path={args.path}",
        f"tune.path_ratio={args.path_ratio}",
        f"tune.folds={args.folds}",
        f'tune.metric="{args.metric}"',
        f"tune.seed={args.seed}",
    ]


def _passes(history: list[dict]) -> int:
    return sum(record["evaluations"] for record in history)


def read_single_fit(run: TrainRun, reg_param: float) -> SingleFit:
    return SingleFit(
        reg_param=reg_param,
        wall=run.wall,
        load_seconds=run.load_seconds,
        train_seconds=run.train_seconds,
        iterations=run.iterations,
        passes=_passes(run.history),
        stop_reason=run.model["stop_reason"],
    )


def read_cv_outputs(run: TrainRun, out: Path) -> SparklrCv:
    """(b)'s figures from its process and the files it published (cv.json, path.json)."""
    cv = json.loads((out / "cv.json").read_text())
    path = json.loads((out / "path.json").read_text())["points"]
    cost = cv.get("cost", cv)  # the CV's cost: top-level passes/seconds, or a "cost" object
    return SparklrCv(
        wall=run.wall,
        load_seconds=run.load_seconds,
        path_passes=sum(p["evaluations"] for p in path),
        cv_passes=cost["passes"],
        cv_seconds=cost["seconds"],
        refit_iterations=run.iterations,
        reg_params=[p["reg_param"] for p in path],
        chosen_reg_param=cv["reg_param"],
        chosen_mean=cv["mean"],
    )


def path_point(out: Path, reg_param: float) -> tuple[np.ndarray, float]:
    """sparklr's full-data fit at ``reg_param`` from path.json: (w, b) on the original scale."""
    points = json.loads((out / "path.json").read_text())["points"]
    p = points[grid_index([q["reg_param"] for q in points], reg_param)]
    return np.asarray(p["coefficients"], dtype=np.float64), float(p["intercept"])


def _evaluator(metric: str):
    from pyspark.ml.evaluation import (
        BinaryClassificationEvaluator,
        MulticlassClassificationEvaluator,
    )

    if metric == "log_loss":
        return MulticlassClassificationEvaluator(
            metricName="logLoss", labelCol="label", probabilityCol="probability"
        )
    return BinaryClassificationEvaluator(metricName="areaUnderROC", labelCol="label")


def mllib_cross_validate(spark, data: str, grid: list[float], args: argparse.Namespace):
    """(c) of the module docstring on ``grid`` (decreasing λ): the :class:`MllibCv` fields
    but the coefficient check, and the best model (refitted on all rows at its λ̂)."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
    from pyspark.sql import functions as F

    t0 = time.perf_counter()
    raw = spark.read.parquet(data)
    names = [c for c in raw.columns if c != "label"]
    assembled = VectorAssembler(inputCols=names, outputCol="features").transform(raw)
    frame = assembled.select(F.col("label").cast("double").alias("label"), "features").cache()
    rows = frame.count()
    load_seconds = time.perf_counter() - t0
    lr = LogisticRegression(
        featuresCol="features",
        labelCol="label",
        family="binomial",
        standardization=True,
        elasticNetParam=0.0,
        fitIntercept=True,
        tol=args.tol,
        maxIter=args.max_iter,
    )
    evaluator = _evaluator(args.metric)
    validator = CrossValidator(
        estimator=lr,
        estimatorParamMaps=ParamGridBuilder().addGrid(lr.regParam, grid).build(),
        evaluator=evaluator,
        numFolds=args.folds,
        parallelism=1,
        seed=args.seed,
        collectSubModels=True,  # only to sum the fits' iterations
    )
    t0 = time.perf_counter()
    model = validator.fit(frame)
    fit_seconds = time.perf_counter() - t0
    frame.unpersist()
    metrics = [float(v) for v in model.avgMetrics]
    # the first best, as CrossValidator picks it (grid in decreasing λ: ties go to larger λ)
    best = int(np.argmax(metrics) if evaluator.isLargerBetter() else np.argmin(metrics))
    fitted = [m for fold in model.subModels for m in fold] + [model.bestModel]
    figures = dict(
        rows=rows,
        reg_params=list(grid),
        load_seconds=load_seconds,
        fit_seconds=fit_seconds,
        avg_metrics=metrics,
        chosen_reg_param=grid[best],
        fits=len(fitted),
        iterations=sum(int(m.summary.totalIterations) for m in fitted),
    )
    return figures, model.bestModel


def coefficient_difference(best_model, out: Path, reg_param: float) -> tuple[float, float]:
    """MLlib's best model against sparklr's path point at the same λ: max |Δw| / max |w|
    and |Δb|."""
    w, b = path_point(out, reg_param)
    w_ml = best_model.coefficients.toArray()
    return float(np.abs(w_ml - w).max() / np.abs(w).max()), abs(float(best_model.intercept) - b)


def run(args: argparse.Namespace) -> CvBenchResult:
    """The whole benchmark (see the module docstring)."""
    work = Path(args.workdir).resolve()
    data = work / f"data-{args.rows}x{args.features}-{args.files}files.parquet"
    write_data(data, args.rows, args.features, args.files)
    loadavg_start = list(os.getloadavg())
    base = job_sets(args, data)
    cv_out = work / "model-cv"
    cv = read_cv_outputs(run_train(ROOT, [*base, *tune_sets(args)], cv_out), cv_out)
    smallest = min(cv.reg_params)
    single_run = run_train(ROOT, [*base, f"train.reg_param={smallest!r}"], work / "model-single")
    result = CvBenchResult(
        rows=args.rows,
        features=args.features,
        files=args.files,
        folds=args.folds,
        path=args.path,
        metric=args.metric,
        tol=args.tol,
        max_iter=args.max_iter,
        seed=args.seed,
        master=args.master,
        data_path=str(data),
        loadavg_start=loadavg_start,
        single=read_single_fit(single_run, smallest),
        cv=cv,
    )
    if args.skip_mllib:
        result.skipped["mllib"] = "--skip-mllib"
    else:
        result.mllib = _measure_mllib(args, data, cv, cv_out)
    result.loadavg_end = list(os.getloadavg())
    return result


def _measure_mllib(args: argparse.Namespace, data: Path, cv: SparklrCv, cv_out: Path) -> MllibCv:
    from sparklr.spark.session import build_session

    conf = {"spark.driver.memory": args.driver_memory}
    spark = build_session(args.master, "sparklr-benchmark-cv", "WARN", conf)
    try:
        figures, best = mllib_cross_validate(spark, str(data), cv.reg_params, args)
        rel_w, diff_b = coefficient_difference(best, cv_out, figures["chosen_reg_param"])
    finally:
        spark.stop()
    return MllibCv(**figures, coefficient_rel_diff=rel_w, intercept_diff=diff_b)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> int:
        result = run(args)
        publish(format_table(result), to_json(result), args.json)
        return 0

    return run_job(body)
