"""The task of one evaluation, on the executor: the partial sums of its resident block.

Each task of :meth:`~sparklr.spark.blockset.BlockSet.sums` takes its partition's cached meta
row (a :class:`~sparklr.spark.build.BlockMeta`), maps the block's files once per Python worker
(:func:`~sparklr.spark.blockfiles.open_block`; nothing is copied from the JVM) and returns
the block type's :class:`~sparklr.kernels.BlockSums` at (w, b) with a :class:`TaskReport`;
None instead of the sums when the block's files are gone (a miss, which the driver repairs).
Block-type independent: the type in :class:`SumsParams` says which arrays to map and which
kernel sums them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from pyspark import TaskContext
from pyspark.sql import Row

from sparklr.kernels import FISHER, BlockSums
from sparklr.spark import blockfiles
from sparklr.spark.blocktype import BlockType, array_names
from sparklr.spark.build import BlockMeta

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


@dataclass(frozen=True, eq=False)
class SumsParams:
    """What every task of one evaluation needs (it travels in the task closure)."""

    w: np.ndarray
    b: float
    hessian: bool
    #: The evaluation's number, 1, 2, ... (for the fault injection).
    evaluation: int
    class_weight: tuple[float, float] | None
    block_type: BlockType
    n_features: int
    #: Which curvature sum the hess_* fields hold (kernels.FISHER or kernels.ROBUST).
    curvature: str = FISHER


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
    # consume the input fully, so the Python worker is reused
    metas = [BlockMeta.of_row(row) for row in rows]
    started = time.perf_counter()
    _maybe_inject_fault(params.evaluation, index)
    pid, host = os.getpid(), os.uname().nodename
    for meta in metas:
        sums, opened, kernel_seconds = _block_sums(meta, params)
        elapsed = time.perf_counter() - started
        missed = sums is None
        yield sums, TaskReport(index, pid, host, elapsed, kernel_seconds, opened, missed)


def _block_sums(meta: BlockMeta, params: SumsParams) -> tuple[BlockSums | None, bool, float]:
    """(the block's sums or None when its files are gone, newly mapped, kernel seconds)."""
    if meta.rows == 0:
        return BlockSums.zeros(params.n_features, params.hessian), False, 0.0
    block_type = params.block_type
    found = blockfiles.open_block(meta.path, array_names(block_type, meta.weighted))
    if found is None:
        return None, False, 0.0
    arrays, opened = found
    X = block_type.features(arrays)
    t0 = time.perf_counter()
    sums = block_type.sums(
        X,
        arrays["y"],
        arrays.get("v"),
        params.w,
        params.b,
        hessian=params.hessian,
        class_weight=params.class_weight,
        curvature=params.curvature,
    )
    return sums, opened, time.perf_counter() - t0
