"""Shared by the job tests: small datasets written once per session, and job runners.

Every runner drives the real job: ``jobs/train.py`` in a subprocess (``run_job``,
``start_job``), or ``sparklr.app.train.main`` — what ``jobs/train.py`` hands to ``sys.exit`` —
for several cases in one subprocess (``run_batch``, see batch_jobs.py) to pay the JVM start once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN = str(ROOT / "jobs" / "train.py")
BATCH = str(ROOT / "tests" / "app" / "batch_jobs.py")
SPARK_SUBMIT = str(Path(sys.executable).with_name("spark-submit"))
FEATURES = ["a", "b", "c"]


@dataclass
class JobResult:
    rc: int
    stderr: str
    stdout: str

    @property
    def errors(self) -> list[str]:
        """The job's own error lines (``sparklr: error: ...``; under spark-submit the JVM may
        write to the same stderr mid-line, so the marker is searched anywhere in a line)."""
        marker = "sparklr: error:"
        return [line[line.index(marker) :] for line in self.stderr.splitlines() if marker in line]

    @property
    def error(self) -> str:
        assert len(self.errors) == 1, f"expected one error line, got:\n{self.stderr[-3000:]}"
        return self.errors[0]


def make_frame(m: int = 400, seed: int = 0) -> pd.DataFrame:
    """A non-separable logistic dataset with features a, b, c and a 0/1 int label."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 3))
    p = 1 / (1 + np.exp(-(X @ np.array([1.0, -2.0, 0.5]) + 0.3)))
    frame = pd.DataFrame(X, columns=FEATURES)
    frame["label"] = (rng.random(m) < p).astype(np.int64)
    return frame


@pytest.fixture(scope="session")
def datasets(tmp_path_factory) -> dict[str, Path]:
    """Good and bad inputs, written once. Keys name the case."""
    root = tmp_path_factory.mktemp("data")
    good = make_frame()
    out: dict[str, Path] = {}

    def parquet(name: str, frame: pd.DataFrame) -> None:
        out[name] = root / f"{name}.parquet"
        frame.to_parquet(out[name], index=False)

    parquet("good", good)
    out["csv"] = root / "good.csv"
    good.to_csv(out["csv"], index=False)
    d = good.copy()
    d.loc[5, "b"] = np.nan
    d.loc[7, "a"] = np.inf
    d.loc[11, "c"] = -np.inf
    parquet("nonfinite", d)
    d = good.copy().astype({"b": "Float64"})
    d.loc[3, "b"] = pd.NA
    parquet("null", d)
    d = good.copy()
    d.loc[4, "label"] = 2
    d.loc[9, "label"] = -1
    parquet("labels_int", d)
    d = good.copy().astype({"label": np.float64})
    d.loc[6, "label"] = 0.5
    parquet("labels_half", d)
    d = good.copy()
    d["label"] = 1
    parquet("one_class", d)
    d = good.copy()
    d["s"] = "text"
    parquet("string_feature", d)
    d = good.copy()
    d["label"] = d["label"].map({0: "no", 1: "yes"})
    parquet("string_label", d)
    parquet("empty", good.iloc[:0])
    d = good.copy()
    margin = d["a"] + 0.5 * d["b"]
    d = d[margin.abs() > 0.5].copy()  # separable with a clear margin
    d["label"] = (margin[d.index] > 0).astype(np.int64)
    parquet("separable", d)
    parquet("tiny", make_frame(16, seed=3))
    # CSV: a null label (empty field) and, separately, a stray word in a numeric column.
    text = good.head(50).to_csv(index=False).splitlines()
    cells = text[8].split(",")
    cells[-1] = ""
    text[8] = ",".join(cells)
    out["csv_null_label"] = root / "null_label.csv"
    out["csv_null_label"].write_text("\n".join(text) + "\n")
    text = good.head(50).to_csv(index=False).splitlines()
    text[12] = "abc," + text[12].split(",", 1)[1]
    out["csv_word"] = root / "word.csv"
    out["csv_word"].write_text("\n".join(text) + "\n")
    # A directory of garbage, and a Parquet directory where one file is corrupt past its
    # header (the schema reads fine, the Spark job reading the rows fails).
    out["garbage_dir"] = root / "garbage"
    out["garbage_dir"].mkdir()
    (out["garbage_dir"] / "part-0.parquet").write_bytes(os.urandom(600))
    out["corrupt_dir"] = root / "corrupt"
    out["corrupt_dir"].mkdir()
    good.iloc[:200].to_parquet(out["corrupt_dir"] / "part-0.parquet", index=False)
    good.iloc[200:].to_parquet(out["corrupt_dir"] / "part-1.parquet", index=False)
    blob = bytearray((out["corrupt_dir"] / "part-1.parquet").read_bytes())
    blob[4:-8] = os.urandom(len(blob) - 12)  # keep the PAR1 magic numbers, break the rest
    (out["corrupt_dir"] / "part-1.parquet").write_bytes(bytes(blob))
    out["unreadable"] = root / "unreadable.parquet"
    shutil.copyfile(out["good"], out["unreadable"])
    out["unreadable"].chmod(0)
    return out


def data_args(path: Path, fmt: str = "parquet", *extra: str) -> list[str]:
    return ["--set", f"data.format={fmt}", "--set", f"data.path={path}", *extra]


#: Over conf/train.toml (the demo default): no validation split, report or Spark ML export,
#: so that these tests see every row and spend their time on what they test.
PLAIN = [
    "--set",
    "data.validation_fraction=0",
    "--set",
    "output.report=false",
    "--set",
    "output.spark_ml=false",
]


def base_args(output: Path, *extra: str) -> list[str]:
    return [
        "--set",
        "spark.master=local[2]",
        "--set",
        f"output.path={output}",
        "--set",
        "spark.log_level=ERROR",
        *PLAIN,
        *extra,
    ]


def run_job(args: list[str], env: dict, *, submit: bool = False, timeout: float = 300):
    """``jobs/train.py`` in its own process (``spark-submit`` when ``submit``)."""
    cmd = [SPARK_SUBMIT, "--master", "local[2]", TRAIN] if submit else [sys.executable, TRAIN]
    proc = subprocess.run(
        [*cmd, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    if submit:
        # spark-submit's PythonRunner merges the driver's stderr into its own stdout.
        return JobResult(proc.returncode, proc.stderr + proc.stdout, proc.stdout)
    return JobResult(proc.returncode, proc.stderr, proc.stdout)


def start_jobs(arg_lists: list[list[str]], env: dict) -> list[subprocess.Popen]:
    """Start several ``jobs/train.py`` processes at once (for cases that fail before Spark)."""
    return [
        subprocess.Popen(
            [sys.executable, TRAIN, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for args in arg_lists
    ]


def wait_jobs(procs: list[subprocess.Popen], timeout: float = 120) -> list[JobResult]:
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        results.append(JobResult(proc.returncode, err, out))
    return results


def run_batch(cases: list, env: dict, *, session: str | None = "local[2]", timeout=600):
    """Several cases through ``sparklr.app.train.main`` in one subprocess (see batch_jobs.py)."""
    cmd = [sys.executable, BATCH] + (["--session", session] if session else [])
    proc = subprocess.run(
        cmd,
        input=json.dumps(cases),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [JobResult(**r) for r in json.loads(proc.stdout)]


def leftovers(output: Path) -> list[str]:
    """Anything of ``output`` on disk: the directory itself or sparklr's siblings of it."""
    parent = output.parent
    if not parent.exists():
        return []
    name = output.name
    return sorted(
        p.name
        for p in parent.iterdir()
        if p.name == name or p.name.startswith((f".{name}.sparklr-", f".{name}.tmp"))
    )


def no_java_env(env: dict) -> dict:
    """An environment in which starting a JVM fails: proves a case fails before Spark."""
    env = dict(env)
    env["JAVA_HOME"] = "/nonexistent-java"
    env["SPARK_HOME"] = "/nonexistent-spark"
    return env
