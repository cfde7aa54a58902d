"""The resident blocks (sparklr.spark.blockset) against the single in-memory block.

Blocks are built from DataFrames whose partitions are set row by row here (including an empty
one), so every case is exact: the distributed sums must equal the NumPy sums of the whole
matrix to 1e-12 relative (they differ only by the order of the additions).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sparklr.errors import DataError
from sparklr.in_memory import InMemorySource
from sparklr.kernels.dense import block_sums, score_summary
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerState, StopRule, gradient_descent
from sparklr.spark import blockfiles
from sparklr.spark.blockset import BlockSet

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
    assert got.weight_sum == ref.weight_sum
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
    return sorted(f for m in blocks.metas for f in blockfiles.block_files(m.path))


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
        with caplog.at_level("WARNING", logger="sparklr.spark.blockset"):
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


# --------------------------------------------------------------------------- instrumentation


@pytest.fixture(scope="module")
def resident(spark, data):
    """Four blocks, the third empty, built once for the instrumentation tests."""
    X, y = data
    blocks = BlockSet(spark, frame_of(spark, X, y, 4, empty=(2,)), "label", NAMES).build()
    yield blocks
    blocks.unpersist()


def test_listeners_get_every_evaluations_reports(resident, params):
    w, b = params
    seen: list[list] = []
    also: list[int] = []
    resident.add_listener(seen.append)
    resident.add_listener(lambda reports: also.append(len(reports)))
    resident.sums(w, b)
    resident.sums(w, b, hessian=True)
    assert len(seen) == 2 and also == [4, 4]
    assert seen[-1] == resident.last_reports and seen[0] is not resident.last_reports
    assert [r.partition for r in seen[0]] == [0, 1, 2, 3]
    assert not any(r.missed for reports in seen for r in reports)


def test_class_weight_reaches_every_task(resident, data, params):
    X, y = data
    w, b = params
    got = resident.sums(w, b, hessian=True, class_weight=(0.5, 2.0))
    ref = block_sums(X, y, w, b, hessian=True, class_weight=(0.5, 2.0))
    assert_sums_close(got, ref)
    np.testing.assert_allclose(got.hess_ww, ref.hess_ww, rtol=RTOL)
    assert_sums_close(resident.sums(w, b), block_sums(X, y, w, b))  # not kept for the next


def test_file_usage_is_the_block_files_on_disk(resident):
    (used,) = resident.file_usage()  # local mode: one executor, one local dir
    files = _block_files(resident)
    assert len(files) == 6  # X and y of the three non-empty blocks
    assert used.bytes == sum(os.path.getsize(f) for f in files) > resident.block_bytes
    assert used.local_dir == blockfiles.local_dir_of(resident.metas[0].path)
    assert "/blockmgr-" in used.local_dir and used.host == resident.metas[0].host


def test_locations_count_the_non_empty_blocks_per_local_dir(resident):
    (used,) = resident.file_usage()
    assert resident.locations() == {f"{used.host}:{used.local_dir}": 3}


def test_worker_usage_sees_the_workers_serving_the_blocks(resident, params):
    resident.sums(*params)
    workers = resident.worker_usage()
    pids = [w.pid for w in workers]
    assert pids == sorted(set(pids))  # one entry per worker
    assert {r.pid for r in resident.last_reports} <= set(pids)
    for w in workers:
        assert 0 < w.rss_anon < w.vm_rss and 0 <= w.rss_file < w.vm_rss
        assert w.blas_threads >= 1
    # every worker that summed a block holds its mapping (and no worker more than the 3)
    served = {r.pid for r in resident.last_reports if r.partition != 2}
    assert all(1 <= w.open_blocks <= 3 for w in workers if w.pid in served)


def test_cached_meta_bytes_are_the_small_cached_rdd(resident):
    assert 0 < resident.cached_meta_bytes() < 64 * 1024  # four small rows, not the data


def test_read_block_returns_copies_of_each_block(resident, data):
    X, y = data
    parts = [resident.read_block(m.partition) for m in resident.metas if m.rows]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), X)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), y)
    X0, _ = parts[0]
    X0[0, 0] = np.inf  # a copy: the resident block is untouched
    np.testing.assert_array_equal(resident.read_block(0)[0][0], X[0])
    with pytest.raises(ValueError, match="block 2 holds no rows"):
        resident.read_block(2)


def test_instrumentation_needs_built_blocks(spark, data):
    X, y = data
    blocks = BlockSet(spark, frame_of(spark, X, y, 1), "label", NAMES)
    for probe in (blocks.file_usage, blocks.worker_usage, blocks.cached_meta_bytes):
        with pytest.raises(RuntimeError, match="not built"):
            probe()


def auc_by_mllib(spark, p: np.ndarray, y: np.ndarray) -> float:
    """MLlib's exact AUC (no down-sampling) of scores p."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator

    frame = spark.createDataFrame([(float(a), float(b)) for a, b in zip(p, y, strict=True)])
    return BinaryClassificationEvaluator(
        rawPredictionCol="_1", labelCol="_2", metricName="areaUnderROC", numBins=0
    ).evaluate(frame)


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "binned"])
def test_score_summary_equals_the_single_block_and_mllibs_auc(spark, data, params, exact):
    X, y = data
    w, b = params
    blocks = BlockSet(spark, frame_of(spark, X, y, 4, (2,)), "label", NAMES).build()
    try:
        if not exact:
            blocks.exact_auc_rows = 0  # tally by bin, as for data of more than AUC_BINS rows
        evaluations = blocks.evaluations
        got = blocks.score_summary(w, b)
        assert blocks.evaluations == evaluations + 1 and len(blocks.last_reports) == 4
        ref = score_summary(X, y, w, b, exact_auc=exact)
        assert got.metrics() == pytest.approx(ref.metrics(), rel=1e-12)
        np.testing.assert_array_equal(got.count, ref.count)
        np.testing.assert_array_equal(got.tally.count, ref.tally.count)
        metrics = got.metrics()
        p = 1 / (1 + np.exp(-(X @ w + b)))
        for reference in (auc_by_mllib(spark, p, y), roc_auc_score(y, p)):
            assert abs(metrics["auc"] - reference) <= metrics["auc_error_bound"] + 1e-12
        assert (metrics["auc_error_bound"] == 0.0) == exact
        assert metrics["auc_error_bound"] < 1e-4
    finally:
        blocks.unpersist()


def test_binned_auc_bound_on_the_breast_cancer_data(spark):
    """Real data, the binned tally: MLlib's and sklearn's AUC lie within a bound < 1e-4."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    data = load_breast_cancer()
    X, y = data.data[:, :5], data.target.astype(float)
    fit = LogisticRegression(C=1e4, max_iter=20000).fit(X, y)
    w, b = fit.coef_[0], float(fit.intercept_[0])
    names = [f"f{j}" for j in range(5)]
    rows = [(float(t), *map(float, x)) for t, x in zip(y, X, strict=True)]
    frame = spark.createDataFrame(
        rows, ", ".join(["label double", *(f"{n} double" for n in names)])
    )
    blocks = BlockSet(spark, frame.repartition(3), "label", names).build()
    try:
        blocks.exact_auc_rows = 0
        metrics = blocks.score_summary(w, b).metrics()
        p = fit.predict_proba(X)[:, 1]
        bound = metrics["auc_error_bound"]
        assert 0.0 <= bound < 1e-4 and metrics["rows"] == len(y)
        for reference in (auc_by_mllib(spark, p, y), roc_auc_score(y, p)):
            assert abs(metrics["auc"] - reference) <= bound + 1e-12
    finally:
        blocks.unpersist()


def test_a_set_to_score_may_hold_one_class_but_a_set_to_fit_may_not(spark):
    frame = spark.createDataFrame([(1.0, 0.5), (1.0, -1.0)], "label double, x double")
    with pytest.raises(DataError, match="only one class"):
        BlockSet(spark, frame, "label", ["x"]).build()
    blocks = BlockSet(spark, frame, "label", ["x"], fit=False).build()
    try:
        metrics = blocks.score_summary(np.array([1.0]), 0.0).metrics()
        assert (metrics["rows"], metrics["accuracy"], metrics["auc"]) == (2, 0.5, None)
        assert metrics["auc_error_bound"] is None
    finally:
        blocks.unpersist()
