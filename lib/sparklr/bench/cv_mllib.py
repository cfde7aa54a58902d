"""The CV benchmark's child processes (:mod:`sparklr.bench.cv`), each a fresh Python and JVM
as a user's Spark application is:

    python -m sparklr.bench.cv_mllib fit --data PATH --reg-params λ… --out FIGURES.json [...]
    python -m sparklr.bench.cv_mllib sparse-data --shape '{"rows": …}' --cache-dir DIR [...]

``fit`` is leg (c): one SparkSession (``--master``, ``spark.driver.memory`` =
``--driver-memory``; :func:`~sparklr.spark.session.build_session`), the Parquet read, the
``features`` vector built with ``VectorAssembler`` from every column but ``label`` (or the
vector column ``--features-col`` taken as it is), cached and counted; then
``CrossValidator(LogisticRegression, ParamGridBuilder().addGrid(regParam, the λ values),
numFolds=K, parallelism=1, seed)`` fitted: K × N fits from scratch and the refit at the best λ,
the session stopped. It writes the :class:`~sparklr.bench.cv_report.MllibCv` figures it
measured inside (session start, load, fit and stop seconds), and the best model's
coefficients and intercept (for the parent's check against sparklr's path) to ``--out``.

``sparse-data`` writes the sparse benchmark's Parquet of one
:class:`~sparklr.bench.sparse_data.SparseShape` (:func:`~sparklr.bench.sparse_data.ensure_parquet`)
so that the benchmark's own process never starts a JVM.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sparklr.output import write_json_atomic


@dataclass(frozen=True)
class CvSettings:
    """What the CrossValidator is told: folds, metric ("log_loss" | "auc"), seed, and the
    LogisticRegression's tol and maxIter."""

    folds: int
    metric: str
    seed: int
    tol: float
    max_iter: int


def evaluator(metric: str):
    """tune.metric's MLlib evaluator: log_loss ⇒ ``MulticlassClassificationEvaluator(logLoss)``
    (mean −(y ln p + (1 − y) ln(1 − p)) over the held-out rows, as sparklr's Σ L / rows), auc
    ⇒ ``BinaryClassificationEvaluator(areaUnderROC)``."""
    from pyspark.ml.evaluation import (
        BinaryClassificationEvaluator,
        MulticlassClassificationEvaluator,
    )

    if metric == "log_loss":
        return MulticlassClassificationEvaluator(
            metricName="logLoss", labelCol="label", probabilityCol="probability"
        )
    return BinaryClassificationEvaluator(metricName="areaUnderROC", labelCol="label")


def load_frame(spark, data: str, features_col: str = ""):
    """[label double, features vector] of the Parquet at ``data``, cached and counted: the
    vector column ``features_col`` as it is, else every column but ``label`` assembled."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    raw = spark.read.parquet(data)
    if features_col:
        vectors = raw.withColumnRenamed(features_col, "features")
    else:
        names = [c for c in raw.columns if c != "label"]
        vectors = VectorAssembler(inputCols=names, outputCol="features").transform(raw)
    frame = vectors.select(F.col("label").cast("double").alias("label"), "features").cache()
    return frame, frame.count()


def mllib_cross_validate(
    spark, data: str, grid: list[float], settings: CvSettings, features_col: str = ""
):
    """Leg (c) on ``grid`` (decreasing λ) in ``spark``: the figures (rows, λ values, load and
    fit seconds, avgMetrics, chosen λ, fits, iterations summed over them) and the best model
    (refitted on all rows at its λ̂)."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder

    t0 = time.perf_counter()
    frame, rows = load_frame(spark, data, features_col)
    load_seconds = time.perf_counter() - t0
    lr = LogisticRegression(
        featuresCol="features",
        labelCol="label",
        family="binomial",
        standardization=True,
        elasticNetParam=0.0,
        fitIntercept=True,
        tol=settings.tol,
        maxIter=settings.max_iter,
    )
    judge = evaluator(settings.metric)
    validator = CrossValidator(
        estimator=lr,
        estimatorParamMaps=ParamGridBuilder().addGrid(lr.regParam, grid).build(),
        evaluator=judge,
        numFolds=settings.folds,
        parallelism=1,
        seed=settings.seed,
        collectSubModels=True,  # only to sum the fits' iterations
    )
    t0 = time.perf_counter()
    model = validator.fit(frame)
    fit_seconds = time.perf_counter() - t0
    frame.unpersist()
    metrics = [float(v) for v in model.avgMetrics]
    # the first best, as CrossValidator picks it (grid in decreasing λ: ties go to larger λ)
    best = int(np.argmax(metrics) if judge.isLargerBetter() else np.argmin(metrics))
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sparklr.bench.cv_mllib", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="leg (c): MLlib's CrossValidator")
    fit.add_argument("--data", required=True)
    fit.add_argument("--features-col", default="", help="a vector column (no VectorAssembler)")
    fit.add_argument("--reg-params", type=float, nargs="+", required=True)
    fit.add_argument("--folds", type=int, required=True)
    fit.add_argument("--metric", choices=["log_loss", "auc"], required=True)
    fit.add_argument("--seed", type=int, required=True)
    fit.add_argument("--tol", type=float, required=True)
    fit.add_argument("--max-iter", type=int, required=True)
    fit.add_argument("--out", required=True, help="the figures' JSON")
    data = sub.add_parser("sparse-data", help="write the sparse benchmark's Parquet")
    data.add_argument("--shape", required=True, help="a SparseShape's fields as JSON")
    data.add_argument("--cache-dir", required=True)
    for q in (fit, data):
        q.add_argument("--master", default="local[2]")
        q.add_argument("--driver-memory", default="4g")
    return p.parse_args(argv)


def fit_and_write(spark, args: argparse.Namespace, session_seconds: float) -> None:
    """``fit``: the figures, the best model's (w, b) and the stop seconds into ``args.out``."""
    settings = CvSettings(args.folds, args.metric, args.seed, args.tol, args.max_iter)
    figures, best = mllib_cross_validate(
        spark, args.data, args.reg_params, settings, args.features_col
    )
    coefficients = [float(c) for c in best.coefficients.toArray()]
    intercept = float(best.intercept)
    t0 = time.perf_counter()
    spark.stop()
    figures |= dict(
        session_seconds=session_seconds,
        stop_seconds=time.perf_counter() - t0,
        coefficients=coefficients,
        intercept=intercept,
    )
    write_json_atomic(Path(args.out), figures)


def main(argv: list[str] | None = None) -> int:
    from sparklr.bench.sparse_data import SparseShape, ensure_parquet
    from sparklr.spark.session import build_session

    args = parse_args(argv)
    t0 = time.perf_counter()
    conf = {"spark.driver.memory": args.driver_memory}
    spark = build_session(args.master, f"sparklr-benchmark-cv-{args.command}", "WARN", conf)
    session_seconds = time.perf_counter() - t0
    try:
        if args.command == "fit":
            fit_and_write(spark, args, session_seconds)
        else:
            shape = SparseShape(**json.loads(args.shape))
            ensure_parquet(spark, shape, Path(args.cache_dir))
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
