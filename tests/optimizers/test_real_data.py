"""Every optimizer against independent solvers on real data shipped in scikit-learn."""

import numpy as np
import pytest
from sparklr.optimizers import separation_detected

from tests.optimizers.helpers import (
    breast_cancer,
    fit,
    make_objective,
    sklearn_l2,
    split_variable_reference,
)

SECOND_ORDER = ["lbfgs", "newton"]


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_l2_all_30_features_equals_scikit_learn(name, standardize):
    X, y = breast_cancer()
    reg = 0.01
    if not standardize and name == "lbfgs":
        # raw breast-cancer features span 7 orders of magnitude (condition ~1e12): a first-
        # order method is hopeless there, so give it rescaled but uncentered features.
        X = X / X.std(axis=0)
    objective, moments = make_objective(X, y, standardize=standardize, reg_param=reg)
    w, b, state = fit(name, objective, moments, max_iter=300 if not standardize else 100)
    w_ref, b_ref = sklearn_l2(X, y, reg, standardize=standardize)
    assert state.stop_reason == "converged"
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_unpenalized_ill_conditioned_optimum_within_100_iterations(name):
    # The ten "mean" features: not separable, Hessian condition number ≈ 2.4e4 at the optimum
    # after standardization (radius, perimeter and area are nearly collinear).
    X, y = breast_cancer(slice(0, 10))
    objective, moments = make_objective(X, y)
    w, b, state = fit(name, objective, moments, max_iter=100, tol=1e-10)
    w_ref, b_ref = sklearn_l2(X, y, 0.0)
    H = objective.evaluate(state.theta, hessian=True).hessian
    eig = np.linalg.eigvalsh(H)
    assert eig[-1] / eig[0] > 1e4  # the test really is ill-conditioned
    assert state.stop_reason == "converged" and state.iteration <= 100
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_unpenalized_separable_data_report_separation(name):
    X, y = breast_cancer()  # all 30 features: linearly separable
    objective, moments = make_objective(X, y)
    _, _, state = fit(name, objective, moments, max_iter=1000, tol=1e-10)
    assert state.stop_reason == "separated"
    assert separation_detected(objective, state)
    assert state.history[-1].accuracy == 1.0
    # with any L2 the optimum exists again, and is not flagged
    objective, moments = make_objective(X, y, reg_param=1e-3)
    _, _, state = fit(name, objective, moments, max_iter=200)
    assert state.stop_reason == "converged"
    assert not separation_detected(objective, state)


def test_gd_result_can_be_checked_for_separation():
    from sklearn.datasets import load_iris

    iris = load_iris()
    X, y = iris.data, (iris.target == 0).astype(float)  # setosa vs the rest: separable
    objective, moments = make_objective(X, y)
    _, _, state = fit("gd", objective, moments, max_iter=200, tol=0)
    assert state.stop_reason == "max_iter"  # GD keeps the seed's stopping rule ...
    assert separation_detected(objective, state)  # ... and its result can be checked
    X3, y3 = breast_cancer(slice(0, 3))
    objective, moments = make_objective(X3, y3)
    _, _, state = fit("gd", objective, moments, max_iter=200, tol=0)
    assert not separation_detected(objective, state)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("lbfgs", {}),
        ("gd", {}),
        ("gd", {"line_search": True}),
        ("gd", {"momentum": "nesterov"}),
    ],
)
def test_elastic_net_equals_an_independent_solver(name, options):
    X, y = breast_cancer()
    objective, moments = make_objective(X, y, reg_param=0.02, elastic_net=0.5)
    max_iter = 500 if name == "lbfgs" else 100_000
    w, b, state = fit(name, objective, moments, max_iter=max_iter, tol=1e-9, **options)
    reference = split_variable_reference(objective, objective.n_params)
    w_ref, b_ref = objective.feature_map.to_raw(reference)
    assert state.stop_reason == "converged"
    nonzero = np.abs(reference[:-1]) > 1e-6
    assert 3 <= nonzero.sum() < 30  # L1 really selects
    assert np.all(w[~nonzero] == 0.0)  # exact zeros, not small numbers
    np.testing.assert_allclose(w[nonzero], w_ref[nonzero], rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)
    J = objective.evaluate(objective.feature_map.from_raw(w, b)).loss
    assert J <= objective.evaluate(reference).loss + 1e-12


@pytest.mark.parametrize("name", ["gd", "lbfgs", "newton"])
def test_integer_weights_equal_repeated_rows_and_scikit_learn(name):
    X, y = breast_cancer(slice(0, 4))
    v = np.random.default_rng(0).integers(0, 4, len(y)).astype(float)
    weighted, wm = make_objective(X, y, weights=v, reg_param=1e-3, standardize=False)
    k = v.astype(int)
    repeated, rm = make_objective(np.repeat(X, k, axis=0), np.repeat(y, k), standardize=False)
    theta = np.array([0.1, -0.2, 0.3, 0.05, -0.4])
    a, b = weighted.evaluate(theta), repeated.evaluate(theta)
    assert a.count == b.count == v.sum()
    assert a.loss - 0.5e-3 * theta[:-1] @ theta[:-1] == pytest.approx(b.loss, rel=1e-12)
    np.testing.assert_allclose(wm.mean, rm.mean, rtol=1e-12)
    # training with the weights (MLlib's weighted standardization) equals scikit-learn
    weighted, wm = make_objective(X, y, weights=v, reg_param=1e-3)
    kw = {"max_iter": 200_000 if name == "gd" else 100, "tol": 1e-10}
    w1, b1, s1 = fit(name, weighted, wm, **kw)
    w_ref, b_ref = sklearn_l2(X, y, 1e-3, sample_weight=v)
    assert s1.stop_reason == "converged"
    np.testing.assert_allclose(w1, w_ref, rtol=1e-6)
    assert b1 == pytest.approx(b_ref, rel=1e-6)


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_balanced_class_weight_equals_scikit_learn(name):
    from sparklr.objective import balanced_class_weight

    X, y = breast_cancer(slice(0, 6))
    source_moments = make_objective(X, y)[1]
    cw = balanced_class_weight(source_moments)
    objective, moments = make_objective(X, y, reg_param=0.01, class_weight=cw)
    w, b, state = fit(name, objective, moments)
    w_ref, b_ref = sklearn_l2(X, y, 0.01, class_weight="balanced")
    assert state.stop_reason == "converged"
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)
