"""The frames of features in one Spark ML vector column (``data.features_col``) or a LIBSVM
file: :func:`load_vector_frames` (called by :func:`sparklr.spark.loading.load_frames`).

Local Parquet that Spark wrote, read by pyarrow, is loaded without Spark SQL: the listing
and the schema Spark stored come from the files
(:func:`~sparklr.spark.parquet.list_local_parquet`), the vector size and density from the
footers (:class:`~sparklr.spark.vector_input.FooterScan`, else a scan in the executors), so
no DataFrame is made (``train`` None) and the JVM's first query (~2 s) is never paid.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from sparklr.errors import DataError
from sparklr.spark.blocktype import BlockType
from sparklr.spark.data import NUMERIC_TYPES
from sparklr.spark.loading import Frames, default_block_count, split_validation, to_blocks
from sparklr.spark.parquet import ParquetPlan, list_local_parquet, plan_parquet_blocks
from sparklr.spark.sources import Source, apply_filter, pyarrow_reason, read_source
from sparklr.spark.vector_input import (
    FooterScan,
    VectorScan,
    is_vector_column,
    metadata_size_and_names,
    read_libsvm,
    scan_planned_vectors,
    vector_block_type,
    vector_size,
)

log = logging.getLogger("sparklr.data")


def load_vector_frames(
    spark: SparkSession,
    *,
    source: Source,
    label: str,
    features_col: str,
    partitions: int = 0,
    weight: str = "",
    validation_source: Source | None = None,
    validation_fraction: float = 0.0,
    validation_seed: int = 0,
    reader: str = "auto",
    block_type: str = "auto",
    num_features: int = 0,
    dtype: str = "float64",
    dataframe: bool = False,
) -> Frames:
    """:func:`~sparklr.spark.loading.load_frames` for features in one Spark ML vector column
    ``features_col`` (of a Parquet/CSV table, or the "features" of a LIBSVM file): frames
    [label, features_col, (weight)], names and block type from
    :mod:`sparklr.spark.vector_input`; Parquet is read by pyarrow in the executors as for
    double columns (the vector struct read as stored). Without validation data and unless
    ``dataframe`` asks for the frame, local Parquet may be listed without Spark SQL (module
    docstring)."""
    selected = [label, features_col] + ([weight] if weight else [])
    listed = not (validation_source or validation_fraction or dataframe) and _listed(
        spark, source, reader, selected, partitions, block_type, dtype
    )
    if listed:
        return listed

    def read(src: Source) -> tuple[DataFrame, VectorScan | None]:
        if src.format != "libsvm":
            return read_source(spark, src), None
        frame, scan = read_libsvm(spark, src.path, num_features)
        if src.filter:  # the scan measured the unfiltered rows
            return apply_filter(frame, src), None
        return frame, scan

    raw, scan = read(source)
    _check_columns(raw.schema, label, weight, features_col)
    blocks = partitions or default_block_count(spark)
    plan = None
    reason = pyarrow_reason(source) if source.format == "parquet" else ""
    if source.format == "parquet" and reader != "spark" and not validation_fraction and not reason:
        footers = FooterScan(features_col)
        planned = plan_parquet_blocks(raw.inputFiles(), selected, blocks, on_footer=footers)
        plan = None if isinstance(planned, str) else planned
        scan = footers.result() if plan is not None else None
        if plan is None and reader == "pyarrow":
            raise DataError(f'data.reader = "pyarrow" cannot read {source.path}: {planned}')
        if plan is None:
            log.info("reading %s through Spark: %s", source.path, planned)
    elif reason:
        log.info("reading %s through Spark: %s", source.path, reason)
    if plan is not None and scan is None and metadata_size_and_names(raw, features_col)[0] is None:
        scan = scan_planned_vectors(spark, plan, features_col)  # the build's reader, not the JVM's
    names, chosen = _names_and_type(raw, features_col, scan, block_type, dtype)
    columns = [F.col(f"`{label}`").cast("double").alias(label), F.col(f"`{features_col}`")]
    if weight:
        columns.append(F.col(f"`{weight}`").cast("double").alias(weight))
    frame = raw.select(*columns)
    validation = None
    if validation_fraction:
        frame, validation = split_validation(frame, validation_fraction, validation_seed)
    elif validation_source:
        validation = read(validation_source)[0].select(*columns[:2])
    if plan is None:
        frame = to_blocks(frame, partitions, blocks)
    return Frames(
        frame,
        validation,
        names,
        plan,
        roles=_roles(raw.columns, selected),
        block_type=chosen,
    )


def _listed(
    spark: SparkSession,
    source: Source,
    reader: str,
    selected: list[str],
    partitions: int,
    block_type: str,
    dtype: str,
) -> Frames | None:
    """The frames without Spark SQL (module docstring), or None when Spark's reader is
    needed: not Parquet, data.reader = "spark", a filter or reader option, a listing or plan
    pyarrow refuses, or an "auto" block type whose density neither the footers nor a scan
    made for the size would give (Spark's LIMIT sample is cheaper than a full pass). When
    the footers do not say the size, the executors scan the column (no SQL either)."""
    if source.format != "parquet" or reader == "spark" or pyarrow_reason(source):
        return None
    listing = list_local_parquet(source.path)
    if isinstance(listing, str):
        log.debug("listing %s through Spark: %s", source.path, listing)
        return None
    label, features_col = selected[0], selected[1]
    _check_columns(listing.schema, label, selected[2] if len(selected) > 2 else "", features_col)
    footers = FooterScan(features_col)
    blocks = partitions or default_block_count(spark)
    plan = plan_parquet_blocks(listing.files, selected, blocks, on_footer=footers)
    if not isinstance(plan, ParquetPlan):
        return None
    scan = footers.result()
    if scan is None:  # the footers do not say the sizes
        if metadata_size_and_names(listing.schema, features_col)[0] is not None:
            if block_type == "auto":  # only the density is missing: Spark's LIMIT sample
                return None
        else:
            scan = scan_planned_vectors(spark, plan, features_col)  # as the Spark path would
    names, chosen = _names_and_type(listing.schema, features_col, scan, block_type, dtype)
    roles = _roles(listing.schema.names, selected)
    return Frames(None, None, names, plan, roles=roles, block_type=chosen)


def _names_and_type(
    frame: DataFrame | StructType,
    features_col: str,
    scan: VectorScan | None,
    block_type: str,
    dtype: str,
) -> tuple[list[str], BlockType]:
    """(feature names, block type) of the vector column (n_x = len(names)), logged."""
    n_features, names, scan = vector_size(frame, features_col, scan)
    chosen = vector_block_type(frame, features_col, n_features, block_type, dtype, scan)
    log.info("features: vector column %r of size %d, %s", features_col, n_features, chosen)
    return names, chosen


def _check_columns(schema: StructType, label: str, weight: str, features_col: str) -> None:
    """The label (and weight) columns exist and are numeric; the features are a vector."""
    for column, role in ((label, "label"), (weight, "weight")):
        if column and column not in schema.names:
            raise DataError(
                f"{role} column {column!r} not found; columns are: {', '.join(schema.names)}"
            )
        if column and not isinstance(schema[column].dataType, NUMERIC_TYPES):
            raise DataError(f"{role} column {column!r} must be numeric")
    if not is_vector_column(schema, features_col):
        kind = schema[features_col].dataType.simpleString()
        raise DataError(f"features column {features_col!r} has type {kind}, not a Spark ML vector")


def _roles(columns: list[str], selected: list[str]) -> dict[str, str]:
    """Every input column's role: the label, the vector, the weight, or ignored."""
    label, features_col = selected[0], selected[1]
    roles = {c: f"ignored: the features are {features_col!r}" for c in columns}
    roles.update({label: "label", features_col: "vector"})
    if len(selected) > 2:
        roles[selected[2]] = "weight"
    return roles
