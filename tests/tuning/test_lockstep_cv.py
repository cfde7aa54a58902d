"""CV and the full-data path in lockstep (sparklr.tuning.lockstep, lockstep_cv) against the
sequential reference (cross_validate, fit_path: themselves checked against scikit-learn in
test_cv.py / test_path.py), with lbfgs and newton (whose passes carry the Hessian), its
passes, its failures and its resume at a λ boundary."""

import json
import threading

import numpy as np
import pytest
from sparklr.in_memory import FoldedInMemorySource, InMemorySource
from sparklr.objective import FeatureMap, LogisticObjective, log_odds_intercept
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get
from sparklr.tuning.cv import cross_validate
from sparklr.tuning.folds import dense_row_digest, fold_ids
from sparklr.tuning.lockstep import Lockstep
from sparklr.tuning.lockstep_cv import Progress, cross_validate_path
from sparklr.tuning.path import PathPoint, fit_path, null_theta

from tests.conftest import make_logistic_data

K = 3
LAMBDAS = [0.1, 0.03, 0.01, 0.003, 0.001]
#: Sequential newton's passes over lockstep newton's on this problem: measured 107 / 19 = 5.6.
RATIO_NEWTON = 4


def lbfgs(objective, state):
    return get("lbfgs")(objective, state, options=OptimizerOptions(), stop=StopRule(500, 1e-9))


def newton(objective, state):
    return get("newton")(objective, state, options=OptimizerOptions(), stop=StopRule(100, 1e-9))


@pytest.fixture(scope="module")
def problem():
    X, y, _, _ = make_logistic_data(1200, 4, seed=13, offset=0.5, scale=1.5)
    v = np.random.default_rng(4).uniform(0.5, 2.0, len(y))
    f = fold_ids(2, K, y, v, dense_row_digest(X))
    moments = InMemorySource((X, y, v)).moments()
    feature_map = FeatureMap.from_moments(moments, standardize=True)
    theta0 = null_theta(4, log_odds_intercept(moments))
    return X, y, v, f, feature_map, theta0


def objective_of(problem, **kw):
    X, y, v, f, feature_map, _ = problem
    source = FoldedInMemorySource(X, y, f, K, v)
    return LogisticObjective(source, feature_map, **kw), source


@pytest.mark.parametrize("metric", ["log_loss", "auc"])
def test_lockstep_equals_the_sequential_folds_and_path_in_a_fraction_of_the_passes(problem, metric):
    theta0 = problem[-1]
    objective, source = objective_of(problem, elastic_net=0.3)
    result, points, passes = cross_validate_path(
        objective, source, LAMBDAS, lbfgs, theta0, metric=metric
    )
    assert passes == source.evaluations
    reference, ref_source = objective_of(problem, elastic_net=0.3)
    ref = cross_validate(reference, ref_source, LAMBDAS, lbfgs, theta0, metric=metric)
    ref_points = fit_path(reference, LAMBDAS, lbfgs, theta0)
    np.testing.assert_allclose(result.values, ref.values, rtol=1e-8)
    assert result.chosen == ref.chosen
    for got, want in zip(points, ref_points, strict=True):
        assert got.reg_param == want.reg_param
        np.testing.assert_allclose(got.theta, want.theta, rtol=1e-6, atol=1e-8)
    sequential = ref_source.evaluations
    print(f"{metric}: lockstep {passes} passes, sequential {sequential}")
    assert passes < sequential / 3


def test_newton_in_lockstep_equals_its_sequential_folds_and_path_in_fewer_passes(problem):
    theta0 = problem[-1]
    objective, source = objective_of(problem, class_weight=(0.8, 1.4))
    result, points, passes = cross_validate_path(objective, source, LAMBDAS, newton, theta0)
    assert passes == source.evaluations
    reference, ref_source = objective_of(problem, class_weight=(0.8, 1.4))
    ref = cross_validate(reference, ref_source, LAMBDAS, newton, theta0)
    ref_points = fit_path(reference, LAMBDAS, newton, theta0)
    np.testing.assert_allclose(result.values, ref.values, rtol=1e-8)
    assert result.chosen == ref.chosen
    for got, want in zip(points, ref_points, strict=True):
        assert got.reg_param == want.reg_param
        np.testing.assert_allclose(got.theta, want.theta, rtol=1e-8, atol=1e-10)
    sequential = ref_source.evaluations
    print(f"newton: lockstep {passes} passes, sequential {sequential}")
    assert passes < sequential / RATIO_NEWTON


def test_a_hessian_request_is_answered_only_by_an_evaluation_that_had_one(problem):
    feature_map, theta0 = problem[-2:]
    _, source = objective_of(problem)
    lockstep = Lockstep(source, [1, -1])
    w, b = feature_map.to_raw(theta0)
    seen: dict[int, list] = {0: [], 1: []}

    def job(j, asks):
        def run():
            for hessian in asks:
                sums = lockstep.source_of(j).sums(w, b, hessian=hessian)
                seen[j].append((lockstep.passes, sums.has_hessian, sums))

        return run

    lockstep.run([job(0, (False, True, True, False)), None])
    assert [(p, h) for p, h, _ in seen[0]] == [(1, False), (2, True), (2, True), (2, True)]
    ref = source.sums(w, b, hessian=True, fold=1)
    got = seen[0][1][2]
    np.testing.assert_allclose(got.hess_ww, ref.hess_ww, rtol=1e-12)
    np.testing.assert_allclose(got.hess_wb, ref.hess_wb, rtol=1e-12)
    assert got.hess_bb == pytest.approx(ref.hess_bb, rel=1e-12)
    seen[0].clear()
    w = w + 0.1  # a new point: one pass for both, with the Hessian as one of them asks
    lockstep.run([job(0, (False,)), job(1, (True,))])
    assert [(p, h) for p, h, _ in seen[0] + seen[1]] == [(3, True), (3, True)]
    with pytest.raises(ValueError, match="fisher curvature only"):
        lockstep.source_of(0).sums(w, b, hessian=True, curvature="robust")


def test_a_run_resumed_at_a_lambda_boundary_is_bit_identical(problem):
    theta0 = problem[-1]
    objective, source = objective_of(problem, class_weight=(0.8, 1.4))
    whole, whole_points, _ = cross_validate_path(objective, source, LAMBDAS, lbfgs, theta0)

    saved = []

    def crash_after_two(progress):
        saved.append(json.dumps(progress.to_json()))
        if progress.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cross_validate_path(objective, source, LAMBDAS, lbfgs, theta0, on_lambda=crash_after_two)
    progress = Progress.from_json(json.loads(saved[-1]))
    assert progress.done == 2 and np.isnan(progress.values[2:]).all()
    objective, source = objective_of(problem, class_weight=(0.8, 1.4))
    resumed, points, _ = cross_validate_path(
        objective, source, LAMBDAS, lbfgs, theta0, progress=progress
    )
    np.testing.assert_array_equal(resumed.values, whole.values)
    assert [p.iterations for p in points] == [p.iterations for p in whole_points]
    for got, want in zip(points, whole_points, strict=True):
        np.testing.assert_array_equal(got.theta, want.theta)
        assert (got.loss, got.evaluations) == (want.loss, want.evaluations)


def test_a_failing_fit_is_raised_after_every_thread_is_joined(problem):
    objective, source = objective_of(problem)
    lockstep = Lockstep(source, [0, 1, -1])
    before = threading.active_count()

    def job(j):
        model = LogisticObjective(lockstep.source_of(j), objective.feature_map)

        def run():
            theta = problem[-1].copy()
            for step in range(5):
                model.evaluate(theta)
                if j == 1 and step == 2:
                    raise RuntimeError("fold 1 failed")
            return j

        return run

    with pytest.raises(RuntimeError, match="fold 1 failed"):
        lockstep.run([job(j) for j in range(3)])
    assert threading.active_count() == before
    assert lockstep.passes == 1  # the same point again comes from the latest evaluation
    assert lockstep.run([job(0), None, job(2)]) == [0, None, 2]


def test_progress_states_keep_theta_exactly_as_base64_and_read_older_lists():
    theta = np.array([0.1, -1e-300, 2.5e10, 1 / 3])
    pairs = {"s": [np.array([1.0, 2.0])], "y": [np.array([3.0, 4.0])]}
    state = OptimizerState(7, theta, memory=pairs)
    data = json.loads(json.dumps(Progress(1, [state], np.zeros((2, 1)), []).to_json()))
    assert set(data["states"][0]["theta"]) == {"float64"}  # not a list of numbers
    for saved in (data, {**data, "states": [{**data["states"][0], "theta": theta.tolist()}]}):
        back = Progress.from_json(saved).states[0]
        assert back.theta.tobytes() == theta.tobytes() and back.iteration == 0
        np.testing.assert_array_equal(back.memory["y"][0], pairs["y"][0])


def test_progress_in_binary_form_keeps_every_array_an_ndarray_and_reads_back_exactly():
    theta = np.array([0.1, -1e-300, 2.5e10, 1 / 3])
    pairs = {"s": [np.array([1.0, 2.0])], "rho": [0.5]}
    point = PathPoint(0.1, 0.5, 1e-7, 3, 3, "converged", -theta)
    data = Progress(1, [OptimizerState(7, theta, memory=pairs)], np.zeros((2, 1)), [point])
    binary = data.to_json(binary=True)
    assert isinstance(binary["states"][0]["theta"], np.ndarray)
    assert isinstance(binary["states"][0]["memory"]["s"][0], np.ndarray)
    assert isinstance(binary["points"][0]["theta"], np.ndarray)
    back = Progress.from_json(binary)
    assert back.states[0].theta.tobytes() == theta.tobytes()
    assert back.states[0].memory["s"][0].tobytes() == pairs["s"][0].tobytes()
    assert back.states[0].memory["rho"] == [0.5]
    assert back.points[0].theta.tobytes() == (-theta).tobytes()
