"""Ratios against their targets, the printed table and the JSON, on hand-made figures."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sparklr.bench.report import TARGETS, Ratio, format_table, ratio, ratios, to_json
from sparklr.bench.results import (
    Agreement,
    BenchResult,
    LoadResult,
    MemoryResult,
    MllibResult,
    NumpyResult,
    OverheadResult,
    Setup,
    SparklrResult,
    StorageBytes,
)
from sparklr.spark.usage import WorkerUsage

MiB = 2**20


def make_result(**sections) -> BenchResult:
    """A run without MLlib, float32 or scikit-learn: sparklr 0.10 s vs NumPy 0.125 s per
    iteration, tiny 0.2 s vs empty job 0.1 s, 96 MiB of files for 64 MiB of raw bytes."""
    setup = Setup(
        rows=1000, features=3, partitions_requested=2, iterations=4, warmup=1,
        master="local[2]", dtype="float64", source="generator", python="3.11", pyspark="4",
        numpy="2", cpus=2, loadavg_start=[1.5], started="now", partitions=2,
        rows_per_block=[500, 500], loadavg_end=[2.3],
    )  # fmt: skip
    base = {
        "setup": setup,
        "skipped": {"mllib": "--skip-mllib", "sklearn": "--skip-sklearn"},
        "load": LoadResult(3, 1.5, [1.0, 1.5, 2.0], None, [], "pyarrow", {"receive": 0.25}),
        "sparklr": SparklrResult(
            "float64", 0.1, 0.09, [0.1], 0.05, 0.06, 2, 0, 4, learning_rate=0.5, final_loss=0.6
        ),
        "numpy": NumpyResult({}, 0.125, 0.12, [0.125], 0.0625, 0.06, [0.0625], 0.08),
        "agreement_sparklr_vs_numpy": Agreement(1e-16, 2e-16, True),
        "memory": MemoryResult(
            raw_block_bytes=64 * MiB,
            block_file_bytes_per_executor={"h:/tmp": 96 * MiB},
            held_bytes_max_executor=96 * MiB,
            raw_bytes_max_executor=64 * MiB,
            python_workers=[WorkerUsage(11, 3 * MiB, MiB, 4 * MiB, 1, 2)],
            python_workers_rss_anon_sum=3 * MiB,
            python_workers_blas_threads=[1],
            jvm_meta_rdd_bytes=1234,
        ),
        "overhead": OverheadResult(200, 2, 0.2, 0.19, 0.1, 0.09, 0.05),
    }
    return BenchResult(**{**base, **sections})


def make_mllib(iteration: float, marginal: float | None) -> MllibResult:
    return MllibResult(
        load_seconds_for_fits=3.0, storage=StorageBytes(10 * MiB, 6 * MiB, True),
        fixed_iterations=10, fixed_fit_seconds=10 * iteration, fixed_fit_iterations=10,
        iteration_seconds=iteration, marginal_iteration_seconds=marginal,
        converged_fit_seconds=9.0, converged_iterations=15, converged_loss=0.6,
    )  # fmt: skip


def ratio_line(table: str, name: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(name + " "))


# ----------------------------------------------------------------------------- ratio


def test_ratio_divides_and_says_why_a_term_is_missing():
    assert ratio(3.0, 2.0, "a", "b", 1.0) == Ratio(1.5, "", 1.0)
    assert ratio(None, 2.0, "no numerator", "b", None) == Ratio(None, "no numerator", None)
    assert ratio(3.0, None, "a", "no denominator", 0.5) == Ratio(None, "no denominator", 0.5)
    assert ratio(3.0, 0.0, "a", "b", None).reason == "denominator is zero"


@pytest.mark.parametrize(
    ("value", "reason", "target", "verdict"),
    [
        (1.2, "", 1.2, "met"),  # the target is a maximum: equal meets it
        (1.21, "", 1.2, "MISSED"),
        (9.0, "", None, ""),
        (None, "--skip-mllib", 0.25, "--skip-mllib"),
    ],
)
def test_verdict_against_the_target(value, reason, target, verdict):
    assert Ratio(value, reason, target).verdict == verdict


def test_ratios_of_a_run_carry_their_targets_and_reasons():
    got = ratios(make_result())
    assert list(got) == [
        "sparklr_over_numpy",
        "sparklr_over_mllib_iteration",
        "sparklr_over_mllib_marginal_iteration",
        "tiny_over_empty_job",
        "load_sparklr_over_mllib",
        "memory_over_raw",
    ]
    assert got["sparklr_over_numpy"] == Ratio(0.8, "", 1.2)
    assert got["tiny_over_empty_job"] == Ratio(2.0, "", 1.3)
    assert got["memory_over_raw"] == Ratio(1.5, "", 1.2)
    for name in ("sparklr_over_mllib_iteration", "load_sparklr_over_mllib"):
        assert got[name] == Ratio(None, "--skip-mllib", TARGETS[name])
    assert got["sparklr_over_mllib_marginal_iteration"] == Ratio(None, "--skip-mllib", None)


def test_ratios_compare_with_numpy_in_sparklrs_dtype():
    run = make_result()
    float32_run = make_result(sparklr=dataclasses.replace(run.sparklr, dtype="float32"))
    assert ratios(float32_run)["sparklr_over_numpy"].value == pytest.approx(0.1 / 0.0625)


def test_ratios_against_mllib_when_it_ran():
    run = make_result(mllib=make_mllib(0.5, None), skipped={})
    run = dataclasses.replace(run, load=dataclasses.replace(run.load, mllib_seconds=6.0))
    got = ratios(run)
    assert got["sparklr_over_mllib_iteration"].value == pytest.approx(0.2)
    assert got["load_sparklr_over_mllib"].value == pytest.approx(0.25)
    assert got["sparklr_over_mllib_marginal_iteration"].reason == (
        "MLlib's two fits ran the same number of iterations"
    )


# ----------------------------------------------------------------------------- the table


def test_table_marks_met_missed_and_unmeasured_ratios():
    table = format_table(make_result())
    assert ratio_line(table, "sparklr_over_numpy").split() == [
        "sparklr_over_numpy", "0.80", "<=", "1.2", "met"
    ]  # fmt: skip
    assert ratio_line(table, "tiny_over_empty_job").split()[1:] == ["2.00", "<=", "1.3", "MISSED"]
    line = ratio_line(table, "sparklr_over_mllib_iteration")
    assert line.split()[1:] == ["n/a", "<=", "0.25", "--skip-mllib"]


def test_table_rows_show_figures_units_and_skips():
    table = format_table(make_result())
    lines = table.splitlines()
    assert lines[0] == (
        "sparklr benchmark: 1,000 rows x 3 features, 2 partitions, local[2], dtype float64, "
        "source generator"
    )
    assert "load average at start 1.5, at end 2.3 on 2 CPUs" in lines[1]
    assert "medians of 4 iterations after 1 warm-up" in lines[1]
    assert f"{'sparklr GD iteration (float64)':<52} {'0.1000 s':>16}" in lines
    assert f"{'memory: sparklr block files, largest executor':<52} {'96.0 MiB':>16}" in lines
    assert f"{'  Python workers / block mappings in all iterations':<52} {'2 / 4':>16}" in lines
    assert f"{'  sparklr loads in run order (alternating)':<52} {'1.0 / 1.5 / 2.0 s':>16}" in lines
    assert f"{'load: MLlib (read + VectorAssembler + cache + count)':<52} {'n/a':>16}" in lines
    for skipped in (
        "MLlib LogisticRegression  n/a (--skip-mllib)",
        "scikit-learn lbfgs  n/a (--skip-sklearn)",
        "sparklr other dtype  n/a ()",
    ):
        name, value = skipped.split("  ")
        assert f"{name:<52} {value:>16}" in lines
    assert not any(line.startswith("  mllib loads") for line in lines)


def test_table_shows_mllib_when_it_ran():
    table = format_table(make_result(mllib=make_mllib(0.5, None), skipped={}))
    lines = table.splitlines()
    assert f"{'MLlib LR per iteration (maxIter 10, fit/iters)':<52} {'0.5000 s':>16}" in lines
    assert f"{'MLlib LR marginal iteration (two fits)':<52} {'n/a':>16}" in lines
    assert f"{'memory: MLlib cached storage (memory + disk)':<52} {'16.0 MiB':>16}" in lines


# ----------------------------------------------------------------------------- JSON


def test_json_has_measured_sections_and_ratios_only():
    out = to_json(make_result())
    assert "mllib" not in out and "sklearn" not in out and "other_dtype" not in out
    assert list(out)[:4] == ["setup", "skipped", "load", "sparklr"]
    assert out["ratios"]["memory_over_raw"] == {"value": 1.5, "reason": "", "target": 1.2}
    assert out["memory"]["python_workers"][0]["open_blocks"] == 2
    assert json.loads(json.dumps(out, allow_nan=False)) == out
