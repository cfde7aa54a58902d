"""From a data description to the [label, features...] DataFrame the blocks are built from."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparklr.errors import DataError
from sparklr.spark.data import NUMERIC_TYPES, read_table, select_columns
from sparklr.spark.synthetic import feature_names, synthetic_frame


def load_training_frame(
    spark: SparkSession,
    *,
    fmt: str,
    path: str,
    label: str,
    features: list[str],
    partitions: int = 0,
    synthetic: tuple[int, int, int, int] | None = None,
    weight: str = "",
) -> tuple[DataFrame, list[str]]:
    """Read ``path`` as ``fmt`` (or generate ``synthetic`` = (rows, features, partitions, seed)
    when ``fmt == "synthetic"``), check the columns, optionally repartition.

    With ``weight`` the frame is [label, *features, weight] (the weight column numeric)."""
    if fmt == "synthetic":
        rows, n_features, parts, seed = synthetic
        raw, _ = synthetic_frame(spark, rows, n_features, parts, seed)
        features = list(features) or feature_names(n_features)
    else:
        raw = read_table(spark, path, fmt)
    if weight:
        frame, names = select_columns(raw, label, list(features), exclude=(weight,))
        if weight in names:
            raise DataError(f"weight column {weight!r} is also a feature column")
        fields = {f.name: f.dataType for f in raw.schema.fields}
        if weight not in fields:
            raise DataError(
                f"weight column {weight!r} not found; columns are: {', '.join(raw.columns)}"
            )
        if not isinstance(fields[weight], NUMERIC_TYPES):
            raise DataError(
                f"weight column {weight!r} has type {fields[weight].simpleString()}; "
                "it must be numeric"
            )
        frame = raw.select(
            *[F.col(f"`{c}`").cast("double").alias(c) for c in [label, *names, weight]]
        )
    else:
        frame, names = select_columns(raw, label, list(features))
    if partitions:
        frame = frame.repartition(partitions)
    return frame, names
