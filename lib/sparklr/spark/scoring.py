"""Scoring a DataFrame with a model, and its metrics (Spark).

``score_frame`` appends ``probability`` = σ(wᵀx + b) and ``prediction`` = 1(probability ≥
threshold) to every row with ``mapInArrow`` (NumPy on Arrow batches; no Python rows).
``evaluate_frame`` computes, on a scored frame with a label, the mean log-loss
(softplus(z) − y z, evaluated stably as a Spark expression from z = wᵀx + b), accuracy and the
area under the ROC curve (MLlib's BinaryClassificationEvaluator).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparklr.kernels import sigmoid


def score_frame(
    frame: DataFrame,
    feature_names: list[str],
    coefficients: np.ndarray,
    intercept: float,
    threshold: float = 0.5,
) -> DataFrame:
    """``frame`` with ``probability`` (double) and ``prediction`` (int) appended."""
    w = np.asarray(coefficients, dtype=np.float64)
    b = float(intercept)
    names = list(feature_names)
    schema = T.StructType(
        [
            *frame.schema.fields,
            T.StructField("probability", T.DoubleType(), True),
            T.StructField("prediction", T.IntegerType(), True),
        ]
    )

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            X = (
                np.column_stack(
                    [
                        batch.column(n).cast(pa.float64()).to_numpy(zero_copy_only=False)
                        for n in names
                    ]
                )
                if batch.num_rows
                else np.empty((0, len(names)))
            )
            p = sigmoid(X @ w + b)
            valid = np.isfinite(p)
            probability = pa.array(p, mask=~valid)
            prediction = pa.array((p >= threshold).astype(np.int32), mask=~valid)
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, probability, prediction],
                names=[*batch.schema.names, "probability", "prediction"],
            )

    return frame.mapInArrow(score, schema)


def evaluate_frame(
    scored: DataFrame,
    label: str,
    feature_names: list[str],
    coefficients: np.ndarray,
    intercept: float,
) -> dict[str, float]:
    """log-loss, accuracy and AUC of a scored frame that has the label column."""
    z = F.lit(float(intercept))
    for name, c in zip(feature_names, coefficients, strict=True):
        z = z + F.lit(float(c)) * F.col(f"`{name}`").cast("double")
    y = F.col(f"`{label}`").cast("double")
    softplus = F.greatest(z, F.lit(0.0)) + F.log1p(F.exp(-F.abs(z)))
    row = scored.agg(
        F.avg(softplus - y * z).alias("log_loss"),
        F.avg((F.col("prediction").cast("double") == y).cast("double")).alias("accuracy"),
        F.count(F.lit(1)).alias("rows"),
    ).first()
    auc = BinaryClassificationEvaluator(
        rawPredictionCol="probability", labelCol=label, metricName="areaUnderROC"
    ).evaluate(scored.withColumn(label, y))
    return {
        "rows": int(row["rows"]),
        "log_loss": float(row["log_loss"]),
        "accuracy": float(row["accuracy"]),
        "auc": float(auc),
    }
