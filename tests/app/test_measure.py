"""The job's inference step (sparklr.app.measure) end to end in process: Spark blocks → the
table in model.json, coefficients.csv, report.md and the summary, against statsmodels."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer
from sparklr.app.train import train
from sparklr.config import load_config
from sparklr.errors import ConfigError

NAMES = ["mean_radius", "mean_texture", "mean_smoothness"]


@pytest.fixture(scope="module")
def csv_dataset(tmp_path_factory):
    data = load_breast_cancer()
    X = data.data[:, [0, 1, 4]]
    y = data.target.astype(float)
    path = tmp_path_factory.mktemp("bc") / "bc.csv"
    frame = pd.DataFrame(X, columns=NAMES)
    frame["label"] = y.astype(int)
    frame.to_csv(path, index=False)
    return path, X, y


def run(path, out, *overrides):
    config = load_config(
        None,
        [
            f"data.path={path}",
            "data.format=csv",
            f"output.path={out}",
            "train.tol=1e-9",
            "train.max_iter=3000",
            "data.partitions=2",
            *overrides,
        ],
    )
    return train(config)


@pytest.mark.parametrize(
    ("optimizer", "method", "cov_type"),
    [("newton", "fisher", "nonrobust"), ("lbfgs", "robust", "HC0")],
)
def test_inference_table_equals_statsmodels(
    spark, csv_dataset, tmp_path, optimizer, method, cov_type
):
    path, X, y = csv_dataset
    out = tmp_path / "m"
    result = run(path, out, f"train.optimizer={optimizer}", f"train.inference={method}")
    reference = sm.Logit(y, sm.add_constant(X, prepend=False)).fit(
        method="newton", disp=0, tol=1e-12, cov_type=cov_type
    )
    got = json.loads((out / "model.json").read_text())["inference"]
    assert got["method"] == method and got["ci_level"] == 0.95
    rows = [got["coefficients"][n] for n in [*NAMES, "(intercept)"]]
    np.testing.assert_allclose([r["estimate"] for r in rows], reference.params, rtol=1e-6)
    np.testing.assert_allclose([r["std_error"] for r in rows], reference.bse, rtol=1e-6)
    np.testing.assert_allclose([r["p_value"] for r in rows], reference.pvalues, rtol=1e-5)
    ci = reference.conf_int()
    np.testing.assert_allclose([r["ci_low"] for r in rows], ci[:, 0], rtol=1e-6)
    assert got["log_likelihood"] == pytest.approx(reference.llf, rel=1e-9)
    assert got["null_log_likelihood"] == pytest.approx(reference.llnull, rel=1e-9)
    assert got["aic"] == pytest.approx(reference.aic, rel=1e-9)
    table = list(csv.DictReader(io.StringIO((out / "coefficients.csv").read_text())))
    assert [r[next(iter(r))] for r in table] == [*NAMES, "(intercept)"]
    assert "## Inference" in (out / "report.md").read_text()
    summary = result.summary()
    assert summary.index("mean_texture") > summary.index("  model: ")  # the table follows


def test_a_penalized_fit_skips_auto_and_refuses_fisher(spark, csv_dataset, tmp_path):
    path, _, _ = csv_dataset
    run(path, tmp_path / "auto", "train.reg_param=0.01", "train.max_iter=50")
    model = json.loads((tmp_path / "auto" / "model.json").read_text())
    assert "inference" not in model
    assert not (tmp_path / "auto" / "coefficients.csv").exists()
    with pytest.raises(ConfigError, match=r"train.inference = fisher .*train.reg_param"):
        load_config(None, ["data.path=/d", "train.reg_param=0.1", "train.inference=fisher"])
    with pytest.raises(ConfigError, match=r"train.ci_level"):
        load_config(None, ["data.path=/d", "train.ci_level=1.5"])


def test_metrics_from_the_blocks_equal_the_frame_path(spark, tmp_path):
    """Training and validation metrics come from blocks; they equal model_metrics re-reading
    the same (split) frames: rows with NaN / ±Inf left out of both the same way."""
    from sparklr.spark.loading import load_frames
    from sparklr.spark.scoring import model_metrics

    data = load_breast_cancer()
    frame = pd.DataFrame(data.data[:, [0, 1, 4]], columns=NAMES).assign(label=data.target)
    frame.loc[[3, 400], "mean_radius"] = np.nan
    frame.loc[[10, 500], "mean_texture"] = np.nan
    path = tmp_path / "bc.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "m"
    split = ["data.validation_fraction=0.3", "data.validation_seed=4", "data.drop_invalid=true"]
    model = run(path, out, "train.optimizer=newton", "train.max_iter=50", *split).model
    got = json.loads((out / "model.json").read_text())["metrics"]
    assert got == model.metadata["metrics"]
    frames = load_frames(
        spark,
        fmt="csv",
        path=str(path),
        label="label",
        features=[],
        partitions=2,
        validation_fraction=0.3,
        validation_seed=4,
    )
    for name, part in (("train", frames.train), ("validation", frames.validation)):
        old, _ = model_metrics(part, "label", NAMES, model.coefficients, model.intercept)
        new = got[name]
        assert new.keys() == old.keys() and new["auc_error_bound"] == 0.0  # exact: small data
        assert (new["rows"], new["positives"]) == (old["rows"], old["positives"])
        assert new["log_loss"] == pytest.approx(old["log_loss"], rel=1e-12), name
        assert new["accuracy"] == pytest.approx(old["accuracy"], abs=1e-12), name
        assert new["auc"] == pytest.approx(old["auc"], rel=1e-12), name
    assert got["train"]["rows"] + got["validation"]["rows"] == 569 - 4
    assert got["validation"]["rows"] > 100
