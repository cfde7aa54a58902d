"""The CV benchmark's pieces (sparklr.bench.cv): its command line, what it reads from the
job's output files, and its MLlib CrossValidator against sparklr's fit at the same λ."""

import argparse
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from sparklr.bench.cv import (
    QUICK,
    job_sets,
    mllib_cross_validate,
    parse_args,
    path_point,
    read_cv_outputs,
    read_single_fit,
    tune_sets,
)
from sparklr.bench.job import TrainRun, write_data

from tests.optimizers.helpers import fit, make_objective


def test_defaults_are_the_issue_measurement_and_quick_changes_sizes_only():
    args = parse_args([])
    assert (args.rows, args.features, args.path, args.folds) == (1_000_000, 20, 20, 5)
    sets = job_sets(args, "/d") + tune_sets(args)
    assert {"train.optimizer=lbfgs", "tune.path=20", "tune.folds=5", "train.tol=1e-06"} <= set(sets)
    quick = parse_args(["--quick", "--metric", "auc"])
    assert all(getattr(quick, k) == v for k, v in QUICK.items())
    assert quick.metric == "auc" and 'tune.metric="auc"' in tune_sets(quick)


def test_figures_come_from_the_jobs_output_files(tmp_path):
    points = [
        {"reg_param": lam, "evaluations": n, "coefficients": [lam, 2.0], "intercept": -lam}
        for lam, n in [(1.0, 3), (0.1, 7)]
    ]
    (tmp_path / "path.json").write_text(json.dumps({"points": points}))
    cv = {"reg_param": 0.1, "mean": 0.5, "passes": 40, "seconds": 9.5, "points": []}
    (tmp_path / "cv.json").write_text(json.dumps(cv))
    history = [{"evaluations": 1}, {"evaluations": 2}, {"evaluations": 1}]
    model = {"iterations": 2, "stop_reason": "converged"}
    run = TrainRun(wall=30.0, load_seconds=4.0, train_seconds=1.0, model=model, history=history)
    got = read_cv_outputs(run, tmp_path)
    assert (got.path_passes, got.cv_passes, got.cv_seconds) == (10, 40, 9.5)
    assert got.reg_params == [1.0, 0.1] and got.chosen_reg_param == 0.1
    assert (got.wall, got.refit_iterations) == (30.0, 2)
    nested = {"reg_param": 0.1, "mean": 0.5, "cost": {"passes": 8, "seconds": 2.0}}
    (tmp_path / "cv.json").write_text(json.dumps(nested))
    assert read_cv_outputs(run, tmp_path).cv_passes == 8
    single = read_single_fit(run, 0.1)
    assert (single.passes, single.iterations, single.stop_reason) == (4, 2, "converged")
    w, b = path_point(tmp_path, 0.1)
    assert w.tolist() == [0.1, 2.0] and b == -0.1


def test_mllib_cross_validator_picks_its_argmin_and_fits_sparklrs_objective(spark, tmp_path):
    """The CrossValidator as configured here, on 600 × 3: the chosen λ is its best model's and
    the argmin of avgMetrics; its best model (all rows) equals sparklr's lbfgs fit at that λ
    (same λ convention: regParam, standardization, unpenalized intercept) to 1e-5."""
    data = tmp_path / "d.parquet"
    write_data(data, rows=600, features=3, files=1)
    grid = [0.3, 0.03, 0.003]
    args = argparse.Namespace(tol=1e-12, max_iter=500, folds=2, seed=1, metric="log_loss")
    figures, best = mllib_cross_validate(spark, str(data), grid, args)
    assert figures["rows"] == 600 and figures["fits"] == 2 * 3 + 1
    assert figures["chosen_reg_param"] == best.getRegParam()
    assert figures["chosen_reg_param"] == grid[int(np.argmin(figures["avg_metrics"]))]
    assert figures["iterations"] > figures["fits"]
    table = pq.read_table(data)
    X = np.column_stack([table.column(f"x{j}").to_numpy() for j in range(3)])
    y = table.column("label").to_numpy().astype(np.float64)
    objective, moments = make_objective(X, y, reg_param=figures["chosen_reg_param"])
    w, b, _ = fit("lbfgs", objective, moments, max_iter=500, tol=1e-11)
    np.testing.assert_allclose(best.coefficients.toArray(), w, rtol=1e-5)
    assert best.intercept == pytest.approx(b, rel=1e-5, abs=1e-7)
