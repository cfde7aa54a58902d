"""The sparse benchmark (``jobs/benchmark_sparse.py``): sparklr on wide, sparse, binary data
against MLlib and scipy.sparse, ratios in one run on the same data.

    python jobs/benchmark_sparse.py [--rows 2000000] [--features 1048576] [--nnz 30] [--json PATH]

The data (:mod:`sparklr.bench.sparse_data`) is generated on the executors and written once to
Parquet (label + a sparse ``features`` vector column) in ``--cache-dir``, keyed by its shape
and seed. Then, in this order (so that no two big copies of the data are held at once):

1. sparklr as users run it: whole ``jobs/train.py`` processes with ``data.format = parquet``
   and ``data.features_col = features`` (``--sparklr-input columns``: the same rows as plain
   columns instead, the input the job reads before vector columns exist). Per GD iteration =
   the difference of two runs (``--short``, ``--long`` iterations, tol 0, learning rate 0.5)
   over the difference of their iterations, standardization off and on; load = the job's own
   "loading" seconds (median over the runs; each a fresh JVM); block bytes from model.json;
   one lbfgs + L2 run to convergence for the time to optimum.
2. MLlib in this process: read + cache + count (``--load-repeats``, median), its cached bytes;
   per L-BFGS iteration from two fits (``--mllib-short``, ``--mllib-long``, tol 0), standardization
   off and on, with the Spark jobs (passes) per iteration; a fit with the same regParam to
   convergence, and a timed refit with maxIter = the first iteration that reached the goal.
3. The Spark session stopped, the Parquet read into one scipy CSR matrix on the driver: the
   scipy step timed, and every final (w, b) judged by sparklr's objective
   (:class:`~sparklr.bench.sparse_baselines.CsrSource`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from sparklr.app.common import run_job
from sparklr.bench.baselines import storage_bytes
from sparklr.bench.job import ROOT, TrainRun, run_train
from sparklr.bench.report import publish
from sparklr.bench.sparse_baselines import (
    CsrSource,
    first_reaching,
    mllib_fit,
    mllib_load,
    objective_value,
    scipy_step_seconds,
)
from sparklr.bench.sparse_data import SparseShape, csr_bytes, dense_twin, ensure_parquet, read_csr
from sparklr.bench.sparse_report import (
    JobIterations,
    MllibIterations,
    Optimum,
    SparseBenchResult,
    format_table,
    to_json,
)
from sparklr.bench.timing import median

#: --quick: a smoke test of every step in about a minute of Spark work.
QUICK = dict(rows=20_000, features=512, nnz=10.0, files=2, short=2, long=6, mllib_short=2,
             mllib_long=5, load_repeats=1, max_iter=100)  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    d = SparseShape()
    p = argparse.ArgumentParser(prog="benchmark_sparse.py", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=d.rows)
    p.add_argument("--features", type=int, default=d.features)
    p.add_argument("--nnz", type=float, default=d.nnz_per_row, help="non-zeros per row (mean)")
    p.add_argument("--zipf", type=float, default=d.zipf, help="exponent s of P(rank r) ~ r^-s")
    p.add_argument("--true-density", type=float, default=d.true_density)
    p.add_argument("--files", type=int, default=d.partitions, help="Parquet files written")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--cache-dir", default="out/benchmark-sparse-data")
    p.add_argument("--workdir", default="out/benchmark-sparse")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--driver-memory", default="4g", help="this process's driver (MLlib)")
    p.add_argument("--mllib-partitions", type=int, default=2, help="MLlib's input partitions")
    p.add_argument("--sparklr-input", choices=["vector", "columns"], default="vector")
    p.add_argument("--short", type=int, default=5, help="GD iterations of the short job run")
    p.add_argument("--long", type=int, default=25, help="GD iterations of the long job run")
    p.add_argument("--mllib-short", type=int, default=5)
    p.add_argument("--mllib-long", type=int, default=15)
    p.add_argument("--load-repeats", type=int, default=3, help="MLlib loads (median)")
    p.add_argument("--reg-param", type=float, default=1e-4, help="L2 of the time to optimum")
    p.add_argument("--max-iter", type=int, default=500, help="lbfgs budget, both tools")
    p.add_argument("--rtol", type=float, default=1e-7, help="goal J*(1 + rtol)")
    p.add_argument("--skip-mllib", action="store_true")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    p.add_argument("--json", help="write all figures here")
    args = p.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    return args


def shape_of(args: argparse.Namespace) -> SparseShape:
    return SparseShape(
        rows=args.rows,
        features=args.features,
        nnz_per_row=args.nnz,
        zipf=args.zipf,
        true_density=args.true_density,
        partitions=args.files,
        seed=args.seed,
    )


class JobRunner:
    """``jobs/train.py`` runs of this checkout on the benchmark's data."""

    def __init__(self, args: argparse.Namespace, data: Path, vector: bool):
        self.args, self.work = args, Path(args.workdir).resolve()
        self.base = [
            "data.format=parquet",
            f"data.path={data}",
            *(["data.features_col=features"] if vector else []),
            f"spark.master={args.master}",
            "train.checkpoint_every=0",
        ]
        self.loads: list[float] = []
        self.block_bytes: int | None = None

    def run(self, name: str, sets: list[str]) -> TrainRun:
        run = run_train(ROOT, [*self.base, *sets], self.work / f"model-{name}")
        self.loads.append(run.load_seconds)
        self.block_bytes = run.model.get("block_bytes", self.block_bytes)
        return run

    def iterations(self, standardize: bool) -> JobIterations:
        a = self.args
        runs = {}
        for n in (a.short, a.long):
            sets = ["train.optimizer=gd", "train.learning_rate=0.5", "train.tol=0"]
            sets += [f"train.max_iter={n}", f"train.standardize={str(standardize).lower()}"]
            runs[n] = self.run(f"gd-{n}-std-{standardize}", sets)
        short, long_ = runs[a.short], runs[a.long]
        done = long_.iterations - short.iterations
        return JobIterations(
            standardize=standardize,
            short=short.iterations,
            long=long_.iterations,
            wall_short=short.wall,
            wall_long=long_.wall,
            per_iteration=(long_.wall - short.wall) / done,
            per_iteration_training=(long_.history[-1]["seconds"] - short.history[-1]["seconds"])
            / done,
            partitions=long_.model["partitions"],
        )

    def optimum(self) -> TrainRun:
        a = self.args
        sets = ["train.optimizer=lbfgs", f"train.reg_param={a.reg_param}", "train.tol=1e-9"]
        return self.run("lbfgs", [*sets, f"train.max_iter={a.max_iter}", "train.standardize=false"])


def run(args: argparse.Namespace) -> SparseBenchResult:
    """The whole benchmark (see the module docstring)."""
    from sparklr.spark.session import build_session

    shape = shape_of(args)
    conf = {
        "spark.driver.memory": args.driver_memory,
        "spark.sql.files.maxPartitionBytes": str(8 << 30),
        "spark.sql.files.minPartitionNum": str(args.mllib_partitions),
    }
    loadavg_start = list(os.getloadavg())
    spark = build_session(args.master, "sparklr-benchmark-sparse", "WARN", conf)
    path, _ = ensure_parquet(spark, shape, Path(args.cache_dir).resolve())
    vector = args.sparklr_input == "vector"
    jobs = JobRunner(args, path if vector else dense_twin(spark, path, shape.features), vector)
    sparklr_its = [jobs.iterations(standardize) for standardize in (False, True)]
    sparklr_opt = jobs.optimum()
    mllib = None if args.skip_mllib else _measure_mllib(spark, str(path), args, sparklr_opt)
    spark.stop()
    X, y = read_csr(path)
    source = CsrSource(X, y)
    result = SparseBenchResult(
        shape=dataclasses.asdict(shape),
        data_path=str(path),
        sparklr_input=args.sparklr_input + ("" if vector else " (dense twin: a stand-in)"),
        master=args.master,
        loadavg_start=loadavg_start,
        skipped={"mllib": "--skip-mllib", "optimum": "--skip-mllib"} if args.skip_mllib else {},
        rows=X.shape[0],
        nnz=X.nnz,
        csr_bytes=csr_bytes(X),
        sparklr_iterations=sparklr_its,
        sparklr_load_seconds=median(jobs.loads),
        sparklr_load_laps=jobs.loads,
        sparklr_block_bytes=jobs.block_bytes,
        scipy_step_seconds=scipy_step_seconds(X, y),
    )
    if mllib is not None:
        _add_mllib(result, mllib, source, sparklr_opt, args)
    result.loadavg_end = list(os.getloadavg())
    return result


def _measure_mllib(spark, path: str, args, sparklr_opt: TrainRun) -> dict:
    """MLlib's loads, cached bytes, iteration fits and its time to the goal (module doc, 2)."""
    laps = []
    for _ in range(args.load_repeats):
        frame, seconds = mllib_load(spark, path)
        laps.append(seconds)
        cached = storage_bytes(spark)
        if len(laps) < args.load_repeats:
            frame.unpersist()
    iterations = []
    for std in (False, True):
        fits = [
            mllib_fit(frame, max_iter=k, tol=0.0, standardization=std)
            for k in (args.mllib_short, args.mllib_long)
        ]
        iterations.append(_mllib_iterations(std, *fits))
    final = mllib_fit(
        frame,
        max_iter=args.max_iter,
        tol=args.rtol / 100,
        standardization=False,
        reg_param=args.reg_param,
    )
    j_star = min(sparklr_opt.model["final_loss"], final.objective_history[-1])
    goal = j_star * (1 + args.rtol)
    k = first_reaching(final.objective_history, goal)
    at_goal = None
    if k is not None:
        at_goal = mllib_fit(
            frame, max_iter=max(k, 1), tol=0.0, standardization=False, reg_param=args.reg_param
        )
    frame.unpersist()
    return {"laps": laps, "cached": cached, "iterations": iterations, "final": final,
            "j_star": j_star, "goal": goal, "at_goal": at_goal}  # fmt: skip


def _mllib_iterations(std: bool, short, long_) -> MllibIterations:
    extra = long_.iterations - short.iterations
    return MllibIterations(
        standardization=std,
        seconds_short=short.seconds,
        seconds_long=long_.seconds,
        iterations_short=short.iterations,
        iterations_long=long_.iterations,
        per_iteration=(long_.seconds - short.seconds) / extra if extra > 0 else None,
        jobs_per_iteration=(long_.jobs - short.jobs) / extra if extra > 0 else None,
    )


def _add_mllib(result: SparseBenchResult, m: dict, source: CsrSource, opt: TrainRun, args):
    """MLlib's figures into ``result``, every final (w, b) judged by sparklr's objective."""
    import numpy as np

    cached = m["cached"]
    result.mllib_load_laps = m["laps"]
    result.mllib_load_seconds = median(m["laps"])
    result.mllib_cached_bytes = cached.memory + cached.disk
    result.mllib_iterations = m["iterations"]
    lam = args.reg_param
    w = np.asarray(opt.model["coefficients"], dtype=np.float64)
    ours = objective_value(source, w, float(opt.model["intercept"]), lam)
    goal = m["goal"]
    reached = next((r for r in opt.history if r["loss"] <= goal), None)
    final, at_goal = m["final"], m["at_goal"]
    result.optimum = Optimum(
        reg_param=lam,
        rtol=args.rtol,
        j_star=m["j_star"],
        goal=goal,
        sparklr_final_j=ours,
        sparklr_final_j_reported=opt.model["final_loss"],
        sparklr_iterations=reached["iteration"] if reached else None,
        sparklr_seconds=reached["seconds"] if reached else None,
        mllib_final_j=objective_value(source, final.coefficients, final.intercept, lam),
        mllib_iterations=at_goal.iterations if at_goal else None,
        mllib_seconds=at_goal.seconds if at_goal else None,
        mllib_j_at_goal_fit=(
            objective_value(source, at_goal.coefficients, at_goal.intercept, lam)
            if at_goal
            else None
        ),
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> int:
        result = run(args)
        publish(format_table(result), to_json(result), args.json)
        return 0

    return run_job(body)
