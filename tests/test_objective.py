import numpy as np
import pytest
from sparklr.in_memory import InMemorySource
from sparklr.objective import FeatureMap, LogisticObjective

from tests.conftest import make_logistic_data


def test_standardized_objective_equals_training_on_standardized_copy():
    X, y, _, _ = make_logistic_data(400, 3, seed=2, offset=5.0, scale=3.0)
    source = InMemorySource((X, y))
    fmap = FeatureMap.from_moments(source.moments(), standardize=True)
    mu, sd = X.mean(0), X.std(0, ddof=1)
    reference = LogisticObjective(InMemorySource(((X - mu) / sd, y)))
    folded = LogisticObjective(source, fmap)
    theta = np.array([0.3, -0.2, 0.5, 0.1])
    a, b = folded.evaluate(theta, hessian=True), reference.evaluate(theta, hessian=True)
    assert a.loss == pytest.approx(b.loss, rel=1e-13)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(a.hessian, b.hessian, rtol=1e-10, atol=1e-13)


def test_feature_map_round_trip_and_constant_features():
    X, y, _, _ = make_logistic_data(100, 3, seed=3)
    X[:, 1] = 7.0
    fmap = FeatureMap.from_moments(InMemorySource((X, y)).moments(), standardize=True)
    assert list(fmap.constant_features) == [False, True, False]
    theta = np.array([1.0, 2.0, 3.0, 4.0])
    w, b = fmap.to_raw(theta)
    assert w[1] == 0.0
    back = fmap.from_raw(w, b)
    np.testing.assert_allclose(back, [1.0, 0.0, 3.0, 4.0])


@pytest.mark.parametrize("standardize", [True, False])
def test_lipschitz_bound_dominates_the_hessian(standardize):
    X, y, _, _ = make_logistic_data(300, 4, seed=4, offset=2.0, scale=0.5)
    source = InMemorySource((X, y))
    objective = LogisticObjective(source, FeatureMap.from_moments(source.moments(), standardize))
    L = objective.lipschitz(source.moments())
    rng = np.random.default_rng(0)
    for _ in range(5):
        H = objective.evaluate(rng.standard_normal(5), hessian=True).hessian
        assert np.linalg.eigvalsh(H)[-1] <= L * (1 + 1e-12)
    # and it is tight where a(1-a) = 1/4 everywhere (θ = 0)
    H0 = objective.evaluate(np.zeros(5), hessian=True).hessian
    assert np.linalg.eigvalsh(H0)[-1] == pytest.approx(L, rel=1e-9)


@pytest.mark.parametrize("b", [0.0, 2.5])
def test_gradient_matches_finite_differences(logistic_data, b):
    X, y, w, _ = logistic_data
    objective = LogisticObjective(InMemorySource((X, y)))
    theta = np.append(w, b)
    grad = objective.evaluate(theta).grad
    h = 1e-6
    numeric = np.empty_like(theta)
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        numeric[j] = (objective.evaluate(theta + e).loss - objective.evaluate(theta - e).loss) / (
            2 * h
        )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_hessian_matches_finite_differences_of_the_gradient(logistic_data):
    X, y, w, b = logistic_data
    objective = LogisticObjective(InMemorySource((X, y)))
    theta = np.append(w, b)
    H = objective.evaluate(theta, hessian=True).hessian
    h = 1e-6
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        column = (objective.evaluate(theta + e).grad - objective.evaluate(theta - e).grad) / (2 * h)
        np.testing.assert_allclose(H[:, j], column, rtol=1e-5, atol=1e-8)


def _no_intercept_objective(X, y, standardize, reg_param=0.0):
    source = InMemorySource((X, y))
    fmap = FeatureMap.from_moments(source.moments(), standardize, center=False)
    return LogisticObjective(source, fmap, reg_param=reg_param, fit_intercept=False)


def test_without_intercept_b_is_pinned_and_features_are_not_centred():
    X, y, _, _ = make_logistic_data(300, 3, seed=5, offset=2.0)
    objective = _no_intercept_objective(X, y, standardize=True)
    assert np.all(objective.feature_map.shift == 0) and np.all(objective.feature_map.scale != 1)
    e = objective.evaluate(np.array([0.2, -0.1, 0.3, 0.0]), hessian=True)
    assert e.grad[-1] == 0.0
    assert np.all(e.hessian[-1] == 0) and np.all(e.hessian[:, -1] == 0)
    with pytest.raises(ValueError, match="b̃"):
        objective.evaluate(np.array([0.2, -0.1, 0.3, 0.5]))


@pytest.mark.parametrize("optimizer", ["gd", "lbfgs", "newton"])
def test_every_optimizer_without_intercept_reaches_scikit_learns_optimum(optimizer):
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from sparklr import optimizers
    from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule

    X, y, _, _ = make_logistic_data(400, 3, seed=6, offset=1.0)
    lam = 0.01
    objective = _no_intercept_objective(X, y, standardize=False, reg_param=lam)
    rate = 1.0 / objective.lipschitz(objective.source.moments())
    state = optimizers.get(optimizer)(
        objective,
        OptimizerState(0, np.zeros(4)),
        options=OptimizerOptions(learning_rate=rate),
        stop=StopRule(100_000, 1e-11),
    )
    assert state.stop_reason == "converged" and state.theta[-1] == 0.0
    reference = SkLogisticRegression(
        C=1.0 / (lam * len(y)), fit_intercept=False, tol=1e-14, max_iter=10_000
    ).fit(X, y)
    np.testing.assert_allclose(state.theta[:-1], reference.coef_.ravel(), rtol=1e-7)


def test_power_bound_is_close_above_the_exact_gram_eigenvalue():
    """gram_power_bound from Gram mat-vecs alone vs the eigenvalue of the full Gram matrix."""
    from sparklr.kernels.dense import gram_sums
    from sparklr.objective import GRAM_POWER_MARGIN, gram_power_bound
    from sparklr.stats import FeatureMoments

    rng = np.random.default_rng(3)
    X = (rng.random((2000, 40)) < 0.1) * (1.0 + rng.random((2000, 40)))
    y = (rng.random(2000) < 0.3).astype(float)
    moments = FeatureMoments.of_block(X, y)
    for standardize in (False, True):
        feature_map = FeatureMap.from_moments(moments, standardize)
        exact = feature_map.gram_bound(moments)
        power = gram_power_bound(lambda w, b: gram_sums(X, None, w, b), feature_map)
        assert exact <= power <= GRAM_POWER_MARGIN * exact * (1 + 1e-9)
        diagonal = FeatureMoments(moments.count, moments.mean, np.diag(moments.scatter), 0.0)
        assert feature_map.gram_bound(diagonal) > 1.5 * power  # the trace bound is loose
