"""Distributed metrics and curve data against NumPy/scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score
from sparklr.errors import DataError
from sparklr.spark.scoring import model_metrics

from tests.conftest import make_logistic_data


@pytest.fixture(scope="module")
def labelled(spark):
    X, y, w, b = make_logistic_data(600, 3, seed=8)
    pdf = pd.DataFrame(X, columns=["f0", "f1", "f2"]).assign(label=y)
    return spark.createDataFrame(pdf).repartition(3), X, y, w, b


def test_model_metrics_match_sklearn(labelled):
    frame, X, y, w, b = labelled
    metrics, hist = model_metrics(frame, "label", ["f0", "f1", "f2"], w, b, bins=100)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    assert metrics["rows"] == 600 and metrics["positives"] == int(y.sum())
    assert metrics["log_loss"] == pytest.approx(log_loss(y, p), rel=1e-12)
    assert metrics["accuracy"] == pytest.approx(np.mean((p >= 0.5) == y), abs=1e-15)
    assert metrics["auc"] == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    index = np.minimum((p * 100).astype(int), 99)
    np.testing.assert_array_equal(hist["count"], np.bincount(index, minlength=100))
    np.testing.assert_array_equal(hist["positives"], np.bincount(index, y, 100).astype(int))
    np.testing.assert_allclose(hist["sum_probability"], np.bincount(index, p, 100), rtol=1e-12)


def test_model_metrics_skip_invalid_rows_and_reject_bad_labels(spark):
    frame = spark.createDataFrame(
        [(1.0, 0.5), (0.0, float("nan")), (0.0, -1.0), (None, 2.0), (1.0, float("inf"))],
        "label double, x double",
    )
    metrics, _ = model_metrics(frame, "label", ["x"], np.array([1.0]), 0.0)
    assert metrics["rows"] == 2 and metrics["auc"] == pytest.approx(1.0)
    bad = spark.createDataFrame([(2.0, 0.5), (0.0, 1.0)], "label double, x double")
    with pytest.raises(DataError, match="label column 'label' has 1 value"):
        model_metrics(bad, "label", ["x"], np.array([1.0]), 0.0)


def test_one_class_gives_no_auc_rather_than_nan(spark):
    frame = spark.createDataFrame([(1.0, 0.5), (1.0, -1.0)], "label double, x double")
    metrics, _ = model_metrics(frame, "label", ["x"], np.array([1.0]), 0.0)
    json.dumps(metrics, allow_nan=False)  # model.json must stay valid JSON
    assert metrics["rows"] == 2 and metrics["accuracy"] == 0.5


def test_accuracy_is_at_the_threshold(labelled):
    frame, X, y, w, b = labelled
    metrics, _ = model_metrics(frame, "label", ["f0", "f1", "f2"], w, b, threshold=0.8)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    assert metrics["accuracy"] == pytest.approx(np.mean((p >= 0.8) == y), abs=1e-15)
    assert metrics["accuracy"] != pytest.approx(np.mean((p >= 0.5) == y), abs=1e-15)
