"""Synthetic data generated on the executors (sparklr.spark.synthetic): the same arguments give
the same rows, and the rows follow the truth written beside them."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest
from sparklr.kernels import sigmoid
from sparklr.spark.synthetic import (
    SyntheticSpec,
    SyntheticTruth,
    feature_names,
    plan_synthetic_blocks,
    synthetic_frame,
)


def test_feature_names_are_zero_padded_to_sort_in_order():
    assert feature_names(3) == ["x0", "x1", "x2"]
    assert feature_names(12)[:2] == ["x00", "x01"] and feature_names(12)[-1] == "x11"


def test_truth_on_the_original_scale_is_the_standardized_one_unscaled():
    truth = SyntheticTruth.from_seed(4, seed=9)
    w, s, c = truth.standardized_coefficients, truth.scales, truth.offsets
    np.testing.assert_allclose(truth.coefficients, w / s, rtol=1e-15)
    assert truth.intercept == pytest.approx(truth.standardized_intercept - (w / s) @ c)
    assert np.all((c >= -3) & (c <= 3)) and np.all((s >= np.exp(-1)) & (s <= np.e))
    again = SyntheticTruth.from_seed(4, seed=9)
    assert again.coefficients.tobytes() == truth.coefficients.tobytes()
    assert set(truth.to_json()) == {"coefficients", "intercept", "offsets", "scales"}


def _rows(frame) -> np.ndarray:
    return np.array([tuple(r) for r in frame.orderBy("id").collect()], dtype=np.float64)


def test_same_arguments_give_the_same_rows_and_the_rows_follow_the_truth(spark):
    frame, truth = synthetic_frame(spark, 6000, 3, 3, seed=5)
    assert frame.columns == ["id", "x0", "x1", "x2", "label"]
    assert frame.rdd.getNumPartitions() == 3
    rows = _rows(frame)
    assert rows.shape == (6000, 5)
    np.testing.assert_array_equal(rows[:, 0], np.arange(6000))
    assert np.array_equal(rows, _rows(synthetic_frame(spark, 6000, 3, 3, seed=5)[0]))
    assert not np.array_equal(
        rows[:, 1:], _rows(synthetic_frame(spark, 6000, 3, 3, seed=6)[0])[:, 1:]
    )
    X, y = rows[:, 1:4], rows[:, 4]
    assert set(np.unique(y)) == {0.0, 1.0}
    # x_j = c_j + s_j N(0, 1), and P(y = 1) = σ(wᵀx + b) with the truth on the original scale.
    np.testing.assert_allclose(X.mean(axis=0), truth.offsets, atol=4 * truth.scales.max() / 70)
    np.testing.assert_allclose(X.std(axis=0), truth.scales, rtol=0.05)
    p = 1 / (1 + np.exp(-(X @ truth.coefficients + truth.intercept)))
    assert abs(y.mean() - p.mean()) < 4 * np.sqrt(p.mean() * (1 - p.mean()) / 6000)
    assert p[y == 1].mean() > p[y == 0].mean() + 0.1  # y depends on x as the truth says


def _reference_rows(spark, rows: int, n_features: int, partitions: int, seed: int) -> np.ndarray:
    """The first generator, kept verbatim as the reference: ``spark.range`` + ``mapInArrow``,
    each Arrow batch of ids (Spark's default 10,000 records) seeded by (seed, first id, rows)."""
    truth = SyntheticTruth.from_seed(n_features, seed)
    names = feature_names(n_features)
    schema = ", ".join(["id long", *(f"{n} double" for n in names), "label long"])

    def generate(batches):
        for batch in batches:
            ids = batch.column(0).to_numpy()
            k = len(ids)
            if k == 0:
                continue
            rng = np.random.default_rng([seed, int(ids[0]), k])
            u = rng.standard_normal((k, n_features))
            z = u @ truth.standardized_coefficients + truth.standardized_intercept
            y = (rng.random(k) < sigmoid(z)).astype(np.int64)
            X = truth.offsets + truth.scales * u
            columns = [pa.array(ids), *(pa.array(X[:, j]) for j in range(n_features))]
            yield pa.RecordBatch.from_arrays([*columns, pa.array(y)], names=["id", *names, "label"])

    frame = spark.range(0, rows, numPartitions=partitions).mapInArrow(generate, schema)
    return _rows(frame)


#: Partitions of 22,500 and 22,501 rows: RNG batches of 10,000, 10,000 and 2,500 / 2,501.
REFERENCE = (45_001, 3, 2, 11)


@pytest.fixture(scope="module")
def reference(spark) -> np.ndarray:
    return _reference_rows(spark, *REFERENCE)


def test_the_frame_has_the_reference_rows_and_partitions(spark, reference):
    frame, _ = synthetic_frame(spark, *REFERENCE)
    assert frame.rdd.getNumPartitions() == 2
    np.testing.assert_array_equal(_rows(frame), reference)
    first = frame.rdd.mapPartitions(lambda rows: [min((r.id for r in rows), default=-1)])
    assert first.collect() == [0, 22_500]  # partition i holds rows [i·M/S, (i+1)·M/S)


@pytest.mark.parametrize("blocks", [1, 3, 7])
def test_plan_batches_are_the_reference_rows_cut_into_contiguous_blocks(reference, blocks):
    plan = plan_synthetic_blocks(SyntheticSpec(*REFERENCE), ["label", "x0", "x1", "x2"], blocks)
    assert plan.partitions == blocks and plan.rows == 45_001
    assert plan.blocks[0][0] == 0 and plan.blocks[-1][1] == 45_001
    assert all(a[1] == b[0] for a, b in itertools.pairwise(plan.blocks))
    got = np.vstack(
        [
            np.column_stack([b.column(c).to_numpy() for c in plan.columns])
            for start, stop in plan.blocks
            for b in plan.batches(start, stop)
        ]
    )
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, reference[:, [4, 1, 2, 3]])


def test_the_training_load_builds_the_reference_blocks_without_a_dataframe(spark, reference):
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import load_frames

    frames = load_frames(
        spark, fmt="synthetic", label="label", features=[], synthetic=REFERENCE, partitions=3
    )
    assert frames.train is None and frames.parquet is None
    assert frames.names == ["x0", "x1", "x2"] and frames.roles["id"].startswith("ignored")
    blocks = BlockSet(spark, None, "label", frames.names, synthetic=frames.synthetic).build()
    try:
        parts = [blocks.read_block(p) for p in range(blocks.partitions)]
    finally:
        blocks.unpersist()
    assert [len(y) for _, y in parts] == [15_000, 15_000, 15_001]
    np.testing.assert_array_equal(np.vstack([X for X, _ in parts]), reference[:, 1:4])
    np.testing.assert_array_equal(np.concatenate([y for _, y in parts]), reference[:, 4])


def test_a_validation_split_or_the_spark_reader_goes_through_the_frame(spark):
    from sparklr.spark.loading import load_frames

    common = dict(fmt="synthetic", label="label", features=["x1"], synthetic=(500, 3, 2, 1))
    split = load_frames(spark, **common, validation_fraction=0.2)
    through_spark = load_frames(spark, **common, reader="spark")
    for frames in (split, through_spark):
        assert frames.synthetic is None and frames.train.columns == ["label", "x1"]
    assert split.validation is not None
