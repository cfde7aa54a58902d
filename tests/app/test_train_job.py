"""The jobs end to end, as a user runs them: spark-submit subprocesses in local mode."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from tests.conftest import ROOT

SPARK_SUBMIT = str(__import__("pathlib").Path(sys.executable).with_name("spark-submit"))


def run(args: list[str], env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def csv_dataset(tmp_path_factory):
    """A small CSV with a 0/1 label, an id column and four features."""
    from tests.conftest import make_logistic_data

    X, y, _, _ = make_logistic_data(3000, 4, seed=21, offset=2.0, scale=3.0)
    path = tmp_path_factory.mktemp("data") / "train.csv"
    lines = ["id,f0,f1,f2,f3,label"]
    lines += [
        f"{i},{','.join(repr(float(v)) for v in row)},{int(t)}"
        for i, (row, t) in enumerate(zip(X, y, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")
    return path, X, y


def test_train_and_predict_through_spark_submit(csv_dataset, tmp_path, job_env):
    path, X, y = csv_dataset
    model_dir = tmp_path / "model"
    result = run(
        [
            SPARK_SUBMIT,
            "--master",
            "local[2]",
            "jobs/train.py",
            "--config",
            "conf/train.toml",
            "--set",
            f"data.path={path}",
            "--set",
            "data.format=csv",
            "--set",
            "data.label=label",
            "--set",
            'data.features=["f0","f1","f2","f3"]',
            "--set",
            f"output.path={model_dir}",
            "--set",
            "output.overwrite=false",
            "--set",
            "train.tol=1e-9",
            "--set",
            "train.max_iter=3000",
        ],
        job_env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "iterations:" in result.stdout and "converged" in result.stdout
    model = json.loads((model_dir / "model.json").read_text())
    assert model["feature_names"] == ["f0", "f1", "f2", "f3"]
    assert model["stop_reason"] == "converged"
    reference = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-14).fit(X, y)
    np.testing.assert_allclose(model["coefficients"], reference.coef_.ravel(), rtol=1e-6)
    assert model["intercept"] == pytest.approx(reference.intercept_[0], rel=1e-6)
    history = json.loads((model_dir / "history.json").read_text())
    assert history[0]["iteration"] == 0 and len(history) == model["iterations"] + 1
    assert {"iteration", "loss", "grad_norm", "step", "seconds"} <= set(history[0])
    assert not list(tmp_path.glob(".*sparklr-partial"))

    scored_dir = tmp_path / "scored"
    result = run(
        [
            SPARK_SUBMIT,
            "--master",
            "local[2]",
            "jobs/predict.py",
            "--model",
            str(model_dir),
            "--data",
            str(path),
            "--format",
            "csv",
            "--output",
            str(scored_dir),
        ],
        job_env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import pyarrow.parquet as pq

    table = pq.read_table(scored_dir).to_pandas().sort_values("id")
    assert {"id", "f0", "label", "probability", "prediction"} <= set(table.columns)
    expected = reference.predict_proba(X)[:, 1]
    np.testing.assert_allclose(table["probability"].to_numpy(), expected, rtol=1e-6)
    assert "AUC" in result.stdout
    metrics = json.loads((scored_dir / "_metrics.json").read_text())
    assert metrics["log_loss"] == pytest.approx(model["final_loss"], rel=1e-9)


def test_default_job_runs_with_no_arguments(tmp_path, job_env):
    # The built-in default, shrunk and redirected so the test stays quick and tidy.
    result = run(
        [
            sys.executable,
            "jobs/train.py",
            "--set",
            "data.synthetic.rows=5000",
            "--set",
            f"output.path={tmp_path / 'default'}",
        ],
        job_env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "training accuracy" in result.stdout
    assert (tmp_path / "default" / "model.json").exists()
