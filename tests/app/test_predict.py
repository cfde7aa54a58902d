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


def test_train_and_predict_read_a_filtered_catalog_table(spark, tmp_path):
    """data.format = "table" + data.filter (+ validation_filter) for training; predict's
    --table/--filter/--option describe its input the same way; model.json records both."""
    from sparklr.app.predict import input_source, parse_args

    X, y, _, _ = make_logistic_data(900, 2, seed=21)
    days = np.array(["2026-12-01", "2026-12-02", "2026-12-03"])[np.arange(900) % 3]
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(label=y.astype(int), ds=days)
    spark.createDataFrame(frame).write.partitionBy("ds").saveAsTable("predict_events")
    try:
        config = load_config(
            None,
            [
                "data.format=table",
                "data.table=predict_events",
                "data.filter=ds = '2026-12-01'",
                "data.validation_filter=ds = '2026-12-02'",
                'data.features=["a", "b"]',
                "train.optimizer=newton",
                "output.report=false",
                "output.spark_ml=false",
                f"output.path={tmp_path / 'model'}",
            ],
        )
        model = train(config).model
        saved = json.loads((tmp_path / "model" / "model.json").read_text())
        assert saved["source"] == {
            "format": "table",
            "table": "predict_events",
            "options": {},
            "filter": "ds = '2026-12-01'",
            "validation": {
                "format": "table",
                "table": "predict_events",
                "options": {},
                "filter": "ds = '2026-12-02'",
            },
        }
        assert model.metadata["rows"] == 300 and saved["metrics"]["validation"]["rows"] == 300
        args = parse_args(
            ["--model", str(tmp_path / "model"), "--table", "predict_events",
             "--filter", "ds = '2026-12-03'", "--option", "mergeSchema=true",
             "--output", str(tmp_path / "scored")]
        )  # fmt: skip
        source = input_source(args)
        assert (source.format, source.options) == ("table", {"mergeSchema": "true"})
        scored = predict(model, source, tmp_path / "scored")
        assert scored["rows"] == 300
        written = spark.read.parquet(str(tmp_path / "scored"))
        assert {r.ds for r in written.select("ds").distinct().collect()} == {"2026-12-03"}
    finally:
        spark.sql("DROP TABLE IF EXISTS predict_events")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--format", "jsn", "--data", "/d"], "--format must be one of"),
        (["--format", "table"], '--table must name the table when format = "table"'),
        (["--table", "t", "--data", "/d"], '--data is not read when format = "table"'),
        ([], "--data must be set"),
        (["--data", "/d", "--option", "sep"], "--option expects KEY=VALUE"),
        (["--data", "/d", "--filter", " "], "--filter is blank"),
    ],
)
def test_predict_input_flags_are_checked_like_the_config(argv, words):
    from sparklr.app.predict import parse_args
    from sparklr.errors import ConfigError

    with pytest.raises(ConfigError, match=words):
        parse_args(["--model", "m", "--output", "o", *argv])


def test_a_libsvm_model_scores_libsvm_and_vector_column_input_alike(spark, tmp_path):
    """train() on LIBSVM (lbfgs, L2, standardize off) equals scikit-learn; predict() gives
    the same probabilities for the LIBSVM file and the same rows as a sparse vector column."""
    from pyspark.ml.linalg import Vectors
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    X = (rng.random((400, 12)) < 0.2) * np.round(rng.normal(1.0, 1.0, (400, 12)), 2)
    y = (rng.random(400) < 1 / (1 + np.exp(-(X @ rng.normal(size=12))))).astype(float)
    svm = tmp_path / "data.svm"
    svm.write_text(
        "".join(
            f"{label:g} "
            + " ".join(f"{j + 1}:{float(row[j])!r}" for j in np.flatnonzero(row))
            + "\n"
            for row, label in zip(X, y, strict=True)
        )
    )
    rows = [
        (float(label), Vectors.sparse(12, np.flatnonzero(row).tolist(), row[row != 0].tolist()))
        for row, label in zip(X, y, strict=True)
    ]
    vectors = tmp_path / "vectors.parquet"
    spark.createDataFrame(rows, ["label", "features"]).coalesce(1).write.parquet(str(vectors))
    config = load_config(
        None,
        [
            "data.format=libsvm",
            f"data.path={svm}",
            "data.num_features=12",
            "train.optimizer=lbfgs",
            "train.reg_param=1e-3",
            "train.standardize=false",
            "train.tol=1e-10",
            "output.report=false",
            "output.spark_ml=false",
            f"output.path={tmp_path / 'model'}",
        ],
    )
    model = train(config).model
    sk = LogisticRegression(C=1 / (1e-3 * 400), tol=1e-12, max_iter=10_000).fit(csr_matrix(X), y)
    np.testing.assert_allclose(model.coefficients, sk.coef_[0], rtol=1e-6)
    assert model.intercept == pytest.approx(sk.intercept_[0], abs=1e-6)  # b ≈ -2e-4 here

    from_svm = predict(model, Source("libsvm", str(svm)), tmp_path / "scored-svm")
    from_vectors = predict(model, Source("parquet", str(vectors)), tmp_path / "scored-vectors")
    assert from_svm == pytest.approx(from_vectors, rel=1e-12)
    p_svm = spark.read.parquet(str(tmp_path / "scored-svm")).toPandas()["probability"]
    p_vec = spark.read.parquet(str(tmp_path / "scored-vectors")).toPandas()["probability"]
    want = 1 / (1 + np.exp(-(X @ model.coefficients + model.intercept)))
    np.testing.assert_allclose(np.sort(p_svm), np.sort(want), rtol=1e-12)
    np.testing.assert_allclose(np.sort(p_vec), np.sort(want), rtol=1e-12)


def test_a_vector_of_the_wrong_size_is_a_data_error_naming_column_and_row(spark, tmp_path):
    """Row 3 of the one partition holds 2 entries for a 3-feature model: exit 3, nothing
    written (the column carries no declared size, so the rows themselves are checked)."""
    from pyspark.ml.linalg import Vectors
    from sparklr.errors import DataError
    from sparklr.model import Model
    from sparklr.output import staging_path

    rows = [(1.0, Vectors.dense([1.0, 0.0, 2.0]))] * 3 + [(0.0, Vectors.dense([1.0, 2.0]))]
    rows += [(0.0, Vectors.sparse(3, [1], [4.0]))]
    data = tmp_path / "vectors.parquet"
    spark.createDataFrame(rows, ["label", "features"]).coalesce(1).write.parquet(str(data))
    config = {"data": {"features_col": "features"}}
    model = Model(["f0", "f1", "f2"], np.array([0.5, -1.0, 2.0]), 0.1, metadata={"config": config})
    out = tmp_path / "scored"
    with pytest.raises(DataError) as info:
        predict(model, Source("parquet", str(data)), out)
    assert str(info.value) == (
        f"input {data}: vector column 'features', partition 0 row 3: vector size 2, but n_x = 3"
    )
    assert info.value.exit_code == 3
    assert not out.exists() and not staging_path(out).exists()
