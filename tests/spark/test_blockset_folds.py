"""Cross-validation folds in the resident blocks (issue 14): the fold ids "f" the build writes
(sparklr.spark.build, sparklr.tuning.folds) and the per-fold sums and held-out scores
(BlockSet.sums / score_summary with ``fold``), against NumPy on the explicit row subsets."""

from __future__ import annotations

import numpy as np
import pytest
from sparklr.kernels.dense import block_sums, score_summary
from sparklr.spark.blockset import BlockSet
from sparklr.tuning.folds import dense_row_digest, fold_ids

from tests.conftest import make_logistic_data

NAMES = ["a", "b", "c"]
K, SEED = 5, 3


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = make_logistic_data(2000, len(NAMES), seed=21, offset=1.0, scale=2.0)
    v = np.random.default_rng(5).uniform(0.5, 2.0, len(y))
    return X, y, v


def weighted_frame(spark, X, y, v, partitions: int):
    """DataFrame [label, a, b, c, weight], partition i holding the i-th slice of the rows."""
    slices = np.array_split(np.arange(len(y)), partitions)
    rows = np.column_stack([y, X, v])

    def rows_of(index, _):
        for r in rows[slices[index]]:
            yield tuple(float(x) for x in r)

    rdd = spark.sparkContext.parallelize(range(partitions), partitions)
    schema = ", ".join(["label double", *(f"{n} double" for n in NAMES), "weight double"])
    return spark.createDataFrame(rdd.mapPartitionsWithIndex(rows_of), schema)


def folded_blocks(spark, X, y, v, partitions: int) -> BlockSet:
    frame = weighted_frame(spark, X, y, v, partitions)
    return BlockSet(spark, frame, "label", NAMES, weight="weight", folds=K, fold_seed=SEED).build()


@pytest.fixture(scope="module")
def built(spark, data):
    """Blocks of the same rows in 1, 2 and 7 partitions; the 7-partition one in another row
    order (a rows's fold must not depend on where it is)."""
    X, y, v = data
    order = np.random.default_rng(1).permutation(len(y))
    sets = {
        1: (folded_blocks(spark, X, y, v, 1), np.arange(len(y))),
        2: (folded_blocks(spark, X, y, v, 2), np.arange(len(y))),
        7: (folded_blocks(spark, X[order], y[order], v[order], 7), order),
    }
    yield sets
    for blocks, _ in sets.values():
        blocks.unpersist()


def assert_sums_close(got, ref, rtol=1e-12):
    """Equal up to the order of the additions (the blocks add their parts)."""
    assert got.rows == ref.rows
    for name in ("weight_sum", "correct", "loss", "grad_b", "hess_bb"):
        assert getattr(got, name) == pytest.approx(getattr(ref, name), rel=rtol), name
    for name in ("grad_w", "hess_wb", "hess_ww"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=rtol)


def stored_folds(blocks: BlockSet, order: np.ndarray) -> np.ndarray:
    """The fold ids read back from the block files, in the original row order."""
    f = np.concatenate([blocks.read_folds(p) for p in range(blocks.partitions)])
    out = np.empty_like(f)
    out[order] = f
    return out


def test_fold_ids_are_the_same_for_1_2_and_7_partitions_and_cover_every_row_once(built, data):
    X, y, v = data
    expected = fold_ids(SEED, K, y, v, dense_row_digest(X))
    for partitions, (blocks, order) in built.items():
        assert blocks.partitions == partitions
        f = stored_folds(blocks, order)
        assert f.dtype == np.int8 and len(f) == len(y)  # one id per row: disjoint, covering
        np.testing.assert_array_equal(f, expected)
    assert set(np.unique(expected)) == set(range(K))


@pytest.mark.parametrize("partitions", [2, 7])
def test_fold_sums_and_held_out_scores_equal_numpy_on_the_explicit_rows(built, data, partitions):
    X, y, v = data
    blocks, _ = built[partitions]
    f = fold_ids(SEED, K, y, v, dense_row_digest(X))
    w, b = np.array([0.3, -0.2, 0.1]), -0.4
    for k in (0, K - 1):
        train, held = f != k, f == k
        ref = block_sums(X[train], y[train], w, b, v[train], hessian=True)
        assert_sums_close(blocks.sums(w, b, hessian=True, fold=k), ref)
        got = blocks.score_summary(w, b, fold=k).metrics()
        want = score_summary(X[held], y[held], w, b, exact_auc=True).metrics()
        assert got["rows"] == want["rows"] == held.sum()
        assert got["log_loss"] == pytest.approx(want["log_loss"], rel=1e-12)
        assert got["auc"] == pytest.approx(want["auc"], rel=1e-12)
        assert blocks.score_summary(w, b, fold=k, held_out=False).rows == train.sum()


def test_a_fold_outside_the_blocks_folds_is_refused(built):
    blocks, _ = built[2]
    with pytest.raises(ValueError, match="fold 5"):
        blocks.sums(np.zeros(3), 0.0, fold=K)
