"""The multi-model passes (sparklr.spark.multisums) against the single-model passes of the same
blocks: BlockSet.sums(fold=k) (with the Hessian too) and score_summary(fold=k)."""

from __future__ import annotations

import numpy as np
import pytest
from sparklr.kernels.multi import ALL_ROWS

from tests.spark.test_blockset_folds import K, data, folded_blocks  # noqa: F401

FOLDS = np.array([*range(K), ALL_ROWS])


def assert_sums_close(got, ref, rtol=1e-12):
    assert got.rows == ref.rows
    for name in ("weight_sum", "correct", "loss", "grad_b"):
        assert getattr(got, name) == pytest.approx(getattr(ref, name), rel=rtol), name
    np.testing.assert_allclose(got.grad_w, ref.grad_w, rtol=rtol)


@pytest.fixture(scope="module")
def blocks(spark, data):  # noqa: F811
    X, y, v = data
    built = folded_blocks(spark, X, y, v, 3)
    yield built
    built.unpersist()


@pytest.fixture(scope="module")
def models():
    rng = np.random.default_rng(8)
    return 0.3 * rng.standard_normal((3, len(FOLDS))), rng.standard_normal(len(FOLDS))


def test_one_pass_gives_every_models_sums_as_its_own_pass_would(blocks, models):
    W, B = models
    before = blocks.evaluations
    sums = blocks.multi_sums(W, B, FOLDS, class_weight=(0.8, 1.3))
    assert blocks.evaluations == before + 1
    for j, k in enumerate(FOLDS):
        fold = None if k == ALL_ROWS else int(k)
        ref = blocks.sums(W[:, j], B[j], class_weight=(0.8, 1.3), fold=fold)
        assert_sums_close(sums.model(j), ref)
    again = blocks.multi_sums(W, B, FOLDS, class_weight=(0.8, 1.3))
    np.testing.assert_array_equal(again.grad_w, sums.grad_w)  # deterministic, bit for bit
    np.testing.assert_array_equal(again.loss, sums.loss)


def test_one_scoring_pass_gives_every_folds_held_out_summary(blocks, models):
    W, B = models[0][:, :K], models[1][:K]
    summaries = blocks.held_out_scores(W, B, FOLDS[:K])
    multi = blocks.multi_sums(W, B, FOLDS[:K])
    for k, summary in enumerate(summaries):
        got, want = summary.metrics(), blocks.score_summary(W[:, k], B[k], fold=k).metrics()
        assert got["rows"] == want["rows"] == multi.held_rows[k]
        assert got["log_loss"] == pytest.approx(want["log_loss"], rel=1e-12)
        assert got["auc"] == pytest.approx(want["auc"], rel=1e-12)
        assert multi.held_loss[k] / multi.held_rows[k] == pytest.approx(got["log_loss"], rel=1e-12)
    with pytest.raises(ValueError, match="not among"):
        blocks.held_out_scores(W[:, :1], B[:1], np.array([ALL_ROWS]))


def test_each_models_hessian_comes_through_the_distributed_reduce(blocks, models):
    W, B = models
    sums = blocks.multi_sums(W, B, FOLDS, class_weight=(0.8, 1.3), hessian=True)
    assert len(blocks.metas) > 1  # several blocks' Hessians were added in the reduce
    for j in (0, len(FOLDS) - 1):  # a fold model and the full-data model
        fold = None if FOLDS[j] == ALL_ROWS else int(FOLDS[j])
        ref = blocks.sums(W[:, j], B[j], hessian=True, class_weight=(0.8, 1.3), fold=fold)
        got = sums.model(j)
        assert_sums_close(got, ref)
        np.testing.assert_allclose(got.hess_ww, ref.hess_ww, rtol=1e-12)
        np.testing.assert_allclose(got.hess_wb, ref.hess_wb, rtol=1e-12)
        assert got.hess_bb == pytest.approx(ref.hess_bb, rel=1e-12)
