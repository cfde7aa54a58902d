"""predict() in process, on the shared local SparkSession: it measures a model exactly as
training does (one path, sparklr.spark.scoring.model_metrics, the same rows)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sparklr.app.predict import predict
from sparklr.app.train import train
from sparklr.config import load_config
from sparklr.spark.sources import Source

from tests.conftest import make_logistic_data


def test_training_and_predict_metrics_agree_on_the_same_data_and_model(spark, tmp_path):
    X, y, _, _ = make_logistic_data(600, 3, seed=12)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=y.astype(int))
    frame = frame.astype({"a": "Float64"})
    frame.loc[3, "a"] = np.nan  # rows that training drops and both measures leave out
    frame.loc[8, "b"] = np.inf
    frame.loc[13, "a"] = pd.NA
    path = tmp_path / "data.parquet"
    frame.to_parquet(path, index=False)
    config = load_config(
        None,
        [
            f"data.path={path}",
            "data.drop_invalid=true",
            "train.optimizer=newton",
            "train.max_iter=30",
            "output.report=false",
            "output.spark_ml=false",
            f"output.path={tmp_path / 'model'}",
        ],
    )
    model = train(config).model
    trained = model.metadata["metrics"]["train"]
    assert trained["rows"] == 597 and model.metadata["dropped_rows"] == 3

    scored = predict(model, Source("parquet", str(path)), tmp_path / "scored")
    assert scored == json.loads((tmp_path / "scored" / "_metrics.json").read_text())
    assert scored.keys() == trained.keys()
    assert scored["rows"] == trained["rows"] and scored["positives"] == trained["positives"]
    for name in ("log_loss", "accuracy", "auc"):
        assert scored[name] == pytest.approx(trained[name], rel=1e-12), name
    every_row = spark.read.parquet(str(tmp_path / "scored"))
    assert every_row.count() == 600  # all rows are scored; only the measure leaves some out
