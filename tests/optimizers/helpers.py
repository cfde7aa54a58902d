"""Shared fixtures of the optimizer tests: real data, independent reference solvers."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sparklr.in_memory import InMemorySource
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get


def breast_cancer(features: slice | None = None):
    """scikit-learn's bundled breast-cancer data (569 × 30), optionally a slice of columns."""
    data = load_breast_cancer()
    X = data.data if features is None else data.data[:, features]
    return np.ascontiguousarray(X), data.target.astype(np.float64)


def make_objective(
    X, y, *, standardize=True, reg_param=0.0, elastic_net=0.0, weights=None, class_weight=None
):
    block = (X, y) if weights is None else (X, y, weights)
    source = InMemorySource(block)
    moments = source.moments()
    objective = LogisticObjective(
        source,
        FeatureMap.from_moments(moments, standardize),
        reg_param=reg_param,
        elastic_net=elastic_net,
        class_weight=class_weight,
    )
    return objective, moments


def fit(name, objective, moments, *, max_iter=100, tol=1e-10, theta0=None, **options):
    options.setdefault("learning_rate", 1.0 / objective.lipschitz(moments))
    theta0 = np.zeros(objective.n_params) if theta0 is None else theta0
    state = get(name)(
        objective,
        OptimizerState(0, theta0.copy()),
        options=OptimizerOptions(**options),
        stop=StopRule(max_iter, tol),
    )
    w, b = objective.feature_map.to_raw(state.theta)
    return w, b, state


def sklearn_l2(X, y, reg_param, *, standardize=True, sample_weight=None, class_weight=None):
    """scikit-learn's exact Newton solver on J = (1/W) Σ v L + (λ/2)‖w̃‖²: C = 1 / (λ W).

    Returns (w, b) on the original feature scale."""
    sd = X.std(axis=0, ddof=1) if standardize else np.ones(X.shape[1])
    mu = X.mean(axis=0) if standardize else np.zeros(X.shape[1])
    if sample_weight is not None and standardize:
        v = sample_weight
        W = v.sum()
        mu = v @ X / W
        sd = np.sqrt((v @ (X - mu) ** 2) / (W - (v @ v) / W))
    Z = (X - mu) / sd
    W = len(y) if sample_weight is None else sample_weight.sum()
    C = np.inf if reg_param == 0 else 1.0 / (reg_param * W)
    clf = LogisticRegression(
        C=C, solver="newton-cholesky", tol=1e-15, max_iter=1000, class_weight=class_weight
    )
    clf.fit(Z, y, sample_weight=sample_weight)
    w = clf.coef_.ravel() / sd
    return w, float(clf.intercept_[0] - w @ mu)


def split_variable_reference(objective, n_params):
    """Independent elastic-net solver: w̃ = p − q with p, q ≥ 0 makes the L1 term linear,
    λρ Σ (p + q), and the problem smooth and bound-constrained: scipy's L-BFGS-B solves it."""
    n = n_params - 1
    l1 = objective.l1
    saved = objective.reg_param, objective.elastic_net
    objective.reg_param, objective.elastic_net = objective.l2, 0.0  # smooth part only

    def fun(u):
        p, q, b = u[:n], u[n : 2 * n], u[-1]
        e = objective.evaluate(np.append(p - q, b))
        g = e.grad
        grad = np.concatenate([g[:n] + l1, -g[:n] + l1, g[n:]])
        return e.loss + l1 * (p.sum() + q.sum()), grad

    bounds = [(0, None)] * (2 * n) + [(None, None)]
    result = minimize(
        fun,
        np.zeros(2 * n + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 20000, "maxcor": 50, "ftol": 0, "gtol": 1e-13},
    )
    objective.reg_param, objective.elastic_net = saved
    u = result.x
    return np.append(u[:n] - u[n : 2 * n], u[-1])
