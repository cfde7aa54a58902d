"""Stopwatches: interleaved jobs take turns and drop the warm-up rounds; the GD walk steps."""

from __future__ import annotations

import numpy as np
import pytest
from sparklr.bench.timing import GradientWalk, initial_theta, interleaved, median, timed


def test_interleaved_takes_jobs_in_turn_and_times_after_warmup():
    calls: list[str] = []
    jobs = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    laps = interleaved(jobs, repeats=3, warmup=2)
    assert calls == ["a", "b"] * 5
    assert [len(laps["a"]), len(laps["b"])] == [3, 3]
    assert all(lap >= 0 for lap in laps["a"] + laps["b"])


def test_timed_runs_warmup_untimed():
    calls: list[int] = []
    assert len(timed(lambda: calls.append(1), repeats=4, warmup=1)) == 4
    assert len(calls) == 5


def test_median_of_nothing_is_none():
    assert median([]) is None
    assert median([3.0, 1.0, 2.0]) == 2.0


class Quadratic:
    """J(θ) = ½‖θ‖², ∇J = θ."""

    class Evaluation:
        def __init__(self, theta):
            self.loss, self.grad = 0.5 * float(theta @ theta), theta

    def evaluate(self, theta):
        return self.Evaluation(theta)


def test_gradient_walk_steps_against_the_gradient():
    theta0 = initial_theta(4)
    assert theta0[-1] == 0.0 and np.any(theta0[:-1] != 0)
    walk = GradientWalk(Quadratic(), theta0, learning_rate=0.25)
    walk.step()
    walk.step()
    np.testing.assert_allclose(walk.theta, 0.75**2 * theta0)
    assert walk.loss == pytest.approx(0.5 * 0.75**2 * float(theta0 @ theta0))
    np.testing.assert_array_equal(theta0, initial_theta(4))  # the start is not modified
