"""Executor-resident NumPy blocks, and the distributed sums over them.

Build (one pass over the source, :meth:`BlockSet.build`). Each task gets its partition as Arrow
record batches [label, features...]: decoded by pyarrow from the Parquet files themselves when
there is a :class:`~sparklr.spark.parquet.ParquetPlan` (the fast path: the JVM never touches
the data), otherwise from Spark's scan of the DataFrame through ``mapInArrow``. On its
executor the task

* copies them once into a C-contiguous block X_p (m_p × n_x, ``dtype``) and y_p (float64),
  and, with a weight column, the sample weights v_p (float64; finite and ≥ 0, else a
  :class:`DataError` naming the column),
* checks them (non-finite values, labels outside {0, 1}) and computes the block's
  :class:`~sparklr.stats.FeatureMoments` (the statistics pass comes free with the build),
* saves X_p and y_p as ``.npy`` files in the executor's local directory (SPARK_LOCAL_DIRS),
* returns ONE small row describing the block (path, counts, moments).

The RDD of those rows is cached. Its partitions live in the block manager of the executor
that wrote the files, so Spark schedules later tasks on partition p there (PROCESS_LOCAL).

Iteration (:meth:`BlockSet.sums`, one Spark job): (w, b) are broadcast with the job's task
binary (they travel in the task closure; see :meth:`BlockSet._run`); each task takes its row,
memory-maps X_p and y_p (the page cache holds one copy per executor, shared by all its Python
workers, and nothing is copied from the JVM), and returns the block's
:class:`~sparklr.kernels.BlockSums`; the driver collects them in partition order and adds
them left to right, so the result does not depend on timing.

Misses. A lost executor loses its cached rows too: Spark recomputes them from lineage, which
rebuilds the files on the new executor within the same task. If the files vanish while the row
survives (local directory cleaned, task run elsewhere), the task reports a miss and the driver
rebuilds every block from the source once, then repeats the pass. Either way the block's bytes
are the same, so the result is too.
"""

from __future__ import annotations

import hashlib
import logging
import mmap as mmap_module
import os
import time
import uuid
from collections import namedtuple
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark import TaskContext
from pyspark.sql import DataFrame, SparkSession

from sparklr.errors import DataError
from sparklr.kernels import BlockSums, block_sums, sum_in_order
from sparklr.spark.parquet import ParquetPlan
from sparklr.stats import MAX_GRAM_FEATURES, FeatureMoments, merge_all

log = logging.getLogger(__name__)

#: Test-only fault injection: "EVALUATION:PARTITION" fails that task's first attempt.
FAULT_ENV = "SPARKLR_TEST_FAIL_TASK"

META_SCHEMA = (
    "partition int, path string, host string, rows long, dropped long, "
    "nonfinite long, nonfinite_example string, bad_labels long, bad_label_example string, "
    "positives double, mean binary, scatter binary, "
    "bad_weights long, bad_weight_example string, weight_sum double, weight_sq_sum double, "
    "seconds array<double>, read_error string"
)


@dataclass(frozen=True)
class BlockMeta:
    """What the driver knows of one block."""

    partition: int
    path: str
    host: str
    rows: int
    dropped: int
    nonfinite: int
    nonfinite_example: str
    bad_labels: int
    bad_label_example: str
    moments: FeatureMoments
    bad_weights: int = 0
    bad_weight_example: str = ""
    #: Build seconds per phase (BUILD_PHASES): receiving the Arrow batches from the JVM,
    #: copying them into the block, checks + statistics, writing the files.
    seconds: tuple[float, ...] = ()


def _local_root() -> str:
    return os.environ.get("SPARK_LOCAL_DIRS", "/tmp").split(",")[0]


def _describe_nonfinite(X: np.ndarray, y: np.ndarray, row: int, names: list[str], pid: int) -> str:
    if not np.isfinite(y[row]):
        return f"partition {pid} row {row}: label = {y[row]}"
    col = int(np.flatnonzero(~np.isfinite(X[row]))[0])
    return f"partition {pid} row {row}: feature {names[col]!r} = {X[row, col]}"


class _TimedBatches:
    """Iterate over record batches, adding the seconds spent waiting for each to ``seconds``
    (the "receive" phase of the build: from the JVM, or pyarrow decoding Parquet)."""

    def __init__(self, batches):
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


def _write_block(batches, out, n: int, dtype: str, y: np.ndarray, v: np.ndarray | None) -> int:
    """Write the features of Arrow batches [label, features..., (weight)] (float64 columns) to
    the file ``out`` as row-major ``dtype`` rows, and their labels (and weights) into y (and v),
    batch by batch: Arrow transposes each batch into a row-major tensor (nulls → NaN, for the
    checks to find), written as one contiguous run of rows. (Plain writes: filling a fresh file
    through a shared memory map costs a page fault and a filesystem callback per page, measured
    3-10x slower; and Arrow's transpose is ~4x faster than column-by-column NumPy copies into
    fresh buffers.) Returns the number of rows written, which must be len(y)."""
    offset = 0
    features = list(range(1, n + 1))
    for batch in batches:
        k = batch.num_rows
        if k == 0:
            continue
        if offset + k > len(y):
            raise RuntimeError(f"the partition has more rows than the {len(y)} expected")
        y[offset : offset + k] = batch.column(0).to_numpy(zero_copy_only=False)
        rows = np.asarray(batch.select(features).to_tensor(null_to_nan=True, row_major=True))
        out.write(rows.astype(dtype, copy=False).data)
        if v is not None:
            v[offset : offset + k] = batch.column(n + 1).to_numpy(zero_copy_only=False)
        offset += k
    return offset


def _build_partition(batches: Iterator[pa.RecordBatch], **params) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: the Arrow batches of one partition (from Spark's scan) → resident block
    files + one meta row. The batches are all received first, to learn the block's row count."""
    t0 = time.perf_counter()
    chunks = list(batches)
    received = time.perf_counter() - t0
    pid = TaskContext.get().partitionId()
    m_p = sum(batch.num_rows for batch in chunks)
    meta = _build_block(pid, chunks, m_p, **params)
    meta["seconds"][0] += received
    yield pa.RecordBatch.from_pylist([meta], schema=_META_ARROW_SCHEMA)


def _build_from_parquet(
    items: Iterator[tuple[int, tuple]], *, columns: tuple[str, ...], **params
) -> Iterator[MetaRow]:
    """Task body of the pyarrow path: (partition, slices) → resident block files + one meta row;
    the block's row count is known from the plan, so the batches stream into the block."""
    from sparklr.spark.parquet import ParquetReadError, read_slices

    for pid, slices in items:
        m_p = sum(s.rows for s in slices)
        try:
            meta = _build_block(pid, read_slices(slices, columns), m_p, **params)
        except ParquetReadError as exc:
            # Bad data, not a failed task: report it in the meta row (the driver raises a
            # DataError naming the file), so that Spark does not retry the task.
            yield MetaRow(**_empty_meta(pid, read_error=str(exc)))
            continue
        # Give the decode buffers back: a long-lived worker should hold nothing but mappings.
        pa.default_memory_pool().release_unused()
        yield MetaRow(**meta)


def _build_block(
    pid: int,
    batches,
    m_p: int,
    *,
    dataset_id: str,
    feature_names: list[str],
    dtype: str,
    drop_invalid: bool,
    weight: str = "",
) -> dict:
    """Arrow batches of block ``pid`` ([label, features..., (weight)], ``m_p`` rows in all) →
    the block's files in the executor's local directory, and its meta row (as a dict).

    X_p is streamed into its (temporary) .npy file, so the block goes to the page cache once,
    with no private copy, and is then memory-mapped read-only for the checks and statistics;
    the file is renamed into place only when complete."""
    t0 = time.perf_counter()
    n = len(feature_names)
    timed = _TimedBatches(batches)
    directory = os.path.join(_local_root(), "sparklr-blocks", dataset_id)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"part-{pid:05d}")
    x_tmp = f"{path}.X.{uuid.uuid4().hex}.tmp.npy"
    y = np.empty(m_p, dtype=np.float64)
    v = np.empty(m_p, dtype=np.float64) if weight else None
    try:
        if m_p:
            with open(x_tmp, "wb") as out:
                header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": (m_p, n)}
                np.lib.format.write_array_header_1_0(out, header)
                filled = _write_block(timed, out, n, dtype, y, v)
            X = np.load(x_tmp, mmap_mode="r").view(np.ndarray)
        else:
            filled = _write_block(timed, None, n, dtype, y, v)
            X = np.empty((0, n), dtype=dtype)
        if filled != m_p:
            raise RuntimeError(f"partition {pid}: {filled} rows read, {m_p} expected")
        t_copy = time.perf_counter()

        finite = np.isfinite(X).all(axis=1) & np.isfinite(y)
        if v is not None:
            finite &= np.isfinite(v)
        nonfinite = int(m_p - np.count_nonzero(finite))
        example = ""
        if nonfinite:
            row = int(np.flatnonzero(~finite)[0])
            if v is not None and not np.isfinite(v[row]):
                example = f"partition {pid} row {row}: weight {weight!r} = {v[row]}"
            else:
                example = _describe_nonfinite(X, y, row, feature_names, pid)
        dropped = 0
        if nonfinite and drop_invalid:
            kept = np.ascontiguousarray(X[finite])
            y = y[finite]
            v = None if v is None else v[finite]
            dropped, m_p = nonfinite, int(np.count_nonzero(finite))
            del X
            os.remove(x_tmp)
            X = kept
            if m_p:
                np.save(x_tmp, X, allow_pickle=False)
        bad_weights, bad_weight_example = 0, ""
        if v is not None:
            negative = v < 0
            bad_weights = int(np.count_nonzero(negative))
            if bad_weights:
                row = int(np.flatnonzero(negative)[0])
                bad_weight_example = f"partition {pid} row {row}: {v[row]!r}"
        bad = np.isfinite(y) & (y != 0.0) & (y != 1.0)
        bad_labels = int(np.count_nonzero(bad))
        bad_example = repr(float(y[np.flatnonzero(bad)[0]])) if bad_labels else ""
        moments = FeatureMoments.of_block(
            X, np.nan_to_num(y), None if v is None else np.nan_to_num(v)
        )
        t_stats = time.perf_counter()
        del X
        if m_p:
            os.replace(x_tmp, f"{path}.X.npy")
            for suffix, array in [("y", y)] + ([] if v is None else [("v", v)]):
                tmp = f"{path}.{suffix}.{uuid.uuid4().hex}.tmp.npy"
                np.save(tmp, array, allow_pickle=False)
                os.replace(tmp, f"{path}.{suffix}.npy")
    except BaseException:
        if os.path.exists(x_tmp):
            os.remove(x_tmp)
        raise
    t_end = time.perf_counter()
    return {
        "partition": pid,
        "path": path,
        "host": os.uname().nodename,
        "rows": m_p,
        "dropped": dropped,
        "nonfinite": nonfinite,
        "nonfinite_example": example,
        "bad_labels": bad_labels,
        "bad_label_example": bad_example,
        "positives": moments.positives,
        "mean": moments.mean.tobytes(),
        "scatter": moments.scatter.tobytes(),
        "bad_weights": bad_weights,
        "bad_weight_example": bad_weight_example,
        "weight_sum": moments.weight_sum,
        "weight_sq_sum": moments.weight_sq_sum,
        "seconds": [
            timed.seconds,
            t_copy - t0 - timed.seconds,
            t_stats - t_copy,
            t_end - t_stats,
        ],
        "read_error": "",
    }


def _empty_meta(pid: int, read_error: str) -> dict:
    """The meta row of a block that could not be read."""
    fields = dict.fromkeys(_META_ARROW_SCHEMA.names)
    fields.update(partition=pid, rows=0, read_error=read_error, seconds=[])
    return fields


#: What the build tasks spend their time on (seconds per block, see BlockMeta.seconds).
BUILD_PHASES = ("receive", "copy", "check_and_stats", "write")


_META_ARROW_SCHEMA = pa.schema(
    [
        ("partition", pa.int32()),
        ("path", pa.string()),
        ("host", pa.string()),
        ("rows", pa.int64()),
        ("dropped", pa.int64()),
        ("nonfinite", pa.int64()),
        ("nonfinite_example", pa.string()),
        ("bad_labels", pa.int64()),
        ("bad_label_example", pa.string()),
        ("positives", pa.float64()),
        ("mean", pa.binary()),
        ("scatter", pa.binary()),
        ("bad_weights", pa.int64()),
        ("bad_weight_example", pa.string()),
        ("weight_sum", pa.float64()),
        ("weight_sq_sum", pa.float64()),
        ("seconds", pa.list_(pa.float64())),
        ("read_error", pa.string()),
    ]
)

#: The meta row of the pyarrow build path (same fields as the Spark path's rows).
MetaRow = namedtuple("MetaRow", _META_ARROW_SCHEMA.names)


# Worker-side cache of memory-mapped blocks: path → (X, y, inode). A Python worker keeps the
# mappings of the blocks it has served (any idle worker may get any partition); the pages are
# the executor's page cache, shared by all its workers, so this costs address space, not memory.
_OPEN_BLOCKS: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}


def _map(file: str) -> np.ndarray:
    """Memory-map a .npy file read-only, as a plain ndarray (not np.memmap: slicing and ufuncs
    on a memmap go through Python-level hooks on every chunk), and ask the kernel to read ahead."""
    mm = np.load(file, mmap_mode="r")
    base = getattr(mm, "_mmap", None)
    if base is not None and hasattr(base, "madvise") and hasattr(mmap_module, "MADV_WILLNEED"):
        try:
            base.madvise(mmap_module.MADV_WILLNEED)
        except OSError:
            pass
    return mm.view(np.ndarray)


def _open_block(path: str) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """(X, y, newly mapped) of the block at ``path``, memory-mapped once per worker; None when
    its files are gone.

    A file that was deleted (local directory cleaned, block removed) or replaced is a miss even
    if this worker still maps the old inode: mappings of vanished files are dropped here, so
    they do not keep the space alive."""
    x_file, y_file = f"{path}.X.npy", f"{path}.y.npy"
    for cached in [p for p in _OPEN_BLOCKS if p != path]:
        if not os.path.exists(f"{cached}.X.npy"):
            del _OPEN_BLOCKS[cached]
    try:
        inode = os.stat(x_file).st_ino
        os.stat(y_file)
    except FileNotFoundError:
        _OPEN_BLOCKS.pop(path, None)
        return None
    block = _OPEN_BLOCKS.get(path)
    if block is not None and block[2] == inode:
        return block[0], block[1], False
    X, y = _map(x_file), _map(y_file)
    _OPEN_BLOCKS[path] = (X, y, inode)
    return X, y, True


# Worker-side cache of memory-mapped weight vectors: path → v.
_OPEN_WEIGHTS: dict[str, np.ndarray] = {}


def _open_weights(path: str) -> np.ndarray | None:
    """The block's sample weights, memory-mapped once per worker; None when the file is gone."""
    v_file = f"{path}.v.npy"
    if not os.path.exists(v_file):
        _OPEN_WEIGHTS.pop(path, None)
        return None
    v = _OPEN_WEIGHTS.get(path)
    if v is None:
        dataset = os.path.dirname(path)
        for stale in [p for p in _OPEN_WEIGHTS if os.path.dirname(p) != dataset]:
            del _OPEN_WEIGHTS[stale]
        v = _OPEN_WEIGHTS[path] = _map(v_file)
    return v


def _maybe_inject_fault(evaluation: int, partition: int) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    at_eval, at_part = (int(v) for v in spec.split(":"))
    ctx = TaskContext.get()
    if evaluation == at_eval and partition == at_part and ctx.attemptNumber() == 0:
        raise RuntimeError(f"injected fault (evaluation {evaluation}, partition {partition})")


@dataclass(frozen=True)
class TaskReport:
    """How one task of an evaluation went (for benchmarks and diagnostics)."""

    partition: int
    pid: int
    host: str
    #: Seconds inside the task body: parameter lookup, block lookup/mapping and the kernel.
    seconds: float
    #: Seconds in :func:`~sparklr.kernels.block_sums` alone.
    kernel_seconds: float
    #: True when this worker had to (re)map the block's files in this task.
    opened: bool
    #: True when the block's files were missing.
    missed: bool = False


def _partition_sums(index: int, rows: Iterator, params, n_features: int) -> Iterator:
    rows = list(rows)  # consume the input fully, so the Python worker is reused
    started = time.perf_counter()
    w, b, hessian, evaluation, class_weight = params
    _maybe_inject_fault(evaluation, index)
    pid, host = os.getpid(), os.uname().nodename
    for row in rows:
        if row.rows == 0:
            elapsed = time.perf_counter() - started
            yield (
                BlockSums.zeros(n_features, hessian),
                TaskReport(index, pid, host, elapsed, 0.0, False),
            )
            continue
        block = _open_block(row.path)
        if block is None:
            elapsed = time.perf_counter() - started
            yield None, TaskReport(index, pid, host, elapsed, 0.0, False, missed=True)
            continue
        X, y, opened = block
        v = None
        if row.weight_sum is not None:
            v = _open_weights(row.path)
            if v is None:
                elapsed = time.perf_counter() - started
                yield None, TaskReport(index, pid, host, elapsed, 0.0, opened, missed=True)
                continue
        t0 = time.perf_counter()
        sums = block_sums(X, y, w, b, v, hessian=hessian, class_weight=class_weight)
        t1 = time.perf_counter()
        yield sums, TaskReport(index, pid, host, t1 - started, t1 - t0, opened)


def _delete_blocks(rows: Iterator) -> Iterator[int]:
    removed = 0
    for row in rows:
        for suffix in ("X", "y", "v"):
            try:
                os.remove(f"{row.path}.{suffix}.npy")
                removed += 1
            except FileNotFoundError:
                pass
        _OPEN_BLOCKS.pop(row.path, None)
        _OPEN_WEIGHTS.pop(row.path, None)
        try:
            os.rmdir(os.path.dirname(row.path))
        except OSError:
            pass
    yield removed


class BlockSet:
    """The resident blocks of one dataset, and the :class:`SumsSource` over them.

    ``frame`` has the columns [label, *feature_names], all double, followed by the sample
    weight column when ``weight`` names one.
    """

    def __init__(
        self,
        spark: SparkSession,
        frame: DataFrame,
        label: str,
        feature_names: list[str],
        *,
        dtype: str = "float64",
        drop_invalid: bool = False,
        weight: str = "",
        parquet: ParquetPlan | None = None,
    ):
        self.spark = spark
        #: When given, blocks are read from these Parquet files with pyarrow in the executors
        #: (``frame`` is then only the schema's witness); see :mod:`sparklr.spark.parquet`.
        self.parquet = parquet
        self.weight = weight
        self.frame = frame
        self.label = label
        self.feature_names = list(feature_names)
        self.n_features = len(feature_names)
        self.dtype = dtype
        self.drop_invalid = drop_invalid
        self.evaluations = 0
        self.rebuilds = 0
        #: One :class:`TaskReport` per block from the latest :meth:`sums`.
        self.last_reports: list[TaskReport] = []
        self._meta_rdd = None
        self.metas: list[BlockMeta] = []
        self._dataset_id = ""

    # ----------------------------------------------------------------- build
    def build(self) -> BlockSet:
        """Run the build pass (see module docstring) and check what it found."""
        self._dataset_id = uuid.uuid4().hex
        params = {
            "dataset_id": self._dataset_id,
            "feature_names": self.feature_names,
            "dtype": self.dtype,
            "drop_invalid": self.drop_invalid,
            "weight": self.weight,
        }

        if self.parquet is not None:
            plan = self.parquet
            params["columns"] = plan.columns
            rdd = (
                self.spark.sparkContext.parallelize(list(enumerate(plan.blocks)), plan.partitions)
                .mapPartitions(lambda items: _build_from_parquet(items, **params))
                .cache()
            )
        else:

            def build(batches):
                return _build_partition(batches, **params)

            rdd = self.frame.mapInArrow(build, META_SCHEMA).rdd.cache()
        rows = rdd.collect()
        self._meta_rdd = rdd
        unreadable = sorted((r.partition, r.read_error) for r in rows if r.read_error)
        if unreadable:
            self.unpersist()
            raise DataError(f"cannot read the input: {unreadable[0][1]}")
        self.metas = [self._to_meta(r) for r in sorted(rows, key=lambda r: r.partition)]
        self._check()
        return self

    def _to_meta(self, row) -> BlockMeta:
        n = self.n_features
        shape = (n, n) if n <= MAX_GRAM_FEATURES else (n,)
        moments = FeatureMoments(
            count=row.rows,
            mean=np.frombuffer(row.mean, dtype=np.float64).copy(),
            scatter=np.frombuffer(row.scatter, dtype=np.float64).reshape(shape).copy(),
            positives=row.positives,
            weight_sum=row.weight_sum,
            weight_sq_sum=row.weight_sq_sum,
        )
        return BlockMeta(
            row.partition,
            row.path,
            row.host,
            row.rows,
            row.dropped,
            row.nonfinite,
            row.nonfinite_example,
            row.bad_labels,
            row.bad_label_example,
            moments,
            row.bad_weights,
            row.bad_weight_example,
            tuple(row.seconds or ()),
        )

    def _check(self) -> None:
        nonfinite = sum(m.nonfinite for m in self.metas)
        if nonfinite and not self.drop_invalid:
            example = next(m.nonfinite_example for m in self.metas if m.nonfinite)
            raise DataError(
                f"{nonfinite} row(s) have NaN, ±Inf or null in the label or features "
                f"(e.g. {example}); fix the data or set data.drop_invalid = true to drop them"
            )
        bad = sum(m.bad_labels for m in self.metas)
        if bad:
            example = next(m.bad_label_example for m in self.metas if m.bad_labels)
            raise DataError(
                f"label column {self.label!r} has {bad} value(s) outside {{0, 1}} (e.g. {example})"
            )
        bad_weights = sum(m.bad_weights for m in self.metas)
        if bad_weights:
            example = next(m.bad_weight_example for m in self.metas if m.bad_weights)
            raise DataError(
                f"weight column {self.weight!r} has {bad_weights} negative value(s) "
                f"(e.g. {example}); sample weights must be finite and ≥ 0"
            )
        if self.rows == 0:
            raise DataError(
                "the dataset has 0 rows" + (" after dropping invalid rows" if self.dropped else "")
            )
        if self.weight and not self.moments.total_weight > 0:
            raise DataError(f"weight column {self.weight!r} sums to 0: there is nothing to fit")
        positives = self.moments.positives
        if positives in (0, self.moments.total_weight):
            only = 1 if positives else 0
            raise DataError(
                f"label column {self.label!r} has only one class ({only}) in {self.rows} rows: "
                "the maximum-likelihood optimum does not exist (J → 0 as |b| → ∞)"
            )

    # ----------------------------------------------------------------- facts
    @property
    def rows(self) -> int:
        return sum(m.rows for m in self.metas)

    @property
    def dropped(self) -> int:
        return sum(m.dropped for m in self.metas)

    @property
    def partitions(self) -> int:
        return len(self.metas)

    @property
    def moments(self) -> FeatureMoments:
        return merge_all([m.moments for m in self.metas], self.n_features)

    @property
    def hosts(self) -> list[str]:
        return [m.host for m in self.metas]

    @property
    def block_bytes(self) -> int:
        itemsize = np.dtype(self.dtype).itemsize
        return sum(m.rows * (self.n_features * itemsize + 8) for m in self.metas)

    def fingerprint(self) -> str:
        """SHA-256 over rows and moments per partition: same data, same partitioning."""
        h = hashlib.sha256()
        h.update(repr((self.feature_names, self.dtype)).encode())
        for m in self.metas:
            h.update(np.int64(m.rows).tobytes())
            h.update(m.moments.mean.tobytes())
            h.update(m.moments.scatter.tobytes())
            h.update(np.float64(m.moments.positives).tobytes())
            if m.moments.weighted:
                h.update(np.float64(m.moments.weight_sum).tobytes())
        return h.hexdigest()

    # ----------------------------------------------------------------- sums
    def sums(
        self,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool = False,
        class_weight: tuple[float, float] | None = None,
    ) -> BlockSums:
        """Σ of :func:`~sparklr.kernels.block_sums` over all blocks: one Spark job."""
        self.evaluations += 1
        self._class_weight = class_weight
        parts, reports = self._run(w, b, hessian)
        missing = [r.partition for r in reports if r.missed]
        if missing:
            log.warning(
                "resident blocks missing for partitions %s; rebuilding from source", missing
            )
            self.rebuild()
            parts, reports = self._run(w, b, hessian)
            if any(r.missed for r in reports):
                raise RuntimeError("resident blocks still missing after a rebuild")
        self.last_reports = reports
        return sum_in_order(parts, self.n_features, hessian)

    def _run(self, w: np.ndarray, b: float, hessian: bool) -> tuple[list, list[TaskReport]]:
        params = (
            np.asarray(w, dtype=np.float64),
            float(b),
            hessian,
            self.evaluations,
            getattr(self, "_class_weight", None),
        )
        # (w, b) travel in the task closure, which is how Spark broadcasts them: the closure is
        # serialized once per stage into the task binary, which the DAG scheduler broadcasts
        # (TorrentBroadcast, one fetch per executor); past 1 MB pickled (~130k features)
        # PySpark itself moves the closure into an explicit sc.broadcast. A separate
        # sc.broadcast + unpersist per iteration measured 14-16 ms of a ~70 ms job for nothing.
        n = self.n_features
        out = self._meta_rdd.mapPartitionsWithIndex(
            lambda i, rows: _partition_sums(i, rows, params, n)
        ).collect()
        return [s for s, _ in out], [r for _, r in out]

    def rebuild(self) -> None:
        before = self.fingerprint()
        self.unpersist()
        self.build()
        self.rebuilds += 1
        if self.fingerprint() != before:
            raise DataError("the input data changed while training (rebuilt blocks differ)")

    # ----------------------------------------------------------------- cleanup
    def unpersist(self) -> None:
        if self._meta_rdd is not None:
            try:
                self._meta_rdd.mapPartitions(_delete_blocks).collect()
            except Exception as exc:  # best effort: Spark removes its local dirs at exit
                log.debug("could not delete resident blocks: %s", exc)
            self._meta_rdd.unpersist()
            self._meta_rdd = None
