"""SeparationMonitor against GD on separable and non-separable data (NumPy only)."""

import numpy as np
from sparklr.in_memory import InMemorySource
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerState, StopRule, gradient_descent
from sparklr.optimizers.diagnostics import SeparationMonitor

from tests.conftest import make_logistic_data


def _monitored_gd(X, y, max_iter):
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


def test_separable_data_is_suspected():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 3))
    margin = X @ np.array([1.0, -1.0, 0.5])
    keep = np.abs(margin) > 0.3
    X, y = X[keep], (margin[keep] > 0).astype(float)
    monitor, state = _monitored_gd(X, y, 200)
    assert state.stop_reason == "max_iter"
    assert monitor.suspected
    assert "separable" in monitor.message()
    norms = monitor.weight_norm
    assert norms > 5  # ‖w̃‖ keeps growing


def test_non_separable_data_is_not_suspected():
    X, y, _, _ = make_logistic_data(500, 4, seed=1)
    for max_iter in (3, 10, 50, 2000):  # early (norm still growing) and converged
        monitor, _ = _monitored_gd(X, y, max_iter)
        assert not monitor.suspected, max_iter


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
