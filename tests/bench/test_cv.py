"""The CV benchmark's pieces (sparklr.bench.cv, sparklr.bench.cv_mllib): its command line,
what it reads from the job's output files, and its MLlib CrossValidator (in this process and
as the child process the benchmark runs) against sparklr's fit at the same λ."""

import argparse
import dataclasses
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from sparklr.bench.cv import (
    QUICK,
    SPARSE,
    job_sets,
    measure_mllib,
    parse_args,
    path_point,
    read_cv_outputs,
    read_single_fit,
    sparse_shape,
    tune_sets,
)
from sparklr.bench.cv_mllib import CvSettings, load_frame, mllib_cross_validate
from sparklr.bench.job import TrainRun, write_data

from tests.optimizers.helpers import fit, make_objective

GRID = [0.3, 0.03, 0.003]
SETTINGS = CvSettings(folds=2, metric="log_loss", seed=1, tol=1e-12, max_iter=500)


@pytest.fixture(scope="module")
def cv_data(tmp_path_factory):
    """600 × 3 seeded logistic doubles in one Parquet file, and the same rows as (X, y)."""
    data = tmp_path_factory.mktemp("cv") / "d.parquet"
    write_data(data, rows=600, features=3, files=1)
    table = pq.read_table(data)
    X = np.column_stack([table.column(f"x{j}").to_numpy() for j in range(3)])
    return data, X, table.column("label").to_numpy().astype(np.float64)


def _sparklr_fit(X, y, reg_param: float) -> tuple[np.ndarray, float]:
    objective, moments = make_objective(X, y, reg_param=reg_param)
    w, b, _ = fit("lbfgs", objective, moments, max_iter=500, tol=1e-11)
    return w, b


def test_defaults_are_the_issue_measurement_and_quick_changes_sizes_only():
    args = parse_args([])
    assert (args.rows, args.features, args.path, args.folds) == (1_000_000, 20, 20, 5)
    sets = job_sets(args, "/d") + tune_sets(args)
    assert {"train.optimizer=lbfgs", "tune.path=20", "tune.folds=5", "train.tol=1e-06"} <= set(sets)
    assert "spark.conf.spark.driver.memory=4g" in sets
    assert not any(s.startswith("data.features_col") for s in sets)
    quick = parse_args(["--quick", "--metric", "auc"])
    assert all(getattr(quick, k) == v for k, v in QUICK.items())
    assert quick.metric == "auc" and 'tune.metric="auc"' in tune_sets(quick)


def test_sparse_takes_the_sparse_benchmarks_data_at_its_own_size():
    args = parse_args(["--sparse"])
    assert (args.rows, args.features, args.files) == tuple(SPARSE.values())
    assert "data.features_col=features" in job_sets(args, "/d")
    shape = sparse_shape(parse_args(["--sparse", "--rows", "5000", "--features", "64"]))
    assert (shape.rows, shape.features, shape.nnz_per_row, shape.zipf) == (5000, 64, 30.0, 1.1)
    quick = parse_args(["--sparse", "--quick"])
    assert quick.rows == QUICK["rows"] and quick.features == 512


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


def test_mllib_cross_validator_picks_its_argmin_and_fits_sparklrs_objective(spark, cv_data):
    """The CrossValidator as configured here, on 600 × 3: the chosen λ is its best model's and
    the argmin of avgMetrics; its best model (all rows) equals sparklr's lbfgs fit at that λ
    (same λ convention: regParam, standardization, unpenalized intercept) to 1e-5."""
    data, X, y = cv_data
    figures, best = mllib_cross_validate(spark, str(data), GRID, SETTINGS)
    assert figures["rows"] == 600 and figures["fits"] == 2 * 3 + 1
    assert figures["chosen_reg_param"] == best.getRegParam()
    assert figures["chosen_reg_param"] == GRID[int(np.argmin(figures["avg_metrics"]))]
    assert figures["iterations"] > figures["fits"]
    w, b = _sparklr_fit(X, y, figures["chosen_reg_param"])
    np.testing.assert_allclose(best.coefficients.toArray(), w, rtol=1e-5)
    assert best.intercept == pytest.approx(b, rel=1e-5, abs=1e-7)


def test_a_vector_column_is_taken_as_it_is(spark, cv_data, tmp_path):
    """The same rows as a ``features`` vector column (no VectorAssembler): the same frame."""
    from pyspark.ml.feature import VectorAssembler

    data, X, _ = cv_data
    raw = spark.read.parquet(str(data))
    vectors = VectorAssembler(inputCols=["x0", "x1", "x2"], outputCol="vec").transform(raw)
    vectors.select("label", "vec").write.parquet(str(tmp_path / "v.parquet"))
    frame, rows = load_frame(spark, str(tmp_path / "v.parquet"), features_col="vec")
    assert rows == 600 and frame.columns == ["label", "features"]
    got = np.array([r.features.toArray() for r in frame.collect()])  # one file: its order
    np.testing.assert_array_equal(got, X)
    frame.unpersist()


def test_mllib_leg_runs_in_its_own_process_and_is_checked_against_the_path(cv_data, tmp_path):
    """The one subprocess run: the child's figures and best model come back through its JSON;
    its process wall contains the seconds it measured inside; its best model matches a
    path.json holding sparklr's fits at every λ."""
    data, X, y = cv_data
    points = []
    for lam in GRID:
        w, b = _sparklr_fit(X, y, lam)
        points.append({"reg_param": lam, "coefficients": w.tolist(), "intercept": b})
    (tmp_path / "path.json").write_text(json.dumps({"points": points}))
    session = dict(sparse=False, master="local[1]", driver_memory="1g")
    args = argparse.Namespace(**session, **dataclasses.asdict(SETTINGS))
    got = measure_mllib(args, data, GRID, tmp_path, tmp_path / "mllib.json")
    assert got.fits == 2 * 3 + 1 and got.chosen_reg_param in GRID
    inside = got.session_seconds + got.load_seconds + got.fit_seconds + got.stop_seconds
    assert got.session_seconds > 0 and got.stop_seconds > 0 and got.wall > inside
    assert got.coefficient_rel_diff < 1e-5 and got.intercept_diff < 1e-5
