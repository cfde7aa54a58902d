"""The CV benchmark's ratios, λ agreement and table (sparklr.bench.cv_report), on made-up
figures."""

import dataclasses

import pytest
from sparklr.bench.cv_report import (
    CvBenchResult,
    MllibCv,
    SingleFit,
    SparklrCv,
    format_table,
    grid_index,
    lambda_agreement,
    ratios,
    to_json,
)

GRID = [10.0, 1.0, 0.1, 0.01]


def _result(chosen_ml: float = 0.1, mllib_wall: float = 620.0, **changes) -> CvBenchResult:
    mllib = MllibCv(
        rows=1_000_000,
        reg_params=GRID,
        wall=mllib_wall,
        session_seconds=4.0,
        load_seconds=20.0,
        fit_seconds=590.0,
        stop_seconds=1.0,
        avg_metrics=[0.69, 0.6, 0.5, 0.55],
        chosen_reg_param=chosen_ml,
        fits=21,
        iterations=400,
        coefficient_rel_diff=3e-6,
        intercept_diff=1e-7,
    )
    base = CvBenchResult(
        rows=1_000_000,
        features=20,
        files=4,
        folds=5,
        path=4,
        metric="log_loss",
        tol=1e-6,
        max_iter=100,
        seed=0,
        master="local[2]",
        data_path="/data/x",
        loadavg_start=[1.0],
        loadavg_end=[2.0],
        single=SingleFit(0.01, 20.0, 5.0, 8.0, 12, 14, "converged"),
        cv=SparklrCv(50.0, 5.0, 60, 300, 38.0, 1, GRID, 0.1, 0.5),
        mllib=mllib,
    )
    return dataclasses.replace(base, **changes)


def test_grid_index_finds_values_through_json_rounding():
    assert grid_index(GRID, 0.1 * (1 + 1e-12)) == 2
    with pytest.raises(ValueError, match="not on the grid"):
        grid_index(GRID, 0.5)


def test_lambda_agreement_counts_grid_steps_with_their_sign():
    assert lambda_agreement(GRID, 0.1, 0.1) == (0, "same")
    assert lambda_agreement(GRID, 0.1, 0.01) == (1, "within one grid step")
    assert lambda_agreement(GRID, 0.1, 1.0) == (-1, "within one grid step")
    assert lambda_agreement(GRID, 0.01, 10.0) == (-3, "differ by 3 steps")


def test_ratios_divide_the_process_walls_against_the_issue_targets():
    r = ratios(_result())
    assert r["cv_over_single_fit"].value == pytest.approx(50.0 / 20.0)
    assert r["cv_over_single_fit"].verdict == "met"  # <= 3
    assert r["mllib_over_cv"].value == pytest.approx(620.0 / 50.0)
    assert r["mllib_over_cv"].verdict == "met"  # >= 10
    slow = ratios(_result(mllib_wall=100.0, cv=dataclasses.replace(_result().cv, wall=70.0)))
    assert slow["cv_over_single_fit"].verdict == "MISSED"  # 3.5 > 3
    assert slow["mllib_over_cv"].verdict == "MISSED"  # 120 / 70 < 10


def test_skipped_mllib_gives_na_with_the_reason():
    r = ratios(_result(mllib=None, skipped={"mllib": "--skip-mllib"}))
    assert r["mllib_over_cv"].value is None and r["mllib_over_cv"].verdict == "--skip-mllib"
    text = format_table(_result(mllib=None, skipped={"mllib": "--skip-mllib"}))
    assert "n/a (--skip-mllib)" in text and "chosen λ, sparklr vs MLlib" not in text


def test_table_has_every_figure_ratio_and_the_lambda_agreement():
    text = format_table(_result(chosen_ml=0.01))
    assert "1,000,000 rows x 20 features, dense doubles (4 Parquet files)" in text
    assert "(a) single fit, lbfgs at the smallest λ = 0.01: wall" in text
    assert "12 / 14 (converged)" in text and "38.0 / 300" in text
    assert "(c) MLlib CrossValidator, 5 folds x 4 λ: wall" in text and "620.0 s" in text
    assert "0.01 (0.550000)" in text  # MLlib's λ̂ with its avgMetrics
    assert "4.0 / 20.0 / 590.0 / 1.0" in text  # the seconds inside MLlib's process
    line = next(ln for ln in text.splitlines() if ln.startswith("mllib_over_cv"))
    assert line.split()[1:4] == ["12.40", ">=", "10"] and line.endswith("met")
    line = next(ln for ln in text.splitlines() if ln.startswith("chosen λ"))
    assert "+1" in line and line.endswith("within one grid step")


def test_sparse_runs_say_so_in_the_table_and_the_json():
    r = _result(data="sparse", sparse_shape={"nnz_per_row": 30.0, "features": 20})
    assert "20 features, sparse binary vectors, 30 non-zeros per row" in format_table(r)
    js = to_json(r)
    assert js["data"] == "sparse" and js["sparse_shape"]["nnz_per_row"] == 30.0
    assert to_json(_result())["data"] == "dense"


def test_json_has_the_figures_the_ratios_and_the_agreement():
    js = to_json(_result(chosen_ml=1.0))
    assert js["cv"]["cv_passes"] == 300 and js["mllib"]["wall"] == pytest.approx(620.0)
    assert js["targets"] == {"cv_over_single_fit": "<= 3", "mllib_over_cv": ">= 10"}
    assert js["chosen_lambda"] == {"grid_steps": -1, "verdict": "within one grid step"}
