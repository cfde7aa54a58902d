"""train() in process, on the shared local SparkSession: the wiring of config, blocks and GD."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sparklr.app.train import train
from sparklr.config import load_config

from tests.conftest import make_logistic_data


@pytest.fixture(scope="module")
def parquet_dataset(spark, tmp_path_factory):
    X, y, _, _ = make_logistic_data(4000, 3, seed=31, offset=1.0, scale=2.0)
    X = np.column_stack([X, np.full(len(y), 5.0)])  # a constant feature
    path = tmp_path_factory.mktemp("data") / "train.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "k": X[:, 3], "y": y.astype(int)})
    pq.write_table(table, path, row_group_size=1000)
    return path, X, y


def config_for(path, out, *overrides):
    return load_config(
        None,
        [
            f"data.path={path}",
            "data.label=y",
            f"output.path={out}",
            "train.tol=1e-10",
            "train.max_iter=5000",
            *overrides,
        ],
    )


def test_trains_to_the_reference_optimum_with_a_constant_feature(spark, parquet_dataset, tmp_path):
    path, X, y = parquet_dataset
    result = train(config_for(path, tmp_path / "m", "data.partitions=3"))
    model = json.loads((tmp_path / "m" / "model.json").read_text())
    assert model["feature_names"] == ["a", "b", "c", "k"]
    assert model["constant_features"] == ["k"]
    assert model["coefficients"][3] == 0.0
    reference = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-14).fit(X[:, :3], y)
    np.testing.assert_allclose(model["coefficients"][:3], reference.coef_.ravel(), rtol=1e-6)
    assert model["intercept"] == pytest.approx(reference.intercept_[0], rel=1e-6)
    assert result.state.stop_reason == "converged"
    assert model["partitions"] == 3 and model["rows"] == 4000


def test_partitioning_and_standardization_reach_the_same_optimum(spark, parquet_dataset, tmp_path):
    path, _, _ = parquet_dataset
    one = train(config_for(path, tmp_path / "one", "data.partitions=1")).model
    seven = train(config_for(path, tmp_path / "seven", "data.partitions=7")).model
    raw = train(
        config_for(path, tmp_path / "raw", "train.standardize=false", "train.max_iter=200000")
    ).model
    np.testing.assert_allclose(seven.coefficients, one.coefficients, rtol=1e-9)
    np.testing.assert_allclose(raw.coefficients, one.coefficients, rtol=1e-6)
    assert raw.intercept == pytest.approx(one.intercept, rel=1e-6)


def test_one_spark_gd_step_equals_one_numpy_step(spark, parquet_dataset, tmp_path):
    path, X, y = parquet_dataset
    model = train(
        config_for(
            path,
            tmp_path / "step",
            "train.max_iter=1",
            "train.standardize=false",
            "train.learning_rate=0.005",
            "data.partitions=2",
        )
    ).model
    rng = np.random.default_rng(0)  # train.seed = 0, init_scale = 0.01
    w = 0.01 * rng.standard_normal(4)
    w[3] = 0.0  # constant feature: coefficient pinned to 0
    b = 0.0
    a = 1 / (1 + np.exp(-(X @ w + b)))
    w_next = w - 0.005 * (X.T @ (a - y)) / len(y)
    b_next = b - 0.005 * np.mean(a - y)
    w_next[3] = 0.0
    np.testing.assert_allclose(model.coefficients, w_next, rtol=1e-12, atol=1e-15)
    assert model.intercept == pytest.approx(b_next, rel=1e-12)


def test_warm_start_from_a_model_dir_converges_sooner_to_the_same_optimum(
    spark, parquet_dataset, tmp_path
):
    path, _, _ = parquet_dataset
    cold = train(config_for(path, tmp_path / "cold", "train.optimizer=lbfgs"))
    coarse = train(config_for(path, tmp_path / "coarse", "train.tol=1e-3"))
    warm = train(
        config_for(
            path,
            tmp_path / "warm",
            "train.optimizer=lbfgs",
            f"train.init_model={tmp_path / 'coarse'}",
        )
    )
    assert cold.state.stop_reason == warm.state.stop_reason == "converged"
    np.testing.assert_allclose(warm.model.coefficients, cold.model.coefficients, rtol=1e-6)
    assert warm.model.intercept == pytest.approx(cold.model.intercept, rel=1e-6)
    assert warm.state.iteration < cold.state.iteration
    assert coarse.state.iteration > 0


def test_a_warm_start_model_with_other_features_fails_with_exit_2(spark, parquet_dataset, tmp_path):
    from sparklr.errors import ConfigError
    from sparklr.model import Model

    path, _, _ = parquet_dataset
    other = tmp_path / "other.json"
    other.write_text(json.dumps(Model(["a", "b", "z", "k"], np.zeros(4), 0.0).to_json()))
    with pytest.raises(ConfigError, match="lacks c; it has z") as info:
        train(config_for(path, tmp_path / "m", f"train.init_model={other}"))
    assert info.value.exit_code == 2


@pytest.fixture(scope="module")
def wide_parquet(tmp_path_factory):
    """8 rows × 4,097 features: one more than newton and explicit inference allow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    columns = {f"x{j}": rng.standard_normal(8) for j in range(4097)}
    path = tmp_path_factory.mktemp("wide") / "wide.parquet"
    pq.write_table(pa.table({**columns, "y": np.arange(8) % 2}), path)
    return path


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("train.optimizer=newton", r"train\.optimizer = newton: .*4097 features > 4096.*lbfgs"),
        ("train.inference=robust", r"train\.inference = robust is not possible for 4097"),
    ],
)
def test_wide_data_refuse_newton_and_explicit_inference_before_the_build(
    spark, wide_parquet, tmp_path, override, words
):
    from sparklr.errors import ConfigError

    with pytest.raises(ConfigError, match=words):
        train(config_for(wide_parquet, tmp_path / "m", override))
    assert not (tmp_path / "m").exists()
