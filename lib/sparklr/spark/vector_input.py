"""A Spark ML vector column (``data.features_col``) or a LIBSVM file as the features: its size
n_x, feature names and density, and the block type that stores it (driver side).

* n_x: the column's ML attribute metadata (``metadata["ml_attr"]["num_attrs"]``, written by
  VectorAssembler, OneHotEncoder and the libsvm reader) when present, else the Parquet
  footers' statistics when they say it (:class:`FooterScan`: no data read), else one pass
  over the column (:func:`scan_vectors`: the smallest and largest size; they must agree).
  Every block build checks every row's size against n_x again
  (:func:`sparklr.spark.vectors.decode`).
* names: the metadata's attribute names (``ml_attr.attrs.{numeric,binary,nominal}[].name``
  by ``idx``), else ``features[0]``, ``features[1]``, … (also for unnamed attributes).
* block type (:func:`choose_block_type`), ``data.block_type``: "dense", "sparse" or "auto":
  CSR when the stored fraction of the rows' entries (from the footers, the scan, or the first
  :data:`DENSITY_SAMPLE_ROWS` rows),
  d = Σ stored / (rows · n_x), is below :data:`SPARSE_DENSITY`, or n_x > :data:`DENSE_MAX_FEATURES`;
  dense otherwise. A dense vector stores all n_x entries (d = 1): dense vector columns give
  dense blocks. Why 0.1: a CSR entry costs 12 bytes (int32 index + double) against 8 dense, and
  scipy's CSR mat-vec costs several times BLAS's dense one per entry; above 2¹⁶ features a
  dense row is ≥ 512 KiB.
* LIBSVM (:func:`read_libsvm`): Spark's ``libsvm`` reader (1-based indices in the file, 0-based
  in the vectors), ``numFeatures`` = ``data.num_features`` when > 0; every line parsed once
  before the build (:func:`read_libsvm`). When that fails (Spark's error names no line), a
  regular expression over the text (``spark.read.text``, in Spark) finds a file with a line
  that does not parse, and that file read as an RDD numbers its lines: the DataError names
  the file, the line number and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.ml.linalg import VectorUDT
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from sparklr.errors import DataError, first_message
from sparklr.spark.blocktype import BlockType
from sparklr.spark.csr import CsrBlock
from sparklr.spark.parquet import ParquetPlan, ParquetReadError, read_slices
from sparklr.spark.vectors import SPARSE, DenseVectorBlock

BLOCK_TYPES = ("auto", "dense", "sparse")
#: "auto" stores CSR blocks below this density (fraction of stored entries), see above.
SPARSE_DENSITY = 0.1
#: ... and whenever n_x exceeds this.
DENSE_MAX_FEATURES = 1 << 16
#: Rows whose stored entries measure the density (the first ones: a LIMIT, not a full pass).
DENSITY_SAMPLE_ROWS = 10_000


def is_vector_column(df: DataFrame | StructType, column: str) -> bool:
    return isinstance(_field(df, column).dataType, VectorUDT)


def _field(df: DataFrame | StructType, column: str):
    """The field ``column`` of a frame or of its schema."""
    schema = df if isinstance(df, StructType) else df.schema
    try:
        return schema[column]
    except (KeyError, LookupError):
        raise DataError(
            f"features column {column!r} not found; columns are: {', '.join(schema.names)}"
        ) from None


def metadata_size_and_names(
    df: DataFrame | StructType, column: str
) -> tuple[int | None, list[str] | None]:
    """(n_x, names) from the column's ML attribute metadata; None for what it lacks."""
    attr = (_field(df, column).metadata or {}).get("ml_attr") or {}
    size = attr.get("num_attrs")
    groups = (attr.get("attrs") or {}).values()
    named = {a["idx"]: a["name"] for group in groups for a in group if "name" in a}
    if size is None and named:
        size = max(named) + 1
    if size is None:
        return None, None
    names = [named.get(i, f"{column}[{i}]") for i in range(size)] if named else None
    return int(size), names


@dataclass(frozen=True)
class VectorScan:
    """What :func:`scan_vectors` found: rows, the smallest and largest vector size, and the
    number of stored entries (a dense vector stores all its size)."""

    rows: int
    min_size: int
    max_size: int
    stored: int

    def density(self, n_features: int) -> float:
        return self.stored / max(1, self.rows * n_features)


def _scan_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield pa.RecordBatch.from_pylist([_scan(batches)], schema=_SCAN_SCHEMA)


def _scan(batches: Iterator[pa.RecordBatch]) -> dict[str, int]:
    """rows, min_size, max_size, stored of the vectors in the batches' first column."""
    rows, lo, hi, stored = 0, np.iinfo(np.int64).max, -1, 0
    for batch in batches:
        column = batch.column(0)
        if batch.num_rows == 0:
            continue
        valid = column.drop_null() if column.null_count else column
        kind, size, _, values = valid.flatten()
        lengths = pc.list_value_length(values).fill_null(0).to_numpy(zero_copy_only=False)
        sparse = kind.to_numpy(zero_copy_only=False) == SPARSE
        sizes = np.where(sparse, size.fill_null(-1).to_numpy(zero_copy_only=False), lengths)
        rows += batch.num_rows
        stored += int(lengths.sum())
        if len(sizes):
            lo, hi = min(lo, int(sizes.min())), max(hi, int(sizes.max()))
    return {"rows": rows, "min_size": lo, "max_size": hi, "stored": stored}


_SCAN_SCHEMA = pa.schema(
    [
        ("rows", pa.int64()),
        ("min_size", pa.int64()),
        ("max_size", pa.int64()),
        ("stored", pa.int64()),
    ]
)


def scan_vectors(df: DataFrame, column: str, limit: int = 0) -> VectorScan:
    """One pass over the vector ``column`` (of its first ``limit`` rows when > 0)."""
    frame = df.select(F.col(f"`{column}`"))
    if limit:
        frame = frame.limit(limit)
    parts = frame.mapInArrow(_scan_batches, "rows long, min_size long, max_size long, stored long")
    return _merged([p.asDict() for p in parts.collect()])


class FooterScan:
    """:class:`VectorScan` of a Parquet vector column from the files' footers alone (no data
    read; collected by :func:`~sparklr.spark.parquet.plan_parquet_blocks`'s ``on_footer``).

    Spark stores a vector as struct<type, size, indices, values>. When every row group's
    statistics say every row is a non-null sparse vector (``type`` min = max = 0, no nulls)
    and give ``size``'s min and max, then rows (num_rows), min_size and max_size are exact;
    ``stored`` is the ``values`` leaf's num_values, which counts each stored entry plus one
    level per empty list: stored ≤ it ≤ stored + rows, so the density is over by at most
    1/n_x. Otherwise (dense or null vectors, statistics missing) :meth:`result` is None and
    the executors scan the data (:func:`scan_planned_vectors`). Every build checks every
    row's size again (:func:`sparklr.spark.vectors.decode`)."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.rows, self.min_size, self.max_size, self.stored = 0, np.iinfo(np.int64).max, -1, 0
        self.exact = True

    def __call__(self, metadata) -> None:
        for g in range(metadata.num_row_groups):
            group = metadata.row_group(g)
            if group.num_rows == 0:
                continue
            chunks = {c.path_in_schema: c for c in map(group.column, range(group.num_columns))}
            kind, size = chunks.get(f"{self.column}.type"), chunks.get(f"{self.column}.size")
            values = chunks.get(f"{self.column}.values.list.element")
            if not (_all_equal(kind, SPARSE) and _bounds(size) and values is not None):
                self.exact = False
                return
            lo, hi = _bounds(size)
            self.rows += group.num_rows
            self.min_size, self.max_size = min(self.min_size, lo), max(self.max_size, hi)
            self.stored += values.num_values

    def result(self) -> VectorScan | None:
        if not self.exact:
            return None
        if not self.rows:
            return VectorScan(0, 0, 0, 0)
        return VectorScan(self.rows, self.min_size, self.max_size, self.stored)


def _bounds(chunk) -> tuple[int, int] | None:
    """(min, max) of a column chunk without nulls whose statistics have them, else None."""
    stats = chunk.statistics if chunk is not None and chunk.is_stats_set else None
    if stats is None or not stats.has_min_max or stats.null_count != 0:
        return None
    return int(stats.min), int(stats.max)


def _all_equal(chunk, value: int) -> bool:
    return _bounds(chunk) == (value, value)


def scan_planned_vectors(spark: SparkSession, plan: ParquetPlan, column: str) -> VectorScan:
    """:func:`scan_vectors` of ``column`` as pyarrow reads it in the executors, one task per
    block of ``plan`` (the Parquet files the build will read): no JVM decoding of the rows,
    which made the scan most of a vector input's load (200,000 rows × 30 entries: ~8 s)."""

    def scan(items):
        for slices in items:
            try:
                yield _scan(read_slices(slices, [column]))
            except (ParquetReadError, KeyError, pa.ArrowException) as exc:  # bad data: exit 3
                yield {"error": f"cannot read features column {column!r}: {exc}"}

    blocks = list(plan.blocks)
    parts = spark.sparkContext.parallelize(blocks, len(blocks)).mapPartitions(scan).collect()
    errors = [p["error"] for p in parts if "error" in p]
    if errors:
        raise DataError(errors[0])
    return _merged(parts)


def _merged(parts: list[dict[str, int]]) -> VectorScan:
    found = [p for p in parts if p["rows"]]
    if not found:
        return VectorScan(0, 0, 0, 0)
    return VectorScan(
        sum(p["rows"] for p in found),
        min(p["min_size"] for p in found),
        max(p["max_size"] for p in found),
        sum(p["stored"] for p in found),
    )


def vector_size(
    df: DataFrame | StructType, column: str, scan: VectorScan | None = None
) -> tuple[int, list[str], VectorScan | None]:
    """(n_x, names, the full scan when one was needed or given) of the vector ``column``
    (a schema alone will do when the metadata or ``scan`` says the size)."""
    size, names = metadata_size_and_names(df, column)
    if size is None:
        scan = scan or scan_vectors(df, column)
        if scan.rows == 0:
            raise DataError(f"features column {column!r} has no rows")
        if scan.min_size != scan.max_size:
            raise DataError(
                f"features column {column!r} has vectors of sizes {scan.min_size} to "
                f"{scan.max_size}; all rows must have the same size"
            )
        size = scan.max_size
    return size, names or [f"{column}[{i}]" for i in range(size)], scan


def choose_block_type(
    choice: str, n_features: int, density: float, dtype: str = "float64"
) -> BlockType:
    """The block type of a vector column (module docstring's rule for "auto")."""
    if choice not in BLOCK_TYPES:
        raise DataError(f"unknown block type {choice!r}; use one of {', '.join(BLOCK_TYPES)}")
    sparse = choice == "sparse" or (
        choice == "auto" and (density < SPARSE_DENSITY or n_features > DENSE_MAX_FEATURES)
    )
    return CsrBlock(n_features, dtype) if sparse else DenseVectorBlock(dtype)


def vector_block_type(
    df: DataFrame | StructType,
    column: str,
    n_features: int,
    choice: str,
    dtype: str,
    scan: VectorScan | None,
) -> BlockType:
    """:func:`choose_block_type` with the density measured (from ``scan``, or a sample of the
    frame ``df``; a schema will do with ``scan``)."""
    density = 1.0
    if choice == "auto":
        sample = scan or scan_vectors(df, column, DENSITY_SAMPLE_ROWS)
        density = sample.density(n_features) if sample.rows else 1.0
    return choose_block_type(choice, n_features, density, dtype)


#: One LIBSVM line: a label, then index:value pairs; a trailing # comment; or a blank line.
_NUMBER = r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|Infinity)"
LIBSVM_LINE = rf"^\s*(?:#.*)?$|^\s*{_NUMBER}(?:\s+\d+:{_NUMBER})*\s*(?:#.*)?$"


def read_libsvm(
    spark: SparkSession, path: str, num_features: int = 0
) -> tuple[DataFrame, VectorScan | None]:
    """([label, features] of a LIBSVM file or directory, the scan of its vectors when one
    was made); a line that does not parse is a DataError naming the file and line number.

    Every line is parsed once before the build, so that a bad one fails here: without
    ``num_features`` by Spark's reader itself (its pass finding the largest index), with it
    by :func:`scan_vectors` (which also measures the density)."""
    reader = spark.read.format("libsvm")
    if num_features:
        reader = reader.option("numFeatures", num_features)
    try:
        frame = reader.load(path)
        scan = scan_vectors(frame, "features") if num_features else None
    except Exception as exc:
        message = first_message(exc, 300)
        if "PATH_NOT_FOUND" in message or "does not exist" in message:
            raise DataError(f"input path {path} does not exist") from exc
        raise DataError(f"cannot read {path} as libsvm: {_bad_line(spark, path, message)}") from exc
    return frame, scan


def _bad_line(spark: SparkSession, path: str, reader_message: str) -> str:
    """Where the first line that does not parse is, or the reader's message without one: the
    regular expression over all lines finds a bad line's file; that one file, read as an RDD
    (Hadoop splits in offset order, so zipWithIndex numbers its lines), gives the number."""
    try:
        lines = spark.read.text(path).withColumn("file", F.input_file_name())
        bad = lines.where(~F.col("value").rlike(LIBSVM_LINE)).select("file").first()
        if bad is None:
            return reader_message
        numbered = spark.sparkContext.textFile(bad["file"]).zipWithIndex()
        pattern = re.compile(LIBSVM_LINE)
        text, index = numbered.filter(lambda p: pattern.match(p[0]) is None).first()
    except Exception:  # the text itself cannot be read: the reader's message says why
        return reader_message
    return f"{bad['file']} line {index + 1} does not parse as LIBSVM: {text[:120]!r}"
