"""The Spark ML export: MLlib loads it and scores exactly as sparklr does."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sparklr.errors import OutputError
from sparklr.mlexport import write_spark_ml
from sparklr.model import Model


@pytest.fixture(scope="module")
def frame_and_model(spark):
    rng = np.random.default_rng(5)
    m, names = 400, ["a", "b x", "c"]
    X = rng.standard_normal((m, 3)) * [1.0, 30.0, 0.01] + [0.0, 5.0, 2.0]
    y = (rng.random(m) < 0.5).astype(float)
    # |z| reaches ~40: probabilities near 0 and 1 are compared too.
    model = Model(names, np.array([1.7, -0.4, 120.0]), -240.5, label="y")
    pdf = {"id": np.arange(m), "a": X[:, 0], "b x": X[:, 1], "c": X[:, 2], "y": y}
    import pandas as pd

    frame = spark.createDataFrame(pd.DataFrame(pdf)).repartition(3)
    return frame, model


def test_pipeline_with_exported_model_matches_sparklr_scoring(spark, frame_and_model, tmp_path):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegressionModel
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F
    from sparklr.spark.scoring import score_frame

    frame, model = frame_and_model
    path = write_spark_ml(model, tmp_path / "spark-ml", threshold=0.3)
    assert json.loads((path / "metadata" / "part-00000").read_text())["class"].endswith(
        "LogisticRegressionModel"
    )

    loaded = LogisticRegressionModel.load(str(path))
    assert loaded.numFeatures == 3 and loaded.numClasses == 2
    np.testing.assert_array_equal(loaded.coefficients.toArray(), model.coefficients)
    assert loaded.intercept == model.intercept
    assert loaded.getThreshold() == 0.3 and loaded.getFeaturesCol() == "features"

    assembler = VectorAssembler(inputCols=model.feature_names, outputCol="features")
    pipeline = Pipeline(stages=[assembler, loaded]).fit(frame)
    ours = score_frame(frame, model.feature_names, model.coefficients, model.intercept, 0.3)
    theirs = pipeline.transform(frame).select(
        "id",
        vector_to_array("probability")[1].alias("p_mllib"),
        F.col("prediction").alias("pred_mllib"),
    )
    joined = ours.join(theirs, "id").orderBy("id").toPandas()
    assert len(joined) == 400
    p, q = joined["probability"].to_numpy(), joined["p_mllib"].to_numpy()
    assert p.min() < 1e-6 and p.max() > 1 - 1e-6  # the extremes are exercised
    # Probabilities agree to 1e-12 absolute (observed: ~1.5e-16). MLlib's class-1 probability
    # is accurate to ~1e-16 absolute only, so relative agreement is checked away from 0.
    np.testing.assert_allclose(q, p, rtol=0, atol=1e-12)
    away = p > 1e-3
    np.testing.assert_allclose(q[away], p[away], rtol=1e-12)
    # MLlib predicts 1 when p > threshold, sparklr when p ≥ threshold: equal off exact ties.
    np.testing.assert_array_equal(joined["pred_mllib"].to_numpy(), joined["prediction"])


def test_layout_matches_what_spark_itself_writes(spark, frame_and_model, tmp_path):
    """Spark re-saving our model writes the same data row as ours (same encoding)."""
    import pyarrow.parquet as pq
    from pyspark.ml.classification import LogisticRegressionModel

    _, model = frame_and_model
    ours = write_spark_ml(model, tmp_path / "ours")
    LogisticRegressionModel.load(str(ours)).write().save(str(tmp_path / "spark"))
    a = pq.read_table(ours / "data")
    b = pq.read_table(tmp_path / "spark" / "data")
    assert a.schema.remove_metadata() == b.schema.remove_metadata()
    assert a.to_pylist() == b.to_pylist()
    meta = pq.read_schema(next((tmp_path / "spark" / "data").glob("*.parquet"))).metadata
    ours_meta = pq.read_schema(ours / "data" / "part-00000.parquet").metadata
    key = b"org.apache.spark.sql.parquet.row.metadata"
    assert json.loads(ours_meta[key]) == json.loads(meta[key])


@pytest.fixture(scope="module")
def sparse_frame_and_model(spark):
    """60 features, 4 non-zero coefficients (an L1 model's shape): exported sparse."""
    rng = np.random.default_rng(9)
    m, n = 300, 60
    names = [f"x{j}" for j in range(n)]
    w = np.zeros(n)
    w[[2, 17, 40, 59]] = [1.5, -2.0, 0.25, 3.0]
    X = rng.standard_normal((m, n))
    import pandas as pd

    pdf = pd.DataFrame(X, columns=names).assign(id=np.arange(m))
    return spark.createDataFrame(pdf).repartition(2), Model(names, w, -0.7, label="y")


@pytest.mark.parametrize("zero", [False, True], ids=["sparse", "all-zero"])
def test_a_sparse_model_exports_a_sparse_vector_that_loads_and_scores_the_same(
    spark, sparse_frame_and_model, tmp_path, zero
):
    import pyarrow.parquet as pq
    from pyspark.ml.classification import LogisticRegressionModel
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.linalg import SparseVector
    from sparklr.spark.scoring import score_frame

    frame, model = sparse_frame_and_model
    if zero:
        model = Model(model.feature_names, np.zeros(60), 0.3, label="y")
    path = write_spark_ml(model, tmp_path / "spark-ml")
    (row,) = pq.read_table(path / "data").to_pylist()
    assert row["coefficientMatrix"]["type"] == 0  # sparse
    loaded = LogisticRegressionModel.load(str(path))
    assert isinstance(loaded.coefficients, SparseVector)
    assert loaded.coefficients.numNonzeros() == np.count_nonzero(model.coefficients)
    np.testing.assert_array_equal(loaded.coefficients.toArray(), model.coefficients)
    assembled = VectorAssembler(inputCols=model.feature_names, outputCol="features")
    theirs = loaded.transform(assembled.transform(frame)).select(
        "id", vector_to_array("probability")[1].alias("p_mllib")
    )
    ours = score_frame(frame, model.feature_names, model.coefficients, model.intercept, 0.5)
    joined = ours.join(theirs, "id").orderBy("id").toPandas()
    assert len(joined) == 300
    p, q = joined["probability"].to_numpy(), joined["p_mllib"].to_numpy()
    np.testing.assert_allclose(q, p, rtol=1e-12, atol=1e-15)
    # and Spark re-saving it writes the same (sparse) row
    loaded.write().save(str(tmp_path / "spark"))
    assert pq.read_table(tmp_path / "spark" / "data").to_pylist() == [row]


def test_a_mostly_non_zero_model_stays_dense():
    from sparklr.mlexport import coefficient_matrix

    w = np.arange(1.0, 11.0)
    w[:3] = 0.0  # 7 of 10 non-zero: 12·7 + 4 ≥ 8·10, dense is smaller
    assert coefficient_matrix(w)["type"] == 1 and coefficient_matrix(w)["values"] == w.tolist()
    w[:4] = 0.0  # 6 of 10: 76 < 80, sparse
    sparse = coefficient_matrix(w)
    assert sparse["type"] == 0 and sparse["rowIndices"] == [4, 5, 6, 7, 8, 9]
    assert sparse["colPtrs"] == [0, 6] and sparse["values"] == w[4:].tolist()


def test_refuses_to_replace_without_overwrite(tmp_path):
    model = Model(["x"], np.array([1.0]), 0.0)
    write_spark_ml(model, tmp_path / "m")
    with pytest.raises(OutputError, match="already exists"):
        write_spark_ml(model, tmp_path / "m")
    write_spark_ml(Model(["x"], np.array([2.0]), 0.0), tmp_path / "m", overwrite=True)
    import pyarrow.parquet as pq

    row = pq.read_table(tmp_path / "m" / "data").to_pylist()[0]
    assert row["coefficientMatrix"]["values"] == [2.0]
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary leftovers


def test_training_job_writes_metrics_report_and_spark_ml(spark, tmp_path):
    """train() in-process (the session fixture is reused) with a validation split."""
    from pyspark.ml.classification import LogisticRegressionModel
    from sparklr.app.train import train
    from sparklr.config import load_config

    out = tmp_path / "model"
    config = load_config(
        None,
        [
            "data.format=synthetic",
            "data.synthetic.rows=3000",
            "data.synthetic.features=3",
            "data.synthetic.partitions=2",
            "data.validation_fraction=0.2",
            "data.validation_seed=4",
            "train.max_iter=60",
            f"output.path={out}",
        ],
    )
    result = train(config)
    model = json.loads((out / "model.json").read_text())
    metrics = model["metrics"]
    # The blocks were built from the training part only; the parts cover the input.
    assert metrics["train"]["rows"] == model["rows"] == result.rows
    assert metrics["train"]["rows"] + metrics["validation"]["rows"] == 3000
    assert 450 < metrics["validation"]["rows"] < 750
    for part in ("train", "validation"):
        assert 0.5 < metrics[part]["auc"] <= 1 and 0 < metrics[part]["log_loss"] < 0.7
    # Converged: the model is the θ J was last evaluated at, so the distributed log-loss of the
    # training part is the optimizer's final J.
    assert model["stop_reason"] == "converged"
    assert metrics["train"]["log_loss"] == pytest.approx(model["final_loss"], rel=1e-10)
    assert "validation: log-loss" in result.summary()

    loaded = LogisticRegressionModel.load(str(out / "spark-ml"))
    np.testing.assert_array_equal(loaded.coefficients.toArray(), model["coefficients"])
    assert loaded.intercept == model["intercept"]

    text = (out / "report.md").read_text()
    assert "| validation |" in text and f"{model['rows']:,} training rows" in text
    for name in ("loss.png", "roc.png", "calibration.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG")
    assert not list(tmp_path.glob(".*"))  # staging published, nothing left over
