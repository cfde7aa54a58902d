"""The jobs' exit codes (sparklr.errors): each failure class maps to its documented code.

The jobs run in-process (``main(argv)`` returns the exit code) and reuse the session fixture,
so no extra JVM is started.
"""

from __future__ import annotations

import json

import pytest
from sparklr.app import export_spark_ml, predict, train


def test_config_errors_exit_2(tmp_path, capsys):
    assert train.main(["--set", "train.max_itr=5"]) == 2
    assert "unknown config key train.max_itr" in capsys.readouterr().err
    assert train.main(["--set", "data.validation_fraction=1.5"]) == 2
    assert "data.validation_fraction" in capsys.readouterr().err
    assert train.main(["--no-such-flag"]) == 2
    assert export_spark_ml.main(["--model", "m", "--output", "o", "--threshold", "2"]) == 2


def test_data_errors_exit_3(tmp_path, capsys):
    missing = str(tmp_path / "nope")
    assert predict.main(["--model", missing, "--data", "x", "--output", "y"]) == 3
    assert export_spark_ml.main(["--model", missing, "--output", str(tmp_path / "o")]) == 3
    assert "cannot read model" in capsys.readouterr().err


def test_output_errors_exit_5(tmp_path, capsys):
    (tmp_path / "model.json").write_text(
        json.dumps({"feature_names": ["x"], "coefficients": [1.0], "intercept": 0.0})
    )
    (tmp_path / "taken").mkdir()
    argv = ["--model", str(tmp_path), "--output", str(tmp_path / "taken")]
    assert export_spark_ml.main(argv) == 5
    assert export_spark_ml.main([*argv, "--overwrite"]) == 0
    assert (tmp_path / "taken" / "metadata" / "part-00000").exists()
    out = tmp_path / "exists"
    out.mkdir()
    assert train.main(["--set", f"output.path={out}", "--set", "output.overwrite=false"]) == 5
    assert "already exists" in capsys.readouterr().err


@pytest.mark.usefixtures("spark")
def test_missing_input_exits_3_and_divergence_exits_4(tmp_path, capsys):
    base = ["--set", f"output.path={tmp_path / 'm'}", "--set", "output.report=false"]
    code = train.main([*base, "--set", "data.format=csv", "--set", f"data.path={tmp_path}/x"])
    assert code == 3 and "does not exist" in capsys.readouterr().err
    (tmp_path / "pm.svm").write_text("1 1:0.5 3:2\n-1 2:1\n1 1:1\n")  # LIBSVM's −1/+1
    code = train.main(
        [*base, "--set", "data.format=libsvm", "--set", f"data.path={tmp_path}/pm.svm"]
    )
    assert code == 3 and "(y + 1) / 2" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    diverging = [
        *base,
        "--set",
        "data.synthetic.rows=500",
        "--set",
        "data.synthetic.partitions=1",
        "--set",
        "train.standardize=false",
        "--set",
        "train.learning_rate=1e300",
    ]
    assert train.main(diverging) == 4
    assert "diverged" in capsys.readouterr().err
    assert not (tmp_path / "m").exists() and not list(tmp_path.glob(".*"))


@pytest.mark.usefixtures("spark")
def test_inf_in_a_csv_cell_and_an_empty_filter_exit_3_nothing_written(tmp_path, capsys):
    """`inf` in one PSI cell makes PSI a number column caught by the row check (not a string
    column silently ignored); a data.filter that selects no row says so."""
    path = tmp_path / "spector.csv"
    rows = [f"{i % 4 * 0.5 + 2},{'inf' if i == 5 else i % 2},{(i * 7) % 3 % 2}" for i in range(40)]
    path.write_text("GPA,PSI,label\n" + "\n".join(rows) + "\n")
    out = tmp_path / "m"
    base = ["--set", f"data.path={path}", "--set", "data.format=csv"]
    base += ["--set", f"output.path={out}", "--set", "output.report=false"]
    assert train.main(base) == 3
    err = capsys.readouterr().err
    assert "feature 'PSI' = inf" in err and "row" in err
    assert train.main([*base, "--set", "data.filter=GPA > 100"]) == 3
    assert "data.filter = 'GPA > 100' selects 0 rows" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".m*"))
