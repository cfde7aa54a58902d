"""driver.py: the one iteration loop, driven by fake steps on a small real objective."""

import dataclasses

import numpy as np
import pytest
from sparklr.errors import DivergenceError
from sparklr.optimizers import OptimizerState, StopRule
from sparklr.optimizers.driver import Method, Move, drive

from tests.conftest import make_logistic_data
from tests.optimizers.helpers import make_objective

HALF = 0.5


class HalfGradient(Method):
    """θ ← θ − ½ ∇J, counting its steps in memory; optionally fails at one iteration."""

    def __init__(self, fail_at=None):
        self.fail_at = fail_at

    def step(self, current, state):
        if state.iteration == self.fail_at:
            return "no_progress"
        steps = state.memory.get("steps", 0) + 1
        return Move(current.theta - HALF * current.grad, HALF, memory={"steps": steps})


class Probing(HalfGradient):
    """Like a line search: one rejected trial, then the accepted one handed to the driver."""

    def __init__(self, objective):
        super().__init__()
        self.objective = objective

    def step(self, current, state):
        move = super().step(current, state)
        self.objective.evaluate(current.theta - 10.0 * current.grad)  # rejected
        return dataclasses.replace(move, evaluation=self.objective.evaluate(move.theta))


def _objective():
    X, y, _, _ = make_logistic_data(200, 2, seed=3)
    return make_objective(X, y)[0]


def _start():
    return OptimizerState(0, np.array([0.3, -0.2, 0.1]))


def _lines(state):
    """The history without its wall seconds."""
    return [{**dataclasses.asdict(r), "seconds": None} for r in state.history]


def test_max_iter_gives_one_record_per_iterate_and_the_steps_taken():
    objective = _objective()
    state = drive(objective, _start(), HalfGradient(), StopRule(5, 0.0))
    assert state.stop_reason == "max_iter" and state.iteration == 5
    assert [r.iteration for r in state.history] == list(range(6))
    assert [r.step for r in state.history] == [HALF] * 5 + [0.0]  # no step from the last
    assert state.memory == {"steps": 5}
    theta = _start().theta
    for _ in range(5):
        theta = theta - HALF * objective.evaluate(theta).grad
    assert state.theta.tobytes() == theta.tobytes()
    assert [r.evaluations for r in state.history] == [1] * 6


def test_converged_at_the_first_gradient_within_tol():
    objective = _objective()
    reference = drive(objective, _start(), HalfGradient(), StopRule(10, 0.0))
    tol = reference.history[3].grad_norm
    assert all(r.grad_norm > tol for r in reference.history[:3])
    state = drive(objective, _start(), HalfGradient(), StopRule(10, tol))
    assert state.stop_reason == "converged" and state.iteration == 3


def test_the_methods_own_stop_rule_and_a_failed_step_end_the_run():
    class StopsAtTwo(HalfGradient):
        asked = 0

        def stop(self, current):
            self.asked += 1
            return "separated" if self.asked == 3 else None

    state = drive(_objective(), _start(), StopsAtTwo(), StopRule(10, 0.0))
    assert (state.stop_reason, state.iteration, len(state.history)) == ("separated", 2, 3)
    method = StopsAtTwo()
    state = drive(_objective(), _start(), method, StopRule(0, 0.0))
    assert state.stop_reason == "max_iter" and method.asked == 0  # the shared rule comes first
    state = drive(_objective(), _start(), HalfGradient(fail_at=3), StopRule(10, 0.0))
    assert (state.stop_reason, state.iteration) == ("no_progress", 3)
    assert state.history[-1].step == 0.0
    assert state.memory == {"steps": 3}  # the failed step keeps nothing
    three = drive(_objective(), _start(), HalfGradient(), StopRule(3, 0.0))
    assert state.theta.tobytes() == three.theta.tobytes()  # θ_3, where the step failed


def test_evaluations_count_each_iterations_passes_and_reuse_the_steps_evaluation():
    objective = _objective()
    state = drive(objective, _start(), Probing(objective), StopRule(3, 0.0))
    # θ_0 evaluated + 2 trials; then θ_k comes from the step: its 2 trials; the last: none.
    assert [r.evaluations for r in state.history] == [3, 2, 2, 0]
    assert sum(r.evaluations for r in state.history) == objective.evaluations
    plain = drive(_objective(), _start(), HalfGradient(), StopRule(3, 0.0))
    assert [r.loss for r in state.history] == [r.loss for r in plain.history]


def test_callback_sees_the_state_to_continue_from_then_the_final_state():
    objective = _objective()
    seen, verdicts = [], []

    def callback(st, record):
        assert st.history[-1] is record
        memory = dict(st.memory)
        seen.append((st.iteration, record.iteration, st.stop_reason, memory, st.theta.copy()))
        verdicts.append(st.separation)

    state = drive(objective, _start(), HalfGradient(), StopRule(3, 0.0), callback)
    assert [s[:4] for s in seen] == [
        (1, 0, None, {"steps": 1}),
        (2, 1, None, {"steps": 2}),
        (3, 2, None, {"steps": 3}),
        (3, 3, "max_iter", {"steps": 3}),
    ]
    # θ_{k+1} of the k-th call is the θ the next record was evaluated at
    for k in range(3):
        assert objective.evaluate(seen[k][4]).loss == state.history[k + 1].loss
    assert seen[2][4].tobytes() == seen[3][4].tobytes() == state.theta.tobytes()
    assert [v is None for v in verdicts] == [True, True, True, False]  # the verdict comes last
    assert state.separation.status == "none"


@pytest.mark.parametrize("probing", [False, True])
def test_resume_from_a_mid_run_state_gives_the_same_history(probing):
    def method(objective):
        return Probing(objective) if probing else HalfGradient()

    objective = _objective()
    saved = []
    full = drive(
        objective,
        _start(),
        method(objective),
        StopRule(8, 0.0),
        lambda st, r: saved.append(st.to_json()) if st.iteration == 4 else None,
    )
    checkpoint = OptimizerState.from_json(saved[0])
    objective = _objective()
    done = drive(objective, checkpoint, method(objective), StopRule(8, 0.0))
    assert done.theta.tobytes() == full.theta.tobytes()
    assert done.memory == full.memory and done.stop_reason == full.stop_reason
    expected = _lines(full)
    if probing:  # the resumed run evaluates θ_4 itself: one pass the full run had reused
        expected[4]["evaluations"] += 1
    assert _lines(done) == expected
    assert done.history[4].seconds >= done.history[3].seconds  # the clock continues


def test_non_finite_j_and_the_methods_check_are_divergence():
    class Blows(HalfGradient):
        hint = "a fake hint"

        def step(self, current, state):
            return Move(np.full_like(current.theta, np.nan), 1.0)

    with pytest.raises(DivergenceError, match="iteration 1: J = nan is not finite; a fake hint"):
        drive(_objective(), _start(), Blows(), StopRule(10, 0.0))

    class RefusesTwo(HalfGradient):
        def check(self, current, state):
            if state.iteration == 2:
                assert len(state.history) == 2  # the records of θ_0, θ_1
                raise DivergenceError("fake divergence")

    calls = []
    with pytest.raises(DivergenceError, match="fake divergence"):  # before the stop rule
        drive(_objective(), _start(), RefusesTwo(), StopRule(2, 0.0), lambda *a: calls.append(a))
    assert len(calls) == 2
