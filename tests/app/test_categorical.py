"""Categorical columns end to end, in process on the shared SparkSession: train() on real data
with string and integer-code columns equals statsmodels on the same dummy-coded design;
predict() scores unseen and null levels as the reference; the exported PipelineModel on the
raw columns equals predict; model.json accounts for every column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import statsmodels.api as sm
from sparklr.app.predict import predict
from sparklr.app.train import train
from sparklr.config import load_config
from sparklr.spark.sources import Source

#: The documented codes of statsmodels' "fair" data set (Fair 1978), as the strings a table has.
OCCUPATIONS = {
    1: "student",
    2: "unskilled",
    3: "white-collar",
    4: "teacher",
    5: "managerial",
    6: "professional",
}
NUMERIC = ["age", "yrs_married", "children", "religious", "educ"]


@pytest.fixture(scope="module")
def fair(tmp_path_factory):
    data = sm.datasets.fair.load_pandas().data
    frame = pd.DataFrame(
        {
            "label": (data.affairs > 0).astype(int),
            **{c: data[c] for c in NUMERIC},
            "occupation": data.occupation.astype(int).map(OCCUPATIONS),
            "rate_marriage": data.rate_marriage.astype(int),
            "row_id": np.arange(len(data)),
        }
    )
    path = tmp_path_factory.mktemp("fair") / "fair.csv"
    frame.to_csv(path, index=False)
    return path, frame


@pytest.fixture(scope="module")
def trained(spark, fair, tmp_path_factory):
    path, _ = fair
    out = tmp_path_factory.mktemp("model") / "m"
    config = load_config(
        None,
        [
            "data.format=csv",
            f"data.path={path}",
            'data.categorical=["rate_marriage"]',  # integer codes; occupation: by default
            f"output.path={out}",
            "train.optimizer=newton",
            "train.tol=1e-12",
            "train.max_iter=50",
            "output.report=false",
        ],
    )
    return train(config), out


def _statsmodels_fit(frame: pd.DataFrame):
    """Treatment coding with the first level in sorted order as the reference (R/patsy)."""
    occupation = pd.get_dummies(frame.occupation, prefix="occupation", prefix_sep="=")
    rate = pd.get_dummies(frame.rate_marriage.astype(str), prefix="rate_marriage", prefix_sep="=")
    X = pd.concat([frame[NUMERIC], occupation.iloc[:, 1:], rate.iloc[:, 1:]], axis=1).astype(float)
    fit = sm.Logit(frame.label, sm.add_constant(X)).fit(method="newton", tol=1e-14, disp=0)
    return X, fit


def test_training_equals_statsmodels_on_the_dummy_coded_design(trained, fair):
    result, _ = trained
    _, frame = fair
    X, fit = _statsmodels_fit(frame)
    model = result.model
    assert model.feature_names == list(X.columns)
    assert "occupation=managerial" not in model.feature_names  # the reference: sorted first
    np.testing.assert_allclose(model.coefficients, fit.params.iloc[1:].to_numpy(), atol=1e-7)
    p = model.predict_proba(X.to_numpy())
    np.testing.assert_allclose(p, fit.predict(), atol=1e-8)
    J = -fit.llf / len(frame)
    assert abs(result.state.history[-1].loss - J) < 1e-10


def test_model_json_records_the_encoding_and_every_column(trained):
    _, out = trained
    saved = json.loads((out / "model.json").read_text())
    assert saved["columns"] == {
        "label": "label",
        **{c: "numeric" for c in NUMERIC},
        "occupation": "categorical",
        "rate_marriage": "categorical",
        "row_id": "ignored: identifier",
    }
    occupation = saved["encoding"]["categorical"]["occupation"]
    assert occupation["levels"] == sorted(OCCUPATIONS.values())
    assert occupation["reference"] == "managerial"
    assert saved["encoding"]["categorical"]["rate_marriage"]["levels"] == list("12345")


@pytest.fixture(scope="module")
def scored(spark, trained, tmp_path_factory):
    """predict() on rows with an unseen occupation, a null one and an unseen rating."""
    result, _ = trained
    root = tmp_path_factory.mktemp("new")
    rows = pd.DataFrame(
        {
            "key": [0, 1, 2, 3],
            "label": [1, 0, 0, 1],
            "age": [32.0, 27.0, 27.0, 22.0],
            "yrs_married": [9.0, 13.0, 13.0, 2.5],
            "children": [3.0, 3.0, 3.0, 0.0],
            "religious": [3.0, 1.0, 1.0, 2.0],
            "educ": [17.0, 14.0, 14.0, 16.0],
            "occupation": ["unskilled", "astronaut", None, "white-collar"],
            "rate_marriage": [3, 3, 4, 7],
        }
    )
    data = root / "new.parquet"
    rows.to_parquet(data, index=False)
    predict(result.model, Source("parquet", str(data)), root / "scored")
    return rows, data, pq.read_table(root / "scored").to_pandas()


def test_predict_scores_unseen_and_null_levels_as_the_reference(trained, scored):
    result, _ = trained
    rows, _, out = scored
    model = result.model
    out = out.sort_values("key")  # the written order may differ
    w = dict(zip(model.feature_names, model.coefficients, strict=True))
    z = model.intercept + sum(w[c] * rows[c].to_numpy() for c in NUMERIC)
    z = z + np.array(
        [
            w["occupation=unskilled"] + w["rate_marriage=3"],
            w["rate_marriage=3"],  # unseen occupation: as the reference
            w["rate_marriage=4"],  # null occupation (no null level in training): reference
            w["occupation=white-collar"],  # rating 7 unseen: as the reference 1
        ]
    )
    np.testing.assert_allclose(out.probability.to_numpy(), 1 / (1 + np.exp(-z)), rtol=1e-12)


def test_exported_pipeline_on_raw_columns_equals_predict(spark, trained, scored):
    from pyspark.ml import PipelineModel

    _, out = trained
    _, data, predicted = scored
    pipeline = PipelineModel.load(str(out / "spark-ml"))
    rows = pipeline.transform(spark.read.parquet(str(data))).select("key", "probability")
    exported = {r["key"]: r["probability"][1] for r in rows.collect()}
    assert len(exported) == 4
    for key, p in zip(predicted.key, predicted.probability, strict=True):
        assert abs(exported[key] - p) < 1e-12
