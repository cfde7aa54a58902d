"""What sparklr is measured against: NumPy on one in-memory block, MLlib's
``LogisticRegression`` on the same session and data, and scikit-learn's lbfgs.

The NumPy objective is the same :class:`~sparklr.objective.LogisticObjective` (same
standardization folded into θ) over an in-process source, so a GD iteration there and one over
the resident blocks do the same arithmetic: z = Xw + b, a = σ(z), r = a − y, Σ L, Xᵀr, Σ r.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from sparklr.bench.results import Agreement, MllibResult, NumpyResult, SklearnResult, StorageBytes
from sparklr.bench.timing import median, timed
from sparklr.in_memory import InMemorySource
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.spark.blockset import BlockSet

# ----------------------------------------------------------------------------- NumPy


def numpy_objective(
    X: np.ndarray, y: np.ndarray, fmap: FeatureMap, reg_param: float = 0.0
) -> LogisticObjective:
    """J over (X, y) held in this process, as one block."""
    return LogisticObjective(InMemorySource((X, y)), fmap, reg_param=reg_param)


def agreement(
    blocks: BlockSet, fmap: FeatureMap, theta: np.ndarray, X: np.ndarray, y: np.ndarray
) -> Agreement:
    """Relative differences of the distributed sums and NumPy's over the same rows at θ."""
    w, b = fmap.to_raw(theta)
    ref = InMemorySource((X, y)).sums(w, b)
    got = blocks.sums(w, b)
    return Agreement(
        loss_rel=abs(got.loss - ref.loss) / abs(ref.loss),
        grad_rel=float(np.linalg.norm(got.grad_w - ref.grad_w) / np.linalg.norm(ref.grad_w)),
        rows_equal=got.rows == ref.rows == X.shape[0],
    )


def numpy_result(
    laps: dict[str, list[float]], X: np.ndarray, y: np.ndarray, repeats: int
) -> NumpyResult:
    """NumPy's GD laps per dtype ("float64", "float32"), and the naive step timed alone."""
    w0 = np.random.default_rng(1).standard_normal(X.shape[1]) * 0.01

    def naive_step():
        z = X @ w0 + 0.1
        a = 1.0 / (1.0 + np.exp(-z))
        r = a - y
        return X.T @ r, r.sum()

    return NumpyResult(
        blas=blas_info(),
        float64_iteration_seconds=median(laps["float64"]),
        float64_iteration_seconds_min=min(laps["float64"]),
        float64_iteration_laps=laps["float64"],
        float32_iteration_seconds=median(laps["float32"]),
        float32_iteration_seconds_min=min(laps["float32"]),
        float32_iteration_laps=laps["float32"],
        naive_step_seconds=median(timed(naive_step, repeats, 1)),
    )


def blas_info() -> dict:
    """The driver's BLAS libraries and their thread counts."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"threads": "threadpoolctl not installed"}
    return {"threads": [(p.get("internal_api"), p.get("num_threads")) for p in threadpool_info()]}


# ----------------------------------------------------------------------------- scikit-learn


def fit_sklearn(X: np.ndarray, y: np.ndarray) -> SklearnResult | None:
    """Unpenalized lbfgs on standardized X to tol 1e-6; None when scikit-learn is missing."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return None
    mu = X.mean(axis=0)
    sd = X.std(axis=0, ddof=1)
    Xs = (X - mu) / np.where(sd > 0, sd, 1.0)
    # C = ∞: no penalty (penalty=None is deprecated in scikit-learn 1.8).
    model = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000, tol=1e-6)
    t0 = time.perf_counter()
    model.fit(Xs, y)
    seconds = time.perf_counter() - t0
    return SklearnResult(fit_seconds=seconds, iterations=int(model.n_iter_[0]), tol=1e-6)


# ----------------------------------------------------------------------------- MLlib


@dataclass(frozen=True)
class MllibFit:
    """One MLlib fit: wall seconds, iterations, its final objective and the raw (w, b)."""

    seconds: float
    iterations: int
    final_objective: float
    coefficients: np.ndarray
    intercept: float


def assemble_mllib(
    make_frame: Callable[[], DataFrame], label: str, names: list[str]
) -> tuple[DataFrame, float]:
    """MLlib's load: (read +) VectorAssembler + cache + count; the cached frame and seconds."""
    from pyspark.ml.feature import VectorAssembler

    t0 = time.perf_counter()
    assembled = (
        VectorAssembler(inputCols=names, outputCol="features")
        .transform(make_frame())
        .select(label, "features")
        .cache()
    )
    assembled.count()
    return assembled, time.perf_counter() - t0


def fit_mllib(
    assembled: DataFrame, label: str, *, max_iter: int, tol: float, reg_param: float = 0.0
) -> MllibFit:
    """``LogisticRegression`` (L2 ``reg_param``, standardization on) fitted and timed."""
    from pyspark.ml.classification import LogisticRegression

    estimator = LogisticRegression(
        featuresCol="features",
        labelCol=label,
        maxIter=max_iter,
        regParam=reg_param,
        elasticNetParam=0.0,
        standardization=True,
        tol=tol,
    )
    t0 = time.perf_counter()
    model = estimator.fit(assembled)
    seconds = time.perf_counter() - t0
    return MllibFit(
        seconds=seconds,
        iterations=int(model.summary.totalIterations),
        final_objective=float(model.summary.objectiveHistory[-1]),
        coefficients=model.coefficients.toArray(),
        intercept=float(model.intercept),
    )


def measure_mllib(
    spark: SparkSession, make_frame: Callable[[], DataFrame], label: str, names: list[str], k: int
) -> MllibResult:
    """Fits with maxIter k and k/2 (tol 0: exactly that many iterations) and one to
    convergence (tol 1e-6), on one assembled and cached frame."""
    assembled, load = assemble_mllib(make_frame, label, names)
    storage = storage_bytes(spark)
    full = fit_mllib(assembled, label, max_iter=k, tol=0.0)
    half = fit_mllib(assembled, label, max_iter=max(1, k // 2), tol=0.0)
    converged = fit_mllib(assembled, label, max_iter=100, tol=1e-6)
    assembled.unpersist()
    extra = full.iterations - half.iterations
    return MllibResult(
        load_seconds_for_fits=load,
        storage=storage,
        fixed_iterations=k,
        fixed_fit_seconds=full.seconds,
        fixed_fit_iterations=full.iterations,
        iteration_seconds=full.seconds / max(full.iterations, 1),
        marginal_iteration_seconds=(full.seconds - half.seconds) / extra if extra > 0 else None,
        converged_fit_seconds=converged.seconds,
        converged_iterations=converged.iterations,
        converged_loss=converged.final_objective,
    )


def storage_bytes(spark: SparkSession) -> StorageBytes:
    """Spark's cached storage over all cached RDDs and frames (from the JVM's storage info:
    PySpark has no public accessor and the UI, with its REST API, is off)."""
    infos = spark.sparkContext._jsc.sc().getRDDStorageInfo()
    return StorageBytes(
        memory=sum(int(i.memSize()) for i in infos),
        disk=sum(int(i.diskSize()) for i in infos),
        found=len(infos) > 0,
    )
