"""What every kernel shares (sparklr.kernels): BlockSums, sum_in_order, the link functions."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sparklr.kernels import (
    AUC_BINS,
    AucTally,
    BlockSums,
    log_loss_terms,
    merge_scores,
    probability_bins,
    sigmoid,
    sigmoid_and_softplus,
    sum_in_order,
)
from sparklr.kernels.dense import block_sums, score_summary

from tests.conftest import make_logistic_data


def test_log_loss_terms_exact_at_extreme_z():
    z = np.array([-800.0, -45.0, -40.0, 0.0, 40.0, 45.0, 800.0])
    for label in (0.0, 1.0):
        y = np.full(len(z), label)
        # softplus(z) - y z: exact references for the large |z| ends
        with np.errstate(over="ignore"):
            expected = np.where(z > 0, z + np.log1p(np.exp(-z)), np.log1p(np.exp(z))) - label * z
        np.testing.assert_allclose(log_loss_terms(z, y), expected, rtol=1e-15)
    # a correct confident prediction costs ~e^{-|z|}, not 0 and not NaN
    assert log_loss_terms(np.array([45.0]), np.array([1.0]))[0] == pytest.approx(np.exp(-45.0))
    assert sigmoid(np.array([-800.0]))[0] == 0.0 and sigmoid(np.array([800.0]))[0] == 1.0


def test_sigmoid_and_softplus_from_one_exponential_agree_with_the_separate_ones():
    z = np.linspace(-50.0, 50.0, 41)
    a, sp = sigmoid_and_softplus(z)
    np.testing.assert_array_equal(a, sigmoid(z))
    np.testing.assert_allclose(sp, log_loss_terms(z, np.zeros_like(z)), rtol=1e-15)


def test_sums_of_blocks_equal_the_single_block_for_any_split():
    X, y, w, b = make_logistic_data(1000, 4, seed=6)
    whole = block_sums(X, y, w, b)
    for cuts in ([500], [1, 2, 999], [0, 0, 1000], [333, 666]):
        parts = [
            block_sums(Xp, yp, w, b)
            for Xp, yp in zip(np.split(X, cuts), np.split(y, cuts), strict=True)
        ]
        total = sum_in_order(parts, 4)
        assert total.loss == pytest.approx(whole.loss, rel=1e-12)
        np.testing.assert_allclose(total.grad_w, whole.grad_w, rtol=1e-12)
        assert total.rows == 1000


def _sums(k: float, hessian: bool) -> BlockSums:
    return BlockSums(
        loss=k,
        grad_w=np.array([k, 2 * k]),
        grad_b=3 * k,
        weight_sum=4 * k,
        rows=int(5 * k),
        correct=6 * k,
        hess_ww=np.full((2, 2), 7 * k) if hessian else None,
        hess_wb=np.full(2, 8 * k) if hessian else None,
        hess_bb=9 * k if hessian else None,
    )


def test_adding_block_sums_adds_every_field():
    total = _sums(1.0, True) + _sums(2.0, True)
    expected = _sums(3.0, True)
    for name in ("loss", "grad_b", "weight_sum", "rows", "correct", "hess_bb"):
        assert getattr(total, name) == getattr(expected, name), name
    for name in ("grad_w", "hess_ww", "hess_wb"):
        np.testing.assert_array_equal(getattr(total, name), getattr(expected, name))
    # the Hessian pieces survive only when both sides have them
    partial = _sums(1.0, True) + _sums(2.0, False)
    assert not partial.has_hessian and partial.hess_bb is None and partial.loss == 3.0


def test_sum_in_order_starts_from_zeros():
    zero = sum_in_order([], 2, hessian=True)
    assert zero.rows == 0 and zero.weight_sum == 0 and zero.has_hessian
    assert not zero.grad_w.any() and zero.grad_w.shape == (2,) and zero.hess_ww.shape == (2, 2)
    one = sum_in_order([_sums(2.0, False)], 2)
    assert one.loss == 2.0 and one.rows == 10 and not one.has_hessian


def test_auc_of_an_exact_tally_equals_sklearn_with_ties():
    X, y, w, b = make_logistic_data(2000, 3, seed=9)
    p = np.round(sigmoid(X @ w + b), 2)  # many ties: each counts ½, as in sklearn
    auc, bound = AucTally.of(p, y, exact=True).auc()
    assert auc == pytest.approx(roc_auc_score(y, p), rel=1e-12) and bound == 0.0


def test_auc_of_a_binned_tally_is_within_its_bound_and_the_bound_is_attained():
    X, y, w, b = make_logistic_data(20000, 3, seed=10)
    p = sigmoid(X @ w + b)
    auc, bound = AucTally.of_bins(probability_bins(p, AUC_BINS), y).auc()
    exact = roc_auc_score(y, p)
    assert 0 < bound < 1e-4 and abs(auc - exact) <= bound
    assert auc != exact  # the bins do lose the order within them
    # Coarse bins: the bound is the exact difference between "all positives first in every bin"
    # and "all last", centred on the binned AUC.
    coarse = probability_bins(p, 10)
    auc10, bound10 = AucTally.of(coarse, y, exact=False).auc()
    best = roc_auc_score(y, coarse + 0.5 * y)  # positives above negatives within a bin
    worst = roc_auc_score(y, coarse - 0.5 * y)
    assert (auc10 - bound10, auc10 + bound10) == pytest.approx((worst, best), rel=1e-12)
    assert AucTally.of(np.zeros(3), np.ones(3), exact=True).auc() == (None, None)


@pytest.mark.parametrize("exact", [True, False])
def test_merged_score_summaries_equal_the_single_block(exact):
    X, y, w, b = make_logistic_data(1000, 4, seed=6)
    whole = score_summary(X, y, w, b, exact_auc=exact)
    for cuts in ([500], [1, 2, 999], [0, 0, 1000]):
        parts = [
            score_summary(Xp, yp, w, b, exact_auc=exact)
            for Xp, yp in zip(np.split(X, cuts), np.split(y, cuts), strict=True)
        ]
        total = merge_scores(parts)
        assert total.metrics() == pytest.approx(whole.metrics(), rel=1e-12)
        assert total.metrics()["rows"] == 1000 and total.tally.exact == exact
        np.testing.assert_array_equal(total.count, whole.count)
        # (exact keys are probabilities: X_p w may round differently for a slice of X)
        np.testing.assert_allclose(total.tally.keys, whole.tally.keys, rtol=1e-15)
        np.testing.assert_array_equal(total.tally.count, whole.tally.count)
        np.testing.assert_array_equal(total.tally.positives, whole.tally.positives)
    with pytest.raises(ValueError, match="exact and binned"):
        merge_scores([score_summary(X, y, w, b), score_summary(X, y, w, b, exact_auc=True)])
    assert merge_scores([]).metrics()["log_loss"] is None
