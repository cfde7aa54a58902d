import numpy as np
import pytest
from sparklr.stats import FeatureMoments, merge_all


def test_merged_block_moments_equal_the_whole():
    rng = np.random.default_rng(0)
    X = 1e4 + rng.standard_normal((1000, 3)) * [1.0, 1e-2, 5.0]  # offset ≫ spread
    y = (rng.random(1000) < 0.3).astype(float)
    cuts = [0, 10, 600]
    parts = [
        FeatureMoments.of_block(Xp, yp)
        for Xp, yp in zip(np.split(X, cuts), np.split(y, cuts), strict=True)
    ]
    total = merge_all(parts, 3)
    assert total.count == 1000
    assert total.positives == y.sum()
    np.testing.assert_allclose(total.mean, X.mean(0), rtol=1e-15)
    np.testing.assert_allclose(total.std, X.std(0, ddof=1), rtol=1e-9)
    np.testing.assert_allclose(total.scatter, np.cov(X.T, ddof=0) * 1000, rtol=1e-8)


def test_empty_and_single_row_blocks():
    one = FeatureMoments.of_block(np.array([[2.0, 3.0]]), np.array([1.0]))
    empty = FeatureMoments.of_block(np.empty((0, 2)), np.empty(0))
    merged = empty.merge(one).merge(empty)
    assert merged.count == 1 and list(merged.mean) == [2.0, 3.0]
    assert merged.std == pytest.approx([0.0, 0.0])
