"""sparklr.LogisticRegression: the job's fit on a DataFrame, inside Spark ML's Pipeline and
CrossValidator, saved and loaded, exported to MLlib, without an intercept, and bad params."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.ml import Pipeline
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from sparklr import LogisticRegression, SparklrModel
from sparklr.errors import ConfigError

from tests.conftest import make_logistic_data

COLUMNS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def data(spark, tmp_path_factory):
    """(parquet path, DataFrame of it, X, y): 600 rows, 3 features, offset and scaled."""
    X, y, _, _ = make_logistic_data(600, 3, seed=41, offset=1.0, scale=2.0)
    path = tmp_path_factory.mktemp("estimator") / "train.parquet"
    pq.write_table(pa.table({**dict(zip(COLUMNS, X.T, strict=True)), "y": y}), path)
    return path, spark.read.parquet(str(path)), X, y


@pytest.fixture(scope="module")
def vectors(data):
    return VectorAssembler(inputCols=COLUMNS, outputCol="features").transform(data[1])


OPTIMIZER_CASES = {
    "gd": ({"train.max_iter": 25}, {"maxIter": 25}),
    "lbfgs": ({"train.reg_param": 0.01}, {"regParam": 0.01}),
    "newton": ({"train.max_iter": 20}, {"maxIter": 20}),
}


@pytest.mark.parametrize("optimizer", list(OPTIMIZER_CASES))
def test_fit_equals_the_jobs_model(spark, data, tmp_path, optimizer):
    from sparklr.app.train import train
    from sparklr.config import load_config

    path, df, _, _ = data
    keys, params = OPTIMIZER_CASES[optimizer]
    overrides = [f"{k}={v}" for k, v in keys.items()]
    config = load_config(
        None,
        [
            f"data.path={path}",
            "data.label=y",
            "data.reader=spark",
            "data.partitions=2",
            f"train.optimizer={optimizer}",
            "train.tol=1e-10",
            "output.report=false",
            f"output.path={tmp_path / 'job'}",
            *overrides,
        ],
    )
    job = train(config).model
    model = LogisticRegression(
        labelCol="y", inputCols=COLUMNS, partitions=2, optimizer=optimizer, tol=1e-10, **params
    ).fit(df)
    np.testing.assert_allclose(model.coefficients.toArray(), job.coefficients, rtol=1e-12)
    assert model.intercept == pytest.approx(job.intercept, rel=1e-12)
    assert model.summary.iterations == job.metadata["iterations"]
    assert model.summary.loss == pytest.approx(job.metadata["final_loss"], rel=1e-12)


def test_vector_column_inside_a_pipeline_equals_plain_columns(data):
    _, df, _, _ = data
    plain = LogisticRegression(labelCol="y", inputCols=COLUMNS, regParam=0.01).fit(df)
    pipeline = Pipeline(
        stages=[
            VectorAssembler(inputCols=COLUMNS, outputCol="features"),
            LogisticRegression(labelCol="y", regParam=0.01),
        ]
    ).fit(df)
    fitted = pipeline.stages[-1]
    assert isinstance(fitted, SparklrModel)
    np.testing.assert_allclose(fitted.coefficients, plain.coefficients, rtol=1e-10)
    scored = pipeline.transform(df).select("probability", "prediction").toPandas()
    expected = plain.transform(df).select("probability", "prediction").toPandas()
    got = np.stack(scored["probability"].map(lambda v: v.toArray()))
    want = np.stack(expected["probability"].map(lambda v: v.toArray()))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    assert (scored["prediction"] == expected["prediction"]).all()


def test_cross_validator_over_a_reg_param_grid(spark):
    X, y, _, _ = make_logistic_data(120, 2, seed=43)
    df = spark.createDataFrame(pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "label": y}))
    lr = LogisticRegression(maxIter=15, optimizer="newton")
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=["a", "b"], outputCol="features"), lr])
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.001, 5.0]).build()
    cv = CrossValidator(
        estimator=pipeline,
        estimatorParamMaps=grid,
        evaluator=BinaryClassificationEvaluator(),
        numFolds=3,
        seed=7,
        collectSubModels=True,
    ).fit(df)
    assert len(cv.avgMetrics) == 2 and all(0.5 < auc <= 1.0 for auc in cv.avgMetrics)
    best = cv.bestModel.stages[-1]
    assert isinstance(best, SparklrModel)
    assert best.getRegParam() == [0.001, 5.0][int(np.argmax(cv.avgMetrics))]
    for fold in cv.subModels:  # each fold fitted with the grid's λ: stronger λ, smaller w
        weak, strong = (m.stages[-1] for m in fold)
        assert (weak.getRegParam(), strong.getRegParam()) == (0.001, 5.0)
        assert np.linalg.norm(strong.coefficients) < 0.5 * np.linalg.norm(weak.coefficients)


def test_save_and_load_round_trip(data, tmp_path):
    _, df, _, _ = data
    model = LogisticRegression(labelCol="y", inputCols=COLUMNS, threshold=0.3).fit(df)
    model.save(tmp_path / "m")
    back = SparklrModel.load(tmp_path / "m")
    assert back.coefficients == model.coefficients and back.intercept == model.intercept
    assert back.getThreshold() == 0.3 and back.getOrDefault("inputCols") == COLUMNS
    assert back.summary.objectiveHistory == model.summary.objectiveHistory
    a = model.transform(df).select("prediction").toPandas()
    b = back.transform(df).select("prediction").toPandas()
    assert (a["prediction"] == b["prediction"]).all()


def test_to_spark_ml_probabilities_equal_transform(vectors):
    model = LogisticRegression(labelCol="y", regParam=0.01).fit(vectors)
    exported = model.to_spark_ml()
    assert type(exported).__name__ == "LogisticRegressionModel"
    ours = model.transform(vectors).select("probability", "rawPrediction").toPandas()
    theirs = exported.transform(vectors).select("probability", "rawPrediction").toPandas()
    for column in ("probability", "rawPrediction"):
        got = np.stack(ours[column].map(lambda v: v.toArray()))
        want = np.stack(theirs[column].map(lambda v: v.toArray()))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_without_intercept_equals_scikit_learn(data):
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    _, df, X, y = data
    lam = 0.01
    model = LogisticRegression(
        labelCol="y",
        inputCols=COLUMNS,
        regParam=lam,
        fitIntercept=False,
        standardization=False,
        optimizer="newton",
        tol=1e-12,
    ).fit(df)
    reference = SkLogisticRegression(
        C=1.0 / (lam * len(y)), fit_intercept=False, tol=1e-14, max_iter=10_000
    ).fit(X, y)
    assert model.intercept == 0.0
    np.testing.assert_allclose(model.coefficients, reference.coef_.ravel(), rtol=1e-7)


@pytest.mark.parametrize("standardization", [True, False])
def test_without_intercept_equals_mllib(vectors, standardization):
    from pyspark.ml.classification import LogisticRegression as MLlibLogisticRegression

    common = {"labelCol": "y", "regParam": 0.02, "fitIntercept": False, "tol": 1e-12}
    common["standardization"] = standardization
    ours = LogisticRegression(optimizer="lbfgs", **common).fit(vectors)
    theirs = MLlibLogisticRegression(maxIter=500, **common).fit(vectors)
    assert ours.intercept == 0.0 and theirs.intercept == 0.0
    np.testing.assert_allclose(ours.coefficients, theirs.coefficients, rtol=1e-5)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"optimizer": "sgd"}, "optimizer"),
        ({"regParam": -1.0}, "regParam"),
        ({"inputCols": ["a", "nope"]}, "inputCols"),
        ({"labelCol": "missing"}, "labelCol"),
        ({"momentum": "nesterov", "lineSearch": True}, "lineSearch"),
    ],
)
def test_bad_params_name_the_param_before_any_spark_job(spark, data, params, named):
    _, df, _, _ = data
    tracker = spark.sparkContext.statusTracker()
    before = set(tracker.getJobIdsForGroup(None))
    with pytest.raises(ConfigError, match=rf"param {named}\b"):
        LogisticRegression(**{"labelCol": "y", **params}).fit(df)
    assert set(tracker.getJobIdsForGroup(None)) == before
