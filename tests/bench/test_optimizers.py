"""The time-to-optimum benchmark's logic without Spark: reaching J*(1 + 1e-8), counting passes,
and the table's ratios to MLlib."""

from __future__ import annotations

import numpy as np
import pytest
from sparklr.bench.baselines import numpy_objective
from sparklr.bench.optimizers import (
    TARGET,
    OptimizerBenchmark,
    Row,
    format_table,
    goal,
    time_to_optimum,
)
from sparklr.objective import FeatureMap
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get

from tests.conftest import make_logistic_data


@pytest.fixture(scope="module")
def objective_and_optimum():
    X, y, _, _ = make_logistic_data(500, 3, seed=2)
    objective = numpy_objective(X, y, FeatureMap.identity(3))
    start = OptimizerState(0, np.zeros(objective.n_params))
    optimum = get("newton")(objective, start, options=OptimizerOptions(), stop=StopRule(50, 1e-12))
    return objective, optimum.history[-1].loss


def test_goal_is_relative_to_the_optimum():
    assert goal(2.0) == pytest.approx(2.0 + 2.0 * TARGET)


def test_newton_reaches_the_goal_and_counts_its_passes(objective_and_optimum):
    objective, j_star = objective_and_optimum
    row = time_to_optimum(objective, "newton", "newton", OptimizerOptions(), j_star, 50)
    assert row.name == "newton" and row.reached
    assert row.loss <= goal(j_star)
    assert 1 <= row.iterations <= 20
    assert row.passes >= row.iterations and row.seconds > 0


def test_a_budget_too_small_does_not_reach_it(objective_and_optimum):
    objective, j_star = objective_and_optimum
    options = OptimizerOptions(learning_rate=1e-3)
    row = time_to_optimum(objective, "slow gd", "gd", options, j_star, 3)
    assert not row.reached
    assert row.iterations == 3 and row.loss > goal(j_star)


def report(mllib_reached: bool) -> OptimizerBenchmark:
    rows = [
        Row("gd", True, 200, 201, 4.0, 0.5),
        Row("newton", False, 5, 6, 1.0, 0.6),
        Row("mllib", mllib_reached, 12, -1, 2.0, 0.5),
    ]
    return OptimizerBenchmark(1000, 4, 2, 0.0, "J <= J* (1 + 1e-08)", 0.5, 0.01, 1.0, 2.0, rows)


def test_table_gives_ratios_to_mllib_only_for_rows_that_both_reached():
    lines = format_table(report(mllib_reached=True)).splitlines()
    assert lines[0].startswith("time to J <= J*(1+1e-08) on 1,000 x 4 (local[2], reg_param 0)")
    assert lines[2].split() == ["gd", "yes", "200", "201", "4.00", "2.00x"]
    assert lines[3].split() == ["newton", "NO", "5", "6", "1.00", "n/a"]
    assert lines[4].split() == ["mllib", "yes", "12", "-", "2.00", "1.00x"]
    unreached = format_table(report(mllib_reached=False)).splitlines()
    assert unreached[2].split()[-1] == "n/a"
