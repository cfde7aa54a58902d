"""Example Airflow DAG: train a sparklr model every day, then score a dataset with it.

Copy (or symlink) this file into your Airflow ``dags/`` folder. It needs Airflow 3 with
``apache-airflow-providers-apache-spark`` and a ``spark-submit`` on the worker's PATH (the
provider only brings the Spark Connect client: put the bin/ of the environment that has
pyspark and sparklr first on PATH). Tasks:

    train  spark-submit jobs/train.py  → <output_root>/<ds>/model   (model.json, history)
    score  spark-submit jobs/predict.py → <output_root>/<ds>/scores  (Parquet)

Settings are Airflow Variables (or ``AIRFLOW_VAR_<NAME>`` environment variables), read when a
task runs:

    sparklr_home         checkout with jobs/ and conf/ (default: two levels above this file)
    sparklr_output_root  where each run's directory goes (default: <checkout>/out/airflow)
    sparklr_train_data   Parquet file/directory to train on (may use {{ ds }} itself)
    sparklr_score_data   Parquet file/directory to score
    sparklr_features     feature columns as a TOML list, e.g. ["x0", "x1"] (default [] = every
                         numeric column except the label)
    sparklr_py_files     e.g. <sparklr_home>/dist/sparklr.zip on a cluster ("" = none)
    sparklr_warm_start   "true" (default) or "false": start from the previous model (below)

Warm start: each day's training starts from the model of the previous successful DAG run,
``<output_root>/<that run's ds>/model`` (``train.init_model``; Airflow's
``prev_data_interval_start_success``), and from θ⁰ as configured when there is none (the first
run). Its features must be the day's: after changing ``sparklr_features``, set
``sparklr_warm_start = false`` for one run (a mismatch is exit 2, not retried).

The Spark master comes from the ``spark_default`` connection, e.g.
``AIRFLOW_CONN_SPARK_DEFAULT='{"conn_type": "spark", "host": "yarn"}'``.

Idempotent re-runs: each run writes only ``<output_root>/<ds>/`` (ds = the logical date), with
``output.overwrite = true`` / ``--overwrite``; both jobs build their output in a staging
directory and publish it with one rename, so a re-run or a retry of the same date replaces
that date's output whole, and a failed attempt leaves the previous output untouched.

Retries: sparklr's exit code says whether a retry can help (lib/sparklr/errors.py). The
provider's SparkSubmitOperator fails with the same exception whatever the code, so the
subclass below reads the code from its message ("Error code is: N") and turns the failures a
retry cannot fix (2 config, 3 data, 4 divergence, 5 output) into AirflowFailException, which
Airflow does not retry. Everything else is retried: 6 (infrastructure), signals, and 1 — 1 is
a sparklr bug, but spark-submit also exits 1 when the JVM or the cluster manager fails, and in
cluster deploy mode every failed application looks like 1, so it cannot be told apart.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

DEFAULT_HOME = str(Path(__file__).resolve().parents[2])

#: sparklr exit codes that a retry cannot fix (see lib/sparklr/errors.py).
NOT_RETRYABLE = {
    2: "bad configuration or command line",
    3: "bad input data",
    4: "training diverged",
    5: "output exists or is not writable",
}
_EXIT_CODE = re.compile(r"Error code is: (-?\d+)")


def exit_code_of(error: BaseException) -> int | None:
    """The spark-submit exit code in the provider's failure message, if there is one."""
    match = _EXIT_CODE.search(str(error))
    return int(match.group(1)) if match else None


class SparklrSubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator that fails at once (no retry) when sparklr says retrying is futile."""

    def execute(self, context):
        try:
            return super().execute(context)
        except Exception as error:
            code = exit_code_of(error)
            if code in NOT_RETRYABLE:
                raise AirflowFailException(
                    f"sparklr exited with {code} ({NOT_RETRYABLE[code]}); not retrying"
                ) from error
            raise


def var(name: str, default: str) -> str:
    """Jinja for an Airflow Variable with a default, rendered when the task runs."""
    return "{{ var.value.get(" + repr(name) + ", " + repr(default) + ") }}"


HOME = var("sparklr_home", DEFAULT_HOME)
OUTPUT_ROOT = var("sparklr_output_root", DEFAULT_HOME + "/out/airflow")
#: This run's own directory: a re-run of the same logical date writes here and nowhere else.
RUN_DIR = OUTPUT_ROOT + "/{{ ds }}"
#: The previous successful run's model directory, or "" (no warm start) when there is none.
PREVIOUS_MODEL = (
    "{% if prev_data_interval_start_success and "
    "var.value.get('sparklr_warm_start', 'true') == 'true' %}"
    + OUTPUT_ROOT
    + "/{{ prev_data_interval_start_success.strftime('%Y-%m-%d') }}/model{% endif %}"
)
#: What both tasks pass to spark-submit besides the application.
SUBMIT = {
    "conn_id": "spark_default",
    "properties_file": HOME + "/conf/spark-defaults.conf",
    "py_files": var("sparklr_py_files", ""),
}

with DAG(
    dag_id="sparklr_train_and_score",
    description="Train sparklr logistic regression daily, then score a dataset with the model",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # one training at a time on the cluster
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
    },
    tags=["sparklr"],
) as dag:
    train = SparklrSubmitOperator(
        task_id="train",
        name="sparklr-train-{{ ds }}",
        application=HOME + "/jobs/train.py",
        application_args=[
            "--config",
            HOME + "/conf/train.toml",
            "--set",
            "data.format=parquet",
            "--set",
            "data.path=" + var("sparklr_train_data", ""),
            # Or a catalog table, partition-pruned to the run's day (instead of the two above;
            # docs/data.md):
            #   "--set", "data.format=table", "--set", "data.table=db.clicks",
            #   "--set", "data.filter=ds = '{{ ds }}'",
            "--set",
            "data.features=" + var("sparklr_features", "[]"),
            "--set",
            "output.path=" + RUN_DIR + "/model",
            "--set",
            "output.overwrite=true",
            "--set",
            "train.init_model=" + PREVIOUS_MODEL,
        ],
        execution_timeout=timedelta(hours=4),
        **SUBMIT,
    )
    score = SparklrSubmitOperator(
        task_id="score",
        name="sparklr-score-{{ ds }}",
        application=HOME + "/jobs/predict.py",
        application_args=[
            "--model",
            RUN_DIR + "/model",
            "--data",
            var("sparklr_score_data", ""),
            "--format",
            "parquet",
            # Or: "--table", "db.clicks", "--filter", "ds = '{{ ds }}'" (instead of the above)
            "--output",
            RUN_DIR + "/scores",
            "--overwrite",
        ],
        execution_timeout=timedelta(hours=2),
        **SUBMIT,
    )
    train >> score
