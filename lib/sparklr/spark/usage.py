"""What the resident blocks cost on the executors: disk per local directory, and the memory
of the Python workers that map them (:meth:`BlockSet.file_usage`,
:meth:`BlockSet.worker_usage` of :mod:`sparklr.spark.blockset`). The probes run as tasks over
the cached meta RDD, so each runs on the executor holding its block.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyspark.sql import Row

from sparklr.spark import blockfiles
from sparklr.spark.build import BlockMeta


@dataclass(frozen=True)
class FileUsage:
    """Bytes of block files in one executor local directory."""

    host: str
    local_dir: str
    bytes: int


@dataclass(frozen=True)
class WorkerUsage:
    """One Python worker's memory, from its /proc/self/status (None where not available)."""

    pid: int
    #: Private (anonymous) resident bytes: what the worker holds beyond the shared page cache.
    rss_anon: int | None
    #: File-backed resident bytes (the mapped block pages among them, shared between workers).
    rss_file: int | None
    #: All resident bytes.
    vm_rss: int | None
    #: Threads of its BLAS (should be spark.task.cpus); None without threadpoolctl.
    blas_threads: int | None
    #: Blocks this worker holds mapped.
    open_blocks: int


def probe_files(rows: Iterable[Row]) -> Iterator[tuple[str, str, int]]:
    """Executor side: (host, local dir, bytes on disk) of each block."""
    for meta in map(BlockMeta.of_row, rows):
        yield meta.host, blockfiles.local_dir_of(meta.path), blockfiles.file_bytes(meta.path)


def by_local_dir(rows: Iterable[tuple[str, str, int]]) -> list[FileUsage]:
    """The probes' rows summed per (host, local dir)."""
    totals: dict[tuple[str, str], int] = {}
    for host, local_dir, size in rows:
        totals[host, local_dir] = totals.get((host, local_dir), 0) + size
    return [FileUsage(host, local_dir, size) for (host, local_dir), size in sorted(totals.items())]


_STATUS_KEYS = {"RssAnon": "rss_anon", "RssFile": "rss_file", "VmRSS": "vm_rss"}


def probe_worker(rows: Iterable[Row]) -> Iterator[WorkerUsage]:
    """Executor side: the :class:`WorkerUsage` of the Python worker running this task."""
    list(rows)
    status: dict[str, int | None] = dict.fromkeys(_STATUS_KEYS.values())
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in _STATUS_KEYS:
                    status[_STATUS_KEYS[key]] = int(value.split()[0]) * 1024  # kB
    except OSError:
        pass
    open_blocks = blockfiles.open_block_count()
    yield WorkerUsage(os.getpid(), **status, blas_threads=_blas_threads(), open_blocks=open_blocks)


def _blas_threads() -> int | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return max((p["num_threads"] for p in threadpool_info()), default=0)
