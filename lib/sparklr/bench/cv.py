"""The cross-validation benchmark (``jobs/benchmark_cv.py``): K-fold CV over a λ path with
sparklr's job against one single fit and against MLlib's ``CrossValidator``, ratios in one run
on the same data (issue 14, "Performance"). Every leg is a fresh process, as users run it.

    python jobs/benchmark_cv.py [--rows 1000000] [--features 20] [--json PATH]
    python jobs/benchmark_cv.py --sparse [--rows 200000] [--features 16384] [--json PATH]

The data, written once and reused when present:

* dense (default): ``--rows`` × ``--features`` seeded logistic doubles with 0/1 labels, written
  with pyarrow into ``--files`` Parquet files in ``--workdir``
  (:func:`sparklr.bench.job.write_data`);
* ``--sparse``: the sparse benchmark's rows (:mod:`sparklr.bench.sparse_data`: binary, Zipf
  columns, its default 30 non-zeros per row, Zipf 1.1, true density 0.1, seed 7) at
  :data:`SPARSE` rows × features unless ``--rows``/``--features`` say otherwise, as ``label``
  + a sparse ``features`` vector column, written by a child process (``cv_mllib sparse-data``)
  into ``--sparse-cache-dir``, the sparse benchmark's cache. The job reads it with
  ``data.features_col = features`` (CSR blocks), MLlib takes the column as it is.

Then, in this order, each leg one process whose wall runs from its launch to its exit (Python
and JVM start-up, load, fitting, publishing, session stop):

(b) sparklr's CV as users run it: one ``jobs/train.py`` process with ``tune.path = --path``
    (N λ geometric from λ_max down to ``tune.path_ratio`` · λ_max), ``tune.folds = --folds``,
    ``tune.metric``, ``tune.seed``, ``train.optimizer = lbfgs``: its wall seconds, the CV's
    seconds and passes (cv.json "cost"), the full-data path's passes (path.json), the chosen λ̂
    (cv.json) and the λ grid (path.json). It runs first because the grid comes from it.
(a) one single fit from cold: a fresh ``jobs/train.py`` process, lbfgs at the smallest λ of
    that grid, no [tune]: wall seconds, the load and training seconds it prints, iterations
    and passes (model.json, history.json).
(c) MLlib as users run it: a fresh ``python -m sparklr.bench.cv_mllib fit`` process (its own
    SparkSession): the same Parquet read, ``VectorAssembler`` into ``features`` (dense data),
    cached and counted; then ``CrossValidator(LogisticRegression, ParamGridBuilder()
    .addGrid(regParam, the same N λ), numFolds=K, parallelism=1, seed)`` fitted: K × N fits
    from scratch and the refit at the best λ; the session stopped. Its process wall, and the
    session start, load, fit and stop seconds it measured inside. The evaluator is
    tune.metric's (:func:`sparklr.bench.cv_mllib.evaluator`).

All three get the same ``spark.master`` (``--master``) and ``spark.driver.memory``
(``--driver-memory``; the jobs through ``spark.conf``), and this interpreter for the driver and
the Python workers. The benchmark's own process starts no JVM.

Both tools fit the same objective: J = (1/m) Σ L + λ ½‖w̃‖² on standardized features, the
intercept unpenalized — sparklr's λ is MLlib's ``regParam`` (docs/optimizers.md), so MLlib
gets standardization=True, elasticNetParam=0, fitIntercept=True, the same λ values and the
same ``--max-iter``/``--tol`` numbers. The stopping rules differ (sparklr: ‖∇J‖₂ ≤ tol; MLlib's
L-BFGS: relative change of J ≤ tol), so MLlib stops earlier at the same number — in its
favour. The run checks the claim: MLlib's best model (all rows, at its λ̂) against sparklr's
path point at the same λ (path.json, all rows), max |Δw| / max |w| printed.

The chosen λ may differ: MLlib's folds are random splits (``rand(seed)`` per row, so fold
sizes vary) standardized by each training part's own deviations, sparklr's are hash folds
fixed in the blocks (f = h(seed, row) mod K) standardized by the full data's; the fold means
differ by sampling noise, so where the CV curve is flat the argmin can move by a grid step.
Ties go to the larger λ in both (the grid is in decreasing λ and MLlib takes the first best).
The printed agreement is the index difference on the grid. On the dense synthetic data the
curve often still falls at the grid's end (a million rows need little penalty): then both
pick the smallest λ; ``--path-ratio`` reaches further down.

Ratios, of the process walls: (b)/(a) ≤ 3 and (c)/(b) ≥ 10.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from sparklr.app.common import run_job
from sparklr.bench.cv_report import (
    CvBenchResult,
    MllibCv,
    SingleFit,
    SparklrCv,
    format_table,
    grid_index,
    to_json,
)
from sparklr.bench.job import ROOT, TrainRun, run_train, write_data
from sparklr.bench.report import publish
from sparklr.bench.sparse_data import SparseShape

#: --quick: every step on a small problem, a few minutes on a quiet laptop (--sparse: 512
#: features, the sparse benchmark's quick width).
QUICK = dict(rows=20_000, features=5, files=2, path=4, folds=3)
QUICK_SPARSE_FEATURES = 512
#: The dense defaults: the issue's 1,000,000 × 20 in 4 files.
DENSE = dict(rows=1_000_000, features=20, files=4)
#: The --sparse defaults (rows, features, files); see docs/tuning.md "Benchmark" for why.
SPARSE = dict(rows=200_000, features=1 << 14, files=SparseShape().partitions)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmark_cv.py", description=__doc__.split("\n")[0])
    p.add_argument("--sparse", action="store_true", help="the sparse benchmark's data")
    p.add_argument("--rows", type=int, help=f"default {DENSE['rows']} ({SPARSE['rows']} sparse)")
    p.add_argument("--features", type=int, help=f"default {DENSE['features']} "
                   f"({SPARSE['features']} sparse)")  # fmt: skip
    p.add_argument("--files", type=int, help="Parquet files the rows are written to")
    p.add_argument("--path", type=int, default=20, help="tune.path: values of λ")
    p.add_argument("--path-ratio", type=float, default=1e-4, help="tune.path_ratio")
    p.add_argument("--folds", type=int, default=5, help="tune.folds and numFolds")
    p.add_argument("--metric", choices=["log_loss", "auc"], default="log_loss")
    p.add_argument("--seed", type=int, default=0, help="tune.seed and CrossValidator's seed")
    p.add_argument("--tol", type=float, default=1e-6, help="train.tol and MLlib's tol")
    p.add_argument("--max-iter", type=int, default=100, help="train.max_iter and maxIter")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--driver-memory", default="4g", help="spark.driver.memory of every leg")
    p.add_argument("--workdir", default="out/benchmark-cv")
    p.add_argument("--sparse-cache-dir", default="out/benchmark-sparse-data")
    p.add_argument("--skip-mllib", action="store_true")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    p.add_argument("--json", help="write all figures here")
    args = p.parse_args(argv)
    defaults = SPARSE if args.sparse else DENSE
    if args.quick:
        defaults = QUICK | ({"features": QUICK_SPARSE_FEATURES} if args.sparse else {})
    for key, value in defaults.items():
        if getattr(args, key, None) is None or args.quick:
            setattr(args, key, value)
    return args


def sparse_shape(args: argparse.Namespace) -> SparseShape:
    """The sparse benchmark's default shape at ``--rows`` × ``--features`` in ``--files``."""
    return dataclasses.replace(
        SparseShape(), rows=args.rows, features=args.features, partitions=args.files
    )


def prepare_data(args: argparse.Namespace) -> Path:
    """The Parquet dataset of the run (see the module docstring), written when absent."""
    if not args.sparse:
        work = Path(args.workdir).resolve()
        data = work / f"data-{args.rows}x{args.features}-{args.files}files.parquet"
        write_data(data, args.rows, args.features, args.files)
        return data
    shape, cache = sparse_shape(args), Path(args.sparse_cache_dir).resolve()
    data = cache / shape.key()
    if not (data / "_SUCCESS").exists():
        child = ["sparse-data", "--shape", json.dumps(dataclasses.asdict(shape))]
        _run_child([*child, "--cache-dir", str(cache), *_session_args(args)])
    return data


def job_sets(args: argparse.Namespace, data: Path) -> list[str]:
    """The ``--set`` of every job run: the data (its vector column with --sparse), the master
    and driver memory, lbfgs with the shared tol and max_iter."""
    return [
        "data.format=parquet",
        f"data.path={data}",
        *(["data.features_col=features"] if args.sparse else []),
        f"spark.master={args.master}",
        f"spark.conf.spark.driver.memory={args.driver_memory}",
        "train.optimizer=lbfgs",
        f"train.tol={args.tol}",
        f"train.max_iter={args.max_iter}",
    ]


def tune_sets(args: argparse.Namespace) -> list[str]:
    return [
        f"tune.path={args.path}",
        f"tune.path_ratio={args.path_ratio}",
        f"tune.folds={args.folds}",
        f'tune.metric="{args.metric}"',
        f"tune.seed={args.seed}",
    ]


def _passes(history: list[dict]) -> int:
    return sum(record["evaluations"] for record in history)


def read_single_fit(run: TrainRun, reg_param: float) -> SingleFit:
    return SingleFit(
        reg_param=reg_param,
        wall=run.wall,
        load_seconds=run.load_seconds,
        train_seconds=run.train_seconds,
        iterations=run.iterations,
        passes=_passes(run.history),
        stop_reason=run.model["stop_reason"],
    )


def read_cv_outputs(run: TrainRun, out: Path) -> SparklrCv:
    """(b)'s figures from its process and the files it published (cv.json, path.json)."""
    cv = json.loads((out / "cv.json").read_text())
    path = json.loads((out / "path.json").read_text())["points"]
    cost = cv.get("cost", cv)  # the CV's cost: top-level passes/seconds, or a "cost" object
    return SparklrCv(
        wall=run.wall,
        load_seconds=run.load_seconds,
        path_passes=sum(p["evaluations"] for p in path),
        cv_passes=cost["passes"],
        cv_seconds=cost["seconds"],
        refit_iterations=run.iterations,
        reg_params=[p["reg_param"] for p in path],
        chosen_reg_param=cv["reg_param"],
        chosen_mean=cv["mean"],
    )


def path_point(out: Path, reg_param: float) -> tuple[np.ndarray, float]:
    """sparklr's full-data fit at ``reg_param`` from path.json: (w, b) on the original scale."""
    points = json.loads((out / "path.json").read_text())["points"]
    p = points[grid_index([q["reg_param"] for q in points], reg_param)]
    return np.asarray(p["coefficients"], dtype=np.float64), float(p["intercept"])


def coefficient_difference(
    w_ml: np.ndarray, b_ml: float, out: Path, reg_param: float
) -> tuple[float, float]:
    """MLlib's best model (w_ml, b_ml) against sparklr's path point at the same λ:
    max |Δw| / max |w| and |Δb|."""
    w, b = path_point(out, reg_param)
    return float(np.abs(w_ml - w).max() / np.abs(w).max()), abs(b_ml - b)


def run(args: argparse.Namespace) -> CvBenchResult:
    """The whole benchmark (see the module docstring)."""
    work = Path(args.workdir).resolve()
    data = prepare_data(args)
    loadavg_start = list(os.getloadavg())
    base = job_sets(args, data)
    cv_out = work / "model-cv"
    cv = read_cv_outputs(run_train(ROOT, [*base, *tune_sets(args)], cv_out), cv_out)
    smallest = min(cv.reg_params)
    single_run = run_train(ROOT, [*base, f"train.reg_param={smallest!r}"], work / "model-single")
    result = CvBenchResult(
        data="sparse" if args.sparse else "dense",
        sparse_shape=dataclasses.asdict(sparse_shape(args)) if args.sparse else None,
        rows=args.rows,
        features=args.features,
        files=args.files,
        folds=args.folds,
        path=args.path,
        metric=args.metric,
        tol=args.tol,
        max_iter=args.max_iter,
        seed=args.seed,
        master=args.master,
        data_path=str(data),
        loadavg_start=loadavg_start,
        single=read_single_fit(single_run, smallest),
        cv=cv,
    )
    if args.skip_mllib:
        result.skipped["mllib"] = "--skip-mllib"
    else:
        result.mllib = measure_mllib(args, data, cv.reg_params, cv_out, work / "mllib.json")
    result.loadavg_end = list(os.getloadavg())
    return result


def _session_args(args: argparse.Namespace) -> list[str]:
    return ["--master", args.master, "--driver-memory", args.driver_memory]


def _run_child(child_args: list[str]) -> float:
    """``python -m sparklr.bench.cv_mllib child_args`` in a fresh process (this interpreter for
    the driver and the workers, this checkout's lib/): its wall seconds, launch to exit; a
    RuntimeError with the end of its stderr when it fails."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"), PYSPARK_PYTHON=sys.executable)
    cmd = [sys.executable, "-m", "sparklr.bench.cv_mllib", *child_args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"cv_mllib {child_args[0]} exited {proc.returncode}:\n"
                           f"{proc.stderr[-3000:]}")  # fmt: skip
    return wall


def measure_mllib(
    args: argparse.Namespace, data: Path, grid: list[float], cv_out: Path, figures: Path
) -> MllibCv:
    """Leg (c) on ``grid``: the child's process wall, the figures it wrote to ``figures``, and
    its best model against sparklr's path point at the same λ (path.json in ``cv_out``)."""
    figures.unlink(missing_ok=True)
    wall = _run_child([
        "fit", "--data", str(data), "--reg-params", *map(repr, grid),
        *(["--features-col", "features"] if args.sparse else []),
        "--folds", str(args.folds), "--metric", args.metric, "--seed", str(args.seed),
        "--tol", repr(args.tol), "--max-iter", str(args.max_iter), *_session_args(args),
        "--out", str(figures),
    ])  # fmt: skip
    got = json.loads(figures.read_text())
    w_ml, b_ml = np.asarray(got.pop("coefficients")), float(got.pop("intercept"))
    rel_w, diff_b = coefficient_difference(w_ml, b_ml, cv_out, got["chosen_reg_param"])
    return MllibCv(**got, wall=wall, coefficient_rel_diff=rel_w, intercept_diff=diff_b)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> int:
        result = run(args)
        publish(format_table(result), to_json(result), args.json)
        return 0

    return run_job(body)
