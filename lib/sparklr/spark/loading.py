"""From a data description to the [label, features...] DataFrame the blocks are built from."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from sparklr.spark.data import read_table, select_columns
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
) -> tuple[DataFrame, list[str]]:
    """Read ``path`` as ``fmt`` (or generate ``synthetic`` = (rows, features, partitions, seed)
    when ``fmt == "synthetic"``), check the columns, optionally repartition."""
    if fmt == "synthetic":
        rows, n_features, parts, seed = synthetic
        raw, _ = synthetic_frame(spark, rows, n_features, parts, seed)
        features = list(features) or feature_names(n_features)
    else:
        raw = read_table(spark, path, fmt)
    frame, names = select_columns(raw, label, list(features))
    if partitions:
        frame = frame.repartition(partitions)
    return frame, names
