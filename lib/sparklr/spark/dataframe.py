"""A DataFrame the caller holds → the frame the blocks are built from; and the margin
z = wᵀx + b as a column (the Python API's plumbing).

Two inputs: plain numeric columns (``input_cols``, checked and cast by
:func:`~sparklr.spark.loading.training_columns`: dense blocks), or one Spark ML vector column
(``features_col``, dense or sparse rows) kept as it is: n_x, the feature names and the block
type (CSR or dense, by density) come from :mod:`sparklr.spark.vector_input`, as for the job's
``data.features_col``, and a sparse row is never densified.
"""

from __future__ import annotations

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparklr.spark.blocktype import BlockType
from sparklr.spark.loading import default_block_count, to_blocks, training_columns


def training_frame(
    df: DataFrame,
    label: str,
    *,
    input_cols: list[str],
    features_col: str,
    weight: str = "",
    partitions: int = 0,
    dtype: str = "float64",
) -> tuple[DataFrame, list[str], BlockType | None]:
    """(frame, feature names, block type or None for dense rows of doubles): ``input_cols``
    when given, else [label, ``features_col``, (weight)] with the vector column's block type;
    in ``partitions`` blocks (0 = one per executor core, as data.partitions)."""
    block_type = None
    if input_cols:
        frame, names = training_columns(df, label, list(input_cols), weight)
    else:
        from sparklr.spark.vector_input import vector_block_type
        from sparklr.spark.vector_input import vector_size as measured_size

        n_features, names, scan = measured_size(df, features_col)
        block_type = vector_block_type(df, features_col, n_features, "auto", dtype, scan)
        frame = df.select(
            F.col(f"`{label}`").cast("double").alias(label),
            F.col(f"`{features_col}`"),
            *([F.col(f"`{weight}`").cast("double").alias(weight)] if weight else []),
        )
    blocks = partitions or default_block_count(df.sparkSession)
    return to_blocks(frame, partitions, blocks), names, block_type


def margin(coefficients: np.ndarray, intercept: float, *, input_cols: list[str]) -> Column:
    """z = wᵀx + b over the plain ``input_cols``, summed j = 0, 1, … (a vector column is
    scored by :func:`sparklr.spark.scoring.vector_margins`)."""
    x = F.array(*[F.col(f"`{c}`").cast("double") for c in input_cols])
    w = F.array(*[F.lit(float(v)) for v in coefficients])
    products = F.zip_with(x, w, lambda a, b: a * b)
    return F.aggregate(products, F.lit(0.0), lambda acc, v: acc + v) + F.lit(float(intercept))
