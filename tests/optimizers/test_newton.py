import itertools

import numpy as np
import pytest
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get
from sparklr.optimizers.newton import newton_direction

from tests.conftest import make_logistic_data
from tests.optimizers.helpers import breast_cancer, fit, make_objective, sklearn_l2


def test_quadratic_convergence_near_the_optimum():
    X, y = breast_cancer(slice(0, 6))
    objective, moments = make_objective(X, y)
    _, _, state = fit("newton", objective, moments, max_iter=50, tol=1e-13)
    assert state.stop_reason == "converged"
    norms = [r.grad_norm for r in state.history]
    # the last steps square the gradient norm (up to a constant)
    tail = [n for n in norms if n < 1e-3]
    assert len(tail) >= 3
    assert all(b < 100 * a * a for a, b in itertools.pairwise(tail) if a > 1e-12)
    assert all(r.step == 1.0 for r in state.history[-4:-1])  # full steps at the end


def test_constant_feature_is_held_at_zero():
    X, y = breast_cancer(slice(0, 4))
    X = np.column_stack([X, np.full(len(y), 3.0)])
    objective, moments = make_objective(X, y)
    w, b, state = fit("newton", objective, moments, tol=1e-11)
    w_ref, b_ref = sklearn_l2(X[:, :4], y, 0.0)
    assert state.stop_reason == "converged"
    assert w[4] == 0.0
    np.testing.assert_allclose(w[:4], w_ref, rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)


def test_direction_is_damped_when_the_hessian_is_singular():
    H = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])  # duplicated feature
    g = np.array([1.0, 1.0, 2.0])
    d = newton_direction(H, g)
    assert np.all(np.isfinite(d)) and g @ d < 0


def test_raw_features_reach_the_optimum_in_few_iterations():
    X, y, _, _ = make_logistic_data(3000, 4, seed=5, offset=20.0, scale=50.0)
    objective, moments = make_objective(X, y, standardize=False)
    w, b, state = fit("newton", objective, moments, tol=1e-12, max_iter=40)
    w_ref, b_ref = sklearn_l2(X, y, 0.0, standardize=False)
    assert state.stop_reason == "converged" and state.iteration < 25
    np.testing.assert_allclose(w, w_ref, rtol=1e-6)
    assert b == pytest.approx(b_ref, rel=1e-6)


def test_l1_is_refused_as_an_impossible_argument():
    # (the config keys that ask for it are refused by config.py: tests/test_config.py)
    X, y = breast_cancer(slice(0, 3))
    objective, _ = make_objective(X, y, reg_param=0.1, elastic_net=0.5)
    with pytest.raises(ValueError, match="L1") as info:
        get("newton")(
            objective,
            OptimizerState(0, np.zeros(4)),
            options=OptimizerOptions(),
            stop=StopRule(10, 0),
        )
    assert "train." not in str(info.value)


def test_resume_is_bit_identical():
    X, y = breast_cancer(slice(0, 6))
    objective, _ = make_objective(X, y, reg_param=1e-4)
    run = get("newton")
    full = run(
        objective, OptimizerState(0, np.zeros(7)), options=OptimizerOptions(), stop=StopRule(6, 0)
    )
    saved = []
    run(
        objective,
        OptimizerState(0, np.zeros(7)),
        options=OptimizerOptions(),
        stop=StopRule(6, 0),
        callback=lambda st, r: saved.append(st.to_json()) if st.iteration == 3 else None,
    )
    done = run(
        objective,
        OptimizerState.from_json(saved[0]),
        options=OptimizerOptions(),
        stop=StopRule(6, 0),
    )
    assert done.theta.tobytes() == full.theta.tobytes()


def test_newton_refuses_more_features_than_the_hessian_limit_naming_lbfgs():
    from types import SimpleNamespace

    from sparklr.objective import MAX_HESSIAN_FEATURES
    from sparklr.optimizers.newton import NewtonStep, width_refusal

    assert width_refusal(MAX_HESSIAN_FEATURES) is None
    wide = SimpleNamespace(l1=0.0, n_features=MAX_HESSIAN_FEATURES + 1)
    with pytest.raises(ValueError, match=r"4097 features > 4096 .*use lbfgs"):
        NewtonStep(wide)
