import itertools

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sparklr.errors import DivergenceError
from sparklr.in_memory import InMemorySource
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerState, StopRule, gradient_descent

from tests.conftest import make_logistic_data


def reference_fit(X, y):
    """Independent solver: scikit-learn, unpenalized, to machine precision."""
    clf = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-14, max_iter=1000)
    clf.fit(X, y)
    return clf.coef_.ravel(), float(clf.intercept_[0])


def fit_gd(X, y, standardize, max_iter=200_000, tol=1e-11, rate=None):
    source = InMemorySource((X, y))
    moments = source.moments()
    objective = LogisticObjective(source, FeatureMap.from_moments(moments, standardize))
    rate = rate or 1.0 / objective.lipschitz(moments)
    theta0 = np.append(0.01 * np.random.default_rng(0).standard_normal(X.shape[1]), 0.0)
    state = gradient_descent(
        objective, OptimizerState(0, theta0), learning_rate=rate, stop=StopRule(max_iter, tol)
    )
    w, b = objective.feature_map.to_raw(state.theta)
    return w, b, state


BREAST_FEATURES = ["mean radius", "mean texture", "mean smoothness"]


def breast_cancer_subset():
    data = load_breast_cancer()
    idx = [list(data.feature_names).index(f) for f in BREAST_FEATURES]
    return np.ascontiguousarray(data.data[:, idx]), data.target.astype(float)


@pytest.mark.parametrize("standardize", [True, False])
def test_gd_reaches_the_reference_optimum_on_synthetic_data(standardize):
    X, y, _, _ = make_logistic_data(2000, 5, seed=11)
    w, b, state = fit_gd(X, y, standardize)
    w_ref, b_ref = reference_fit(X, y)
    assert state.stop_reason == "converged"
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)


def test_gd_reaches_the_reference_optimum_on_breast_cancer():
    X, y = breast_cancer_subset()
    w, b, state = fit_gd(X, y, standardize=True)
    w_ref, b_ref = reference_fit(X, y)
    assert state.stop_reason == "converged"
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)


def test_raw_training_reaches_the_same_optimum_as_standardized():
    # Offsets and scales make the raw problem ~100x worse conditioned, but still tractable.
    X, y, _, _ = make_logistic_data(1000, 3, seed=16, offset=1.5, scale=2.0)
    w_std, b_std, _ = fit_gd(X, y, standardize=True)
    w_raw, b_raw, state = fit_gd(X, y, standardize=False, tol=1e-12)
    assert state.stop_reason == "converged"
    np.testing.assert_allclose(w_raw, w_std, rtol=1e-6)
    assert b_raw == pytest.approx(b_std, rel=1e-6)


def test_loss_never_increases_with_the_auto_step():
    X, y, _, _ = make_logistic_data(500, 3, seed=12, offset=4.0)
    _, _, state = fit_gd(X, y, standardize=False, max_iter=300, tol=0)
    losses = [r.loss for r in state.history]
    assert all(b <= a for a, b in itertools.pairwise(losses))
    assert state.iteration == 300 and state.stop_reason == "max_iter"
    assert len(state.history) == 301  # J of θ_0 … θ_300


def test_seed_learning_rate_is_usable():
    # The seed's α = 0.005 is below 1/L on standardized features, so every step lowers J and
    # (GD on a convex J with α ≤ 2/L) moves θ closer to the independent solver's optimum θ*.
    X, y, _, _ = make_logistic_data(500, 3, seed=13)
    source = InMemorySource((X, y))
    moments = source.moments()
    objective = LogisticObjective(source, FeatureMap.from_moments(moments, True))
    assert 0.005 <= 1.0 / objective.lipschitz(moments)
    theta_star = objective.feature_map.from_raw(*reference_fit(X, y))
    iterates = [np.append(0.01 * np.random.default_rng(0).standard_normal(3), 0.0)]
    state = gradient_descent(
        objective,
        OptimizerState(0, iterates[0].copy()),
        learning_rate=0.005,
        stop=StopRule(50, 0),
        callback=lambda st, r: iterates.append(st.theta.copy()) if st.stop_reason is None else None,
    )
    losses = [r.loss for r in state.history]
    assert all(b < a for a, b in itertools.pairwise(losses))
    distances = [np.linalg.norm(theta - theta_star) for theta in iterates]
    assert len(distances) == 51 and all(b < a for a, b in itertools.pairwise(distances))
    assert state.history[-1].loss < state.history[0].loss


def test_too_large_learning_rate_is_reported_as_divergence():
    X, y, _, _ = make_logistic_data(500, 3, seed=14, offset=50.0)
    with pytest.raises(DivergenceError, match="auto"):
        fit_gd(X, y, standardize=False, max_iter=100, tol=0, rate=10.0)


def test_state_round_trips_through_json_and_resumes_bit_for_bit():
    X, y, _, _ = make_logistic_data(300, 3, seed=15)
    source = InMemorySource((X, y))
    objective = LogisticObjective(source, FeatureMap.from_moments(source.moments(), True))
    theta0 = np.array([0.01, -0.02, 0.03, 0.0])
    full = gradient_descent(
        objective, OptimizerState(0, theta0.copy()), learning_rate=1.0, stop=StopRule(40, 0)
    )
    half = gradient_descent(
        objective, OptimizerState(0, theta0.copy()), learning_rate=1.0, stop=StopRule(20, 0)
    )
    half.history.pop()  # the checkpoint is taken before θ_20 is evaluated
    half.stop_reason = None
    resumed = OptimizerState.from_json(half.to_json())
    done = gradient_descent(objective, resumed, learning_rate=1.0, stop=StopRule(40, 0))
    assert done.theta.tobytes() == full.theta.tobytes()
    assert [r.loss for r in done.history] == [r.loss for r in full.history]


# ---------------------------------------------------------------- line search, Nesterov, L1


@pytest.mark.parametrize("options", [{"line_search": True}, {"momentum": "nesterov"}])
def test_accelerated_gd_reaches_the_reference_optimum_in_fewer_passes(options):
    from sparklr.optimizers import OptimizerOptions, get

    X, y = breast_cancer_subset()
    w_ref, b_ref = reference_fit(X, y)
    _, _, plain = fit_gd(X, y, standardize=True, tol=1e-10)
    source = InMemorySource((X, y))
    moments = source.moments()
    objective = LogisticObjective(source, FeatureMap.from_moments(moments, True))
    theta0 = np.append(0.01 * np.random.default_rng(0).standard_normal(X.shape[1]), 0.0)
    state = get("gd")(
        objective,
        OptimizerState(0, theta0),
        options=OptimizerOptions(learning_rate=1 / objective.lipschitz(moments), **options),
        stop=StopRule(100_000, 1e-10),
    )
    w, b = objective.feature_map.to_raw(state.theta)
    assert state.stop_reason == "converged"
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)
    assert objective.evaluations == sum(r.evaluations for r in state.history)
    assert objective.evaluations < len(plain.history) / 2


def test_line_search_never_increases_j_even_from_a_huge_first_step():
    X, y, _, _ = make_logistic_data(500, 3, seed=12, offset=4.0)
    _, _, state = fit_gd_options(X, y, rate=1e4, line_search=True, max_iter=100)
    losses = [r.loss for r in state.history]
    # (an increase within J's round-off is allowed when the gradient norm shrinks)
    assert all(b <= a + 1e-13 for a, b in itertools.pairwise(losses))
    assert state.history[-1].loss < state.history[0].loss - 0.1
    assert state.history[0].evaluations > 5  # it had to backtrack


def test_nesterov_with_a_too_large_step_is_divergence():
    X, y, _, _ = make_logistic_data(500, 3, seed=14, offset=50.0)
    with pytest.raises(DivergenceError, match="auto"):
        fit_gd_options(X, y, rate=10.0, momentum="nesterov", max_iter=500, standardize=False)


@pytest.mark.parametrize(
    "options", [{"line_search": True}, {"momentum": "nesterov"}, {"reg": (0.01, 0.5)}]
)
def test_variants_resume_bit_for_bit(options):
    X, y, _, _ = make_logistic_data(300, 3, seed=15)
    full_state = fit_gd_options(X, y, max_iter=40, **options)[2]
    saved = []
    fit_gd_options(
        X,
        y,
        max_iter=40,
        callback=lambda st, r: saved.append(st.to_json()) if st.iteration == 17 else None,
        **options,
    )
    resumed = fit_gd_options(X, y, max_iter=40, state=OptimizerState.from_json(saved[0]), **options)
    assert resumed[2].theta.tobytes() == full_state.theta.tobytes()
    assert [r.loss for r in resumed[2].history] == [r.loss for r in full_state.history]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"line_search": True, "momentum": "nesterov"}, "line search"),
        ({"momentum": "heavy"}, "heavy"),
    ],
)
def test_impossible_options_are_refused_without_config_wording(options, words):
    # (train.line_search with nesterov and train.momentum are config.py's: tests/test_config.py)
    X, y, _, _ = make_logistic_data(100, 2, seed=1)
    with pytest.raises(ValueError, match=words) as info:
        fit_gd_options(X, y, max_iter=5, **options)
    assert "train." not in str(info.value)


def fit_gd_options(
    X,
    y,
    *,
    rate=None,
    max_iter=100,
    tol=0.0,
    reg=(0.0, 0.0),
    state=None,
    callback=None,
    standardize=True,
    **kw,
):
    source = InMemorySource((X, y))
    moments = source.moments()
    objective = LogisticObjective(
        source,
        FeatureMap.from_moments(moments, standardize),
        reg_param=reg[0],
        elastic_net=reg[1],
    )
    rate = rate or 1.0 / objective.lipschitz(moments)
    state = state or OptimizerState(0, np.array([0.01, -0.02, 0.03, 0.0][: X.shape[1] + 1]))
    state = gradient_descent(
        objective,
        state,
        learning_rate=rate,
        stop=StopRule(max_iter, tol),
        callback=callback,
        **kw,
    )
    w, b = objective.feature_map.to_raw(state.theta)
    return w, b, state
