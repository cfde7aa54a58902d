"""separation.py: the certificate, the growth monitor and the run's verdict (NumPy only)."""

import numpy as np
import pytest
from sparklr.in_memory import InMemorySource
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerState, StopRule, gradient_descent
from sparklr.optimizers.base import IterationRecord
from sparklr.optimizers.separation import (
    SEPARATION_MESSAGE,
    SeparationMonitor,
    separates,
    separation_detected,
    stop_if_separated,
)

from tests.conftest import make_logistic_data
from tests.optimizers.helpers import breast_cancer, fit, make_objective


def _monitored_gd(X, y, max_iter):
    """GD, with a monitor fed from the callback the way the driver feeds its own."""
    source = InMemorySource((X, y))
    moments = source.moments()
    objective = LogisticObjective(source, FeatureMap.from_moments(moments, True))
    monitor = SeparationMonitor()
    evaluated = [np.append(0.01 * np.ones(X.shape[1]), 0.0)]

    def callback(state, record):
        monitor.observe(record.iteration, record.loss, evaluated[0], record.accuracy)
        evaluated[0] = state.theta.copy()

    state = gradient_descent(
        objective,
        OptimizerState(0, evaluated[0].copy()),
        learning_rate=1.0 / objective.lipschitz(moments),
        stop=StopRule(max_iter, 1e-8),
        callback=callback,
    )
    return monitor, state


def _separable(seed=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 3))
    margin = X @ np.array([1.0, -1.0, 0.5])
    keep = np.abs(margin) > 0.3
    return X[keep], (margin[keep] > 0).astype(float)


def test_separable_data_is_suspected():
    X, y = _separable()
    monitor, state = _monitored_gd(X, y, 200)
    assert state.stop_reason == "max_iter"
    assert monitor.suspected
    assert "separable" in monitor.message()
    norms = monitor.weight_norm
    assert norms > 5  # ‖w̃‖ keeps growing
    # The driver's own monitor saw the same iterates; the certificate outranks the suspicion.
    assert state.separation.status == "proven" and state.separation.flagged
    assert state.separation.message == SEPARATION_MESSAGE
    assert state.separation.weight_norm == monitor.weight_norm


def test_non_separable_data_is_not_suspected():
    X, y, _, _ = make_logistic_data(500, 4, seed=1)
    for max_iter in (3, 10, 50, 2000):  # early (norm still growing) and converged
        monitor, state = _monitored_gd(X, y, max_iter)
        assert not monitor.suspected, max_iter
        assert state.separation.status == "none" and not state.separation.flagged, max_iter
        assert state.separation.message == ""
        assert state.separation.weight_norm == pytest.approx(np.linalg.norm(state.theta[:-1]))


def test_window_and_restart():
    monitor = SeparationMonitor(window=5, min_window=3)
    theta = np.array([1.0, 0.0])
    for k in range(4):
        monitor.observe(k, 1.0 / (k + 1), theta * (k + 1), 1.0)
    assert monitor.suspected
    monitor.observe(2, 0.1, theta * 9, 1.0)  # a restart: history before it no longer counts
    assert not monitor.suspected
    for k in range(3, 6):
        monitor.observe(k, 0.1 / k, theta * (9 + k), 1.0)
    assert monitor.suspected
    monitor.observe(6, 0.01, theta * 12, 1.0)  # ‖w‖ stopped growing
    assert not monitor.suspected


def _growing_monitor(accuracy):
    monitor = SeparationMonitor(window=5, min_window=3)
    for k in range(5):
        monitor.observe(k, 1e-3 / (k + 2), np.array([k + 1.0, 0.0, 0.3]), accuracy)
    return monitor


def _state(theta, accuracy):
    record = IterationRecord(4, 1e-4, 1e-5, 0.0, 0.0, accuracy=accuracy)
    return OptimizerState(4, np.asarray(theta, float), history=[record], stop_reason="max_iter")


def test_verdict_is_suspected_without_a_certificate_and_none_with_a_penalty():
    X, y = breast_cancer(slice(0, 2))
    objective, _ = make_objective(X, y)
    monitor = _growing_monitor(accuracy=0.999)  # J → 0, ‖w̃‖ grows, one sample still wrong
    state = _state([5.0, 0.0, 0.3], accuracy=0.999)
    verdict = monitor.verdict(objective, state)
    assert verdict.status == "suspected" and verdict.flagged
    assert verdict.message == monitor.message() and "separable" in verdict.message
    assert verdict.weight_norm == 5.0
    penalized, _ = make_objective(X, y, reg_param=1e-3)  # the optimum exists again
    assert monitor.verdict(penalized, state).status == "none"
    assert not monitor.verdict(penalized, _state([5.0, 0.0, 0.3], accuracy=1.0)).flagged


def test_certificate_needs_no_penalty_full_accuracy_and_nonzero_weights():
    X, y = _separable()
    objective, _ = make_objective(X, y)
    penalized, _ = make_objective(X, y, reg_param=1e-3)
    theta = objective.feature_map.from_raw(np.array([1.0, -1.0, 0.5]), 0.0)  # separates
    assert separates(objective, theta, 1.0)
    assert not separates(penalized, theta, 1.0)
    assert not separates(objective, theta, 0.99)
    assert not separates(objective, np.array([0.0, 0.0, 0.0, 0.5]), 1.0)  # the intercept alone
    assert not separation_detected(objective, OptimizerState(0, theta))  # nothing evaluated
    assert separation_detected(objective, _state(theta, 1.0))
    assert stop_if_separated(objective, objective.evaluate(theta)) == "separated"
    assert stop_if_separated(objective, objective.evaluate(-theta)) is None
    assert stop_if_separated(penalized, penalized.evaluate(theta)) is None


@pytest.mark.parametrize("name", ["lbfgs", "newton"])
def test_second_order_methods_stop_with_a_proven_verdict(name):
    X, y = _separable()
    objective, moments = make_objective(X, y)
    _, _, state = fit(name, objective, moments, max_iter=1000, tol=1e-10)
    assert state.stop_reason == "separated"
    assert state.separation.status == "proven"
    assert state.separation.weight_norm == pytest.approx(np.linalg.norm(state.theta[:-1]))
