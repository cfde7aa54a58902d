"""The resident-block path (sparklr.spark.blocks) against the single in-memory block.

Blocks are built from DataFrames whose partitions are set row by row here (including an empty
one), so every case is exact: the distributed sums must equal the NumPy sums of the whole
matrix to 1e-12 relative (they differ only by the order of the additions).
"""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest
from sparklr.kernels import block_sums
from sparklr.objective import FeatureMap, InMemorySource, LogisticObjective
from sparklr.optimizers import OptimizerState, StopRule, gradient_descent
from sparklr.spark.blocks import BlockSet

from tests.conftest import make_logistic_data

RTOL = 1e-12
NAMES = ["a", "b", "c", "d", "e"]


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = make_logistic_data(3000, len(NAMES), seed=11, offset=2.0, scale=3.0)
    return X, y


def frame_of(spark, X, y, partitions: int, empty: tuple[int, ...] = ()):
    """DataFrame [label, a..e] whose partition i holds exactly the i-th slice of the rows
    (partitions listed in ``empty`` hold none)."""
    keep = [i for i in range(partitions) if i not in empty]
    slices = dict(zip(keep, np.array_split(np.arange(len(y)), len(keep)), strict=True))
    rows = np.column_stack([y, X])

    def rows_of(index, _):
        for r in rows[slices.get(index, [])]:
            yield tuple(float(v) for v in r)

    rdd = spark.sparkContext.parallelize(range(partitions), partitions)
    schema = ", ".join(["label double", *(f"{n} double" for n in NAMES)])
    return spark.createDataFrame(rdd.mapPartitionsWithIndex(rows_of), schema)


def assert_sums_close(got, ref, rtol=RTOL):
    assert got.rows == ref.rows
    assert got.count == ref.count
    assert got.correct == ref.correct
    assert abs(got.loss - ref.loss) <= rtol * abs(ref.loss)
    assert abs(got.grad_b - ref.grad_b) <= rtol * np.abs(ref.grad_w).max()
    np.testing.assert_allclose(got.grad_w, ref.grad_w, rtol=rtol, atol=0)


@pytest.fixture
def params(data):
    rng = np.random.default_rng(5)
    return 0.3 * rng.standard_normal(len(NAMES)), -0.4


@pytest.mark.parametrize(("partitions", "empty"), [(1, ()), (2, ()), (7, ()), (4, (2,))], ids=str)
def test_partition_sums_equal_single_block(spark, data, params, partitions, empty):
    X, y = data
    w, b = params
    blocks = BlockSet(spark, frame_of(spark, X, y, partitions, empty), "label", NAMES).build()
    try:
        assert blocks.partitions == partitions
        assert [m.rows for m in blocks.metas if m.rows == 0] == [0] * len(empty)
        assert blocks.rows == len(y)
        assert_sums_close(blocks.sums(w, b), block_sums(X, y, w, b))
        # the statistics pass that comes with the build agrees with the in-memory one
        ref = InMemorySource((X, y)).moments()
        np.testing.assert_allclose(blocks.moments.mean, ref.mean, rtol=RTOL)
        np.testing.assert_allclose(blocks.moments.scatter, ref.scatter, rtol=1e-10)
    finally:
        blocks.unpersist()


def test_one_gd_step_through_spark_equals_numpy(spark, data):
    X, y = data
    blocks = BlockSet(spark, frame_of(spark, X, y, 3), "label", NAMES).build()
    try:
        fmap = FeatureMap.from_moments(blocks.moments, standardize=True)
        fmap_np = FeatureMap.from_moments(InMemorySource((X, y)).moments(), standardize=True)
        np.testing.assert_allclose(fmap.scale, fmap_np.scale, rtol=RTOL)
        theta0 = np.append(np.random.default_rng(2).standard_normal(len(NAMES)) * 0.01, 0.0)
        runs = []
        for source, fm in ((blocks, fmap), (InMemorySource((X, y)), fmap_np)):
            objective = LogisticObjective(source, fm)
            lr = 1.0 / objective.lipschitz(blocks.moments)
            state = OptimizerState(iteration=0, theta=theta0.copy())
            runs.append(gradient_descent(objective, state, learning_rate=lr, stop=StopRule(1, 0)))
        spark_run, numpy_run = runs
        assert spark_run.iteration == numpy_run.iteration == 1
        np.testing.assert_allclose(spark_run.theta, numpy_run.theta, rtol=RTOL, atol=0)
        assert not np.allclose(spark_run.theta, theta0)  # a step was taken
        for a, b in zip(spark_run.history, numpy_run.history, strict=True):
            assert abs(a.loss - b.loss) <= RTOL * abs(b.loss)
            assert abs(a.grad_norm - b.grad_norm) <= RTOL * b.grad_norm
    finally:
        blocks.unpersist()


def _block_files(blocks) -> list[str]:
    return sorted(f for m in blocks.metas for f in glob.glob(f"{m.path}.*.npy"))


def test_resident_hits_reuse_workers_and_mappings(spark, data, params):
    """Each Python worker maps each block once (any idle worker may take any partition), and
    afterwards serves it from its mapping; the workers themselves are reused."""
    X, y = data
    w, b = params
    blocks = BlockSet(spark, frame_of(spark, X, y, 2), "label", NAMES).build()
    try:
        files = _block_files(blocks)
        assert len(files) == 4
        # in the executor's local directory (Spark's block manager directory), not /tmp
        assert all("/blockmgr-" in f and "/sparklr-blocks/" in f for f in files), files
        seen: dict[tuple[int, int], int] = {}
        for _ in range(6):
            s = blocks.sums(w, b)
            assert_sums_close(s, block_sums(X, y, w, b))
            for r in blocks.last_reports:
                assert not r.missed
                key = (r.pid, r.partition)
                # a worker maps a block only the first time it serves it
                assert r.opened == (key not in seen), (key, seen)
                seen[key] = seen.get(key, 0) + 1
        pids = {pid for pid, _ in seen}
        assert len(pids) <= 2  # local[2]: at most two reused Python workers for 12 tasks
        assert blocks.rebuilds == 0
    finally:
        blocks.unpersist()
    assert _block_files(blocks) == []


def test_missing_block_files_trigger_a_rebuild_with_the_same_result(spark, data, params, caplog):
    X, y = data
    w, b = params
    blocks = BlockSet(spark, frame_of(spark, X, y, 2), "label", NAMES).build()
    try:
        first = blocks.sums(w, b)
        old = _block_files(blocks)
        assert old
        for f in old:  # what a cleaned local directory or a lost disk looks like
            os.remove(f)
        with caplog.at_level("WARNING", logger="sparklr.spark.blocks"):
            second = blocks.sums(w, b)
        assert blocks.rebuilds == 1
        assert "rebuilding from source" in caplog.text
        new = _block_files(blocks)
        assert new and set(new).isdisjoint(old)
        assert_sums_close(second, first)
        assert_sums_close(second, block_sums(X, y, w, b))
        third = blocks.sums(w, b)  # the rebuilt blocks are resident again: no second rebuild
        assert blocks.rebuilds == 1
        assert_sums_close(third, first)
    finally:
        blocks.unpersist()


def test_evicted_meta_rows_are_recomputed_from_lineage(spark, data, params):
    """A lost cached meta row (eviction, lost executor) rebuilds its block inside the job."""
    X, y = data
    w, b = params
    blocks = BlockSet(spark, frame_of(spark, X, y, 2), "label", NAMES).build()
    try:
        first = blocks.sums(w, b)
        blocks._meta_rdd.unpersist(blocking=True)
        for f in _block_files(blocks):
            os.remove(f)
        second = blocks.sums(w, b)
        assert blocks.rebuilds == 0  # lineage rebuilt the files, no driver-side rebuild
        assert len(_block_files(blocks)) == 4
        assert_sums_close(second, first)
    finally:
        blocks.unpersist()


#: float32 storage: X is rounded to 24 bits (relative 6e-8) and each chunk's Xᵀr is formed in
#: float32; on this data J agrees with float64 to ~1e-8 and ∇J to ~1e-6 (norm-wise relative).
F32_LOSS_RTOL = 1e-6
F32_GRAD_RTOL = 1e-5


def test_float32_blocks_within_stated_tolerance(spark, data, params):
    X, y = data
    w, b = params
    blocks = BlockSet(spark, frame_of(spark, X, y, 2), "label", NAMES, dtype="float32").build()
    try:
        assert blocks.block_bytes == len(y) * (len(NAMES) * 4 + 8)
        got = blocks.sums(w, b)
        ref = block_sums(X, y, w, b)
        assert got.rows == ref.rows
        assert abs(got.loss - ref.loss) <= F32_LOSS_RTOL * abs(ref.loss)
        err = np.linalg.norm(got.grad_w - ref.grad_w) / np.linalg.norm(ref.grad_w)
        assert err <= F32_GRAD_RTOL
        assert err > 0  # really float32: not bit-identical to float64
        # and it is exactly the in-memory float32 kernel on the same rounded matrix
        assert_sums_close(got, block_sums(X.astype(np.float32), y, w, b), rtol=1e-6)
    finally:
        blocks.unpersist()
