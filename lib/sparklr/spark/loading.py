"""From a data description to the [label, features...] DataFrames the blocks are built from
(and the validation DataFrame the model is measured on)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparklr.errors import DataError
from sparklr.spark.blocktype import BlockType
from sparklr.spark.data import NUMERIC_TYPES, read_table, select_columns
from sparklr.spark.parquet import ParquetPlan, plan_parquet_blocks
from sparklr.spark.synthetic import feature_names, synthetic_frame

log = logging.getLogger("sparklr.data")

#: How Parquet training data are read (data.reader); see :func:`load_frames`.
READERS = ("auto", "pyarrow", "spark")


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
    """(training frame, feature names) of :func:`load_frames`, without a validation set."""
    frames = load_frames(
        spark,
        fmt=fmt,
        path=path,
        label=label,
        features=features,
        partitions=partitions,
        synthetic=synthetic,
        weight=weight,
    )
    return frames.train, frames.names


@dataclass(frozen=True)
class Frames:
    """The training frame ([label, *names] or [label, *names, weight], doubles), the
    validation frame ([label, *names], or None) and the feature names."""

    train: DataFrame
    validation: DataFrame | None
    names: list[str]
    #: How pyarrow reads the training blocks straight from the Parquet files; None = through
    #: Spark's scan of ``train`` (CSV, synthetic, a validation split, or data.reader = "spark").
    parquet: ParquetPlan | None = None
    #: How the blocks store the features: None = dense rows of double columns; for a vector
    #: column (or LIBSVM) the type :mod:`sparklr.spark.vector_input` chose.
    block_type: BlockType | None = None


def load_frames(
    spark: SparkSession,
    *,
    fmt: str,
    path: str,
    label: str,
    features: list[str],
    partitions: int = 0,
    synthetic: tuple[int, int, int, int] | None = None,
    weight: str = "",
    validation_path: str = "",
    validation_fraction: float = 0.0,
    validation_seed: int = 0,
    reader: str = "auto",
    features_col: str = "",
    block_type: str = "auto",
    num_features: int = 0,
    dtype: str = "float64",
) -> Frames:
    """The training frame: ``path`` read as ``fmt`` (or ``synthetic`` = (rows, features,
    partitions, seed) generated when ``fmt == "synthetic"``), its columns checked, optionally
    repartitioned; with ``weight`` it is [label, *features, weight] (the weight numeric).
    Plus a validation frame and, for Parquet, how pyarrow reads the blocks.

    ``validation_path``: a second dataset in the same format with the same label and feature
    columns. ``validation_fraction`` (0 < f < 1): a seeded random split of the input, done
    before repartitioning. Spark's ``randomSplit`` sorts each partition before sampling, so
    the split — and with it the training blocks — is the same on every evaluation of the
    lineage and on every run with the same input, partitioning and seed.

    ``reader`` (Parquet only): "auto" plans a pyarrow read of the files
    (:func:`~sparklr.spark.parquet.plan_parquet_blocks`, ``partitions`` blocks, or
    :func:`default_block_count` when 0) and falls back to Spark's reader when pyarrow cannot
    read them; "pyarrow" fails instead of falling back; "spark" always reads through Spark. A
    ``validation_fraction`` split always goes through Spark.

    ``features_col`` (a Spark ML vector column) or ``fmt = "libsvm"``: see
    :func:`load_vector_frames` (``block_type``, ``num_features`` and ``dtype`` are its).
    """
    if reader not in READERS:
        raise DataError(f"unknown reader {reader!r}; use one of {', '.join(READERS)}")
    if validation_path and validation_fraction:
        raise DataError("give either a validation path or a validation fraction, not both")
    if features_col or fmt == "libsvm":
        return load_vector_frames(
            spark,
            fmt=fmt,
            path=path,
            label=label,
            features_col=features_col or "features",
            partitions=partitions,
            weight=weight,
            validation_path=validation_path,
            validation_fraction=validation_fraction,
            validation_seed=validation_seed,
            reader=reader,
            block_type=block_type,
            num_features=num_features,
            dtype=dtype,
        )
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
    blocks = partitions or default_block_count(spark)
    validation = None
    if validation_fraction:
        frame, validation = split_validation(frame, validation_fraction, validation_seed)
    elif validation_path:
        if fmt == "synthetic":
            raise DataError("a validation path needs a file format (parquet or csv)")
        validation, _ = select_columns(read_table(spark, validation_path, fmt), label, names)
    plan = None
    if fmt == "parquet" and reader != "spark":
        if validation_fraction:
            reason = "data.validation_fraction splits the rows in Spark"
        else:
            columns = [label, *names] + ([weight] if weight else [])
            planned = plan_parquet_blocks(raw.inputFiles(), columns, blocks)
            reason = planned if isinstance(planned, str) else ""
            plan = None if reason else planned
        if reason and reader == "pyarrow":
            raise DataError(f'data.reader = "pyarrow" cannot read {path}: {reason}')
        if reason:
            log.info("reading %s through Spark: %s", path, reason)
    if plan is None:
        frame = _to_blocks(frame, partitions, blocks)
    return Frames(frame, validation, names, plan)


def default_block_count(spark: SparkSession) -> int:
    """The number of blocks when ``data.partitions = 0``: Spark's default parallelism, which is
    the total number of executor cores (local[N]: N). One block per core makes an iteration
    one wave of tasks with no idle core and no second wave; more blocks per core only add a
    task's fixed cost (~1 ms of Python plus scheduling) per iteration and a smaller kernel."""
    return max(1, spark.sparkContext.defaultParallelism)


def _to_blocks(frame: DataFrame, partitions: int, blocks: int) -> DataFrame:
    """``frame`` in ``blocks`` partitions. An explicit ``data.partitions`` repartitions (one
    shuffle); the default only merges partitions (``coalesce``, no shuffle) when the reader made
    more than ``blocks``, and keeps fewer as they are (a shuffle costs more than the idle cores
    save on data that fit in so few partitions)."""
    if partitions:
        return frame.repartition(partitions)
    if frame.rdd.getNumPartitions() > blocks:
        return frame.coalesce(blocks)
    return frame


def split_validation(frame: DataFrame, fraction: float, seed: int) -> tuple[DataFrame, DataFrame]:
    """(training part, validation part): each row lands in exactly one, the validation part
    with probability ``fraction``; deterministic for a given input partitioning and seed."""
    if not 0.0 < fraction < 1.0:
        raise DataError(f"validation fraction must be in (0, 1), got {fraction}")
    train, validation = frame.randomSplit([1.0 - fraction, fraction], seed=seed)
    return train, validation


def load_vector_frames(
    spark: SparkSession,
    *,
    fmt: str,
    path: str,
    label: str,
    features_col: str,
    partitions: int = 0,
    weight: str = "",
    validation_path: str = "",
    validation_fraction: float = 0.0,
    validation_seed: int = 0,
    reader: str = "auto",
    block_type: str = "auto",
    num_features: int = 0,
    dtype: str = "float64",
) -> Frames:
    """:func:`load_frames` for features in one Spark ML vector column ``features_col`` (of a
    Parquet/CSV table, or the "features" of a LIBSVM file): frames [label, features_col,
    (weight)], names and block type from :mod:`sparklr.spark.vector_input`; Parquet is read
    by pyarrow in the executors as for double columns (the vector struct read as stored)."""
    from sparklr.spark.vector_input import (
        VectorScan,
        is_vector_column,
        read_libsvm,
        vector_block_type,
        vector_size,
    )

    def read(source: str) -> tuple[DataFrame, VectorScan | None]:
        if fmt == "libsvm":
            return read_libsvm(spark, source, num_features)
        return read_table(spark, source, fmt), None

    raw, scan = read(path)
    for column, role in ((label, "label"), (weight, "weight")):
        if column and column not in raw.columns:
            raise DataError(
                f"{role} column {column!r} not found; columns are: {', '.join(raw.columns)}"
            )
        if column and not isinstance(raw.schema[column].dataType, NUMERIC_TYPES):
            raise DataError(f"{role} column {column!r} must be numeric")
    if not is_vector_column(raw, features_col):
        kind = raw.schema[features_col].dataType.simpleString()
        raise DataError(f"features column {features_col!r} has type {kind}, not a Spark ML vector")
    n_features, names, scan = vector_size(raw, features_col, scan)
    chosen = vector_block_type(raw, features_col, n_features, block_type, dtype, scan)
    columns = [F.col(f"`{label}`").cast("double").alias(label), F.col(f"`{features_col}`")]
    if weight:
        columns.append(F.col(f"`{weight}`").cast("double").alias(weight))
    frame = raw.select(*columns)
    validation = None
    if validation_fraction:
        frame, validation = split_validation(frame, validation_fraction, validation_seed)
    elif validation_path:
        validation = read(validation_path)[0].select(*columns[:2])
    blocks = partitions or default_block_count(spark)
    plan = None
    if fmt == "parquet" and reader != "spark" and not validation_fraction:
        selected = [label, features_col] + ([weight] if weight else [])
        planned = plan_parquet_blocks(raw.inputFiles(), selected, blocks)
        plan = None if isinstance(planned, str) else planned
        if plan is None and reader == "pyarrow":
            raise DataError(f'data.reader = "pyarrow" cannot read {path}: {planned}')
        if plan is None:
            log.info("reading %s through Spark: %s", path, planned)
    if plan is None:
        frame = _to_blocks(frame, partitions, blocks)
    log.info("features: vector column %r of size %d, %s", features_col, n_features, chosen)
    return Frames(frame, validation, names, plan, chosen)
