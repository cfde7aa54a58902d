"""Synthetic logistic-regression data generated on the executors (never on the driver).

Truth: w_j ~ N(0, 1), b = 0.25, from ``seed``. Feature j of each row is
x_j = c_j + s_j · N(0, 1) with offsets c_j ~ U(−3, 3) and scales s_j = e^{U(−1, 1)} (so that
standardization matters), and y ~ Bernoulli(σ(wᵀ((x − c)/s) + b)); i.e. on the original
scale the true coefficients are w_j / s_j and the intercept b − Σ w_j c_j / s_j.
Rows are generated in Arrow batches seeded by (seed, first row id), so the same arguments
always give the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from sparklr.kernels import sigmoid


@dataclass(frozen=True)
class SyntheticTruth:
    coefficients: np.ndarray  # on the original feature scale
    intercept: float
    offsets: np.ndarray
    scales: np.ndarray
    standardized_coefficients: np.ndarray
    standardized_intercept: float

    @classmethod
    def from_seed(cls, n_features: int, seed: int) -> SyntheticTruth:
        rng = np.random.default_rng([seed, n_features])
        w = rng.standard_normal(n_features)
        offsets = rng.uniform(-3, 3, n_features)
        scales = np.exp(rng.uniform(-1, 1, n_features))
        b = 0.25
        return cls(w / scales, float(b - (w / scales) @ offsets), offsets, scales, w, b)

    def to_json(self) -> dict:
        return {
            "coefficients": self.coefficients.tolist(),
            "intercept": self.intercept,
            "offsets": self.offsets.tolist(),
            "scales": self.scales.tolist(),
        }


def feature_names(n_features: int) -> list[str]:
    width = len(str(n_features - 1))
    return [f"x{j:0{width}d}" for j in range(n_features)]


def _generate(
    batches: Iterator[pa.RecordBatch], *, truth: SyntheticTruth, seed: int, names: list[str]
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        ids = batch.column(0).to_numpy()
        k = len(ids)
        if k == 0:
            continue
        rng = np.random.default_rng([seed, int(ids[0]), k])
        u = rng.standard_normal((k, len(names)))
        z = u @ truth.standardized_coefficients + truth.standardized_intercept
        y = (rng.random(k) < sigmoid(z)).astype(np.int64)
        X = truth.offsets + truth.scales * u
        columns = [pa.array(ids), *(pa.array(X[:, j]) for j in range(len(names))), pa.array(y)]
        yield pa.RecordBatch.from_arrays(columns, names=["id", *names, "label"])


def synthetic_frame(
    spark: SparkSession, rows: int, n_features: int, partitions: int, seed: int
) -> tuple[DataFrame, SyntheticTruth]:
    """DataFrame [id, x0.., label] of ``rows`` rows in ``partitions`` partitions, and its truth."""
    truth = SyntheticTruth.from_seed(n_features, seed)
    names = feature_names(n_features)
    schema = ", ".join(["id long", *(f"{n} double" for n in names), "label long"])

    def generate(batches):
        return _generate(batches, truth=truth, seed=seed, names=names)

    frame = spark.range(0, rows, numPartitions=partitions).mapInArrow(generate, schema)
    return frame, truth
