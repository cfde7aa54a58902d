"""The benchmark's window into the block layer: each probe's shape and figures on real blocks
(these hold whichever implementation is behind them, today's private parts or public calls)."""

from __future__ import annotations

import numpy as np
import pytest
from sparklr.bench import probes
from sparklr.spark.blocks import BlockSet

from tests.conftest import make_logistic_data

NAMES = ["a", "b", "c"]
ROWS = 400


@pytest.fixture(scope="module")
def blocks_and_data(spark):
    """Blocks of 2 partitions: parallelize puts rows 0..199 in partition 0, 200..399 in 1."""
    X, y, _, _ = make_logistic_data(ROWS, len(NAMES), seed=3)
    rows = [tuple(float(v) for v in r) for r in np.column_stack([y, X])]
    schema = ", ".join(["label double", *(f"{n} double" for n in NAMES)])
    frame = spark.createDataFrame(spark.sparkContext.parallelize(rows, 2), schema)
    blocks = BlockSet(spark, frame, "label", NAMES).build()
    yield blocks, X, y
    blocks.unpersist()


def test_read_block_returns_the_rows_of_that_partition(blocks_and_data):
    blocks, X, y = blocks_and_data
    for partition, rows in enumerate(np.array_split(np.arange(ROWS), 2)):
        X_p, y_p = probes.read_block(blocks, partition)
        np.testing.assert_array_equal(X_p, X[rows])
        np.testing.assert_array_equal(y_p, y[rows])
    with pytest.raises(KeyError, match="partition 7"):
        probes.read_block(blocks, 7)


def test_add_listener_gets_the_task_reports_of_every_evaluation(blocks_and_data):
    blocks = blocks_and_data[0]
    seen: list[list] = []
    probes.add_listener(blocks, seen.append)
    w = np.zeros(len(NAMES))
    first = blocks.sums(w, 0.0)
    blocks.sums(w, 0.5)
    assert len(seen) == 2
    assert [sorted(r.partition for r in reports) for reports in seen] == [[0, 1], [0, 1]]
    assert all(r.seconds >= r.kernel_seconds >= 0 for reports in seen for r in reports)
    assert first.rows == ROWS  # the listener does not change what sums returns


def test_file_usage_counts_each_blocks_files_on_its_host(blocks_and_data):
    blocks = blocks_and_data[0]
    usage = probes.file_usage(blocks)
    assert len(usage) == blocks.partitions
    assert {u.host for u in usage} == set(blocks.hosts)
    assert all(u.local_dir for u in usage)
    total = sum(u.bytes for u in usage)
    # the raw bytes m (n_x · 8 + 8), plus the .npy headers
    assert blocks.block_bytes <= total < blocks.block_bytes + 16 * 1024


def test_worker_usage_reports_live_python_workers(blocks_and_data):
    blocks = blocks_and_data[0]
    usage = probes.worker_usage(blocks)
    assert usage
    for u in usage:
        assert u.pid > 0 and u.open_blocks >= 0
        assert u.rss_anon is None or 0 < u.rss_anon <= u.vm_rss
        assert u.blas_threads is None or u.blas_threads >= 1


def test_cached_meta_bytes_counts_the_cached_description_rows(blocks_and_data):
    assert probes.cached_meta_bytes(blocks_and_data[0]) > 0
