"""The cost probes (sparklr.spark.usage), in this process."""

from __future__ import annotations

import os

import numpy as np
from sparklr.spark import blockfiles, usage
from sparklr.spark.blockfiles import BlockWriter
from sparklr.spark.build import BlockMeta
from sparklr.spark.usage import FileUsage


def test_file_usage_is_summed_per_local_dir():
    rows = [("h1", "/a", 10), ("h2", "/a", 1), ("h1", "/a", 5), ("h1", "/b", 0)]
    assert usage.by_local_dir(rows) == [
        FileUsage("h1", "/a", 15),
        FileUsage("h1", "/b", 0),
        FileUsage("h2", "/a", 1),
    ]


def test_probe_files_measures_each_block(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARK_LOCAL_DIRS", str(tmp_path))
    with BlockWriter("ds", 0) as writer:
        writer.save("X", np.zeros((100, 2)))
        writer.commit()
    rows = [BlockMeta(partition=0, path=writer.path, host="h", rows=100).to_row()]
    ((host, local_dir, size),) = usage.probe_files(rows)
    assert (host, local_dir) == ("h", str(tmp_path))
    assert size == os.path.getsize(f"{writer.path}.X.npy") > 1600


def test_probe_worker_reports_this_process(monkeypatch):
    monkeypatch.setattr(blockfiles, "_OPEN", {"a": None, "b": None})
    (worker,) = usage.probe_worker(iter([]))
    assert worker.pid == os.getpid() and worker.open_blocks == 2
    assert 0 < worker.rss_anon < worker.vm_rss and 0 < worker.rss_file < worker.vm_rss
    assert worker.blas_threads >= 1  # threadpoolctl is installed here
