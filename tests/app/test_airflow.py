"""The example DAG (conf/airflow/sparklr_dag.py) run for real by Airflow 3.

Airflow lives in its own virtualenv, made (or reused) by ``.ci/airflow-venv`` at
``$SPARKLR_AIRFLOW_VENV`` or ``~/.cache/sparklr/airflow-venv``; the first run installs it (a few
minutes). ``spark-submit`` comes from this project's environment, put first on PATH, as the
DAG's docstring asks of a real deployment. AIRFLOW_HOME is a temporary directory with a fresh
SQLite database (``airflow db migrate``), and ``spark_default`` points at ``local[2]``.

Select with ``-m airflow``; deselect with ``-m "not airflow"``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, make_logistic_data

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAG_ID = "sparklr_train_and_score"
DAG_FILE = ROOT / "conf" / "airflow" / "sparklr_dag.py"
LOGICAL_DATE = "2026-11-01"
VENV = Path(
    os.environ.get("SPARKLR_AIRFLOW_VENV") or Path.home() / ".cache" / "sparklr" / "airflow-venv"
)
INSTALL_TIMEOUT = 1800  # a clean machine downloads Airflow and its ~150 dependencies
RUN_TIMEOUT = 900  # generous: the machine may be shared; CI prints the real time


def _run(cmd, env, timeout, log: Path) -> subprocess.CompletedProcess:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    print(f"{Path(cmd[0]).name} {' '.join(cmd[1:3])}: {time.perf_counter() - started:.1f}s")
    return proc


def _query(env: dict[str, str], sql: str, run: dict | None = None) -> list[dict]:
    """Rows of Airflow's SQLite metadata database (the default one, under AIRFLOW_HOME)."""
    db = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        con.row_factory = sqlite3.Row
        return [dict(row) for row in con.execute(sql, () if run is None else (run["run_id"],))]


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def airflow_bin(tmp_path_factory) -> Path:
    log = tmp_path_factory.mktemp("install") / "install.log"
    env = dict(os.environ, PYTHON=sys.executable)
    proc = _run(["bash", str(ROOT / ".ci" / "airflow-venv"), str(VENV)], env, INSTALL_TIMEOUT, log)
    assert proc.returncode == 0, f"airflow venv install failed:\n{_tail(proc.stderr)}"
    print(proc.stdout.strip())
    return VENV / "bin"


@pytest.fixture(scope="module")
def airflow_env(airflow_bin, tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("airflow")
    dags = base / "dags"
    dags.mkdir()
    (dags / DAG_FILE.name).symlink_to(DAG_FILE)  # the DAG finds the checkout through the link

    X, y, _, _ = make_logistic_data(2000, 3, seed=11)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=y.astype("int64"))
    data = base / "train.parquet"
    frame.to_parquet(data, index=False)

    env = dict(os.environ)
    env.update(
        # the project's environment first: spark-submit, and python with pyspark + sparklr
        PATH=os.pathsep.join([str(Path(sys.executable).parent), str(airflow_bin), env["PATH"]]),
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_DRIVER_PYTHON=sys.executable,
        AIRFLOW_HOME=str(base / "home"),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps({"conn_type": "spark", "host": "local[2]"}),
        AIRFLOW_VAR_SPARKLR_OUTPUT_ROOT=str(base / "out"),
        AIRFLOW_VAR_SPARKLR_TRAIN_DATA=str(data),
        AIRFLOW_VAR_SPARKLR_SCORE_DATA=str(data),
        AIRFLOW_VAR_SPARKLR_FEATURES=json.dumps(["a", "b", "c"]),
    )
    proc = _run(
        [str(airflow_bin / "airflow"), "db", "migrate"], env, RUN_TIMEOUT, base / "migrate.log"
    )
    assert proc.returncode == 0, f"airflow db migrate failed:\n{_tail(proc.stderr)}"
    env["SPARKLR_TEST_BASE"] = str(base)
    return env


def test_dag_trains_and_scores(airflow_bin, airflow_env):
    base = Path(airflow_env["SPARKLR_TEST_BASE"])
    airflow = str(airflow_bin / "airflow")
    proc = _run(
        [airflow, "dags", "test", DAG_ID, LOGICAL_DATE], airflow_env, RUN_TIMEOUT, base / "test.log"
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"airflow dags test failed:\n{_tail(output)}"

    # The run's and its tasks' states, from the metadata database the CLI itself reads
    # (``dags list-runs`` / ``tasks states-for-dag-run`` would cost an Airflow start each).
    (run,) = _query(airflow_env, "SELECT run_id, state, logical_date FROM dag_run")
    assert run["state"] == "success", run
    assert run["logical_date"].startswith(LOGICAL_DATE), run
    tasks = _query(airflow_env, "SELECT task_id, state FROM task_instance WHERE run_id = ?", run)
    by_task = {t["task_id"]: t["state"] for t in tasks}
    assert by_task == {"train": "success", "score": "success"}, by_task

    run_dir = base / "out" / LOGICAL_DATE
    model = json.loads((run_dir / "model" / "model.json").read_text())
    assert model["feature_names"] == ["a", "b", "c"]
    assert model["iterations"] > 0
    scores = pd.read_parquet(run_dir / "scores")
    assert len(scores) == 2000
    assert {"probability", "prediction"} <= set(scores.columns)
    # nothing but this date's directory was written under the output root
    assert sorted(p.name for p in (base / "out").iterdir()) == [LOGICAL_DATE]


RETRY_PROBE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("sparklr_dag", sys.argv[1])
dag_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dag_module)
results = {}
for name, extra in [("config", "train.max_iter=-1"), ("infrastructure", "spark.master=nope://x")]:
    op = dag_module.SparklrSubmitOperator(
        task_id="probe_" + name,
        application=sys.argv[2] + "/jobs/train.py",
        application_args=["--config", sys.argv[2] + "/conf/train.toml", "--set", extra],
        conn_id="spark_default",
    )
    try:
        op.execute({})
        results[name] = "succeeded"
    except dag_module.AirflowFailException as exc:
        results[name] = "no-retry: " + str(exc)
    except Exception as exc:
        results[name] = "retry: " + str(dag_module.exit_code_of(exc))
print("RESULT " + json.dumps(results))
"""


def test_only_infrastructure_failures_are_retried(airflow_bin, airflow_env):
    """The DAG's operator, on real spark-submit failures: exit 2 → AirflowFailException
    (Airflow does not retry it), exit 6 → an ordinary failure (retried)."""
    base = Path(airflow_env["SPARKLR_TEST_BASE"])
    proc = _run(
        [str(airflow_bin / "python"), "-c", RETRY_PROBE, str(DAG_FILE), str(ROOT)],
        airflow_env,
        RUN_TIMEOUT,
        base / "retry-probe.log",
    )
    assert proc.returncode == 0, _tail(proc.stdout + proc.stderr)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    results = json.loads(line.removeprefix("RESULT "))
    assert results["config"].startswith("no-retry: sparklr exited with 2"), results
    assert results["infrastructure"] == "retry: 6", results


RENDER_PROBE = """
import importlib.util, json, sys
from datetime import UTC, datetime
spec = importlib.util.spec_from_file_location("sparklr_dag", sys.argv[1])
dag_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dag_module)

class Variables:
    def __init__(self, values): self.values = values
    def get(self, name, default=None): return self.values.get(name, default)

task = dag_module.dag.get_task("train")
results = {}
for name, previous, values in [
    ("first", None, {}),
    ("next", datetime(2026, 11, 1, tzinfo=UTC), {"sparklr_output_root": "/runs"}),
    ("off", datetime(2026, 11, 1, tzinfo=UTC), {"sparklr_warm_start": "false"}),
]:
    context = {"ds": "2026-11-02", "prev_data_interval_start_success": previous,
               "var": {"value": Variables(values)}}
    args = task.render_template(task.application_args, context)
    results[name] = [a for a in args if a.startswith("train.init_model=")]
print("RESULT " + json.dumps(results))
"""


def test_each_day_warm_starts_from_the_previous_successful_days_model(airflow_bin, tmp_path):
    """The train task's rendered --set train.init_model: empty on the first run, the previous
    successful run's model directory after one, empty when sparklr_warm_start is false."""
    proc = _run(
        [str(airflow_bin / "python"), "-c", RENDER_PROBE, str(DAG_FILE)],
        dict(os.environ, AIRFLOW_HOME=str(tmp_path)),
        RUN_TIMEOUT,
        tmp_path / "render-probe.log",
    )
    assert proc.returncode == 0, _tail(proc.stdout + proc.stderr)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    results = json.loads(line.removeprefix("RESULT "))
    assert results == {
        "first": ["train.init_model="],
        "next": ["train.init_model=/runs/2026-11-01/model"],
        "off": ["train.init_model="],
    }, results
