"""Building one block on its executor, from the Arrow batches of its partition.

Each build task gets its partition as Arrow record batches [label, features..., (weight)]
(the features: n_x double columns, or one Spark ML vector column):
decoded by pyarrow from the Parquet files themselves when there is a
:class:`~sparklr.spark.parquet.ParquetPlan` (:func:`build_from_parquet`: the fast path, the
JVM never touches the data), generated in the task for a
:class:`~sparklr.spark.synthetic.SyntheticPlan` (:func:`build_from_synthetic`), otherwise
from Spark's scan of the DataFrame through
``mapInArrow`` (:func:`build_from_arrow`). On its executor the task (:func:`build_block`)

* encodes the categorical columns when the spec has a :class:`~sparklr.encoding.Design`
  (the batches then hold the raw input columns: :meth:`~sparklr.encoding.Design.encode`),
* streams the features into the block's files through its block type
  (:mod:`sparklr.spark.blocktype`), and copies the labels into y_p (float64) and, with a
  weight column, the sample weights into v_p (float64),
* checks them: rows with NaN, ±Inf or null anywhere (dropped with ``drop_invalid``), labels
  outside {0, 1}, negative weights; each check counts and keeps the first example, which the
  driver turns into a :class:`~sparklr.errors.DataError` naming the column and row,
* computes the block's :class:`~sparklr.stats.FeatureMoments` (the statistics pass comes free
  with the build),
* commits the files (:class:`~sparklr.spark.blockfiles.BlockWriter`) and returns ONE small
  :class:`BlockMeta` describing the block.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from pyspark import TaskContext
from pyspark.sql import Row
from pyspark.sql.pandas.types import from_arrow_schema

from sparklr.encoding import Design
from sparklr.spark.blockfiles import BlockWriter
from sparklr.spark.blocktype import BlockType, FeatureError, Features
from sparklr.stats import MAX_GRAM_FEATURES, FeatureMoments

if TYPE_CHECKING:
    from sparklr.spark.synthetic import SyntheticPlan

#: What the build tasks spend their time on (seconds per block, see BlockMeta.seconds).
BUILD_PHASES = ("receive", "copy", "check_and_stats", "write")


def _column(arrow_type: pa.DataType, default=None):
    return field(default=default, metadata={"arrow": arrow_type})


@dataclass(frozen=True)
class BlockMeta:
    """What the driver knows of one block: the one row its build task returns.

    The fields, with their Arrow types, are the row's schema (:data:`META_ARROW_SCHEMA`, and
    :data:`META_SPARK_SCHEMA` of ``mapInArrow`` derived from it). On both build paths the
    cached RDD holds Spark Rows of that schema (:meth:`to_row`, :meth:`of_row`): converting
    them in a Python stage after ``mapInArrow`` would take a second Python worker per task,
    and so twice the workers mapping each block."""

    partition: int = _column(pa.int32())
    #: The block's path (:mod:`sparklr.spark.blockfiles`), on the executor ``host``.
    path: str = _column(pa.string(), "")
    host: str = _column(pa.string(), "")
    rows: int = _column(pa.int64(), 0)
    dropped: int = _column(pa.int64(), 0)
    nonfinite: int = _column(pa.int64(), 0)
    nonfinite_example: str = _column(pa.string(), "")
    bad_labels: int = _column(pa.int64(), 0)
    bad_label_example: str = _column(pa.string(), "")
    bad_weights: int = _column(pa.int64(), 0)
    bad_weight_example: str = _column(pa.string(), "")
    #: The FeatureMoments, flattened (see :meth:`moment_fields` and :attr:`moments`).
    positives: float = _column(pa.float64(), 0.0)
    mean_bytes: bytes = _column(pa.binary(), b"")
    scatter_bytes: bytes = _column(pa.binary(), b"")
    weight_sum: float | None = _column(pa.float64())
    weight_sq_sum: float | None = _column(pa.float64())
    #: Build seconds per phase (BUILD_PHASES): receiving the Arrow batches (from the JVM, or
    #: pyarrow decoding Parquet), copying them into the block, checks + statistics, writing.
    seconds: tuple[float, ...] = _column(pa.list_(pa.float64()), ())
    #: Why the input could not be read ("" when it was).
    read_error: str = _column(pa.string(), "")
    #: Features the block type could not store (a FeatureError: vector size, index...).
    feature_error: str = _column(pa.string(), "")
    #: Feature arrays this block does not store (a binary CSR block: "values").
    absent: tuple[str, ...] = _column(pa.list_(pa.string()), ())
    #: Bytes of the block's stored features (dense X, or CSR indptr + indices + values).
    feature_bytes: int = _column(pa.int64(), 0)
    #: K of the fold ids "f" in the block's files (0: built without folds; issue 14).
    folds: int = _column(pa.int32(), 0)

    @classmethod
    def of_row(cls, row: Row) -> BlockMeta:
        """From a Spark Row of :data:`META_SPARK_SCHEMA`."""
        values = row.asDict()
        values["seconds"] = tuple(values["seconds"] or ())
        values["absent"] = tuple(values["absent"] or ())
        for name in ("mean_bytes", "scatter_bytes"):  # Spark gives a bytearray
            values[name] = bytes(values[name] or b"")
        return cls(**values)

    def to_row(self) -> Row:
        return Row(**asdict(self))

    def to_batch(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_pylist([asdict(self)], schema=META_ARROW_SCHEMA)

    @staticmethod
    def moment_fields(moments: FeatureMoments) -> dict:
        return {
            "positives": moments.positives,
            "mean_bytes": moments.mean.tobytes(),
            "scatter_bytes": moments.scatter.tobytes(),
            "weight_sum": moments.weight_sum,
            "weight_sq_sum": moments.weight_sq_sum,
        }

    @cached_property
    def moments(self) -> FeatureMoments:
        mean = np.frombuffer(self.mean_bytes, dtype=np.float64).copy()
        n = len(mean)
        stored = len(self.scatter_bytes) // 8
        shape = (n, n) if stored == n * n and n <= MAX_GRAM_FEATURES else (n,)
        return FeatureMoments(
            count=self.rows,
            mean=mean,
            scatter=np.frombuffer(self.scatter_bytes, dtype=np.float64).reshape(shape).copy(),
            positives=self.positives,
            weight_sum=self.weight_sum,
            weight_sq_sum=self.weight_sq_sum,
        )

    @property
    def weighted(self) -> bool:
        return self.weight_sum is not None


META_ARROW_SCHEMA = pa.schema([(f.name, f.metadata["arrow"]) for f in fields(BlockMeta)])
META_SPARK_SCHEMA = from_arrow_schema(META_ARROW_SCHEMA)


@dataclass(frozen=True)
class BuildSpec:
    """The plain arguments of a build, sent to every task."""

    dataset_id: str
    feature_names: tuple[str, ...]
    block_type: BlockType
    drop_invalid: bool = False
    #: The weight column's name ("" = no sample weights); it is the batches' last column.
    weight: str = ""
    #: With categorical columns: the batches are [label, *design.columns, (weight)], raw, and
    #: the build encodes them into [label, *feature_names, (weight)].
    design: Design | None = None

    def encoded(self, batches: Iterable[pa.RecordBatch]) -> Iterable[pa.RecordBatch]:
        if self.design is None:
            return batches
        return (self.design.encode(b, b.schema.names[0], self.weight) for b in batches)

    #: Cross-validation folds K (0 = none) and their seed: fold ids "f" (sparklr.tuning.folds).
    folds: int = 0
    fold_seed: int = 0


def build_from_arrow(batches: Iterator[pa.RecordBatch], spec: BuildSpec) -> Iterator:
    """mapInArrow body: the Arrow batches of one partition (from Spark's scan) → block files +
    one meta row. The batches are all received first, to learn the block's row count."""
    t0 = time.perf_counter()
    chunks = list(batches)
    received = time.perf_counter() - t0
    pid = TaskContext.get().partitionId()
    meta = build_block(pid, chunks, sum(batch.num_rows for batch in chunks), spec)
    receive, *others = meta.seconds
    yield replace(meta, seconds=(receive + received, *others)).to_batch()


def build_from_parquet(
    items: Iterator[tuple[int, tuple]], spec: BuildSpec, columns: tuple[str, ...]
) -> Iterator[Row]:
    """Task body of the pyarrow path: (partition, slices) → block files + one meta row; the
    block's row count is known from the plan, so the batches stream into the block."""
    from sparklr.spark.parquet import ParquetReadError, read_slices

    for pid, slices in items:
        rows = sum(s.rows for s in slices)
        try:
            raw = () if spec.design is None else tuple(spec.design.categorical)
            meta = build_block(pid, read_slices(slices, columns, raw=raw), rows, spec)
        except ParquetReadError as exc:
            # Bad data, not a failed task: report it in the meta (the driver raises a
            # DataError naming the file), so that Spark does not retry the task.
            yield BlockMeta(partition=pid, read_error=str(exc)).to_row()
            continue
        # Give the decode buffers back: a long-lived worker should hold nothing but mappings.
        pa.default_memory_pool().release_unused()
        yield meta.to_row()


def build_from_synthetic(
    items: Iterator[tuple[int, tuple[int, int]]], spec: BuildSpec, plan: SyntheticPlan
) -> Iterator[Row]:
    """Task body of the synthetic path: (partition, (start, stop)) → block files + one meta
    row; the task generates rows [start, stop) itself (:mod:`sparklr.spark.synthetic`)."""
    for pid, (start, stop) in items:
        yield build_block(pid, plan.batches(start, stop), stop - start, spec).to_row()


class _TimedBatches:
    """Iterate over record batches, adding the seconds spent waiting for each to ``seconds``
    (the "receive" phase of the build: from the JVM, or pyarrow decoding Parquet)."""

    def __init__(self, batches: Iterable[pa.RecordBatch]):
        self._batches = iter(batches)
        self.seconds = 0.0

    def __iter__(self):
        return self

    def __next__(self) -> pa.RecordBatch:
        t0 = time.perf_counter()
        try:
            return next(self._batches)
        finally:
            self.seconds += time.perf_counter() - t0


def build_block(
    pid: int, batches: Iterable[pa.RecordBatch], rows: int, spec: BuildSpec
) -> BlockMeta:
    """Arrow batches of block ``pid`` ([label, features..., (weight)], ``rows`` rows in all)
    → the block's files in the executor's local directory, and its :class:`BlockMeta`."""
    t0 = time.perf_counter()
    timed = _TimedBatches(batches)
    with BlockWriter(spec.dataset_id, pid) as writer:
        try:
            X, y, v = _receive(pid, spec.encoded(timed), rows, spec, writer)
        except FeatureError as exc:  # bad data, not a failed task (no retry): see BlockSet
            for _ in timed:  # consume the input, so that the Python worker is reused
                pass
            return BlockMeta(
                partition=pid,
                feature_error=f"partition {pid} {exc}",
                seconds=(timed.seconds, 0.0, 0.0, 0.0),
            )
        t_copy = time.perf_counter()
        X, y, v, checks = _check(pid, X, y, v, spec, writer)
        nan_free = (np.nan_to_num(y), None if v is None else np.nan_to_num(v))
        moments = spec.block_type.moments(X, *nan_free)
        absent = spec.block_type.absent_arrays(X)
        feature_bytes = int(X.nbytes)
        folds = _fold_ids(spec, X, y, v) if spec.folds else None  # issue 14
        t_stats = time.perf_counter()
        del X
        if len(y):
            writer.save("y", y)
            if v is not None:
                writer.save("v", v)
            if folds is not None:
                writer.save("f", folds)
            writer.commit()
    t_end = time.perf_counter()
    receive = timed.seconds
    return BlockMeta(
        partition=pid,
        path=writer.path,
        host=os.uname().nodename,
        rows=len(y),
        **checks,
        **BlockMeta.moment_fields(moments),
        seconds=(receive, t_copy - t0 - receive, t_stats - t_copy, t_end - t_stats),
        absent=absent,
        feature_bytes=feature_bytes,
        folds=spec.folds,
    )


def _fold_ids(spec: BuildSpec, X: Features, y: np.ndarray, v: np.ndarray | None) -> np.ndarray:
    """The block's int8 fold ids (:func:`sparklr.tuning.folds.fold_ids`)."""
    from sparklr.tuning.folds import fold_ids

    return fold_ids(spec.fold_seed, spec.folds, y, v, spec.block_type.row_digest(X))


def _receive(pid: int, batches, rows: int, spec: BuildSpec, writer: BlockWriter):
    """(X, y, v) of the batches: the features written through the block type's sink, the
    labels (and weights) copied into y (and v)."""
    n = len(spec.feature_names)
    width = spec.block_type.input_columns(n)
    features = list(range(1, width + 1))
    y = np.empty(rows, dtype=np.float64)
    v = np.empty(rows, dtype=np.float64) if spec.weight else None
    sink = spec.block_type.sink(writer, rows, n)
    offset = 0
    for batch in batches:
        k = batch.num_rows
        if k == 0:
            continue
        if offset + k > rows:
            raise RuntimeError(f"the partition has more rows than the {rows} expected")
        y[offset : offset + k] = batch.column(0).to_numpy(zero_copy_only=False)
        if v is not None:
            v[offset : offset + k] = batch.column(width + 1).to_numpy(zero_copy_only=False)
        sink.append(batch.select(features))
        offset += k
    if offset != rows:
        raise RuntimeError(f"partition {pid}: {offset} rows read, {rows} expected")
    return sink.finish(), y, v


def _check(pid: int, X: Features, y, v, spec: BuildSpec, writer: BlockWriter):
    """The block's checks (module docstring): (X, y, v) without the dropped rows, and the
    BlockMeta fields of the counts and first examples."""
    finite = spec.block_type.finite_rows(X) & np.isfinite(y)
    if v is not None:
        finite &= np.isfinite(v)
    nonfinite = int(len(y) - np.count_nonzero(finite))
    example = ""
    if nonfinite:
        example = _describe_nonfinite(pid, int(np.flatnonzero(~finite)[0]), X, y, v, spec)
    dropped = 0
    if nonfinite and spec.drop_invalid:
        X = spec.block_type.keep_rows(writer, X, finite)
        y = y[finite]
        v = None if v is None else v[finite]
        dropped = nonfinite
    bad_weights, bad_weight_example = _negative_weights(pid, v)
    bad_labels, bad_label_example = _bad_labels(y)
    checks = {
        "dropped": dropped,
        "nonfinite": nonfinite,
        "nonfinite_example": example,
        "bad_labels": bad_labels,
        "bad_label_example": bad_label_example,
        "bad_weights": bad_weights,
        "bad_weight_example": bad_weight_example,
    }
    return X, y, v, checks


def _describe_nonfinite(pid: int, row: int, X: Features, y, v, spec: BuildSpec) -> str:
    where = f"partition {pid} row {row}"
    if v is not None and not np.isfinite(v[row]):
        return f"{where}: weight {spec.weight!r} = {v[row]}"
    if not np.isfinite(y[row]):
        return f"{where}: label = {y[row]}"
    col, value = spec.block_type.first_nonfinite(X, row)
    return f"{where}: feature {spec.feature_names[col]!r} = {value}"


def _negative_weights(pid: int, v: np.ndarray | None) -> tuple[int, str]:
    if v is None:
        return 0, ""
    negative = v < 0
    count = int(np.count_nonzero(negative))
    if not count:
        return 0, ""
    row = int(np.flatnonzero(negative)[0])
    return count, f"partition {pid} row {row}: {v[row]!r}"


def _bad_labels(y: np.ndarray) -> tuple[int, str]:
    bad = np.isfinite(y) & (y != 0.0) & (y != 1.0)
    count = int(np.count_nonzero(bad))
    return count, repr(float(y[np.flatnonzero(bad)[0]])) if count else ""
