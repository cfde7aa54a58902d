"""The [tune] step of train() in process, on the shared local SparkSession."""

from __future__ import annotations

import csv
import json
import logging

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sparklr.app.train import train
from sparklr.config import load_config
from sparklr.tuning.path import PathPoint

from tests.conftest import make_logistic_data
from tests.optimizers.helpers import sklearn_l2


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    X, y, _, _ = make_logistic_data(3000, 3, seed=5, offset=1.0, scale=2.0)
    path = tmp_path_factory.mktemp("tune") / "train.parquet"
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y}), path)
    return path, X, y


def test_the_path_on_resident_blocks_equals_scikit_learn_at_every_lambda(spark, dataset, tmp_path):
    path, X, y = dataset
    out = tmp_path / "m"
    config = load_config(
        None,
        [
            f"data.path={path}",
            "data.label=y",
            "data.partitions=3",
            f"output.path={out}",
            "output.spark_ml=false",
            "train.optimizer=lbfgs",
            "train.standardize=false",
            "train.tol=1e-10",
            "train.reg_param=0.01",
            "tune.path=3",
            "tune.path_ratio=1e-2",
        ],
    )
    result = train(config)
    doc = json.loads((out / "path.json").read_text())
    lambdas = [p["reg_param"] for p in doc["points"]]
    assert lambdas[0] == pytest.approx(doc["lambda_max"]) and len(lambdas) == 3
    np.testing.assert_allclose(np.diff(np.log10(lambdas)), -1.0, rtol=1e-12)
    for point in doc["points"]:
        assert point["stop_reason"] == "converged"
        w_ref, b_ref = sklearn_l2(X, y, point["reg_param"], standardize=False)
        np.testing.assert_allclose(point["coefficients"], w_ref, rtol=1e-6, atol=1e-9)
        assert point["intercept"] == pytest.approx(b_ref, rel=1e-6)
    with (out / "path.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [float(r["reg_param"]) for r in rows] == lambdas
    assert float(rows[-1]["c"]) == doc["points"][-1]["coefficients"][2]
    assert (out / "path.png").stat().st_size > 0
    print("path passes", [p["evaluations"] for p in doc["points"]])
    # the published model is still the fit at train.reg_param
    w_ref, _ = sklearn_l2(X, y, 0.01, standardize=False)
    np.testing.assert_allclose(result.model.coefficients, w_ref, rtol=1e-6)


def test_the_path_plot_is_skipped_with_a_warning_without_matplotlib(monkeypatch, tmp_path, caplog):
    from sparklr import report
    from sparklr.app import tune

    monkeypatch.setattr(report, "_pyplot", lambda: None)
    point = PathPoint(0.1, 0.5, 0.0, 3, 4, "converged", np.array([0.0, 0.2]))
    with caplog.at_level(logging.WARNING, logger="sparklr.train"):
        tune._plot(tmp_path / "path.png", ["a"], [point])
    assert not (tmp_path / "path.png").exists()
    assert "matplotlib is not installed" in caplog.text
