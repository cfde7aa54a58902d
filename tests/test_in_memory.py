"""The in-memory SumsSource (sparklr.in_memory)."""

import numpy as np
import pytest
from sparklr.in_memory import InMemorySource
from sparklr.kernels.dense import block_sums, score_summary
from sparklr.stats import FeatureMoments

from tests.conftest import make_logistic_data


def test_sums_of_several_blocks_equal_the_concatenated_block():
    X, y, w, b = make_logistic_data(300, 3, seed=8)
    v = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    source = InMemorySource([(X[:100], y[:100], v[:100]), (X[100:], y[100:], v[100:])])
    assert source.n_features == 3
    got = source.sums(w, b, hessian=True, class_weight=(0.5, 2.0))
    ref = block_sums(X, y, w, b, v, hessian=True, class_weight=(0.5, 2.0))
    assert got.rows == 300 and abs(got.weight_sum - ref.weight_sum) <= 1e-12 * ref.weight_sum
    np.testing.assert_allclose(got.grad_w, ref.grad_w, rtol=1e-12)
    np.testing.assert_allclose(got.hess_ww, ref.hess_ww, rtol=1e-12)
    moments = source.moments()
    direct = FeatureMoments.of_block(X, y, v)
    np.testing.assert_allclose(moments.mean, direct.mean, rtol=1e-12)
    assert abs(moments.weight_sum - v.sum()) <= 1e-12 * v.sum()


def test_score_summary_of_several_blocks_equals_the_concatenated_block():
    X, y, w, b = make_logistic_data(300, 3, seed=8)
    v = np.full(len(y), 7.0)  # ignored: the metrics are unweighted
    source = InMemorySource([(X[:100], y[:100], v[:100]), (X[100:], y[100:], v[100:])])
    got = source.score_summary(w, b)
    ref = score_summary(X, y, w, b, exact_auc=True)
    assert got.tally.exact and got.metrics() == pytest.approx(ref.metrics(), rel=1e-12)
    np.testing.assert_array_equal(got.count, ref.count)
    source.exact_auc_rows = 299
    assert not source.score_summary(w, b).tally.exact
