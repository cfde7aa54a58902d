"""Shared fixtures: one local SparkSession for the whole run, small datasets."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# Spark's Python workers must import sparklr from this checkout (not another one that happens to
# be installed in the venv): they inherit PYTHONPATH from the driver's environment.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in [str(ROOT / "lib"), os.environ.get("PYTHONPATH", "")] if p
)
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture(autouse=True)
def _restore_sparklr_logging():
    """A job run in process (``main``) points the "sparklr" logger at the sys.stderr of that
    test and stops its propagation; put it back afterwards, so that later tests' logs reach
    caplog and no handler writes to a closed capture stream ("Logging error")."""
    logger = logging.getLogger("sparklr")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from sparklr.spark.session import build_session

    conf = {
        "spark.sql.shuffle.partitions": "4",
        # Tables saved by tests (saveAsTable) go to a temporary warehouse, not ./spark-warehouse.
        "spark.sql.warehouse.dir": str(tmp_path_factory.mktemp("warehouse")),
    }
    session = build_session("local[2]", "sparklr-tests", "ERROR", conf)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def job_env() -> dict[str, str]:
    """Environment for running jobs as subprocesses with this interpreter."""
    env = dict(os.environ)
    env["PYSPARK_PYTHON"] = sys.executable
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "lib"), env.get("PYTHONPATH", "")])
    env["SPARK_CONF_DIR"] = str(ROOT / "conf")  # conf/log4j2.properties, as README says
    return env


def make_logistic_data(m: int, n: int, seed: int = 0, offset: float = 0.0, scale: float = 1.0):
    """A non-separable logistic dataset: X (m × n), y ∈ {0,1}, and the true (w, b)."""
    rng = np.random.default_rng(seed)
    X = offset + scale * rng.standard_normal((m, n))
    w = rng.standard_normal(n) / scale
    b = 0.3 - w @ np.full(n, offset)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    y = (rng.random(m) < p).astype(np.float64)
    return X, y, w, b


@pytest.fixture
def logistic_data():
    return make_logistic_data(500, 4, seed=1)
