"""The job as users run it (``jobs/benchmark_job.py``): whole ``jobs/train.py`` runs, not a loop.

Per-iteration cost of the job = the difference of two whole runs on the same data divided by
the difference of their iteration counts, (T(long) − T(short)) / (long − short), with T the
wall time of the ``jobs/train.py`` process (start-up, load, training, metrics, publishing all
cancel out); beside it the training seconds the job itself records (``history.json``). The
reference is a single-process NumPy GD step on the same rows, X w + b → σ → Xᵀ(a − y), timed
in this process. With ``--compare-with DIR`` the same runs are made with the checkout in DIR
(e.g. a worktree of an earlier commit), alternating with this one, so before and after come
from one run on one machine.

``--make-run``: instead, the default job as ``make run`` runs it (``conf/train.toml``, no
``--set`` but the output path), ``--repeats`` times per tree, alternating: wall seconds of each
run, their median, and the job's own load and training seconds (the rest is Python and JVM
start, metrics, publishing and stop). ``sparklr/bench/stamped_train.py`` gives a run's phases.

The data: ``--rows`` × ``--features`` doubles with 0/1 labels, written with pyarrow into
``--files`` Parquet files (as a table produced by a Spark job would be), once per work dir.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sparklr.bench.timing import median, timed

ROOT = Path(__file__).resolve().parents[3]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmark_job.py", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--features", type=int, default=50)
    p.add_argument("--files", type=int, default=4, help="Parquet files the rows are written to")
    p.add_argument("--short", type=int, default=5, help="iterations of the short run")
    p.add_argument("--long", type=int, default=45, help="iterations of the long run")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--repeats", type=int, default=1, help="pairs of runs (medians)")
    p.add_argument("--compare-with", default="", help="another checkout to run the same way")
    p.add_argument("--make-run", action="store_true", help="time the default job instead")
    p.add_argument("--workdir", default="out/benchmark-job")
    p.add_argument("--set", action="append", default=[], help="extra train.py --set KEY=VALUE")
    return p.parse_args(argv)


def write_data(path: Path, rows: int, features: int, files: int) -> None:
    """Seeded logistic data in ``files`` Parquet files (skipped when ``path`` exists)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    w = rng.standard_normal(features) / np.sqrt(features)
    for f, chunk in enumerate(np.array_split(np.arange(rows), files)):
        X = rng.standard_normal((len(chunk), features))
        y = (rng.random(len(chunk)) < 1 / (1 + np.exp(-(X @ w)))).astype(np.int64)
        columns = {f"x{j}": X[:, j] for j in range(features)} | {"label": y}
        pq.write_table(pa.table(columns), tmp / f"part-{f:05d}.parquet", row_group_size=1 << 17)
    tmp.rename(path)


@dataclass(frozen=True)
class TrainRun:
    """One whole ``jobs/train.py`` process: its wall seconds, the load and training seconds it
    printed, its ``model.json`` and ``history.json``."""

    wall: float
    load_seconds: float
    train_seconds: float
    model: dict
    history: list[dict]

    @property
    def iterations(self) -> int:
        return self.model["iterations"]


def run_train(
    tree: Path, sets: list[str], out: Path, env: dict[str, str] | None = None
) -> TrainRun:
    """Run ``tree``'s ``jobs/train.py`` with ``--set`` ``sets`` (and output.path = ``out``) in a
    fresh process, this interpreter for the driver and the workers; a RuntimeError with the
    end of its stderr when it fails."""
    env = dict(env or os.environ, PYTHONPATH=str(tree / "lib"), PYSPARK_PYTHON=sys.executable)
    cmd = [sys.executable, str(tree / "jobs" / "train.py")]
    for s in [*sets, f"output.path={out}", "output.overwrite=true"]:
        cmd += ["--set", s]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{tree}: train.py exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    times = re.search(r"time: ([\d.]+)s loading, ([\d.]+)s training", proc.stdout)
    if times is None:
        raise RuntimeError(f"{tree}: train.py printed no 'time:' line:\n{proc.stdout[-2000:]}")
    return TrainRun(
        wall=wall,
        load_seconds=float(times[1]),
        train_seconds=float(times[2]),
        model=json.loads((out / "model.json").read_text()),
        history=json.loads((out / "history.json").read_text()),
    )


def run_job(tree: Path, data: Path, out: Path, iterations: int, args) -> dict:
    """One whole GD run of ``tree`` on the dense data: wall seconds and the job's own figures."""
    sets = [
        f"data.path={data}",
        "data.format=parquet",
        f"spark.master={args.master}",
        f"train.max_iter={iterations}",
        "train.tol=0",
        "train.learning_rate=0.5",
        *args.set,
    ]
    run = run_train(tree, sets, out)
    return {
        "wall": run.wall,
        "load_and_train": run.load_seconds + run.train_seconds,
        "train": run.history[-1]["seconds"],
        "iterations": run.iterations,
        "partitions": run.model["partitions"],
    }


def numpy_step_seconds(data: Path) -> float:
    """Median seconds of one NumPy GD step X w + b → σ → Xᵀ(a − y) on all rows, in process."""
    import pyarrow.parquet as pq

    table = pq.read_table(data)
    names = [n for n in table.column_names if n != "label"]
    X = np.column_stack([table.column(n).to_numpy() for n in names])
    y = table.column("label").to_numpy().astype(np.float64)
    w, b = np.full(X.shape[1], 0.01), 0.0

    def step():
        a = 1.0 / (1.0 + np.exp(-(X @ w + b)))
        r = a - y
        return X.T @ r, r.sum()

    return median(timed(step, repeats=15, warmup=3))


def compare_make_run(trees: dict[str, Path], repeats: int, work: Path) -> None:
    """Print the wall seconds of ``repeats`` default runs of each tree (alternating)."""
    runs: dict[str, list[TrainRun]] = {name: [] for name in trees}
    for _ in range(repeats):
        for name, tree in trees.items():
            run = run_train(tree, [], work / f"make-run-{name}")
            runs[name].append(run)
            print(f"  {name}: {run.wall:.1f}s", flush=True)
    print(f"make run (conf/train.toml), {repeats} run(s) per tree, alternating")
    print(f"{'tree':<10}{'median':>8}{'load':>7}{'train':>7}{'iter':>6}{'final J':>15}   walls")
    for name, tree_runs in runs.items():
        last = tree_runs[-1]
        walls = " ".join(f"{r.wall:.1f}" for r in tree_runs)
        print(
            f"{name:<10}{median([r.wall for r in tree_runs]):>7.1f}s"
            f"{median([r.load_seconds for r in tree_runs]):>6.1f}s"
            f"{median([r.train_seconds for r in tree_runs]):>6.1f}s{last.iterations:>6}"
            f"{last.history[-1]['loss']:>15.10f}   {walls}"
        )
    if len(runs) == 2:
        this, other = (median([r.wall for r in v]) for v in runs.values())
        print(f"this / compare: {this / other:.2f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.workdir).resolve()
    trees = {"this": ROOT} | (
        {"compare": Path(args.compare_with).resolve()} if args.compare_with else {}
    )
    if args.make_run:
        compare_make_run(trees, args.repeats, work)
        return 0
    data = work / f"data-{args.rows}x{args.features}-{args.files}files.parquet"
    write_data(data, args.rows, args.features, args.files)
    runs: dict[str, dict[int, list[dict]]] = {k: {args.short: [], args.long: []} for k in trees}
    for _ in range(args.repeats):
        for name, tree in trees.items():  # alternate the trees, so load drifts hit both
            for n in (args.short, args.long):
                runs[name][n].append(run_job(tree, data, work / f"model-{name}-{n}", n, args))
    numpy_s = numpy_step_seconds(data)
    print(
        f"sparklr job benchmark: {args.rows:,} x {args.features}, {args.files} Parquet files, "
        f"{args.master}; runs of {args.short} and {args.long} GD iterations"
    )
    print(
        f"{'tree':<10}{'blocks':>7}{'wall short':>12}{'wall long':>11}"
        f"{'job s/iter':>12}{'train s/iter':>14}{'/ NumPy':>9}{'wall/(load+train)':>19}"
    )
    for name in trees:
        short = runs[name][args.short]
        long_ = runs[name][args.long]
        ws, wl = median([r["wall"] for r in short]), median([r["wall"] for r in long_])
        per_iter = (wl - ws) / (args.long - args.short)
        per_train = median([r["train"] for r in long_]) - median([r["train"] for r in short])
        per_train /= args.long - args.short
        overhead = wl / median([r["load_and_train"] for r in long_])
        print(
            f"{name:<10}{long_[0]['partitions']:>7}{ws:>11.1f}s{wl:>10.1f}s"
            f"{per_iter:>11.4f}s{per_train:>13.4f}s{per_iter / numpy_s:>9.2f}"
            f"{overhead:>19.2f}"
        )
    print(f"NumPy GD step, one process (median of 15): {numpy_s:.4f} s")
    return 0
