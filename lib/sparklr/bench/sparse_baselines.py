"""What the sparse benchmark measures sparklr against: a single-process ``scipy.sparse`` step
on the same CSR matrix, and MLlib's ``LogisticRegression`` on the same cached Parquet data.

:class:`CsrSource` is a :class:`~sparklr.objective.SumsSource` over a driver-side CSR matrix,
so sparklr's own :class:`~sparklr.objective.LogisticObjective` (same J, same L2 penalty) can
judge any (w, b): MLlib's, and the job's own.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from sparklr.bench.timing import median, timed
from sparklr.kernels import FISHER, BlockSums, sigmoid, sigmoid_and_softplus
from sparklr.objective import LogisticObjective

# ----------------------------------------------------------------------------- scipy


class CsrSource:
    """Σ L, Xᵀ(a − y), Σ(a − y) over one ``scipy.sparse`` CSR matrix in this process (no
    weights, no Hessian): the same :class:`BlockSums` a block kernel returns."""

    def __init__(self, X, y: np.ndarray):
        self.X, self.y = X, y
        self.n_features = X.shape[1]

    def sums(
        self,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool = False,
        class_weight: tuple[float, float] | None = None,
        curvature: str = FISHER,
    ) -> BlockSums:
        if hessian or class_weight is not None:
            raise ValueError("CsrSource sums the unweighted loss and gradient only")
        z = self.X @ w + b
        a, sp = sigmoid_and_softplus(z)
        r = a - self.y
        return BlockSums(
            loss=float((sp - self.y * z).sum()),
            grad_w=self.X.T @ r,
            grad_b=float(r.sum()),
            weight_sum=float(len(self.y)),
            rows=len(self.y),
            correct=float(((z >= 0) == (self.y == 1)).sum()),
        )


def objective_value(source: CsrSource, w: np.ndarray, b: float, reg_param: float) -> float:
    """sparklr's J at raw (w, b), unstandardized: (1/m) Σ L + λ ½‖w‖²."""
    objective = LogisticObjective(source, reg_param=reg_param)
    return objective.evaluate(np.append(w, b)).loss


def scipy_step_seconds(X, y: np.ndarray, repeats: int = 15, warmup: int = 3) -> float:
    """Median seconds of one step Xᵀ(σ(Xw + b) − y), Σ(σ(Xw + b) − y) in this process."""
    w = np.random.default_rng(1).standard_normal(X.shape[1]) * 0.01

    def step():
        r = sigmoid(X @ w + 0.1) - y
        return X.T @ r, r.sum()

    return median(timed(step, repeats, warmup))


# ----------------------------------------------------------------------------- MLlib


@dataclass(frozen=True)
class MllibSparseFit:
    """One MLlib fit: wall seconds, iterations, the Spark jobs it ran (its passes over the
    data plus its set-up jobs), its objective history and raw (w, b)."""

    seconds: float
    iterations: int
    jobs: int
    objective_history: list[float]
    coefficients: np.ndarray
    intercept: float


def mllib_load(spark: SparkSession, path: str) -> tuple[DataFrame, float]:
    """MLlib's load: read the Parquet (label, features vector) + cache + count."""
    t0 = time.perf_counter()
    frame = spark.read.parquet(path).select("label", "features").cache()
    frame.count()
    return frame, time.perf_counter() - t0


def mllib_fit(
    frame: DataFrame,
    *,
    max_iter: int,
    tol: float,
    standardization: bool,
    reg_param: float = 0.0,
) -> MllibSparseFit:
    """``LogisticRegression`` (L2 ``reg_param``) fitted, timed, and its Spark jobs counted (a
    job group of its own: ``statusTracker``)."""
    from pyspark.ml.classification import LogisticRegression

    sc = frame.sparkSession.sparkContext
    group = f"sparklr-bench-{uuid.uuid4().hex}"
    estimator = LogisticRegression(
        featuresCol="features",
        labelCol="label",
        maxIter=max_iter,
        regParam=reg_param,
        elasticNetParam=0.0,
        standardization=standardization,
        tol=tol,
    )
    sc.setJobGroup(group, "sparklr benchmark: MLlib fit")
    try:
        t0 = time.perf_counter()
        model = estimator.fit(frame)
        seconds = time.perf_counter() - t0
    finally:
        sc.setJobGroup(f"sparklr-bench-idle-{uuid.uuid4().hex}", "")
    return MllibSparseFit(
        seconds=seconds,
        iterations=int(model.summary.totalIterations),
        jobs=len(sc.statusTracker().getJobIdsForGroup(group)),
        objective_history=[float(v) for v in model.summary.objectiveHistory],
        coefficients=model.coefficients.toArray(),
        intercept=float(model.intercept),
    )


def first_reaching(history: list[float], goal: float) -> int | None:
    """The first iteration k (history[k] = J after k iterations) with J ≤ ``goal``."""
    return next((k for k, value in enumerate(history) if value <= goal), None)
