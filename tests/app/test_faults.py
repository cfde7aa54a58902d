"""Executor faults: under ``local-cluster[2,1,1024]`` (two real executor JVMs), one task fails
on its first attempt (the test-only hook in sparklr.spark.iteration, switched on through
``spark.executorEnv`` by this test only) and one executor JVM is SIGKILLed mid-training.
The run must complete and give the fault-free model bit for bit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sparklr.spark.iteration import FAULT_ENV

from tests.app.conftest import PLAIN, ROOT, SPARK_SUBMIT, TRAIN, data_args

MAX_ITER = 14
FAULT_AT = "3:1"  # evaluation 3, partition 1: its first attempt raises


def _train_args(data: Path, output: Path) -> list[str]:
    return [
        *data_args(data),
        "--set",
        f"output.path={output}",
        "--set",
        "data.partitions=2",
        "--set",
        f"train.max_iter={MAX_ITER}",
        "--set",
        "train.tol=0",
        "--set",
        "train.checkpoint_every=1",
        "--set",
        "train.log_every=1",
        "--set",
        "spark.log_level=WARN",
        *PLAIN,
    ]


def _children(pid: int) -> dict[int, str]:
    """All descendants of ``pid`` with their command lines (from /proc)."""
    parents: dict[int, int] = {}
    cmdlines: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        cmdlines[int(entry)] = cmdline
    found, frontier = {}, [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                found[child] = cmdlines[child]
                frontier.append(child)
    return found


def _executors(pid: int) -> list[int]:
    return sorted(p for p, cmd in _children(pid).items() if "CoarseGrainedExecutorBackend" in cmd)


def _checkpoint_iteration(output: Path) -> int:
    path = output.parent / f".{output.name}.sparklr-partial" / "checkpoint.json"
    try:
        return json.loads(path.read_text())["state"]["iteration"]
    except (OSError, ValueError, KeyError):
        return -1


def _coefficients(output: Path) -> np.ndarray:
    model = json.loads((output / "model.json").read_text())
    return np.array([*model["coefficients"], model["intercept"]], dtype=np.float64)


def test_lost_task_and_lost_executor_give_the_same_model(tmp_path, datasets, job_env):
    data = datasets["good"]
    cluster_out, local_out = tmp_path / "cluster", tmp_path / "local"
    assert FAULT_ENV not in job_env
    # The in-process master and workers of local-cluster bind where SPARK_LOCAL_IP says.
    cluster_env = {**job_env, "SPARK_LOCAL_IP": "127.0.0.1"}
    logs = {name: open(tmp_path / f"{name}.log", "w+") for name in ("cluster", "local")}
    cluster = subprocess.Popen(
        [
            SPARK_SUBMIT,
            "--master",
            "local-cluster[2,1,1024]",
            "--conf",
            "spark.executor.memory=512m",
            "--conf",
            f"spark.executorEnv.{FAULT_ENV}={FAULT_AT}",
            "--conf",
            "spark.ui.enabled=false",
            TRAIN,
            *_train_args(data, cluster_out),
        ],
        env=cluster_env,
        cwd=ROOT,
        stdout=logs["cluster"],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # The fault-free reference, in local mode, at the same time.
    local = subprocess.Popen(
        [sys.executable, TRAIN, *_train_args(data, local_out), "--set", "spark.master=local[2]"],
        env=job_env,
        cwd=ROOT,
        stdout=logs["local"],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    killed = None
    try:
        # Generous: on a loaded 2-core machine executors took 60-100 s to register.
        deadline = time.monotonic() + 480
        while _checkpoint_iteration(cluster_out) < 6:
            if cluster.poll() is not None:
                break
            assert time.monotonic() < deadline, "no checkpoint within 480 s"
            time.sleep(0.05)
        executors = _executors(cluster.pid)
        if cluster.poll() is None and len(executors) == 2:
            killed = executors[0]
            os.kill(killed, signal.SIGKILL)
        cluster.wait(timeout=480)
        local.wait(timeout=480)
    finally:
        for proc in (cluster, local):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for fh in logs.values():
            fh.close()
    err = (tmp_path / "cluster.log").read_text()
    local_err = (tmp_path / "local.log").read_text()
    assert local.returncode == 0, local_err[-3000:]
    assert cluster.returncode == 0, err[-5000:]
    assert killed is not None, "the run ended before an executor could be killed"
    assert "injected fault (evaluation 3, partition 1)" in err
    assert "lost executor" in err.lower() or "executorlost" in err.lower(), err[-5000:]
    assert _coefficients(cluster_out).tobytes() == _coefficients(local_out).tobytes()
    model = json.loads((cluster_out / "model.json").read_text())
    assert model["iterations"] == MAX_ITER and model["partitions"] == 2


@pytest.mark.parametrize("value", ["", None])
def test_fault_hook_is_off_by_default(value, monkeypatch):
    """Without the variable (or with it empty) the hook never fails a task, not even the one
    it would fail when armed; armed, it fails exactly that task's first attempt."""
    from sparklr.spark import iteration

    attempt = [0]

    class Task:  # stands in for pyspark's TaskContext of the running task
        get = staticmethod(lambda: Task)
        attemptNumber = staticmethod(lambda: attempt[0])

    monkeypatch.setattr(iteration, "TaskContext", Task)
    if value is None:
        monkeypatch.delenv(FAULT_ENV, raising=False)
    else:
        monkeypatch.setenv(FAULT_ENV, value)
    assert iteration._maybe_inject_fault(3, 1) is None
    monkeypatch.setenv(FAULT_ENV, "3:1")
    iteration._maybe_inject_fault(3, 0)  # another partition: no fault
    with pytest.raises(RuntimeError, match=r"injected fault \(evaluation 3, partition 1\)"):
        iteration._maybe_inject_fault(3, 1)
    attempt[0] = 1
    iteration._maybe_inject_fault(3, 1)  # the retry succeeds
