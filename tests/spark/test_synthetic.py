"""Synthetic data generated on the executors (sparklr.spark.synthetic): the same arguments give
the same rows, and the rows follow the truth written beside them."""

from __future__ import annotations

import numpy as np
import pytest
from sparklr.spark.synthetic import SyntheticTruth, feature_names, synthetic_frame


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
