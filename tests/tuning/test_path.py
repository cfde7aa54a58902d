import numpy as np
import pytest
from sparklr.objective import log_odds_intercept
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get
from sparklr.tuning.path import fit_path, geometric_path, lambda_max, null_theta

from tests.conftest import make_logistic_data
from tests.optimizers.helpers import (
    breast_cancer,
    make_objective,
    sklearn_l2,
    split_variable_reference,
)


def lbfgs(tol=1e-11, max_iter=5000):
    def fit(objective, state):
        return get("lbfgs")(
            objective, state, options=OptimizerOptions(), stop=StopRule(max_iter, tol)
        )

    return fit


def test_geometric_path_runs_from_the_top_down_to_ratio_times_it():
    values = geometric_path(2.0, 5, 1e-4)
    assert values[0] == 2.0 and values[-1] == pytest.approx(2e-4, rel=1e-12)
    np.testing.assert_allclose(values[1:] / values[:-1], 1e-1, rtol=1e-12)
    np.testing.assert_array_equal(geometric_path(3.0, 1, 1e-4), [3.0])


def test_the_l2_path_equals_independent_fits_at_every_lambda():
    X, y = breast_cancer(slice(0, 6))
    objective, moments = make_objective(X, y, standardize=False)
    top = lambda_max(objective, log_odds_intercept(moments))
    lambdas = geometric_path(top, 6, 1e-4)
    points = fit_path(objective, lambdas, lbfgs(), null_theta(6, log_odds_intercept(moments)))
    assert [p.reg_param for p in points] == sorted(lambdas, reverse=True)
    assert objective.reg_param == 0.0  # restored
    for point in points:
        assert point.stop_reason == "converged"
        w, b = objective.feature_map.to_raw(point.theta)
        w_ref, b_ref = sklearn_l2(X, y, point.reg_param, standardize=False)
        np.testing.assert_allclose(w, w_ref, rtol=1e-6, atol=1e-9)
        assert b == pytest.approx(b_ref, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("standardize", [True, False])
def test_lambda_max_zeroes_every_l1_coefficient_and_slightly_less_does_not(standardize):
    X, y, _, _ = make_logistic_data(800, 5, seed=3, offset=1.0, scale=2.0)
    objective, moments = make_objective(X, y, standardize=standardize, elastic_net=1.0)
    b0 = log_odds_intercept(moments)
    top = lambda_max(objective, b0)
    at_max, below = fit_path(objective, [top, top * (1 - 1e-3)], lbfgs(), null_theta(5, b0))
    assert at_max.stop_reason == below.stop_reason == "converged"
    assert at_max.nonzeros == 0
    assert at_max.theta[-1] == pytest.approx(b0, rel=1e-12)
    assert below.nonzeros >= 1


def test_the_elastic_net_path_equals_an_independent_solver_at_every_lambda():
    X, y = breast_cancer(slice(0, 6))
    objective, moments = make_objective(X, y, elastic_net=0.5)
    b0 = log_odds_intercept(moments)
    lambdas = geometric_path(lambda_max(objective, b0), 5, 1e-3)
    for point in fit_path(objective, lambdas, lbfgs(), null_theta(6, b0)):
        objective.reg_param = point.reg_param
        reference = split_variable_reference(objective, objective.n_params)
        np.testing.assert_allclose(point.theta, reference, rtol=1e-6, atol=1e-7)


def test_the_carried_lbfgs_pairs_reach_the_same_path_in_fewer_passes():
    X, y, _, _ = make_logistic_data(4000, 12, seed=3, offset=0.3, scale=1.0)
    objective, moments = make_objective(X, y, standardize=True)
    b0 = log_odds_intercept(moments)
    lambdas = geometric_path(lambda_max(objective, b0), 12, 1e-4)
    warm = fit_path(objective, lambdas, lbfgs(tol=1e-8), null_theta(12, b0))

    def forgetful(objective, state):  # the previous fit's pairs thrown away
        return lbfgs(tol=1e-8)(objective, OptimizerState(0, state.theta.copy()))

    fresh = fit_path(objective, lambdas, forgetful, null_theta(12, b0))
    for got, want in zip(warm, fresh, strict=True):
        np.testing.assert_allclose(got.theta, want.theta, atol=1e-7)
    passes = [sum(p.evaluations for p in points) for points in (warm, fresh)]
    assert passes[0] < 0.9 * passes[1], passes  # measured 57 against 66
