"""The [tune] step of train() in process, on the shared local SparkSession."""

from __future__ import annotations

import csv
import json
import logging
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sparklr.app.train import train
from sparklr.config import load_config
from sparklr.tuning.path import PathPoint

from tests.conftest import make_logistic_data
from tests.optimizers.helpers import sklearn_l2


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    X, y, _, _ = make_logistic_data(3000, 3, seed=5, offset=1.0, scale=2.0)
    path = tmp_path_factory.mktemp("tune") / "train.parquet"
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y}), path)
    return path, X, y


def tune_config(path, out, *tune_keys: str):
    """The [tune] tests' config: unstandardized lbfgs to tol 1e-10 on 3 partitions, plus
    ``tune_keys``."""
    return load_config(
        None,
        [
            f"data.path={path}",
            "data.label=y",
            "data.partitions=3",
            f"output.path={out}",
            "output.spark_ml=false",
            "train.optimizer=lbfgs",
            "train.standardize=false",
            "train.tol=1e-10",
            *tune_keys,
        ],
    )


def test_the_path_on_resident_blocks_equals_scikit_learn_at_every_lambda(spark, dataset, tmp_path):
    path, X, y = dataset
    out = tmp_path / "m"
    config = tune_config(path, out, "train.reg_param=0.01", "tune.path=3", "tune.path_ratio=1e-2")
    result = train(config)
    doc = json.loads((out / "path.json").read_text())
    lambdas = [p["reg_param"] for p in doc["points"]]
    assert lambdas[0] == pytest.approx(doc["lambda_max"]) and len(lambdas) == 3
    np.testing.assert_allclose(np.diff(np.log10(lambdas)), -1.0, rtol=1e-12)
    for point in doc["points"]:
        assert point["stop_reason"] == "converged"
        w_ref, b_ref = sklearn_l2(X, y, point["reg_param"], standardize=False)
        np.testing.assert_allclose(point["coefficients"], w_ref, rtol=1e-6, atol=1e-9)
        assert point["intercept"] == pytest.approx(b_ref, rel=1e-6)
    with (out / "path.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [float(r["reg_param"]) for r in rows] == lambdas
    assert float(rows[-1]["c"]) == doc["points"][-1]["coefficients"][2]
    assert (out / "path.png").stat().st_size > 0
    report = (out / "report.md").read_text()
    section = report[report.index("## Regularization path") :]
    assert f"3 values of λ from {lambdas[0]:.6g} down to {lambdas[-1]:.6g}" in section
    total = sum(p["evaluations"] for p in doc["points"])
    assert f"{total} evaluations of J in all" in section and "![Regularization path]" in section
    # the published model is still the fit at train.reg_param
    w_ref, _ = sklearn_l2(X, y, 0.01, standardize=False)
    np.testing.assert_allclose(result.model.coefficients, w_ref, rtol=1e-6)


def test_the_path_plot_is_skipped_with_a_warning_without_matplotlib(monkeypatch, tmp_path, caplog):
    from sparklr import report
    from sparklr.app import tune

    monkeypatch.setattr(report, "pyplot", lambda: None)
    point = PathPoint(0.1, 0.5, 0.0, 3, 4, "converged", np.array([0.0, 0.2]))
    with caplog.at_level(logging.WARNING, logger="sparklr.train"):
        tune._plot(tmp_path / "path.png", ["a"], [point])
    assert not (tmp_path / "path.png").exists()
    assert "matplotlib is not installed" in caplog.text


def test_a_wide_path_plot_draws_only_the_largest_coefficients(tmp_path, caplog):
    from sparklr.app import tune

    rng = np.random.default_rng(0)
    coef = 0.01 * rng.standard_normal((5, 300))
    big = [7, 150, 299]
    coef[2, big] = [3.0, -2.0, 1.5]
    assert tune.plotted_columns(coef[:, :30]) == list(range(30))  # narrow: every coefficient
    chosen = tune.plotted_columns(coef, limit=10)
    assert len(chosen) == 10 and set(big) <= set(chosen) and chosen == sorted(chosen)
    size = np.abs(coef).max(axis=0)
    assert size[chosen].min() >= np.delete(size, chosen).max()
    points = [
        PathPoint(10.0**-i, 0.5, 0.0, 3, 4, "converged", np.append(row, 0.0))
        for i, row in enumerate(coef)
    ]
    with caplog.at_level(logging.INFO, logger="sparklr.train"):
        tune._plot(tmp_path / "path.png", [f"x{j}" for j in range(300)], points)
    assert (tmp_path / "path.png").stat().st_size > 0
    assert f"draws {tune.MAX_PLOTTED} of 300 coefficients" in caplog.text


def test_a_wide_paths_files_hold_what_json_and_csv_write_for_its_floats(tmp_path, monkeypatch):
    """path.json and path.csv share each coefficient's repr text: byte for byte what
    write_json_atomic and csv.writer give for the floats themselves, odd names quoted."""
    import io
    import types

    from sparklr.app import tune
    from sparklr.objective import FeatureMap
    from sparklr.output import LONG_LIST, write_json_atomic

    monkeypatch.setattr(tune, "_plot", lambda *args: None)
    n, rng = LONG_LIST + 5, np.random.default_rng(4)
    names = [f"x{j}" if j % 5 else f'x "{j}", odd' for j in range(n)]
    objective = types.SimpleNamespace(
        feature_map=FeatureMap(rng.standard_normal(n), rng.random(n) + 0.5), elastic_net=0.5
    )
    points = [
        PathPoint(lam, 0.6, 1e-7, 9, 11, "converged", rng.standard_normal(n + 1) * 10.0**-k)
        for k, lam in enumerate([1.0, 0.1, 0.01])
    ]
    tune._write_files(tmp_path, objective, names, 2.0, points)
    rows = []
    for p in points:
        w, b = objective.feature_map.to_raw(p.theta)
        head = [p.reg_param, p.loss, p.grad_norm, p.iterations, p.evaluations, p.stop_reason]
        rows.append([*head, p.nonzeros, b, [float(c) for c in w]])
    keys = ["reg_param", "loss", "grad_norm", "iterations", "evaluations", "stop_reason"]
    keys += ["nonzeros", "intercept", "coefficients"]
    doc = {"lambda_max": 2.0, "elastic_net": 0.5, "feature_names": names}
    doc["points"] = [dict(zip(keys, row, strict=True)) for row in rows]
    write_json_atomic(tmp_path / "reference.json", doc)
    assert (tmp_path / "path.json").read_text() == (tmp_path / "reference.json").read_text()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(keys[:-1] + names)
    writer.writerows(row[:-1] + row[-1] for row in rows)
    assert (tmp_path / "path.csv").read_bytes() == buffer.getvalue().encode()


@pytest.mark.parametrize("optimizer", ["lbfgs", "newton"])
def test_cross_validation_scores_each_fold_like_scikit_learn_and_publishes_the_refit(
    spark, dataset, tmp_path, optimizer
):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sparklr.tuning.folds import dense_row_digest, fold_ids

    path, X, y = dataset
    out = tmp_path / "m"
    keys = ("tune.reg_params=[0.05, 0.005]", "tune.folds=3", "tune.seed=9")
    result = train(tune_config(path, out, *keys, f"train.optimizer={optimizer}"))
    doc = json.loads((out / "cv.json").read_text())
    assert (doc["folds"], doc["metric"], doc["rule"]) == (3, "log_loss", "min")
    assert doc["mode"] == "lockstep"  # newton too: its passes carry every model's Hessian
    assert [p["reg_param"] for p in doc["points"]] == [0.05, 0.005]
    f = fold_ids(9, 3, y, None, dense_row_digest(X))  # = the blocks' (tests/spark)
    for point in doc["points"]:
        lam = point["reg_param"]
        for k, value in enumerate(point["folds"]):
            train_rows, held = f != k, f == k
            clf = LogisticRegression(C=1.0 / (lam * train_rows.sum()), tol=1e-15)
            clf.set_params(solver="newton-cholesky").fit(X[train_rows], y[train_rows])
            ref = log_loss(y[held], clf.predict_proba(X[held])[:, 1])
            assert value == pytest.approx(ref, rel=1e-6)
        assert point["mean"] == pytest.approx(np.mean(point["folds"]), rel=1e-12)
    means = [p["mean"] for p in doc["points"]]
    chosen = doc["points"][int(np.argmin(means))]["reg_param"]
    assert doc["reg_param"] == chosen
    # the published model is the refit on all rows at the chosen λ, from the path's optimum
    w_ref, b_ref = sklearn_l2(X, y, chosen, standardize=False)
    np.testing.assert_allclose(result.model.coefficients, w_ref, rtol=1e-6)
    assert result.model.intercept == pytest.approx(b_ref, rel=1e-6)
    assert result.state.iteration <= 2
    meta = json.loads((out / "model.json").read_text())
    assert meta["reg_param"] == chosen and meta["cv"]["reg_param"] == chosen
    with (out / "cv.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["reg_param"]) for r in rows] == [p["reg_param"] for p in doc["points"]]
    assert float(rows[0]["fold_2"]) == doc["points"][0]["folds"][2]
    assert (out / "cv.png").stat().st_size > 0
    assert "## Cross-validation" in (out / "report.md").read_text()
    print(optimizer, "cv passes", doc["passes"], "seconds", doc["seconds"])


def test_a_cross_validated_path_failed_mid_path_resumes_to_the_uninterrupted_results(
    spark, dataset, tmp_path, monkeypatch, caplog
):
    """train.main in process, three times on the same config: uninterrupted; failed by a real
    Spark task failure in the middle of the 3rd of 6 λ values (exit 6, only the checkpoint
    left, its "path" section at 2 λ values, its vectors in binary as a wide model's are);
    resumed with --resume from there."""
    from sparklr.app import checkpoint, common
    from sparklr.app.train import main
    from sparklr.errors import InfrastructureError
    from sparklr.output import staging_path
    from sparklr.spark import multisums
    from sparklr.spark.iteration import FAULT_ENV

    monkeypatch.setattr(common, "setup_logging", lambda: None)  # keep caplog's root handler
    monkeypatch.setattr(checkpoint, "BINARY_MIN_NUMBERS", 1)  # as wide: the .f64 file
    # run_job's os.environ.setdefault("SPARK_CONF_DIR", ...) is undone at teardown
    monkeypatch.setenv("SPARK_CONF_DIR", os.environ.get("SPARK_CONF_DIR", "conf"))
    data = dataset[0]
    passes: list[int] = []  # multi-sums passes of the current run
    fail_at = [0]  # the pass that fails (1-based; 0 = none)
    real_multi_sums = multisums.multi_sums

    def multi_sums(blocks, *args, **kwargs):
        """The real pass; the ``fail_at``-th has its partition 0 task raise on the executor
        (the fault hook of sparklr.spark.iteration; local mode does not retry tasks)."""
        passes.append(1)
        env = blocks.spark.sparkContext.environment
        if len(passes) == fail_at[0]:
            env[FAULT_ENV] = f"{blocks.evaluations + 1}:0"
        try:
            return real_multi_sums(blocks, *args, **kwargs)
        finally:
            env.pop(FAULT_ENV, None)

    boundaries: list[int] = []  # passes made when each λ was checkpointed
    real_write_section = checkpoint.write_section

    def write_section(staging, key, value, prints):
        boundaries.append(len(passes))
        real_write_section(staging, key, value, prints)

    monkeypatch.setattr(multisums, "multi_sums", multi_sums)
    monkeypatch.setattr(checkpoint, "write_section", write_section)

    def run(out, *extra: str) -> int:
        passes.clear()
        boundaries.clear()
        caplog.clear()
        keys = [
            *("data.format=parquet", f"data.path={data}", "data.label=y", "data.partitions=3"),
            *(f"output.path={out}", "output.spark_ml=false", "output.report=false"),
            *("train.optimizer=lbfgs", "train.tol=1e-6", "train.checkpoint_every=2"),
            *("tune.path=6", "tune.path_ratio=1e-3", "tune.folds=3", "tune.seed=9"),
        ]
        with caplog.at_level(logging.INFO, logger="sparklr"):
            return main([*(a for k in keys for a in ("--set", k)), *extra])

    full, out = tmp_path / "full", tmp_path / "resumed"
    assert run(full) == 0
    total, reference = len(passes), list(boundaries)
    assert len(reference) == 6
    fail_at[0] = reference[1] + (reference[2] - reference[1] + 1) // 2  # mid 3rd λ
    assert reference[1] < fail_at[0] <= reference[2]

    assert run(out) == InfrastructureError.exit_code
    assert "Spark failed" in caplog.text and len(passes) == fail_at[0]  # the armed pass
    staging = staging_path(out)
    assert not out.exists()  # nothing published: no model.json, path.json, cv.json
    left = sorted(p.name for p in staging.iterdir())
    assert left[:2] == [".sparklr-staging", "checkpoint.json"] and len(left) == 3
    assert checkpoint.ARRAYS_FILE.fullmatch(left[2])  # the last λ boundary's vectors only
    saved = json.loads((staging / "checkpoint.json").read_text())
    assert "state" not in saved  # stopped before the model's fit
    progress = saved["path"]["progress"]
    path_ref = json.loads((full / "path.json").read_text())
    assert progress["done"] == 2
    for point, ref in zip(progress["points"], path_ref["points"][:2], strict=True):
        assert (point["reg_param"], point["loss"]) == (ref["reg_param"], ref["loss"])

    fail_at[0] = 0  # the resumed run meets no failure
    assert run(out, "--resume") == 0
    assert "path: resuming after 2 of 6 values of λ" in caplog.text
    # the 2 λ values done are not redone: the passes after the 2nd boundary, plus one for the
    # warm start's sums (a fresh lockstep has no latest evaluation to answer it from)
    assert len(passes) == total - reference[1] + 1 and len(boundaries) == 4
    assert json.loads((out / "path.json").read_text()) == path_ref
    cv, cv_ref = (json.loads((d / "cv.json").read_text()) for d in (out, full))
    assert cv.pop("passes") == cv_ref.pop("passes") + 1  # the cost adds up across the runs
    del cv["seconds"], cv_ref["seconds"]
    assert cv == cv_ref  # λ̂, per-fold metrics, mean, sd: bit for bit
    model, model_ref = (json.loads((d / "model.json").read_text()) for d in (out, full))
    assert (model["coefficients"], model["intercept"]) == (
        model_ref["coefficients"],
        model_ref["intercept"],
    )
    assert not staging.exists()


def test_checkpoints_of_a_wide_path_are_spaced_by_ten_times_their_cost():
    from sparklr.app.tune import CHEAP_WRITE_SECONDS, WRITE_SPACING, WriteSpacing

    spacing = WriteSpacing()
    assert spacing.due(0.0)  # the first boundary is always written
    spacing.wrote(0.0, CHEAP_WRITE_SECONDS / 2)  # a narrow model's write: every boundary
    assert spacing.due(CHEAP_WRITE_SECONDS / 2 + 1e-6)
    spacing.wrote(10.0, 10.4)  # a wide model's 0.4 s write
    assert not spacing.due(10.4 + WRITE_SPACING * 0.4 - 0.01)
    assert spacing.due(10.4 + WRITE_SPACING * 0.4 + 0.01)
