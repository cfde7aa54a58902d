"""Probes of a :class:`~sparklr.spark.blockset.BlockSet`'s resident blocks, for benchmarks and
diagnostics (public; each is one or a few Spark jobs over the cached metas, or a read of the
files from the driver in local mode). A mixin: the set supplies ``metas``, ``block_type``,
``spark`` and ``_built()``.
"""

from __future__ import annotations

import numpy as np

from sparklr.spark import blockfiles, usage
from sparklr.spark.blocktype import array_names
from sparklr.spark.usage import FileUsage, WorkerUsage


class Inspection:
    """File and worker usage, cached bytes, blocks read back, locations, the empty job."""

    def empty_pass(self) -> None:
        """One Spark job of a pass's shape doing nothing: a task per block on the cached metas
        (the same placement as :meth:`sums`), each returning an empty list."""
        self._built().mapPartitions(_nothing).collect()

    def file_usage(self) -> list[FileUsage]:
        """Bytes of block files on disk per executor local directory (one Spark job)."""
        return usage.by_local_dir(self._built().mapPartitions(usage.probe_files).collect())

    def worker_usage(self, probes: int = 4) -> list[WorkerUsage]:
        """The memory of the Python workers serving the blocks, one entry per worker pid.
        ``probes`` Spark jobs, one task per block each: any idle worker may take any task."""
        seen: dict[int, WorkerUsage] = {}
        for _ in range(probes):
            for worker in self._built().mapPartitions(usage.probe_worker).collect():
                seen[worker.pid] = worker
        return [seen[pid] for pid in sorted(seen)]

    def cached_meta_bytes(self) -> int:
        """Bytes (memory + disk) the JVM's block managers hold for the cached meta RDD."""
        rdd_id = self._built().id()
        infos = self.spark.sparkContext._jsc.sc().getRDDStorageInfo()
        return sum(int(i.memSize()) + int(i.diskSize()) for i in infos if i.id() == rdd_id)

    def read_block(self, partition: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of block ``partition``'s (X, y) on the driver, read from its files: the
        driver must see the executor's local directory (local mode)."""
        meta = self.metas[partition]
        if meta.rows == 0:
            raise ValueError(f"block {partition} holds no rows")
        try:
            names = array_names(self.block_type, False, meta.absent)
            arrays = blockfiles.read_block(meta.path, names)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"block {partition} is not on this machine ({exc.filename}); "
                "read_block needs the driver on the executor's host (local mode)"
            ) from exc
        return self.block_type.features(arrays), arrays["y"]

    def read_folds(self, partition: int) -> np.ndarray:
        """A copy of block ``partition``'s fold ids f on the driver (local mode, as
        :meth:`read_block`)."""
        meta = self.metas[partition]
        return blockfiles.read_block(meta.path, ("f",))["f"]

    def locations(self) -> dict[str, int]:
        """Where the blocks were built: "host:local dir" → number of non-empty blocks. Every
        executor has its own local dir, so the number of keys is the number of executors that
        hold data (1 in local mode)."""
        counts: dict[str, int] = {}
        for meta in self.metas:
            if meta.rows:
                key = blockfiles.location(meta.host, meta.path)
                counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def _built(self):
        if self._meta_rdd is None:
            raise RuntimeError("the blocks are not built (call build() first)")
        return self._meta_rdd


def _nothing(rows) -> list:
    for _ in rows:  # consume the input, so the Python worker is reused (as a pass's tasks do)
        pass
    return []
