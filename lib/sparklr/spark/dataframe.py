"""A DataFrame the caller holds → the [label, *features(, weight)] frame of doubles the blocks
are built from; and the margin z = wᵀx + b as a column (the Python API's plumbing).

Two inputs: plain numeric columns (``input_cols``, checked and cast by
:func:`~sparklr.spark.loading.training_columns`), or one Spark ML vector column
(``features_col``, dense or sparse). The vector column is a **stop-gap**: it is expanded into
one double column per coordinate with ``pyspark.ml.functions.vector_to_array`` (which accepts
both dense and sparse vectors, e.g. VectorAssembler's output) and a select, so a sparse
vector is densified; the native CSR block path replaces this expansion when it lands.
"""

from __future__ import annotations

import numpy as np
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparklr.errors import DataError
from sparklr.spark.loading import default_block_count, to_blocks, training_columns


def training_frame(
    df: DataFrame,
    label: str,
    *,
    input_cols: list[str],
    features_col: str,
    weight: str = "",
    partitions: int = 0,
) -> tuple[DataFrame, list[str]]:
    """(frame, feature names): ``input_cols`` when given, else the vector ``features_col``
    expanded into the columns ``<features_col>_<j>``; in ``partitions`` blocks (0 = one per
    executor core, as data.partitions)."""
    if input_cols:
        frame, names = training_columns(df, label, list(input_cols), weight)
    else:
        names = [f"{features_col}_{j}" for j in range(vector_size(df, features_col))]
        values = vector_to_array(F.col(f"`{features_col}`"))
        frame = df.select(
            F.col(f"`{label}`").cast("double").alias(label),
            *[F.get(values, j).alias(name) for j, name in enumerate(names)],
            *([F.col(f"`{weight}`").cast("double").alias(weight)] if weight else []),
        )
    blocks = partitions or default_block_count(df.sparkSession)
    return to_blocks(frame, partitions, blocks), names


def vector_size(df: DataFrame, column: str) -> int:
    """n_x of a vector column: from its ML attribute metadata (VectorAssembler writes it), else
    one pass over the rows (which must all have the same size)."""
    attrs = df.schema[column].metadata.get("ml_attr", {})
    if "num_attrs" in attrs:
        return int(attrs["num_attrs"])
    sizes = F.size(vector_to_array(F.col(f"`{column}`")))
    low, high = df.select(F.min(sizes), F.max(sizes)).first()
    if low is None:
        raise DataError(f"vector column {column!r} has no rows")
    if low != high:
        raise DataError(f"vector column {column!r} has vectors of sizes {low} to {high}")
    return int(low)


def margin(
    coefficients: np.ndarray, intercept: float, *, input_cols: list[str], features_col: str
) -> Column:
    """z = wᵀx + b over ``input_cols`` (or the vector ``features_col``), summed j = 0, 1, …"""
    if input_cols:
        x = F.array(*[F.col(f"`{c}`").cast("double") for c in input_cols])
    else:
        x = vector_to_array(F.col(f"`{features_col}`"))
    w = F.array(*[F.lit(float(v)) for v in coefficients])
    products = F.zip_with(x, w, lambda a, b: a * b)
    return F.aggregate(products, F.lit(0.0), lambda acc, v: acc + v) + F.lit(float(intercept))
