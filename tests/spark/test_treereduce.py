"""The reduce tree of a pass (sparklr.spark.treereduce, through BlockSet): bit-identical sums
whether its levels run on the executors or on the driver, the driver receiving ⌈P^(1/d)⌉
partials instead of P, every block's report kept, misses repaired, and w broadcast."""

from __future__ import annotations

import operator
import os

import numpy as np
import pytest
from sparklr.kernels import add_scores
from sparklr.kernels.dense import block_sums, score_summary
from sparklr.kernels.tree import combine_in_tree, fan_in
from sparklr.spark import blockfiles
from sparklr.spark.blockset import BlockSet

from tests.conftest import make_logistic_data
from tests.spark.test_blockset import NAMES, frame_of

NEVER = 1 << 62  # tree_min_bytes that keeps the levels on the driver


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = make_logistic_data(2100, len(NAMES), seed=3, offset=1.0, scale=2.0)
    return X, y


@pytest.fixture(scope="module")
def params():
    return 0.4 * np.random.default_rng(8).standard_normal(len(NAMES)), 0.2


def built(spark, data, partitions, empty=()):
    X, y = data
    return BlockSet(spark, frame_of(spark, X, y, partitions, empty), "label", NAMES).build()


def blocks_on_driver(blocks):
    return [blocks.read_block(m.partition) if m.rows else None for m in blocks.metas]


def assert_bit_identical(got, ref):
    assert (got.loss, got.grad_b, got.weight_sum, got.rows, got.correct) == (
        ref.loss,
        ref.grad_b,
        ref.weight_sum,
        ref.rows,
        ref.correct,
    )
    assert np.array_equal(got.grad_w, ref.grad_w)


@pytest.mark.parametrize(("partitions", "empty"), [(1, ()), (2, ()), (7, ()), (7, (4,))], ids=str)
def test_sums_are_bit_identical_with_and_without_the_tree(spark, data, params, partitions, empty):
    w, b = params
    blocks = built(spark, data, partitions, empty)
    try:
        blocks.tree_min_bytes = 0
        with_tree = blocks.sums(w, b)
        received = blocks.last_received.parts
        blocks.tree_min_bytes = NEVER
        without = blocks.sums(w, b)
        assert blocks.last_received.parts == partitions
        k = fan_in(partitions, 2)
        assert received == (partitions if partitions <= k else -(-partitions // k))
        assert_bit_identical(with_tree, without)
        # and both are the fixed tree over the per-block sums computed here on the driver
        n = len(NAMES)
        parts = [
            block_sums(*xy, w, b) if xy else block_sums(np.zeros((0, n)), np.zeros(0), w, b)
            for xy in blocks_on_driver(blocks)
        ]
        assert_bit_identical(with_tree, combine_in_tree(parts, k, operator.add))
        assert [r.partition for r in blocks.last_reports] == list(range(partitions))
    finally:
        blocks.unpersist()


def test_score_summaries_are_bit_identical_with_and_without_the_tree(spark, data, params):
    w, b = params
    blocks = built(spark, data, 7, (4,))
    try:
        blocks.tree_min_bytes = 0
        tree = blocks.score_summary(w, b)
        assert blocks.last_received.parts == 3
        blocks.tree_min_bytes = NEVER
        flat = blocks.score_summary(w, b)
        assert tree.metrics() == flat.metrics()
        for field in ("count", "bin_positives", "sum_probability"):
            assert np.array_equal(getattr(tree, field), getattr(flat, field))
        assert np.array_equal(tree.tally.keys, flat.tally.keys)
        X, y = data
        ref = score_summary(X, y, w, b, exact_auc=True)
        assert tree.metrics() == pytest.approx(ref.metrics(), rel=1e-12)
        assert add_scores(ref, ref).rows == 2 * ref.rows
    finally:
        blocks.unpersist()


def test_the_driver_receives_fan_in_many_partials_not_p(spark, data, params):
    w, b = params
    blocks = built(spark, data, 32)
    try:
        blocks.tree_min_bytes = 0
        blocks.sums(w, b)
        tree = blocks.last_received
        assert tree.parts == fan_in(32, 2) == 6
        assert len(blocks.last_reports) == 32 and not any(r.missed for r in blocks.last_reports)
        blocks.aggregation_depth = 3  # k = 4: 32 → 8 → 2 on the executors
        blocks.sums(w, b)
        assert blocks.last_received.parts == 2
        blocks.tree_min_bytes = NEVER
        blocks.sums(w, b)
        flat = blocks.last_received
        assert flat.parts == 32
        assert tree.bytes < flat.bytes / 3
    finally:
        blocks.unpersist()


def test_a_miss_under_the_tree_rebuilds_and_repeats(spark, data, params, caplog):
    w, b = params
    blocks = built(spark, data, 7)
    try:
        blocks.tree_min_bytes = 0
        first = blocks.sums(w, b)
        for f in blockfiles.block_files(blocks.metas[5].path):
            os.remove(f)
        with caplog.at_level("WARNING", logger="sparklr.spark.blockset"):
            again = blocks.sums(w, b)
        assert blocks.rebuilds == 1 and "partitions [5]" in caplog.text
        assert_bit_identical(again, first)
        assert [r.partition for r in blocks.last_reports] == list(range(7))
    finally:
        blocks.unpersist()


def test_a_broadcast_w_gives_the_same_sums_as_the_closure_and_is_destroyed(
    spark, data, params, monkeypatch
):
    w, b = params
    sc = spark.sparkContext
    made = []

    def recording_broadcast(value):
        made.append(broadcast_of(value))
        return made[-1]

    broadcast_of = sc.broadcast
    blocks = built(spark, data, 2)
    try:
        closure = blocks.sums(w, b, hessian=True)
        scores = blocks.score_summary(w, b)
        assert made == []  # 5 features: in the closure
        monkeypatch.setattr(sc, "broadcast", recording_broadcast)
        blocks.broadcast_min_features = len(NAMES)
        broadcast = blocks.sums(w, b, hessian=True)
        assert_bit_identical(broadcast, closure)
        assert np.array_equal(broadcast.hess_ww, closure.hess_ww)
        assert blocks.score_summary(w, b).metrics() == scores.metrics()
        assert len(made) == 2  # one per pass
        assert not any(os.path.exists(bc._path) for bc in made)  # destroyed after the pass
    finally:
        blocks.unpersist()
