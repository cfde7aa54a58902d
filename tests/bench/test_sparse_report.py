"""The sparse benchmark's ratios and table (sparklr.bench.sparse_report), on made-up figures."""

import dataclasses

import pytest
from sparklr.bench.sparse_data import SparseShape
from sparklr.bench.sparse_report import (
    TARGETS,
    JobIterations,
    MllibIterations,
    Optimum,
    SparseBenchResult,
    format_table,
    ratios,
    to_json,
)


def _result(**changes) -> SparseBenchResult:
    its = [
        JobIterations(std, 5, 25, 10.0, 12.0 + std, 0.1 + 0.05 * std, 0.09, 2)
        for std in (False, True)
    ]
    mllib = [MllibIterations(std, 4.0, 8.0, 5, 15, 0.8, 1.1) for std in (False, True)]
    optimum = Optimum(1e-4, 1e-7, 0.5, 0.50000005, 0.5, 0.5, 40, 6.0, 0.5, 30, 24.0, 0.5)
    base = SparseBenchResult(
        shape=dataclasses.asdict(SparseShape()),
        data_path="/data/x",
        sparklr_input="vector",
        master="local[2]",
        loadavg_start=[1.0],
        loadavg_end=[2.0],
        rows=2_000_000,
        nnz=60_000_000,
        csr_bytes=720 * 2**20,
        sparklr_iterations=its,
        sparklr_load_seconds=3.0,
        sparklr_load_laps=[3.0, 3.1],
        sparklr_block_bytes=500 * 2**20,
        scipy_step_seconds=0.2,
        mllib_iterations=mllib,
        mllib_load_seconds=10.0,
        mllib_load_laps=[12.0, 10.0, 9.0],
        mllib_cached_bytes=1500 * 2**20,
        optimum=optimum,
    )
    return dataclasses.replace(base, **changes)


def test_ratios_divide_the_right_figures():
    r = ratios(_result())
    assert r["sparklr_over_mllib_iteration_std_off"].value == pytest.approx(0.1 / 0.8)
    assert r["sparklr_over_mllib_iteration_std_on"].value == pytest.approx(0.15 / 0.8)
    assert r["sparklr_over_scipy_step"].value == pytest.approx(0.1 / 0.2)
    assert r["load_sparklr_over_mllib"].value == pytest.approx(0.3)
    assert r["memory_blocks_over_csr"].value == pytest.approx(500 / 720)
    assert r["time_to_optimum_sparklr_over_mllib"].value == pytest.approx(0.25)
    assert set(r) == set(TARGETS)
    assert r["sparklr_over_mllib_iteration_std_off"].verdict == "met"


def test_missing_terms_give_na_with_the_reason():
    r = ratios(
        _result(
            mllib_iterations=[],
            mllib_load_seconds=None,
            optimum=None,
            sparklr_block_bytes=None,
            skipped={"mllib": "--skip-mllib", "optimum": "--skip-mllib"},
        )
    )
    assert r["sparklr_over_mllib_iteration_std_on"].value is None
    assert r["sparklr_over_mllib_iteration_std_on"].verdict == "--skip-mllib"
    assert r["memory_blocks_over_csr"].verdict == "model.json has no block_bytes"
    assert r["time_to_optimum_sparklr_over_mllib"].verdict == "--skip-mllib"
    assert r["sparklr_over_scipy_step"].value == pytest.approx(0.5)  # still measured


def test_a_target_missed_says_so():
    slow = [dataclasses.replace(it, per_iteration=1.0) for it in _result().sparklr_iterations]
    r = ratios(_result(sparklr_iterations=slow))
    assert r["sparklr_over_scipy_step"].verdict == "MISSED"


def test_table_has_every_measurement_and_ratio_with_its_target():
    text = format_table(_result())
    assert "2,000,000 rows x 1,048,576 features, 30.0 non-zeros/row" in text
    assert "sparklr GD iteration, job runs 5/25 (std off)" in text
    assert "MLlib L-BFGS iteration, fits of 5/15 (std on)" in text
    assert "scipy.sparse step" in text and "0.2000 s" in text
    assert "12.0 / 10.0 / 9.0 s" in text  # MLlib's loads in run order
    assert "1,500.0 MiB" in text  # MLlib's cache beside the CSR bytes
    assert "6.00 s (40 it)" in text and "24.00 s (30 it)" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("time_to_optimum"))
    assert line.split()[1:4] == ["0.25", "<=", "0.5"] and line.endswith("met")


def test_json_has_the_figures_and_the_ratios():
    js = to_json(_result())
    assert js["ratios"]["load_sparklr_over_mllib"]["value"] == pytest.approx(0.3)
    assert js["optimum"]["mllib_iterations"] == 30


def test_a_negative_run_difference_is_no_figure():
    noisy = [dataclasses.replace(it, per_iteration=-0.5) for it in _result().sparklr_iterations]
    r = ratios(_result(sparklr_iterations=noisy))
    assert r["sparklr_over_scipy_step"].value is None
    assert "noise" in r["sparklr_over_scipy_step"].verdict
    ml = [dataclasses.replace(it, per_iteration=-1.0) for it in _result().mllib_iterations]
    assert (
        "noise"
        in ratios(_result(mllib_iterations=ml))["sparklr_over_mllib_iteration_std_on"].verdict
    )
