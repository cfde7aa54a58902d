"""The benchmark's only window into the block layer's internals.

Each function here has the shape of a public :class:`~sparklr.spark.blocks.BlockSet` method
that the block layer is about to offer (``blocks.add_listener(fn)``, ``blocks.file_usage()``,
``blocks.worker_usage()``, ``blocks.cached_meta_bytes()``, ``blocks.read_block(partition)``);
until then they are implemented on today's private parts, and nothing else in
:mod:`sparklr.bench` touches a private name of :mod:`sparklr.spark`. Replacing a body by the
public call is the whole migration.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from sparklr.spark.blocks import BlockSet, TaskReport


@dataclass(frozen=True)
class FileUsage:
    """The bytes of one block's files on disk, and where they are."""

    host: str
    local_dir: str
    bytes: int


@dataclass(frozen=True)
class WorkerUsage:
    """One Python worker: its pid, resident memory (bytes, from /proc/self/status; None where
    the system does not say), the BLAS threads it runs (should be spark.task.cpus; None without
    threadpoolctl) and the number of blocks it keeps mapped."""

    pid: int
    rss_anon: int | None
    rss_file: int | None
    vm_rss: int | None
    blas_threads: int | None
    open_blocks: int


def add_listener(blocks: BlockSet, fn: Callable[[list[TaskReport]], None]) -> None:
    """Call ``fn`` with the task reports of every later evaluation of ``blocks``."""
    evaluate = blocks.sums

    def sums_and_report(*args, **kwargs):
        out = evaluate(*args, **kwargs)
        fn(list(blocks.last_reports))
        return out

    blocks.sums = sums_and_report  # type: ignore[method-assign]


def file_usage(blocks: BlockSet) -> list[FileUsage]:
    """One :class:`FileUsage` per block (measured on the executor that holds it)."""
    return blocks._meta_rdd.mapPartitions(_file_usage_of_rows).collect()


def worker_usage(blocks: BlockSet) -> list[WorkerUsage]:
    """One :class:`WorkerUsage` per task of one job over the blocks: the workers that ran them
    (an idle worker may take any task, so several calls can reach different workers)."""
    return blocks._meta_rdd.mapPartitions(_worker_usage).collect()


def cached_meta_bytes(blocks: BlockSet) -> int:
    """Bytes (memory + disk) Spark's storage holds for the blocks' cached description rows."""
    rdd_id = blocks._meta_rdd.id()
    storage = blocks.spark.sparkContext._jsc.sc().getRDDStorageInfo()
    return sum(int(i.memSize()) + int(i.diskSize()) for i in storage if i.id() == rdd_id)


def read_block(blocks: BlockSet, partition: int) -> tuple[np.ndarray, np.ndarray]:
    """(X_p, y_p) of block ``partition``, read from its files (same machine only)."""
    meta = next((m for m in blocks.metas if m.partition == partition), None)
    if meta is None:
        raise KeyError(f"no block for partition {partition}")
    return np.load(f"{meta.path}.X.npy", mmap_mode="r"), np.load(f"{meta.path}.y.npy")


# ----------------------------------------------------------------------- executor side


def _file_usage_of_rows(rows) -> Iterator[FileUsage]:
    from sparklr.spark.blocks import _local_root

    for row in rows:
        size = 0
        for suffix in ("X", "y"):
            try:
                size += os.path.getsize(f"{row.path}.{suffix}.npy")
            except OSError:
                pass
        yield FileUsage(row.host, _local_root(), size)


def _worker_usage(rows) -> Iterator[WorkerUsage]:
    list(rows)
    from sparklr.spark.blocks import _OPEN_BLOCKS

    status = _proc_status()
    yield WorkerUsage(
        pid=os.getpid(),
        rss_anon=status.get("RssAnon"),
        rss_file=status.get("RssFile"),
        vm_rss=status.get("VmRSS"),
        blas_threads=_blas_threads(),
        open_blocks=len(_OPEN_BLOCKS),
    )


def _proc_status() -> dict[str, int]:
    status = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("RssAnon", "RssFile", "VmRSS"):
                    status[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return status


def _blas_threads() -> int | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return max((p["num_threads"] for p in threadpool_info()), default=0)
