"""Checkpoints and --resume, and determinism, through the real job.

A run is SIGKILLed after a checkpoint, resumed with ``--resume``, and its model compared byte
for byte with an uninterrupted run; resuming with another config or other data is refused;
two runs agree bit for bit and a different partitioning agrees to 1e-12 relative.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sparklr.errors import ConfigError

from tests.app.conftest import ROOT, TRAIN, base_args, data_args, make_frame, run_batch

MAX_ITER = 40


def _args(data: Path, output: Path, *extra: str) -> list[str]:
    return [
        *data_args(data),
        *base_args(output),
        "--set",
        "data.partitions=2",
        "--set",
        f"train.max_iter={MAX_ITER}",
        "--set",
        "train.tol=0",  # always run MAX_ITER iterations
        "--set",
        "train.checkpoint_every=2",
        "--set",
        "train.log_every=1",
        *extra,
    ]


def _staging(output: Path) -> Path:
    return output.parent / f".{output.name}.sparklr-partial"


def _checkpoint_iteration(output: Path) -> int:
    try:
        return json.loads((_staging(output) / "checkpoint.json").read_text())["state"]["iteration"]
    except (OSError, ValueError, KeyError):
        return -1


def _kill_after_checkpoint(args: list[str], output: Path, env: dict, at_least: int) -> int:
    """Start the job, SIGKILL its driver once a checkpoint of ``at_least`` iterations exists."""
    proc = subprocess.Popen(
        [sys.executable, TRAIN, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while _checkpoint_iteration(output) < at_least:
            if proc.poll() is not None:
                pytest.fail(f"job ended (rc {proc.returncode}) before it could be killed")
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return _checkpoint_iteration(output)
    finally:
        # The driver's JVM child exits when its stdin closes; make sure nothing we started lingers.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.stderr.close()


def _coefficients(output: Path) -> tuple[np.ndarray, dict]:
    model = json.loads((output / "model.json").read_text())
    return np.array([*model["coefficients"], model["intercept"]], dtype=np.float64), model


@pytest.fixture(scope="module")
def runs(tmp_path_factory, job_env):
    root = tmp_path_factory.mktemp("resume")
    data = root / "train.parquet"
    make_frame(400, seed=7).to_parquet(data, index=False)
    other = root / "other.parquet"
    make_frame(400, seed=8).to_parquet(other, index=False)

    killed = root / "killed"
    at = _kill_after_checkpoint(_args(data, killed), killed, job_env, at_least=4)
    assert not killed.exists() and at >= 4
    left_after_kill = sorted(p.name for p in _staging(killed).iterdir())
    # Two copies of the interrupted state, for the refused resumes.
    for name in ("other_config", "other_data"):
        shutil.copytree(_staging(killed), _staging(root / name))

    cases = {
        "resumed": _args(data, killed, "--resume"),
        "full": _args(data, root / "full"),
        "again": _args(data, root / "again"),
        "three_parts": _args(data, root / "three_parts", "--set", "data.partitions=3"),
        "other_config": _args(
            data, root / "other_config", "--resume", "--set", "train.learning_rate=0.5"
        ),
        # Same config, but the file now holds other rows (copied just before this case).
        "other_data": {
            "argv": _args(data, root / "other_data", "--resume"),
            "copy": [[str(other), str(data)]],
        },
    }
    results = run_batch(list(cases.values()), job_env)
    return root, at, left_after_kill, dict(zip(cases, results, strict=True))


def test_killed_run_left_only_its_checkpoint(runs):
    _, _, left, _ = runs
    assert left == [".sparklr-staging", "checkpoint.json"]


def test_resume_after_sigkill_equals_uninterrupted_run(runs):
    root, at, _, results = runs
    for name in ("resumed", "full"):
        assert results[name].rc == 0, results[name].stderr[-3000:]
    assert f"resuming at iteration {at}" in results["resumed"].stderr
    resumed, resumed_model = _coefficients(root / "killed")
    full, full_model = _coefficients(root / "full")
    assert resumed.tobytes() == full.tobytes()
    assert resumed_model["iterations"] == full_model["iterations"] == MAX_ITER
    assert resumed_model["final_loss"] == full_model["final_loss"]
    history = json.loads((root / "killed" / "history.json").read_text())
    assert [r["iteration"] for r in history] == list(range(MAX_ITER + 1))
    assert not _staging(root / "killed").exists()


def test_same_inputs_give_identical_bytes(runs):
    root, _, _, results = runs
    assert results["again"].rc == 0, results["again"].stderr[-3000:]
    assert _coefficients(root / "again")[0].tobytes() == _coefficients(root / "full")[0].tobytes()


def test_other_partitioning_agrees_to_1e_12(runs):
    root, _, _, results = runs
    assert results["three_parts"].rc == 0, results["three_parts"].stderr[-3000:]
    three, model = _coefficients(root / "three_parts")
    two, _ = _coefficients(root / "full")
    assert model["partitions"] == 3
    np.testing.assert_allclose(three, two, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name, what", [("other_config", "config"), ("other_data", "data")])
def test_resume_refuses_a_different_config_or_data(runs, name, what):
    root, _, _, results = runs
    result = results[name]
    assert result.rc == ConfigError.exit_code, result.stderr[-3000:]
    assert f"the {what} differs from the checkpointed run" in result.error
    assert not (root / name).exists()
    # The checkpoint is kept: the right config/data can still resume from it.
    assert (_staging(root / name) / "checkpoint.json").exists()
