import itertools

import numpy as np
import pytest
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get
from sparklr.optimizers.lbfgs import initial_scaling, shift_pairs, two_loop

from tests.conftest import make_logistic_data
from tests.optimizers.helpers import breast_cancer, make_objective


def test_two_loop_equals_the_bfgs_inverse_hessian_on_a_quadratic():
    # With pairs from a quadratic (y = A s), n pairs and the BFGS update from H0 = γI:
    # the product equals the explicit BFGS matrix; after n independent pairs H = A⁻¹.
    rng = np.random.default_rng(0)
    n = 5
    M = rng.standard_normal((n, n))
    A = M @ M.T + n * np.eye(n)
    S = [rng.standard_normal(n) for _ in range(n)]
    Y = [A @ s for s in S]
    g = rng.standard_normal(n)
    H = np.eye(n) * (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1])
    for s, y in zip(S, Y, strict=True):
        rho = 1 / (y @ s)
        V = np.eye(n) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    np.testing.assert_allclose(two_loop(g, S, Y), H @ g, rtol=1e-10)


@pytest.mark.parametrize("elastic_net", [0.0, 0.7])
def test_resume_from_json_is_bit_identical(elastic_net):
    X, y = breast_cancer(slice(0, 8))
    objective, _ = make_objective(X, y, reg_param=1e-3, elastic_net=elastic_net)
    lbfgs = get("lbfgs")
    options = OptimizerOptions(lbfgs_memory=5)
    full = lbfgs(objective, OptimizerState(0, np.zeros(9)), options=options, stop=StopRule(30, 0))
    checkpoints = []
    lbfgs(
        objective,
        OptimizerState(0, np.zeros(9)),
        options=options,
        stop=StopRule(30, 0),
        callback=lambda st, rec: checkpoints.append(st.to_json()) if st.iteration == 12 else None,
    )
    resumed = OptimizerState.from_json(checkpoints[0])
    assert len(resumed.memory["s"]) == 5  # the memory really is in the checkpoint
    done = lbfgs(objective, resumed, options=options, stop=StopRule(30, 0))
    assert done.theta.tobytes() == full.theta.tobytes()
    assert [r.loss for r in done.history] == [r.loss for r in full.history]


def test_memory_is_bounded_and_iterations_beat_gd():
    X, y, _, _ = make_logistic_data(2000, 6, seed=3, offset=1.0, scale=3.0)
    objective, moments = make_objective(X, y, standardize=False)
    state = get("lbfgs")(
        objective,
        OptimizerState(0, np.zeros(7)),
        options=OptimizerOptions(lbfgs_memory=3),
        stop=StopRule(200, 1e-9),
    )
    assert state.stop_reason == "converged"
    assert len(state.memory["s"]) == 3
    passes = sum(r.evaluations for r in state.history)
    assert passes == objective.evaluations  # the history accounts for every pass
    gd = get("gd")(
        objective,
        OptimizerState(0, np.zeros(7)),
        options=OptimizerOptions(learning_rate=1 / objective.lipschitz(moments)),
        stop=StopRule(passes, 1e-9),
    )
    assert gd.stop_reason == "max_iter"  # GD with the same number of passes is not there


def test_l1_strong_enough_zeroes_every_coefficient():
    # λα ≥ ‖∇_w J(0, b*)‖_∞ ⇒ w̃ = 0 exactly is optimal (and OWL-QN must land on it).
    X, y = breast_cancer(slice(0, 5))
    objective, _ = make_objective(X, y)
    b_star = np.log(y.sum() / (len(y) - y.sum()))
    g0 = objective.evaluate(np.append(np.zeros(5), b_star)).grad[:-1]
    objective, _ = make_objective(X, y, reg_param=1.01 * np.abs(g0).max(), elastic_net=1.0)
    state = get("lbfgs")(
        objective,
        OptimizerState(0, np.full(6, 0.1)),
        options=OptimizerOptions(),
        stop=StopRule(100, 1e-10),
    )
    assert state.stop_reason == "converged"
    assert np.all(state.theta[:-1] == 0.0)
    assert state.theta[-1] == pytest.approx(b_star, rel=1e-8)


def test_shifted_pairs_are_the_gradient_differences_at_the_new_lambda():
    X, y = breast_cancer(slice(0, 6))
    objective, _ = make_objective(X, y, standardize=True)
    rng = np.random.default_rng(1)
    thetas = [rng.normal(scale=0.3, size=7) for _ in range(3)]

    def pairs_at(reg_param):
        objective.reg_param = reg_param
        grads = [objective.evaluate(t).grad for t in thetas]
        return [b - a for a, b in itertools.pairwise(grads)]

    S = [b - a for a, b in itertools.pairwise(thetas)]
    objective.elastic_net = 0.4
    old, new = pairs_at(0.05), pairs_at(0.02)
    shifted = shift_pairs({"s": S, "y": old}, objective.l2_of(0.02) - objective.l2_of(0.05))
    for got, want in zip(shifted["y"], new, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert shift_pairs({}, -1.0) == {}
    # a pair whose curvature the shift removes (sᵀy ≤ 0) is dropped
    s = np.array([1.0, 0.0, 0.0])
    assert shift_pairs({"s": [s], "y": [0.5 * s]}, -0.5) == {}


def test_initial_scaling_adds_the_l2_curvature_on_the_penalized_coordinates():
    g = np.array([3.0, 4.0, 0.5])
    assert initial_scaling(g, [], [], 0.0) is None  # no L2 term: the scalar γ I
    h0 = initial_scaling(g, [], [], 8.0)  # before any pair γ = min(1, 1/‖g‖) = 1/√25.25
    gamma = 1 / np.linalg.norm(g)
    np.testing.assert_allclose(h0, [1 / (1 / gamma + 8.0)] * 2 + [gamma], rtol=1e-15)
    # with a pair: γ from its data part y − l2 [s_w̃; 0] (here the data Hessian is 2 I)
    s = np.array([1.0, -2.0, 0.5])
    h0 = initial_scaling(g, [s], [2.0 * s + 8.0 * np.append(s[:-1], 0.0)], 8.0)
    np.testing.assert_allclose(h0, [1 / (2.0 + 8.0)] * 2 + [0.5], rtol=1e-12)
    # a pair without data curvature falls back to the scalar γ I
    assert initial_scaling(g, [s], [8.0 * np.append(s[:-1], 0.0)], 8.0) is None


def test_the_diagonal_start_fits_a_regularization_path_in_half_the_passes(monkeypatch):
    from sparklr.objective import log_odds_intercept
    from sparklr.optimizers import lbfgs as lbfgs_module
    from sparklr.tuning.path import fit_path, geometric_path, lambda_max, null_theta

    X, y, _, _ = make_logistic_data(4000, 12, seed=3, offset=0.3, scale=1.0)
    objective, moments = make_objective(X, y, standardize=True)
    b0 = log_odds_intercept(moments)
    lambdas = geometric_path(lambda_max(objective, b0), 12, 1e-4)

    def fit(objective, state):
        return get("lbfgs")(objective, state, options=OptimizerOptions(), stop=StopRule(500, 1e-8))

    def path():
        return fit_path(objective, lambdas, fit, null_theta(12, b0))

    diagonal = path()
    monkeypatch.setattr(lbfgs_module, "initial_scaling", lambda *args: None)
    scalar = path()
    for got, want in zip(diagonal, scalar, strict=True):
        np.testing.assert_allclose(got.theta, want.theta, atol=1e-7)
    passes = [sum(p.evaluations for p in points) for points in (diagonal, scalar)]
    assert passes[0] < 0.6 * passes[1], passes  # measured 57 against 127
    assert diagonal[0].evaluations <= 4 < scalar[0].evaluations  # at λ_max: 3 against 54
