"""sparklr's objectives equal MLlib's LogisticRegression (regParam, elasticNetParam,
standardization, weightCol) on real data, to 1e-5 relative."""

import numpy as np
import pandas as pd
import pytest
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get

from tests.optimizers.helpers import breast_cancer, make_objective


def mllib_fit(spark, X, y, *, reg, enet, standardize, weights=None):
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    names = [f"f{j}" for j in range(X.shape[1])]
    pdf = pd.DataFrame(X, columns=names)
    pdf["label"] = y
    if weights is not None:
        pdf["weight"] = weights
    df = spark.createDataFrame(pdf).coalesce(1)
    data = VectorAssembler(inputCols=names, outputCol="features").transform(df)
    lr = LogisticRegression(
        regParam=reg,
        elasticNetParam=enet,
        standardization=standardize,
        maxIter=500,
        tol=1e-12,
        **({"weightCol": "weight"} if weights is not None else {}),
    )
    model = lr.fit(data)
    return model.coefficients.toArray(), model.intercept


CASES = [
    # (features, reg, enet, standardize, optimizer)
    (slice(None), 0.01, 0.0, True, "lbfgs"),
    (slice(0, 10), 0.01, 0.0, False, "newton"),
    (slice(None), 0.02, 0.5, True, "lbfgs"),
    (slice(0, 10), 0.005, 1.0, False, "lbfgs"),
]


@pytest.mark.parametrize(("features", "reg", "enet", "standardize", "name"), CASES)
def test_coefficients_equal_mllib(spark, features, reg, enet, standardize, name):
    X, y = breast_cancer(features)
    if not standardize:
        # raw breast-cancer scales span 1e7 (condition ~1e12): MLlib's own L-BFGS does not
        # converge there, so both get centered features with scales 0.5 … 2 (the penalty is
        # on that scale, which differs from the standardized one).
        Z = (X - X.mean(axis=0)) / X.std(axis=0)
        X = Z * np.geomspace(0.5, 2.0, X.shape[1])
    objective, _ = make_objective(X, y, standardize=standardize, reg_param=reg, elastic_net=enet)
    state = get(name)(
        objective,
        OptimizerState(0, np.zeros(X.shape[1] + 1)),
        options=OptimizerOptions(),
        stop=StopRule(1000, 1e-11),
    )
    assert state.stop_reason == "converged"
    w, b = objective.feature_map.to_raw(state.theta)
    w_ml, b_ml = mllib_fit(spark, X, y, reg=reg, enet=enet, standardize=standardize)
    big = np.abs(w_ml) > 1e-8 * np.abs(w_ml).max()
    np.testing.assert_allclose(w[big], w_ml[big], rtol=1e-5)
    assert np.all(np.abs(w[~big]) <= 1e-8 * np.abs(w_ml).max())
    assert b == pytest.approx(b_ml, rel=1e-5)
    if enet > 0:
        assert (~big).sum() > 0  # L1 selected features in both


def test_weighted_blocks_through_spark_equal_mllib(spark, tmp_path):
    """data.weight end to end on the Spark path: resident blocks with a weight column,
    MLlib's weighted standardization, balanced-free weights."""
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import load_training_frame

    X, y = breast_cancer(slice(0, 8))
    v = np.random.default_rng(3).uniform(0.0, 3.0, len(y))
    pdf = pd.DataFrame(X, columns=[f"f{j}" for j in range(8)])
    pdf["label"] = y.astype(int)
    pdf["w"] = v
    path = str(tmp_path / "data.parquet")
    spark.createDataFrame(pdf).repartition(3).write.parquet(path)
    frame, names = load_training_frame(
        spark, fmt="parquet", path=path, label="label", features=[], weight="w"
    )
    assert names == [f"f{j}" for j in range(8)]  # the weight is not a feature
    blocks = BlockSet(spark, frame, "label", names, weight="w").build()
    try:
        moments = blocks.moments
        assert moments.total_weight == pytest.approx(v.sum(), rel=1e-12)
        objective = LogisticObjective(
            blocks, FeatureMap.from_moments(moments, True), reg_param=0.01
        )
        state = get("newton")(
            objective,
            OptimizerState(0, np.zeros(9)),
            options=OptimizerOptions(),
            stop=StopRule(100, 1e-11),
        )
        assert state.stop_reason == "converged"
        w, b = objective.feature_map.to_raw(state.theta)
    finally:
        blocks.unpersist()
    w_ml, b_ml = mllib_fit(spark, X, y, reg=0.01, enet=0.0, standardize=True, weights=v)
    np.testing.assert_allclose(w, w_ml, rtol=1e-5)
    assert b == pytest.approx(b_ml, rel=1e-5)


def test_negative_weight_is_a_data_error_naming_the_column(spark, tmp_path):
    from sparklr.errors import DataError
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import load_training_frame

    pdf = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "label": [0, 1, 0, 1], "w": [1, 1, -2, 1]})
    path = str(tmp_path / "neg.parquet")
    spark.createDataFrame(pdf).coalesce(1).write.parquet(path)
    frame, names = load_training_frame(
        spark, fmt="parquet", path=path, label="label", features=[], weight="w"
    )
    blocks = BlockSet(spark, frame, "label", names, weight="w")
    with pytest.raises(DataError, match=r"weight column 'w'.*negative"):
        blocks.build()
    blocks.unpersist()
    with pytest.raises(DataError, match="weight column 'nope' not found"):
        load_training_frame(
            spark, fmt="parquet", path=path, label="label", features=[], weight="nope"
        )


def test_train_job_wires_optimizer_penalty_weights_and_init(spark, tmp_path):
    """The job picks the optimizer by name and passes the objective keys through."""
    from sparklr.app.train import train
    from sparklr.config import load_config

    X, y = breast_cancer(slice(0, 5))
    v = np.random.default_rng(4).uniform(0.5, 2.0, len(y))
    pdf = pd.DataFrame(X, columns=[f"f{j}" for j in range(5)])
    pdf["label"] = y.astype(int)
    pdf["v"] = v
    path = str(tmp_path / "d.parquet")
    spark.createDataFrame(pdf).coalesce(2).write.parquet(path)
    config = load_config(
        None,
        [
            f"data.path={path}",
            "data.weight=v",
            "train.optimizer=newton",
            "train.reg_param=0.01",
            "train.class_weight=balanced",
            "train.init=log_odds",
            "train.init_scale=0",
            "train.tol=1e-10",
            f"output.path={tmp_path / 'model'}",
        ],
    )
    result = train(config)
    state = result.state
    assert state.stop_reason == "converged" and state.iteration < 15
    assert state.history[0].loss == pytest.approx(np.log(2), rel=1e-12)  # balanced log-odds = 0
    from tests.optimizers.helpers import sklearn_l2

    w_ref, b_ref = sklearn_l2(X, y, 0.01, sample_weight=v, class_weight="balanced")
    np.testing.assert_allclose(result.model.coefficients, w_ref, rtol=1e-6)
    assert result.model.intercept == pytest.approx(b_ref, rel=1e-6)
