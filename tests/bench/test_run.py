"""Smoke test of the benchmark (sparklr.bench.run through the command line) on tiny data (no
timing assertions: only that it measures, agrees with NumPy, and refuses ratios it did not
measure)."""

from __future__ import annotations

import json

from sparklr.bench import cli


def test_benchmark_runs_and_refuses_unmeasured_ratios(spark, tmp_path, capsys):
    out = tmp_path / "bench.json"
    argv = [
        *("--rows", "3000", "--features", "4", "--partitions", "2"),
        *("--iterations", "2", "--warmup", "1", "--tiny-rows", "200", "--load-repeats", "2"),
        *("--source", "generator", "--skip-mllib", "--json", str(out)),
    ]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())

    assert result["setup"]["rows"] == 3000
    assert result["setup"]["partitions"] == 2
    assert sum(result["setup"]["rows_per_block"]) == 3000
    assert len(result["load"]["sparklr_laps"]) == 2 and result["load"]["mllib_laps"] == []
    # the distributed sums and the NumPy baseline really computed the same thing
    agree = result["agreement_sparklr_vs_numpy"]
    assert agree["rows_equal"]
    assert agree["loss_rel"] < 1e-12 and agree["grad_rel"] < 1e-12
    assert result["sparklr"]["iteration_seconds"] > 0
    assert result["numpy"]["float64_iteration_seconds"] > 0
    assert result["other_dtype"]["dtype"] == "float32"
    assert result["other_dtype"]["error_at_theta_k"]["grad_rel"] < 1e-4
    assert result["memory"]["held_bytes_max_executor"] >= result["memory"]["raw_block_bytes"]

    ratios = result["ratios"]
    assert ratios["sparklr_over_numpy"]["value"] > 0
    assert ratios["tiny_over_empty_job"]["value"] > 0
    for key in ("sparklr_over_mllib_iteration", "load_sparklr_over_mllib"):
        assert ratios[key]["value"] is None
        assert ratios[key]["reason"] == "--skip-mllib"
    assert "mllib" not in result
    assert "MLlib LogisticRegression" in printed and "n/a (--skip-mllib)" in printed
    line = next(ln for ln in printed.splitlines() if ln.startswith("sparklr_over_mllib_iteration"))
    assert " n/a " in line and "--skip-mllib" in line
