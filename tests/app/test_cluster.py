"""The training job on real executors: ``local-cluster`` and a standalone cluster on 127.0.0.1.

Both must train the same model as local mode (same data, same partitioning: the sums are
reduced in partition order, so only the executors' placement differs) and both executors must
hold blocks (model.json's ``block_locations``: one key per executor local directory).

The standalone test runs the code the way a cluster gets it: ``sparklr.zip`` built by
``.ci/package.py`` (what ``make package`` runs) shipped with ``--py-files``, and a driver and
executor Python that has numpy/pyarrow/pandas/pyspark but NOT sparklr.

Select with ``-m cluster``; deselect with ``-m "not cluster"``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

BIN = Path(sys.executable).parent
SPARK_SUBMIT = BIN / "spark-submit"
SPARK_CLASS = BIN / "spark-class"

#: Small on purpose: the point is where the work runs, not how much there is.
TRAIN_SETTINGS = [
    "data.format=synthetic",
    "data.synthetic.rows=6000",
    "data.synthetic.features=4",
    "data.synthetic.partitions=4",
    "data.synthetic.seed=7",
    "train.max_iter=10",
    "train.tol=0.0",
    "train.checkpoint_every=0",
    "output.overwrite=false",
]
#: Executors of at most 512m, as on a small cluster node (the job's JVM side is tiny).
#: spark.cores.max = both executors' cores: on a standalone master the properties file's
#: minRegisteredResourcesRatio = 1.0 waits for that many cores before the first job, so the
#: blocks cannot all land on whichever executor registered first.
SMALL = [
    "--conf",
    "spark.executor.memory=512m",
    "--conf",
    "spark.driver.memory=1g",
    "--conf",
    "spark.cores.max=2",
]
SUBMIT_TIMEOUT = 600  # generous: the machine may be shared; CI measures the real time


def _set_args(output: Path) -> list[str]:
    args = ["--config", str(ROOT / "conf" / "train.toml")]
    for setting in [*TRAIN_SETTINGS, f"output.path={output}"]:
        args += ["--set", setting]
    return args


def _load(output: Path) -> dict:
    return json.loads((output / "model.json").read_text())


def _assert_same_model(model: dict, reference: dict) -> None:
    assert model["feature_names"] == reference["feature_names"]
    assert model["iterations"] == reference["iterations"]
    coef = np.array([*model["coefficients"], model["intercept"]])
    ref = np.array([*reference["coefficients"], reference["intercept"]])
    np.testing.assert_allclose(coef, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert model["final_loss"] == pytest.approx(reference["final_loss"], rel=1e-12, abs=0)


def _run(cmd: list[str], env: dict[str, str], log: Path, timeout: float = SUBMIT_TIMEOUT):
    """Run ``cmd`` in its own process group (killed whole on timeout); output → ``log``."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            pytest.fail(f"timed out after {timeout}s: {' '.join(cmd)}\n{_tail(log)}")
    assert code == 0, f"exit {code}: {' '.join(cmd)}\n{_tail(log)}"


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _kill_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM the process group of ``proc`` (it leads its own session), SIGKILL after grace."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # anyone left in the group (executors, python daemons)?
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    proc.wait(timeout=grace)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def reference(spark, tmp_path_factory) -> dict:
    """The same training in local mode (the test session's local[2] SparkSession)."""
    from sparklr.app.train import train
    from sparklr.config import load_config

    output = tmp_path_factory.mktemp("local") / "model"
    config = load_config(ROOT / "conf" / "train.toml", [*TRAIN_SETTINGS, f"output.path={output}"])
    train(config)
    model = _load(output)
    assert len(model["block_locations"]) == 1, model["block_locations"]
    return model


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """A Python with this venv's packages (numpy, pyarrow, pandas, pyspark) but not sparklr:
    its site-packages is added by a .pth line, which does not run the .pth files in it (the
    editable install of sparklr is one of those)."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "sparklr-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = "import importlib.util as u, numpy, pyarrow, pyspark; print(u.find_spec('sparklr'))"
    out = subprocess.run(
        [str(python), "-c", probe], env=env, cwd="/", capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "None", "the bare Python must not find sparklr by itself"
    return python


def test_local_cluster_matches_local_mode(reference, job_env, tmp_path):
    output = tmp_path / "model"
    started = time.perf_counter()
    _run(
        [
            str(SPARK_SUBMIT),
            "--master",
            "local-cluster[2,1,1024]",
            "--properties-file",
            str(ROOT / "conf" / "spark-defaults.conf"),
            *SMALL,
            str(ROOT / "jobs" / "train.py"),
            *_set_args(output),
        ],
        job_env,
        tmp_path / "submit.log",
    )
    print(f"local-cluster submit: {time.perf_counter() - started:.1f}s")
    model = _load(output)
    _assert_same_model(model, reference)
    locations = model["block_locations"]
    assert len(locations) == 2, f"expected blocks on both executors, got {locations}"
    # data.partitions = 0: one block per executor core (2 executors x 1 core)
    assert sum(locations.values()) == 2


@pytest.fixture
def standalone(tmp_path):
    """A master and two 1-core/1g workers on 127.0.0.1; yields the master URL; stops them all."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SPARK_LOCAL_IP="127.0.0.1", SPARK_DAEMON_MEMORY="256m")
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(name: str, args: list[str], local_dir: Path | None = None) -> None:
        log = tmp_path / f"{name}.log"
        penv = dict(env)
        if local_dir is not None:
            local_dir.mkdir()
            penv["SPARK_LOCAL_DIRS"] = str(local_dir)
        with open(log, "w") as out:
            procs.append(
                subprocess.Popen(
                    [str(SPARK_CLASS), *args],
                    env=penv,
                    cwd=tmp_path,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        logs.append(log)

    started = time.perf_counter()
    port, ui = _free_port(), _free_port()
    master = f"spark://127.0.0.1:{port}"
    try:
        start(
            "master",
            ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
             str(port), "--webui-port", str(ui)],
        )  # fmt: skip
        for i in (1, 2):
            start(
                f"worker{i}",
                ["org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1",
                 "--cores", "1", "--memory", "1g", "--webui-port", str(_free_port()),
                 "--work-dir", str(tmp_path / f"work{i}")],
                local_dir=tmp_path / f"local{i}",
            )  # fmt: skip
        _wait_for_workers(ui, 2, procs, logs, timeout=180)
        print(f"standalone cluster up: {time.perf_counter() - started:.1f}s")
        yield master
    finally:
        for proc in reversed(procs):
            _kill_group(proc)
        leftovers = []
        for proc in procs:
            try:
                os.killpg(proc.pid, 0)
                leftovers.append(proc.pid)
            except ProcessLookupError:
                pass
        assert not leftovers, f"process groups still alive: {leftovers}"


def _wait_for_workers(ui_port: int, count: int, procs, logs, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                pytest.fail(f"{log.stem} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as r:
                state = json.load(r)
            alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
            if len(alive) >= count:
                return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"{count} workers did not register within {timeout}s: {state}")


def test_standalone_cluster_with_packaged_code(standalone, reference, bare_python, tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "package.py"), "--zip-only", "--dist", str(dist)],
        check=True,
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        SPARK_LOCAL_IP="127.0.0.1",
        PYSPARK_PYTHON=str(bare_python),
        PYSPARK_DRIVER_PYTHON=str(bare_python),
    )
    output = tmp_path / "model"
    started = time.perf_counter()
    _run(
        [
            str(SPARK_SUBMIT),
            "--master",
            standalone,
            "--deploy-mode",
            "client",
            "--properties-file",
            str(ROOT / "conf" / "spark-defaults.conf"),
            *SMALL,
            "--conf",
            "spark.driver.host=127.0.0.1",
            "--conf",
            "spark.driver.bindAddress=127.0.0.1",
            "--conf",
            "spark.ui.enabled=false",
            "--py-files",
            str(dist / "sparklr.zip"),
            str(ROOT / "jobs" / "train.py"),
            *_set_args(output),
        ],
        env,
        tmp_path / "submit.log",
    )
    print(f"standalone submit: {time.perf_counter() - started:.1f}s")
    model = _load(output)
    _assert_same_model(model, reference)
    locations = model["block_locations"]
    assert len(locations) == 2, f"expected blocks on both executors, got {locations}"
    # each worker's own local dir (SPARK_LOCAL_DIRS set by the fixture) holds blocks
    assert sorted(
        Path(key.split(":", 1)[1]).relative_to(tmp_path).parts[0] for key in locations
    ) == [
        "local1",
        "local2",
    ], locations
