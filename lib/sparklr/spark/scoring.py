"""Scoring a DataFrame with a model, and its metrics (Spark).

``score_frame`` appends ``probability`` = σ(wᵀx + b) and ``prediction`` = 1(probability ≥
threshold) to every row with ``mapInArrow`` (NumPy on Arrow batches; no Python rows). With a
:class:`~sparklr.encoding.Design` that has categorical columns, x is built from the raw columns
by the same encoding as the blocks (a level unseen in training: all indicators 0);
``unseen_levels`` counts the unseen levels and nulls of each categorical column.

``model_metrics`` measures a model on labelled data that are not resident (the scoring job's
input; the training job scores its resident blocks instead, with the same definitions and
keys: :meth:`sparklr.spark.blockset.BlockSet.score_summary`): it keeps the rows whose label
and features are all finite (:func:`finite_rows`), requires the labels to be 0/1, and computes
on the executors the mean log-loss (softplus(z) − y z, evaluated stably as a Spark expression
from z = wᵀx + b), the accuracy at the threshold, the exact area under the ROC curve (MLlib's
BinaryClassificationEvaluator without down-sampling; ``auc_error_bound`` is 0) and the
probability histogram the report draws from.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparklr.encoding import Design
from sparklr.errors import DataError
from sparklr.kernels import HISTOGRAM_BINS, sigmoid


def score_frame(
    frame: DataFrame,
    feature_names: list[str],
    coefficients: np.ndarray,
    intercept: float,
    threshold: float = 0.5,
    design: Design | None = None,
) -> DataFrame:
    """``frame`` with ``probability`` (double) and ``prediction`` (int) appended; x from
    ``design`` (the raw input columns) when given, else the ``feature_names`` columns."""
    w = np.asarray(coefficients, dtype=np.float64)
    b = float(intercept)
    design = design if design is not None else Design.numeric(feature_names)
    schema = T.StructType(
        [
            *frame.schema.fields,
            T.StructField("probability", T.DoubleType(), True),
            T.StructField("prediction", T.IntegerType(), True),
        ]
    )

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            X = design.matrix(batch)
            p = sigmoid(X @ w + b)
            valid = np.isfinite(p)
            probability = pa.array(p, mask=~valid)
            prediction = pa.array((p >= threshold).astype(np.int32), mask=~valid)
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, probability, prediction],
                names=[*batch.schema.names, "probability", "prediction"],
            )

    return frame.mapInArrow(score, schema)


def finite_rows(frame: DataFrame, columns: list[str]) -> DataFrame:
    """Rows of ``frame`` whose ``columns`` are all non-null, non-NaN and finite."""
    condition = F.lit(True)
    for name in columns:
        c = F.col(f"`{name}`").cast("double")
        condition = condition & c.isNotNull() & ~F.isnan(c) & (F.abs(c) != float("inf"))
    return frame.where(condition)


def probability_histogram(
    scored: DataFrame, label: str, bins: int = HISTOGRAM_BINS
) -> dict[str, list]:
    """Counts of a scored frame by probability bin ⌊p · bins⌋ (p = 1 in the last bin).

    Returns ``bins``, and per bin ``count``, ``positives`` (Σ y) and ``sum_probability``
    (Σ p) as lists of length ``bins``; plus ``bad_labels``, the number of rows whose label is
    not 0 or 1. One aggregation on the executors; only ``bins`` numbers reach the driver.
    """
    y = F.col(f"`{label}`").cast("double")
    p = F.col("probability")
    index = F.least(F.floor(p * bins).cast("int"), F.lit(bins - 1))
    rows = (
        scored.where(p.isNotNull())
        .groupBy(index.alias("bin"))
        .agg(
            F.count(F.lit(1)).alias("count"),
            F.sum(F.when(y == 1.0, 1).otherwise(0)).alias("positives"),
            F.sum(p).alias("sum_probability"),
            F.sum(F.when((y == 0.0) | (y == 1.0), 0).otherwise(1)).alias("bad_labels"),
        )
        .collect()
    )
    count = [0] * bins
    positives = [0] * bins
    sum_probability = [0.0] * bins
    bad = 0
    for row in rows:
        count[row["bin"]] = int(row["count"])
        positives[row["bin"]] = int(row["positives"])
        sum_probability[row["bin"]] = float(row["sum_probability"])
        bad += int(row["bad_labels"])
    return {
        "bins": bins,
        "count": count,
        "positives": positives,
        "sum_probability": sum_probability,
        "bad_labels": bad,
    }


def model_metrics(
    frame: DataFrame,
    label: str,
    feature_names: list[str],
    coefficients: np.ndarray,
    intercept: float,
    threshold: float = 0.5,
    bins: int = HISTOGRAM_BINS,
    design: Design | None = None,
) -> tuple[dict[str, float], dict[str, list]]:
    """Score ``frame`` (label + feature columns) and measure the model on it, distributed.

    Rows with a missing or non-finite label or feature are left out (they are not counted in
    ``rows``). Returns ({``rows``, ``log_loss``, ``accuracy`` (at ``threshold``), ``auc``,
    ``auc_error_bound`` (0: the AUC is exact), ``positives``}, :func:`probability_histogram`);
    a metric that is undefined (AUC with one class) is None. Raises
    :class:`~sparklr.errors.DataError` when a label is not 0/1 or no row is left.
    With a ``design`` that has categorical columns, ``frame`` has the raw input columns and is
    encoded first (:func:`encoded_frame`).
    """
    if design is not None and design.categorical:
        frame = encoded_frame(frame, label, design)
    usable = finite_rows(frame, [label, *feature_names])
    scored = score_frame(usable, feature_names, coefficients, intercept, threshold)
    histogram = probability_histogram(scored, label, bins)
    if histogram["bad_labels"]:
        raise DataError(
            f"label column {label!r} has {histogram['bad_labels']} value(s) other than 0 and 1"
        )
    if not sum(histogram["count"]):
        raise DataError("no rows with finite label and features to measure the model on")
    metrics: dict = _evaluate(scored, label, feature_names, coefficients, intercept)
    metrics["positives"] = int(sum(histogram["positives"]))
    # AUC is undefined (NaN) when one class is absent; JSON has no NaN.
    metrics = {k: (v if np.isfinite(v) else None) for k, v in metrics.items()}
    metrics["auc_error_bound"] = None if metrics["auc"] is None else 0.0
    return metrics, histogram


def encoded_frame(frame: DataFrame, label: str, design: Design) -> DataFrame:
    """[label, *design.feature_names] as doubles, encoded from the raw input columns."""
    names = [label, *design.feature_names]
    schema = T.StructType([T.StructField(n, T.DoubleType(), True) for n in names])

    def encode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield design.encode(batch, label)

    columns = [F.col(f"`{c}`") for c in [label, *design.columns]]
    return frame.select(*columns).mapInArrow(encode, schema)


def unseen_levels(frame: DataFrame, design: Design) -> dict[str, dict]:
    """Per categorical column: ``unseen`` rows (a value not seen in training, scored as the
    reference), an ``example`` of such a value, and ``nulls`` rows that have no level of
    their own (scored as the reference with data.categorical_nulls = "level", as null
    otherwise). One aggregation; only these numbers reach the driver."""
    aggregates = []
    for i, (column, encoding) in enumerate(design.categorical.items()):
        value = F.col(f"`{column}`").cast("string")
        unseen = value.isNotNull() & ~value.isin(*encoding.levels, *encoding.pooled)
        aggregates += [
            F.sum(unseen.cast("long")).alias(f"u{i}"),
            F.min(F.when(unseen, value)).alias(f"e{i}"),
            F.sum(value.isNull().cast("long")).alias(f"n{i}"),
        ]
    if not aggregates:
        return {}
    row = frame.agg(*aggregates).first()
    return {
        column: {
            "unseen": int(row[f"u{i}"] or 0),
            "example": row[f"e{i}"],
            "nulls": 0 if encoding.null_level else int(row[f"n{i}"] or 0),
            "rule": encoding.nulls,
        }
        for i, (column, encoding) in enumerate(design.categorical.items())
    }


def _evaluate(
    scored: DataFrame,
    label: str,
    feature_names: list[str],
    coefficients: np.ndarray,
    intercept: float,
) -> dict[str, float]:
    """rows, log-loss, accuracy and AUC of a scored frame that has the label column."""
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
        rawPredictionCol="probability", labelCol=label, metricName="areaUnderROC", numBins=0
    ).evaluate(scored.withColumn(label, y))
    return {
        "rows": int(row["rows"]),
        "log_loss": float(row["log_loss"]),
        "accuracy": float(row["accuracy"]),
        "auc": float(auc),
    }


def vector_margins(
    frame: DataFrame, column: str, coefficients: np.ndarray, intercept: float, name: str
) -> DataFrame:
    """``frame`` with the margin z = wᵀx + b of its Spark ML vector ``column`` appended as the
    double column ``name`` (``mapInArrow``: each batch's non-zeros decoded by
    :func:`sparklr.spark.vectors.decode`, z = Σ w_j x_j per row by a bincount; a sparse row is
    never densified). z is NaN where x holds a NaN or ±Inf. A vector :func:`decode` refuses
    (another size than len(w), a null, a bad index) fails the task with a
    :class:`~sparklr.errors.DataError` naming the column, the partition and the row in it,
    which the driver recovers with :func:`sparklr.errors.task_data_error` (the caller checks
    the column's declared size first). Score it with ``score_frame(..., [name], [1.0], 0.0)``."""
    from pyspark import TaskContext

    from sparklr.spark.blocktype import FeatureError
    from sparklr.spark.vectors import decode

    w = np.asarray(coefficients, dtype=np.float64)
    b = float(intercept)
    index = frame.columns.index(column)
    schema = T.StructType([*frame.schema.fields, T.StructField(name, T.DoubleType(), True)])

    def margins(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        first_row = 0  # of the batch, in the partition
        for batch in batches:
            try:
                entries = decode(batch.column(index), len(w), first_row)
            except FeatureError as exc:
                partition = TaskContext.get().partitionId()
                raise DataError(f"vector column {column!r}, partition {partition} {exc}") from None
            first_row += batch.num_rows
            terms = w[entries.columns] * entries.values
            z = np.bincount(entries.row_of, weights=terms, minlength=batch.num_rows) + b
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(z)], names=[*batch.schema.names, name]
            )

    return frame.mapInArrow(margins, schema)
