import json

import numpy as np
import pytest
from sparklr.errors import ConfigError
from sparklr.model import Model
from sparklr.objective import FeatureMap
from sparklr.tuning.warm_start import coefficients_by_name, initial_theta

from tests.conftest import make_logistic_data
from tests.optimizers.helpers import fit, make_objective


def save(tmp_path, names, w, b) -> str:
    (tmp_path / "model.json").write_text(json.dumps(Model(names, np.asarray(w), b).to_json()))
    return str(tmp_path)


def test_coefficients_are_matched_by_name_not_position():
    model = Model(["c", "a", "b"], np.array([3.0, 1.0, 2.0]), 0.5)
    np.testing.assert_array_equal(coefficients_by_name(model, ["a", "b", "c"]), [1.0, 2.0, 3.0])


def test_a_model_with_other_features_is_a_config_error_naming_both_sides():
    model = Model(["a", "b", "old"], np.zeros(3), 0.0)
    with pytest.raises(ConfigError, match=r"train\.init_model.*lacks new.*has old") as info:
        coefficients_by_name(model, ["a", "b", "new"])
    assert info.value.exit_code == 2


def test_an_unreadable_init_model_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"train\.init_model.*cannot read model"):
        initial_theta(tmp_path / "nothing", ["a"], FeatureMap.identity(1))


def test_the_start_has_the_saved_decision_function_in_training_coordinates(tmp_path):
    X, y, w, b = make_logistic_data(300, 3, seed=4, offset=2.0, scale=3.0)
    objective, _ = make_objective(X, y, standardize=True)
    theta = initial_theta(
        save(tmp_path, ["x0", "x1", "x2"], w, b), ["x0", "x1", "x2"], objective.feature_map
    )
    w_back, b_back = objective.feature_map.to_raw(theta)
    np.testing.assert_allclose(X @ w_back + b_back, X @ w + b, rtol=1e-12)


@pytest.mark.parametrize("optimizer", ["gd", "lbfgs"])
def test_yesterdays_model_reaches_todays_optimum_in_fewer_iterations(tmp_path, optimizer):
    # Day-over-day: today's data are a new draw of the same process plus a few more rows.
    X, y, _, _ = make_logistic_data(3000, 4, seed=8, offset=1.0, scale=2.0)
    yesterday, _ = make_objective(X[:2000], y[:2000], reg_param=1e-3)
    today, moments = make_objective(X[500:], y[500:], reg_param=1e-3)
    w0, b0, _ = fit(optimizer, yesterday, yesterday.source.moments(), max_iter=5000)
    names = [f"x{j}" for j in range(4)]
    start = initial_theta(save(tmp_path, names, w0, b0), names, today.feature_map)

    w_cold, b_cold, cold = fit(optimizer, today, moments, max_iter=5000)
    w_warm, b_warm, warm = fit(optimizer, today, moments, max_iter=5000, theta0=start)
    assert cold.stop_reason == warm.stop_reason == "converged"
    np.testing.assert_allclose(w_warm, w_cold, rtol=1e-6)
    assert b_warm == pytest.approx(b_cold, rel=1e-6)
    print(optimizer, "iterations cold", cold.iteration, "warm", warm.iteration)
    assert warm.iteration < cold.iteration, (warm.iteration, cold.iteration)
