"""The make_data job in process (``main(argv)``, on the shared session): what it writes, and
its refusals."""

from __future__ import annotations

import json

import numpy as np
from sparklr.app import make_data
from sparklr.spark.synthetic import SyntheticTruth

from tests.app.conftest import leftovers


def test_writes_the_rows_and_the_truth_beside_them(spark, tmp_path, capsys):
    out = tmp_path / "data"
    argv = ["--output", str(out), "--rows", "500", "--features", "3", "--seed", "7"]
    assert make_data.main([*argv, "--partitions", "2"]) == 0
    assert "wrote 500 rows x 3 features" in capsys.readouterr().out
    frame = spark.read.parquet(str(out))
    assert frame.columns == ["id", "x0", "x1", "x2", "label"] and frame.count() == 500
    truth = json.loads((out / "_truth.json").read_text())
    np.testing.assert_array_equal(
        truth["coefficients"], SyntheticTruth.from_seed(3, 7).coefficients
    )
    assert leftovers(out) == ["data"]  # no staging directory left behind
    csv = tmp_path / "csv"
    assert make_data.main(["--output", str(csv), "--rows", "40", "--format", "csv"]) == 0
    read = spark.read.option("header", True).option("inferSchema", True).csv(str(csv))
    assert read.count() == 40 and read.columns[-1] == "label"


def test_bad_arguments_exit_2_and_an_existing_output_exits_5(spark, tmp_path, capsys):
    out = tmp_path / "data"
    assert make_data.main(["--output", str(out), "--rows", "0"]) == 2
    assert "--rows must be > 0" in capsys.readouterr().err
    out.mkdir()
    (out / "_truth.json").write_text("{}")
    assert make_data.main(["--output", str(out), "--rows", "10"]) == 5
    assert "already exists" in capsys.readouterr().err
