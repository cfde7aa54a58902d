"""The task of one evaluation, on the executor: the partial sums (or the scores) of its
resident block.

Each task of :meth:`~sparklr.spark.blockset.BlockSet.sums` takes its partition's cached meta
row (a :class:`~sparklr.spark.build.BlockMeta`), maps the block's files once per Python worker
(:func:`~sparklr.spark.blockfiles.open_block`; nothing is copied from the JVM) and returns
the block type's :class:`~sparklr.kernels.BlockSums` at (w, b) with a :class:`TaskReport`;
None instead of the sums when the block's files are gone (a miss, which the driver repairs).
Block-type independent: the type in :class:`SumsParams` says which arrays to map and which
kernel sums them. A scoring pass (:meth:`~sparklr.spark.blockset.BlockSet.score_summary`) is
the same task with :class:`ScoreParams` and the type's scoring kernel
(:func:`partition_scores`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from pyspark import SparkContext, TaskContext
from pyspark.broadcast import Broadcast
from pyspark.sql import Row

from sparklr.kernels import FISHER, BlockSums, ScoreSummary
from sparklr.spark import blockfiles
from sparklr.spark.blocktype import BlockType, array_names
from sparklr.spark.build import BlockMeta
from sparklr.tuning.folds import fold_mask, fold_weights

#: Test-only fault injection: "EVALUATION:PARTITION" fails that task's first attempt.
FAULT_ENV = "SPARKLR_TEST_FAIL_TASK"


@dataclass(frozen=True)
class TaskReport:
    """How one task of an evaluation went (for benchmarks and diagnostics)."""

    partition: int
    pid: int
    host: str
    #: Seconds inside the task body: parameter lookup, block lookup/mapping and the kernel.
    seconds: float
    #: Seconds in the block type's kernel alone.
    kernel_seconds: float
    #: True when this worker had to (re)map the block's files in this task.
    opened: bool
    #: True when the block's files were missing.
    missed: bool = False


@contextmanager
def shipped_weights(
    sc: SparkContext, w: np.ndarray, broadcast_min_features: int
) -> Iterator[np.ndarray | Broadcast]:
    """w as the tasks of one pass get it: in the task closure, or from
    ``broadcast_min_features`` features on in an explicit broadcast, destroyed after the pass
    (the crossover, measured: :data:`sparklr.spark.blockset.BROADCAST_MIN_FEATURES`)."""
    w = np.asarray(w, dtype=np.float64)
    if w.size < broadcast_min_features:
        yield w
        return
    shipped = sc.broadcast(w)
    try:
        yield shipped
    finally:
        shipped.destroy()


def weights_of(w: np.ndarray | Broadcast) -> np.ndarray:
    """w as the task sees it: from the closure, or from its explicit broadcast (wide models:
    see :meth:`~sparklr.spark.blockset.BlockSet._shipped`)."""
    return w.value if isinstance(w, Broadcast) else w


@dataclass(frozen=True, eq=False)
class SumsParams:
    """What every task of one evaluation needs (it travels in the task closure; w there or
    as a broadcast)."""

    w: np.ndarray | Broadcast
    b: float
    hessian: bool
    #: The evaluation's number, 1, 2, ... (for the fault injection).
    evaluation: int
    class_weight: tuple[float, float] | None
    block_type: BlockType
    n_features: int
    #: Which curvature sum the hess_* fields hold (kernels.FISHER or kernels.ROBUST).
    curvature: str = FISHER
    #: Cross-validation (issue 14): sum only the rows with f ≠ fold (``exclude``) or f = fold,
    #: as the sample weights v ⊙ mask (None: every row).
    fold: int | None = None
    exclude: bool = True


@dataclass(frozen=True, eq=False)
class ScoreParams:
    """What every task of one scoring pass needs (in the task closure, as SumsParams)."""

    w: np.ndarray | Broadcast
    b: float
    evaluation: int
    block_type: BlockType
    #: Tally the AUC by exact probability rather than by bin (small data: see BlockSet).
    exact_auc: bool
    #: Cross-validation (issue 14): score only the rows with f = fold (``exclude`` False: the
    #: held-out part) or f ≠ fold (None: every row).
    fold: int | None = None
    exclude: bool = False


def _maybe_inject_fault(evaluation: int, partition: int) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    at_eval, at_part = (int(v) for v in spec.split(":"))
    ctx = TaskContext.get()
    if evaluation == at_eval and partition == at_part and ctx.attemptNumber() == 0:
        raise RuntimeError(f"injected fault (evaluation {evaluation}, partition {partition})")


def partition_sums(
    index: int, rows: Iterator[Row], params: SumsParams
) -> Iterator[tuple[BlockSums | None, TaskReport]]:
    """Task body: (sums or None on a miss, report) for the block(s) of partition ``index``."""

    def kernel(X, arrays: dict[str, np.ndarray]) -> BlockSums:
        v = arrays.get("v")
        if params.fold is not None:
            v = fold_weights(arrays["f"], v, params.fold, params.exclude)
        sums = params.block_type.sums(
            X,
            arrays["y"],
            v,
            weights_of(params.w),
            params.b,
            hessian=params.hessian,
            class_weight=params.class_weight,
            curvature=params.curvature,
        )
        if params.fold is not None:  # the rows summed, not the rows masked to weight 0
            sums.rows = int(np.count_nonzero(fold_mask(arrays["f"], params.fold, params.exclude)))
        return sums

    empty = BlockSums.zeros(params.n_features, params.hessian)
    return _block_task(index, rows, params.evaluation, params.block_type, empty, kernel)


def partition_scores(
    index: int, rows: Iterator[Row], params: ScoreParams
) -> Iterator[tuple[ScoreSummary | None, TaskReport]]:
    """Task body of a scoring pass: (the block's :class:`~sparklr.kernels.ScoreSummary` or
    None on a miss, report) for the block(s) of partition ``index``."""

    def kernel(X, arrays: dict[str, np.ndarray]) -> ScoreSummary:
        y = arrays["y"]
        if params.fold is not None:
            mask = fold_mask(arrays["f"], params.fold, params.exclude)
            X, y = params.block_type.take_rows(X, mask), y[mask]
        return params.block_type.score(
            X, y, weights_of(params.w), params.b, exact_auc=params.exact_auc
        )

    empty = ScoreSummary.zeros()
    return _block_task(index, rows, params.evaluation, params.block_type, empty, kernel)


def _block_task(
    index: int,
    rows: Iterator[Row],
    evaluation: int,
    block_type: BlockType,
    empty,
    kernel: Callable[[object, dict[str, np.ndarray]], object],
) -> Iterator[tuple[object, TaskReport]]:
    """(``kernel(X, arrays)`` of each block or None on a miss, report); ``empty`` for a block
    of no rows (it has no files)."""
    # consume the input fully, so the Python worker is reused
    metas = [BlockMeta.of_row(row) for row in rows]
    started = time.perf_counter()
    _maybe_inject_fault(evaluation, index)
    pid, host = os.getpid(), os.uname().nodename
    for meta in metas:
        result, opened, kernel_seconds = _on_block(meta, block_type, empty, kernel)
        elapsed = time.perf_counter() - started
        missed = result is None
        yield result, TaskReport(index, pid, host, elapsed, kernel_seconds, opened, missed)


def _on_block(meta: BlockMeta, block_type: BlockType, empty, kernel) -> tuple[object, bool, float]:
    """(the kernel's result or None when the block's files are gone, newly mapped, kernel
    seconds)."""
    if meta.rows == 0:
        return empty, False, 0.0
    found = blockfiles.open_block(
        meta.path, array_names(block_type, meta.weighted, meta.absent, meta.folds > 0)
    )
    if found is None:
        return None, False, 0.0
    arrays, opened = found
    X = block_type.features(arrays)
    t0 = time.perf_counter()
    result = kernel(X, arrays)
    return result, opened, time.perf_counter() - t0


@dataclass(frozen=True, eq=False)
class GramParams:
    """What every task of one Gram mat-vec pass needs (in the task closure, as SumsParams)."""

    w: np.ndarray
    b: float
    evaluation: int
    block_type: BlockType
    n_features: int


def partition_gram(
    index: int, rows: Iterator[Row], params: GramParams
) -> Iterator[tuple[tuple[np.ndarray, float, float] | None, TaskReport]]:
    """Task body of a Gram mat-vec pass: the block type's ``gram_sums`` at (w, b) (or None on
    a miss) for the block(s) of partition ``index``."""

    def kernel(X, arrays: dict[str, np.ndarray]):
        return params.block_type.gram_sums(X, arrays.get("v"), weights_of(params.w), params.b)

    empty = (np.zeros(params.n_features), 0.0, 0.0)
    return _block_task(index, rows, params.evaluation, params.block_type, empty, kernel)
