"""Executor-resident NumPy blocks, and the distributed sums over them.

Build (one pass over the source, :meth:`BlockSet.build`). ``mapInArrow`` over the DataFrame
[label, features...]: each task receives its partition as Arrow record batches and, on its
executor,

* copies them once into a C-contiguous block X_p (m_p × n_x, ``dtype``) and y_p (float64),
  and, with a weight column, the sample weights v_p (float64; finite and ≥ 0, else a
  :class:`DataError` naming the column),
* checks them (non-finite values, labels outside {0, 1}) and computes the block's
  :class:`~sparklr.stats.FeatureMoments` (the statistics pass comes free with the build),
* saves X_p and y_p as ``.npy`` files in the executor's local directory (SPARK_LOCAL_DIRS),
* returns ONE small row describing the block (path, counts, moments).

The RDD of those rows is cached. Its partitions live in the block manager of the executor
that wrote the files, so Spark schedules later tasks on partition p there (PROCESS_LOCAL).

Iteration (:meth:`BlockSet.sums`, one Spark job): broadcast (w, b); each task takes its row,
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
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from pyspark import TaskContext
from pyspark.sql import DataFrame, SparkSession

from sparklr.errors import DataError
from sparklr.kernels import BlockSums, block_sums, sum_in_order
from sparklr.stats import MAX_GRAM_FEATURES, FeatureMoments, merge_all

log = logging.getLogger(__name__)

#: Test-only fault injection: "EVALUATION:PARTITION" fails that task's first attempt.
FAULT_ENV = "SPARKLR_TEST_FAIL_TASK"

META_SCHEMA = (
    "partition int, path string, host string, rows long, dropped long, "
    "nonfinite long, nonfinite_example string, bad_labels long, bad_label_example string, "
    "positives double, mean binary, scatter binary, "
    "bad_weights long, bad_weight_example string, weight_sum double, weight_sq_sum double"
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


def _local_root() -> str:
    return os.environ.get("SPARK_LOCAL_DIRS", "/tmp").split(",")[0]


def _describe_nonfinite(X: np.ndarray, y: np.ndarray, row: int, names: list[str], pid: int) -> str:
    if not np.isfinite(y[row]):
        return f"partition {pid} row {row}: label = {y[row]}"
    col = int(np.flatnonzero(~np.isfinite(X[row]))[0])
    return f"partition {pid} row {row}: feature {names[col]!r} = {X[row, col]}"


def _build_partition(
    batches: Iterator[pa.RecordBatch],
    *,
    dataset_id: str,
    feature_names: list[str],
    dtype: str,
    drop_invalid: bool,
    weight: str = "",
) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: Arrow batches of one partition → resident block files + one meta row."""
    pid = TaskContext.get().partitionId()
    n = len(feature_names)
    chunks = list(batches)
    m_p = sum(batch.num_rows for batch in chunks)
    X = np.empty((m_p, n), dtype=dtype)
    y = np.empty(m_p, dtype=np.float64)
    offset = 0
    for batch in chunks:
        k = batch.num_rows
        y[offset : offset + k] = batch.column(0).to_numpy(zero_copy_only=False)
        for j in range(n):
            X[offset : offset + k, j] = batch.column(j + 1).to_numpy(zero_copy_only=False)
        offset += k
    v = None
    if weight:
        v = np.concatenate(
            [b.column(n + 1).to_numpy(zero_copy_only=False) for b in chunks] or [np.empty(0)]
        ).astype(np.float64)
    del chunks

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
        X, y = np.ascontiguousarray(X[finite]), y[finite]
        v = None if v is None else v[finite]
        dropped, m_p = nonfinite, int(np.count_nonzero(finite))
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
    moments = FeatureMoments.of_block(X, np.nan_to_num(y), None if v is None else np.nan_to_num(v))

    directory = os.path.join(_local_root(), "sparklr-blocks", dataset_id)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"part-{pid:05d}")
    if m_p:
        arrays = [("X", X), ("y", y)] + ([] if v is None else [("v", v)])
        for suffix, array in arrays:
            tmp = f"{path}.{suffix}.{uuid.uuid4().hex}.tmp.npy"
            np.save(tmp, array, allow_pickle=False)
            os.replace(tmp, f"{path}.{suffix}.npy")
    yield pa.RecordBatch.from_pylist(
        [
            {
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
            }
        ],
        schema=_META_ARROW_SCHEMA,
    )


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
    ]
)

# Worker-side cache of memory-mapped blocks: path → (X, y). Only the current dataset is kept.
_OPEN_BLOCKS: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _open_block(path: str) -> tuple[np.ndarray, np.ndarray] | None:
    block = _OPEN_BLOCKS.get(path)
    if block is not None:
        return block
    x_file, y_file = f"{path}.X.npy", f"{path}.y.npy"
    if not (os.path.exists(x_file) and os.path.exists(y_file)):
        return None
    dataset = os.path.dirname(path)
    for stale in [p for p in _OPEN_BLOCKS if os.path.dirname(p) != dataset]:
        del _OPEN_BLOCKS[stale]
    block = (np.load(x_file, mmap_mode="r"), np.load(y_file, mmap_mode="r"))
    _OPEN_BLOCKS[path] = block
    return block


# Worker-side cache of memory-mapped weight vectors: path → v.
_OPEN_WEIGHTS: dict[str, np.ndarray] = {}


def _open_weights(path: str) -> np.ndarray | None:
    v = _OPEN_WEIGHTS.get(path)
    if v is None:
        v_file = f"{path}.v.npy"
        if not os.path.exists(v_file):
            return None
        dataset = os.path.dirname(path)
        for stale in [p for p in _OPEN_WEIGHTS if os.path.dirname(p) != dataset]:
            del _OPEN_WEIGHTS[stale]
        v = _OPEN_WEIGHTS[path] = np.load(v_file, mmap_mode="r")
    return v


def _maybe_inject_fault(evaluation: int, partition: int) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    at_eval, at_part = (int(v) for v in spec.split(":"))
    ctx = TaskContext.get()
    if evaluation == at_eval and partition == at_part and ctx.attemptNumber() == 0:
        raise RuntimeError(f"injected fault (evaluation {evaluation}, partition {partition})")


def _partition_sums(index: int, rows: Iterator, broadcast, n_features: int) -> Iterator:
    rows = list(rows)  # consume the input fully, so the Python worker is reused
    w, b, hessian, evaluation, class_weight = broadcast.value
    _maybe_inject_fault(evaluation, index)
    for row in rows:
        if row.rows == 0:
            yield BlockSums.zeros(n_features, hessian)
            continue
        block = _open_block(row.path)
        if block is None:
            yield ("miss", index)
            continue
        X, y = block
        v = None
        if row.weight_sum is not None:
            v = _open_weights(row.path)
            if v is None:
                yield ("miss", index)
                continue
        yield block_sums(X, y, w, b, v, hessian=hessian, class_weight=class_weight)


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
    ):
        self.spark = spark
        self.weight = weight
        self.frame = frame
        self.label = label
        self.feature_names = list(feature_names)
        self.n_features = len(feature_names)
        self.dtype = dtype
        self.drop_invalid = drop_invalid
        self.evaluations = 0
        self.rebuilds = 0
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

        def build(batches):
            return _build_partition(batches, **params)

        rdd = self.frame.mapInArrow(build, META_SCHEMA).rdd.cache()
        rows = rdd.collect()
        self._meta_rdd = rdd
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
        parts = self._run(w, b, hessian)
        if any(isinstance(p, tuple) for p in parts):
            missing = [p[1] for p in parts if isinstance(p, tuple)]
            log.warning(
                "resident blocks missing for partitions %s; rebuilding from source", missing
            )
            self.rebuild()
            parts = self._run(w, b, hessian)
            if any(isinstance(p, tuple) for p in parts):
                raise RuntimeError("resident blocks still missing after a rebuild")
        return sum_in_order(parts, self.n_features, hessian)

    def _run(self, w: np.ndarray, b: float, hessian: bool) -> list:
        sc = self.spark.sparkContext
        bc = sc.broadcast(
            (
                np.asarray(w, dtype=np.float64),
                float(b),
                hessian,
                self.evaluations,
                getattr(self, "_class_weight", None),
            )
        )
        n = self.n_features
        try:
            return self._meta_rdd.mapPartitionsWithIndex(
                lambda i, rows: _partition_sums(i, rows, bc, n)
            ).collect()
        finally:
            bc.unpersist()

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
