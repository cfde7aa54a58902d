"""The performance benchmark: sparklr against NumPy, MLlib and scikit-learn, in ONE run.

    python jobs/benchmark.py --rows 2000000 --features 50 --partitions 2 --json bench.json

Everything is measured on the same data, in the same process and SparkSession, so the ratios
it prints compare like with like. By default the data is generated on the executors
(:mod:`sparklr.spark.synthetic`) and written once to Parquet in a scratch directory; both
sparklr and MLlib then load it from there (``--data PATH`` uses an existing Parquet dataset;
``--source generator`` skips Parquet and loads straight from the generator). The NumPy and
scikit-learn baselines read the same Parquet files with pyarrow on the driver (with
``--source generator``: a driver-side ``toArrow()`` of the same DataFrame, benchmark only).

Measured (per-iteration figures are medians over ``--iterations`` timed iterations after
``--warmup`` untimed ones):

* sparklr GD iteration: θ ← θ − α∇J(θ) with J a :class:`~sparklr.objective.LogisticObjective`
  (standardized) over :class:`~sparklr.spark.blockset.BlockSet` (resident blocks); with the
  seconds the tasks spent in the kernel, the Python workers seen and whether any block had to
  be remapped;
* NumPy GD iteration: the same iteration over one in-memory block (float64 and float32),
  interleaved with sparklr's iterations (one of each in turn) so that machine noise hits both
  alike; and the naive X@w / σ / Xᵀr step for reference;
* MLlib ``LogisticRegression`` (regParam 0, standardization on): fit time / iterations with
  ``maxIter`` fixed, the marginal cost of an iteration (two fits), and the fit to convergence;
* scikit-learn lbfgs (unpenalized, on standardized X) to convergence, if installed;
* load to ready blocks: sparklr read + build (as the training job reads: pyarrow in the
  executors for Parquet unless ``--reader spark``) vs MLlib read + VectorAssembler + cache +
  count; ``--load-repeats`` loads of each, alternating, median;
* memory: sparklr's block files per executor and the Python workers' private memory vs the
  raw block bytes; MLlib's cached storage (memory + disk) from Spark's storage info;
* fixed per-iteration overhead: sparklr on a tiny dataset vs an empty Python job (and a JVM
  ``count``) on the same number of partitions;
* float32 storage: iteration time and the relative error of J and ∇J against float64.

A ratio is printed only when both of its terms were measured in this run; otherwise ``n/a``
with the reason.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sparklr.app.common import run_job
from sparklr.errors import ConfigError, DataError
from sparklr.output import write_json_atomic

log = logging.getLogger("sparklr.benchmark")

#: Targets from the performance issue: ratio name → (maximum, description).
TARGETS = {
    "sparklr_over_numpy": 1.2,
    "sparklr_over_mllib_iteration": 0.25,
    "tiny_over_empty_job": 1.3,
    "load_sparklr_over_mllib": 0.5,
    "memory_over_raw": 1.2,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="benchmark.py",
        description="sparklr vs NumPy / MLlib / scikit-learn, measured in one run.",
    )
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--features", type=int, default=50)
    p.add_argument("--partitions", type=int, default=2)
    p.add_argument("--iterations", type=int, default=15, help="timed iterations per method")
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations before timing")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--driver-memory", default="4g", help="for local masters (MLlib's cache)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--data", help="existing Parquet dataset to use instead of generating one")
    p.add_argument("--label", default="label", help="label column of --data")
    p.add_argument(
        "--source",
        choices=["parquet", "generator"],
        default="parquet",
        help="generated data: write Parquet once and load it (default), or load the generator",
    )
    p.add_argument(
        "--reader",
        choices=["auto", "pyarrow", "spark"],
        default="auto",
        help="how sparklr reads Parquet into its blocks (data.reader of the training job)",
    )
    p.add_argument("--workdir", help="scratch directory (default: a temporary directory)")
    p.add_argument("--json", metavar="PATH", help="write all figures as JSON here")
    p.add_argument("--skip-mllib", action="store_true")
    p.add_argument("--skip-sklearn", action="store_true")
    p.add_argument("--skip-float32", action="store_true", help="no float32 accuracy check")
    p.add_argument("--mllib-iterations", type=int, default=10, help="fixed maxIter for MLlib")
    p.add_argument(
        "--load-repeats",
        type=int,
        default=3,
        help="loads of each tool, alternating sparklr and MLlib (median reported)",
    )
    p.add_argument("--tiny-rows", type=int, default=1000, help="rows of the overhead dataset")
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            raise ConfigError("bad command line (see --help)") from None
        raise
    for name in (
        "rows",
        "features",
        "partitions",
        "iterations",
        "mllib_iterations",
        "load_repeats",
    ):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        raise ConfigError("--warmup must be at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv)
    result = run_benchmark(args)
    print(format_table(result))
    if args.json:
        write_json_atomic(Path(args.json), result)
        print(f"\nJSON: {args.json}")
    return 0


# --------------------------------------------------------------------------- helpers


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _timed(fn: Callable[[], Any], repeats: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _gd_iteration_times(objective, n_params: int, lr: float, iterations: int, warmup: int):
    """Per-iteration wall seconds of GD (after ``warmup`` iterations), and the final θ."""
    from sparklr.optimizers import OptimizerState, StopRule, gradient_descent

    stamps: list[float] = []

    def callback(state, record) -> None:
        stamps.append(time.perf_counter())

    theta0 = np.random.default_rng(0).standard_normal(n_params) * 0.01
    theta0[-1] = 0.0
    state = OptimizerState(iteration=0, theta=theta0)
    t0 = time.perf_counter()
    state = gradient_descent(
        objective,
        state,
        learning_rate=lr,
        stop=StopRule(warmup + iterations, 0.0),
        callback=callback,
    )
    marks = [t0, *stamps]
    laps = [b - a for a, b in itertools.pairwise(marks)]
    return laps[warmup : warmup + iterations], state


def _interleaved_gd(objectives: dict, n_params: int, lr: float, iterations: int, warmup: int):
    """GD iterations (θ ← θ − α ∇J(θ), one evaluation each, as :mod:`sparklr.optimizers.gd`)
    of several objectives, taken in turn, so that a noisy machine slows all of them alike.
    Returns per-objective lap seconds (after ``warmup``) and final (θ, J)."""
    theta0 = np.random.default_rng(0).standard_normal(n_params) * 0.01
    theta0[-1] = 0.0
    thetas = {name: theta0.copy() for name in objectives}
    laps: dict[str, list[float]] = {name: [] for name in objectives}
    losses: dict[str, float] = {}
    for k in range(warmup + iterations):
        for name, objective in objectives.items():
            t0 = time.perf_counter()
            ev = objective.evaluate(thetas[name])
            thetas[name] = thetas[name] - lr * ev.grad
            lap = time.perf_counter() - t0
            losses[name] = ev.loss
            if k >= warmup:
                laps[name].append(lap)
    return laps, thetas, losses


def _ratio(num: float | None, den: float | None, why_num: str, why_den: str) -> dict:
    if num is None:
        return {"value": None, "reason": why_num}
    if den is None:
        return {"value": None, "reason": why_den}
    if den <= 0:
        return {"value": None, "reason": "denominator is zero"}
    return {"value": num / den, "reason": ""}


# --------------------------------------------------------------------------- the run


def run_benchmark(args: argparse.Namespace) -> dict[str, Any]:
    from sparklr.spark.session import build_session, is_local_master

    conf = {
        # MLlib's cache must fit in storage memory for a fair comparison.
        "spark.sql.files.maxPartitionBytes": str(8 << 30),
        "spark.sql.files.minPartitionNum": str(args.partitions),
        # --source generator: the NumPy baseline collects the data with toArrow().
        "spark.driver.maxResultSize": "0",
    }
    if is_local_master(args.master):
        conf["spark.driver.memory"] = args.driver_memory
    spark = build_session(args.master, "sparklr-benchmark", "WARN", conf)
    own_workdir = args.workdir is None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="sparklr-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _run(spark, args, workdir)
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(spark, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import pyspark

    from sparklr.spark.data import read_table, select_columns
    from sparklr.spark.synthetic import feature_names, synthetic_frame

    R: dict[str, Any] = {
        "setup": {
            "rows": args.rows,
            "features": args.features,
            "partitions_requested": args.partitions,
            "iterations": args.iterations,
            "warmup": args.warmup,
            "master": args.master,
            "dtype": args.dtype,
            "source": "parquet:" + args.data if args.data else args.source,
            "python": platform.python_version(),
            "pyspark": pyspark.__version__,
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "loadavg_start": list(os.getloadavg()),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
        "skipped": {},
    }
    label = args.label
    # ---------------------------------------------------------------- data
    parquet_path: str | None = None
    if args.data:
        parquet_path = args.data
        probe = read_table(spark, parquet_path, "parquet")
        _, names = select_columns(probe, label, [], exclude=("id",))
    else:
        names = feature_names(args.features)
        raw, _ = synthetic_frame(spark, args.rows, args.features, args.partitions, args.seed)
        if args.source == "parquet":
            parquet_path = str(workdir / "data.parquet")
            t0 = time.perf_counter()
            raw.write.mode("overwrite").parquet(parquet_path)
            R["setup"]["generate_parquet_seconds"] = time.perf_counter() - t0

    def source_frame():
        if parquet_path is not None:
            df = read_table(spark, parquet_path, "parquet")
        else:
            df, _ = synthetic_frame(spark, args.rows, args.features, args.partitions, args.seed)
        frame, _ = select_columns(df, label, names)
        return frame

    # ---------------------------------------------------------------- sparklr load
    from sparklr.objective import FeatureMap, LogisticObjective
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.loading import load_frames

    def build_blocks(dtype: str) -> BlockSet:
        """Read + build sparklr's blocks as the training job does (pyarrow reader for Parquet,
        unless --reader spark)."""
        if parquet_path is None:
            return BlockSet(spark, source_frame(), label, names, dtype=dtype).build()
        frames = load_frames(
            spark, fmt="parquet", path=parquet_path, label=label, features=names,
            reader=args.reader,
        )  # fmt: skip
        return BlockSet(
            spark, frames.train, label, names, dtype=dtype, parquet=frames.parquet
        ).build()

    # Loads alternate (sparklr, MLlib, sparklr, MLlib, ...): the first load in a JVM and a
    # process pays one-time costs (class loading, JIT, query planning code paths, the first
    # touch of fresh memory) that belong to neither tool, and alternating shares them out.
    load_laps: dict[str, list[float]] = {"sparklr": [], "mllib": []}
    blocks = None
    for _ in range(args.load_repeats):
        if blocks is not None:
            blocks.unpersist()
        t0 = time.perf_counter()
        blocks = build_blocks(args.dtype)
        load_laps["sparklr"].append(time.perf_counter() - t0)
        if not args.skip_mllib:
            assembled, seconds = _mllib_assemble(spark, source_frame, label, names)
            load_laps["mllib"].append(seconds)
            assembled.unpersist()
    n = blocks.n_features
    R["setup"]["rows"] = blocks.rows
    R["setup"]["features"] = n
    R["setup"]["partitions"] = blocks.partitions
    R["setup"]["rows_per_block"] = [m.rows for m in blocks.metas]
    from sparklr.spark.build import BUILD_PHASES

    slowest = max(blocks.metas, key=lambda m: sum(m.seconds) if m.seconds else 0.0)
    R["load"] = {
        "repeats": args.load_repeats,
        "sparklr_seconds": _median(load_laps["sparklr"]),
        "sparklr_laps": load_laps["sparklr"],
        "mllib_seconds": _median(load_laps["mllib"]) if load_laps["mllib"] else None,
        "mllib_laps": load_laps["mllib"],
        "sparklr_reader": "pyarrow" if blocks.parquet is not None else "spark",
        "sparklr_build_phases_slowest_block": dict(
            zip(BUILD_PHASES, slowest.seconds, strict=False)
        ),
    }
    log.info("sparklr blocks ready: %d rows in %d blocks", blocks.rows, blocks.partitions)

    fmap = FeatureMap.from_moments(blocks.moments, True)
    objective = LogisticObjective(blocks, fmap)
    lr = 1.0 / objective.lipschitz(blocks.moments)

    # ---------------------------------------------------------------- GD: sparklr vs NumPy
    from sparklr.in_memory import InMemorySource

    X, y = _driver_matrix(spark, parquet_path, source_frame, label, names, blocks, args.master)
    reports: list = []
    blocks.add_listener(reports.append)
    X32 = X.astype(np.float32)
    objectives = {
        "sparklr": objective,
        "numpy_float64": LogisticObjective(InMemorySource((X, y)), fmap),
        "numpy_float32": LogisticObjective(InMemorySource((X32, y)), fmap),
    }
    laps, thetas, losses = _interleaved_gd(objectives, n + 1, lr, args.iterations, args.warmup)
    del objectives, X32
    timed = reports[args.warmup : args.warmup + args.iterations]
    kernel = [max(r.kernel_seconds for r in rep) for rep in timed]
    body = [max(r.seconds for r in rep) for rep in timed]
    pids = sorted({r.pid for rep in reports for r in rep})
    R["sparklr"] = {
        "dtype": args.dtype,
        "iteration_seconds": _median(laps["sparklr"]),
        "iteration_seconds_min": min(laps["sparklr"]),
        "iteration_laps": laps["sparklr"],
        "task_kernel_seconds_max": _median(kernel),
        "task_body_seconds_max": _median(body),
        "python_workers_seen": len(pids),
        "blocks_remapped_after_warmup": sum(r.opened for rep in timed for r in rep),
        # each worker maps each block once (its own page tables, shared page-cache pages):
        # at most workers × blocks mappings over the whole run, however many iterations
        "block_mappings_total": sum(r.opened for rep in reports for r in rep),
        "learning_rate": lr,
        "final_loss": losses["sparklr"],
    }
    R["numpy"] = {"blas": _blas_info()}
    for dt in ("float64", "float32"):
        R["numpy"][f"{dt}_iteration_seconds"] = _median(laps[f"numpy_{dt}"])
        R["numpy"][f"{dt}_iteration_seconds_min"] = min(laps[f"numpy_{dt}"])
        R["numpy"][f"{dt}_iteration_laps"] = laps[f"numpy_{dt}"]

    # ---------------------------------------------------------------- NumPy, float32, sklearn
    _baselines(
        R, spark, args, build_blocks, label, names, blocks, fmap, lr, thetas["sparklr"], X, y
    )
    del X, y

    # ---------------------------------------------------------------- overhead
    R["overhead"] = _overhead(spark, args, lr_rows=args.tiny_rows)
    blocks.unpersist()

    # ---------------------------------------------------------------- MLlib
    if args.skip_mllib:
        R["skipped"]["mllib"] = "--skip-mllib"
    else:
        R["mllib"] = _mllib(spark, source_frame, label, names, args)

    R["ratios"] = _ratios(R)
    R["setup"]["loadavg_end"] = list(os.getloadavg())
    return R


def _baselines(R, spark, args, build_blocks, label, names, blocks, fmap, lr, theta, X, y):
    """Agreement with NumPy, the naive NumPy step, the other dtype, memory, scikit-learn."""
    from sparklr.in_memory import InMemorySource

    n = blocks.n_features
    w_chk, b_chk = fmap.to_raw(theta)
    ref = InMemorySource((X, y)).sums(w_chk, b_chk)
    got = blocks.sums(w_chk, b_chk)
    R["agreement_sparklr_vs_numpy"] = {
        "loss_rel": abs(got.loss - ref.loss) / abs(ref.loss),
        "grad_rel": float(np.linalg.norm(got.grad_w - ref.grad_w) / np.linalg.norm(ref.grad_w)),
        "rows_equal": got.rows == ref.rows == X.shape[0],
    }
    w0 = np.random.default_rng(1).standard_normal(n) * 0.01

    def naive():
        z = X @ w0 + 0.1
        a = 1.0 / (1.0 + np.exp(-z))
        r = a - y
        return X.T @ r, r.sum()

    R["numpy"]["naive_step_seconds"] = _median(_timed(naive, args.iterations, 1))

    # ---------------------------------------------------------------- float32 storage
    other = "float32" if args.dtype == "float64" else "float64"
    if args.skip_float32:
        R["skipped"]["float32"] = "--skip-float32"
    else:
        R["other_dtype"] = _other_dtype(build_blocks, names, other, fmap, lr, args, blocks, theta)

    # ---------------------------------------------------------------- memory
    R["memory"] = _sparklr_memory(blocks)

    # ---------------------------------------------------------------- sklearn
    if args.skip_sklearn:
        R["skipped"]["sklearn"] = "--skip-sklearn"
    else:
        R["sklearn"] = _sklearn(X, y)
        if "error" in R["sklearn"]:
            R["skipped"]["sklearn"] = R["sklearn"]["error"]


def _driver_matrix(spark, parquet_path, source_frame, label, names, blocks=None, master=""):
    """The whole dataset as one in-memory block on the driver (benchmark baselines only):
    read from the Parquet files; or, for generated data under a local master, concatenated
    from the block files themselves (same machine; float64 blocks only); else a driver-side
    ``toArrow()`` (which needs the driver heap to hold the whole dataset)."""
    from sparklr.spark.session import is_local_master

    if (
        parquet_path is None
        and blocks is not None
        and is_local_master(master)
        and blocks.dtype == "float64"
    ):
        m = blocks.rows
        X = np.empty((m, blocks.n_features), dtype=np.float64)
        y = np.empty(m, dtype=np.float64)
        offset = 0
        for meta in blocks.metas:
            if meta.rows:
                X_p, y_p = blocks.read_block(meta.partition)
                X[offset : offset + meta.rows] = X_p
                y[offset : offset + meta.rows] = y_p
                offset += meta.rows
        return X, y
    if parquet_path is not None:
        import pyarrow.parquet as pq

        table = pq.read_table(parquet_path, columns=[label, *names])
    else:
        table = source_frame().toArrow()
    m = table.num_rows
    X = np.empty((m, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        X[:, j] = table.column(name).to_numpy()
    y = table.column(label).to_numpy().astype(np.float64)
    if not (np.isfinite(X).all() and np.isin(y, (0.0, 1.0)).all()):
        raise DataError("benchmark data must be finite with 0/1 labels")
    return X, y


def _blas_info() -> dict:
    try:
        from threadpoolctl import threadpool_info

        return {
            "threads": [(p.get("internal_api"), p.get("num_threads")) for p in threadpool_info()]
        }
    except ImportError:
        return {"threads": "threadpoolctl not installed"}


def _other_dtype(build_blocks, names, dtype, fmap, lr, args, blocks, theta):
    """Build the same data in ``dtype``, time GD on it, compare J and ∇J with the main run."""
    from sparklr.objective import LogisticObjective

    t0 = time.perf_counter()
    other = build_blocks(dtype)
    load = time.perf_counter() - t0
    try:
        obj = LogisticObjective(other, fmap)
        laps, _ = _gd_iteration_times(obj, len(names) + 1, lr, args.iterations, args.warmup)
        main_obj = LogisticObjective(blocks, fmap)
        errs = []
        for th in (np.zeros(len(names) + 1), theta):
            a = main_obj.evaluate(th)
            b = obj.evaluate(th)
            errs.append(
                {
                    "loss_rel": abs(a.loss - b.loss) / abs(a.loss),
                    "grad_rel": float(np.linalg.norm(a.grad - b.grad) / np.linalg.norm(a.grad)),
                }
            )
        return {
            "dtype": dtype,
            "load_seconds": load,
            "iteration_seconds": _median(laps),
            "error_at_theta0": errs[0],
            "error_at_theta_k": errs[1],
            "block_bytes": other.block_bytes,
        }
    finally:
        other.unpersist()


def _sparklr_memory(blocks) -> dict:
    per_executor = {f"{u.host}:{u.local_dir}": u.bytes for u in blocks.file_usage()}
    workers = {
        w.pid: {"status": _worker_status(w), "blocks_mapped": w.open_blocks}
        for w in blocks.worker_usage()
    }
    raw = blocks.block_bytes
    anon = [w["status"].get("RssAnon") for w in workers.values()]
    blas = sorted({w["status"].get("blas_threads") for w in workers.values()} - {None})
    jvm_bytes = blocks.cached_meta_bytes()
    held = max(per_executor.values()) if per_executor else None
    return {
        "raw_block_bytes": raw,
        "block_file_bytes_per_executor": per_executor,
        "held_bytes_max_executor": held,
        "raw_bytes_max_executor": raw,  # local mode: one executor holds every block
        "python_workers": {str(k): v for k, v in workers.items()},
        "python_workers_rss_anon_sum": sum(a for a in anon if a) if all(anon) else None,
        "python_workers_blas_threads": blas,
        "jvm_meta_rdd_bytes": jvm_bytes,
    }


def _worker_status(worker) -> dict:
    """A WorkerUsage under the /proc/self/status keys this benchmark has always reported."""
    status = {
        "RssAnon": worker.rss_anon,
        "RssFile": worker.rss_file,
        "VmRSS": worker.vm_rss,
        "blas_threads": worker.blas_threads,
    }
    return {key: value for key, value in status.items() if value is not None}


def _rdd_storage_bytes(sc, rdd_id: int | None) -> dict:
    out = {"memory": 0, "disk": 0, "found": False}
    for info in sc._jsc.sc().getRDDStorageInfo():
        if rdd_id is None or info.id() == rdd_id:
            out["memory"] += int(info.memSize())
            out["disk"] += int(info.diskSize())
            out["found"] = True
    return out


def _sklearn(X: np.ndarray, y: np.ndarray) -> dict:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return {"error": "scikit-learn not installed"}
    mu = X.mean(axis=0)
    sd = X.std(axis=0, ddof=1)
    Xs = (X - mu) / np.where(sd > 0, sd, 1.0)
    # C = ∞: no penalty (penalty=None is deprecated in scikit-learn 1.8).
    model = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000, tol=1e-6)
    t0 = time.perf_counter()
    model.fit(Xs, y)
    seconds = time.perf_counter() - t0
    del Xs
    return {"fit_seconds": seconds, "iterations": int(model.n_iter_[0]), "tol": 1e-6}


def _overhead(spark, args, lr_rows: int) -> dict:
    """Per-iteration cost on a tiny dataset vs an empty job, same number of partitions."""
    from sparklr.spark.blockset import BlockSet
    from sparklr.spark.data import select_columns
    from sparklr.spark.synthetic import feature_names, synthetic_frame

    sc = spark.sparkContext
    p = args.partitions
    names = feature_names(args.features)
    raw, _ = synthetic_frame(spark, lr_rows, args.features, p, args.seed + 1)
    frame, _ = select_columns(raw, "label", names)
    tiny = BlockSet(spark, frame, "label", names, dtype=args.dtype).build()
    repeats = max(args.iterations, 5)
    cached = sc.parallelize(range(p), p).cache()
    cached.count()
    w = np.zeros(len(names))
    jobs = {
        "sums": lambda: tiny.sums(w, 0.0),
        "empty_py": lambda: cached.mapPartitions(lambda it: [sum(1 for _ in it)]).collect(),
        "empty_jvm": cached.count,
    }
    times: dict[str, list[float]] = {k: [] for k in jobs}
    try:
        for k in range(max(args.warmup, 2) + repeats):  # interleaved, as the GD comparison
            for name, job in jobs.items():
                t0 = time.perf_counter()
                job()
                if k >= max(args.warmup, 2):
                    times[name].append(time.perf_counter() - t0)
    finally:
        cached.unpersist()
        tiny.unpersist()
    sums_times, empty_py, empty_jvm = times["sums"], times["empty_py"], times["empty_jvm"]
    return {
        "tiny_rows": lr_rows,
        "partitions": p,
        "sparklr_sums_seconds": _median(sums_times),
        "sparklr_sums_seconds_min": min(sums_times),
        "empty_python_job_seconds": _median(empty_py),
        "empty_python_job_seconds_min": min(empty_py),
        "empty_jvm_count_seconds": _median(empty_jvm),
    }


def _mllib_assemble(spark, source_frame, label, names):
    """MLlib's load: read + VectorAssembler + cache + count; (cached frame, seconds)."""
    from pyspark.ml.feature import VectorAssembler

    t0 = time.perf_counter()
    assembled = (
        VectorAssembler(inputCols=names, outputCol="features")
        .transform(source_frame())
        .select(label, "features")
        .cache()
    )
    assembled.count()
    return assembled, time.perf_counter() - t0


def _mllib(spark, source_frame, label, names, args) -> dict:
    from pyspark.ml.classification import LogisticRegression

    sc = spark.sparkContext
    assembled, load = _mllib_assemble(spark, source_frame, label, names)
    storage = _rdd_storage_bytes(sc, None)

    def fit(max_iter: int, tol: float):
        est = LogisticRegression(
            featuresCol="features",
            labelCol=label,
            maxIter=max_iter,
            regParam=0.0,
            elasticNetParam=0.0,
            standardization=True,
            tol=tol,
        )
        t = time.perf_counter()
        model = est.fit(assembled)
        seconds = time.perf_counter() - t
        history = model.summary.objectiveHistory
        return seconds, int(model.summary.totalIterations), float(history[-1])

    k = args.mllib_iterations
    short_k = max(1, k // 2)
    t_full, it_full, _ = fit(k, 0.0)
    t_half, it_half, _ = fit(short_k, 0.0)
    t_conv, it_conv, j_conv = fit(100, 1e-6)
    assembled.unpersist()
    marginal = (t_full - t_half) / (it_full - it_half) if it_full > it_half else None
    return {
        "load_seconds_for_fits": load,
        "storage": storage,
        "fixed_iterations": k,
        "fixed_fit_seconds": t_full,
        "fixed_fit_iterations": it_full,
        "iteration_seconds": t_full / max(it_full, 1),
        "marginal_iteration_seconds": marginal,
        "converged_fit_seconds": t_conv,
        "converged_iterations": it_conv,
        "converged_loss": j_conv,
    }


def _ratios(R: dict) -> dict:
    s = R["sparklr"]["iteration_seconds"]
    np_key = f"{R['sparklr']['dtype']}_iteration_seconds"
    np_s = R["numpy"].get(np_key)
    ml = R.get("mllib", {})
    skipped_ml = R["skipped"].get("mllib", "MLlib not measured")
    ov = R["overhead"]
    mem = R["memory"]
    out = {
        "sparklr_over_numpy": _ratio(s, np_s, "sparklr not measured", "NumPy not measured"),
        "sparklr_over_mllib_iteration": _ratio(
            s, ml.get("iteration_seconds"), "sparklr not measured", skipped_ml
        ),
        "sparklr_over_mllib_marginal_iteration": _ratio(
            s,
            ml.get("marginal_iteration_seconds"),
            "sparklr not measured",
            skipped_ml if not ml else "MLlib's two fits ran the same number of iterations",
        ),
        "tiny_over_empty_job": _ratio(
            ov["sparklr_sums_seconds"], ov["empty_python_job_seconds"], "tiny", "empty job"
        ),
        "load_sparklr_over_mllib": _ratio(
            R["load"]["sparklr_seconds"], R["load"].get("mllib_seconds"), "load", skipped_ml
        ),
        "memory_over_raw": _ratio(
            mem["held_bytes_max_executor"],
            mem["raw_bytes_max_executor"],
            "block files not found",
            "no raw bytes",
        ),
    }
    for key, value in out.items():
        value["target"] = TARGETS.get(key)
    return out


# --------------------------------------------------------------------------- printing


def _fmt_s(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f} s"


def _fmt_b(v: int | None) -> str:
    return "n/a" if v is None else f"{v / 2**20:,.1f} MiB"


def format_table(R: dict) -> str:
    st = R["setup"]
    sk = R["skipped"]
    lines = [
        f"sparklr benchmark: {st['rows']:,} rows x {st['features']} features, "
        f"{st['partitions']} partitions, {st['master']}, dtype {st['dtype']}, "
        f"source {st['source']}",
        f"  load average at start {st['loadavg_start'][0]:.1f}, at end "
        f"{st.get('loadavg_end', [float('nan')])[0]:.1f} on {st['cpus']} CPUs; "
        f"medians of {st['iterations']} iterations after {st['warmup']} warm-up",
        "",
        f"{'measurement':<52} {'value':>16}",
        "-" * 69,
    ]

    def row(name: str, value: str) -> None:
        lines.append(f"{name:<52} {value:>16}")

    sp = R["sparklr"]
    row(f"sparklr GD iteration ({sp['dtype']})", _fmt_s(sp["iteration_seconds"]))
    row("  of which kernel, slowest task", _fmt_s(sp["task_kernel_seconds_max"]))
    row("  task body, slowest task", _fmt_s(sp["task_body_seconds_max"]))
    row(
        "  Python workers / block mappings in all iterations",
        f"{sp['python_workers_seen']} / {sp.get('block_mappings_total', 'n/a')}",
    )
    nm = R["numpy"]
    row("NumPy GD iteration, one block (float64)", _fmt_s(nm["float64_iteration_seconds"]))
    row("NumPy GD iteration, one block (float32)", _fmt_s(nm["float32_iteration_seconds"]))
    row("NumPy naive step X@w, sigma, X'r (float64)", _fmt_s(nm["naive_step_seconds"]))
    ag = R["agreement_sparklr_vs_numpy"]
    row("sparklr vs NumPy sums: rel. diff J / grad", f"{ag['loss_rel']:.1e} / {ag['grad_rel']:.1e}")
    od = R.get("other_dtype")
    if od:
        row(f"sparklr GD iteration ({od['dtype']} blocks)", _fmt_s(od["iteration_seconds"]))
        e = od["error_at_theta_k"]
        row(
            f"  {od['dtype']} vs {sp['dtype']}: rel. err J / grad",
            f"{e['loss_rel']:.1e} / {e['grad_rel']:.1e}",
        )
    else:
        row("sparklr other dtype", f"n/a ({sk.get('float32', '')})")
    ml = R.get("mllib")
    if ml:
        row(
            f"MLlib LR per iteration (maxIter {ml['fixed_iterations']}, fit/iters)",
            _fmt_s(ml["iteration_seconds"]),
        )
        row("MLlib LR marginal iteration (two fits)", _fmt_s(ml["marginal_iteration_seconds"]))
        row(
            f"MLlib LR to convergence ({ml['converged_iterations']} iterations)",
            _fmt_s(ml["converged_fit_seconds"]),
        )
    else:
        row("MLlib LogisticRegression", f"n/a ({sk.get('mllib', '')})")
    sl = R.get("sklearn")
    if sl and "fit_seconds" in sl:
        row(
            f"scikit-learn lbfgs to convergence ({sl['iterations']} iterations)",
            _fmt_s(sl["fit_seconds"]),
        )
    else:
        row("scikit-learn lbfgs", f"n/a ({sk.get('sklearn', '')})")
    ld = R["load"]
    row(
        f"load to ready blocks: sparklr ({ld.get('sparklr_reader', 'spark')} read + build)",
        _fmt_s(ld["sparklr_seconds"]),
    )
    phases = ld.get("sparklr_build_phases_slowest_block") or {}
    if phases:
        row(
            "  slowest block: " + " / ".join(k.replace("_and_", "+") for k in phases),
            " / ".join(f"{v:.1f}" for v in phases.values()) + " s",
        )
    row("load: MLlib (read + VectorAssembler + cache + count)", _fmt_s(ld.get("mllib_seconds")))
    for tool in ("sparklr", "mllib"):
        if ld.get(f"{tool}_laps"):
            row(
                f"  {tool} loads in run order (alternating)",
                " / ".join(f"{v:.1f}" for v in ld[f"{tool}_laps"]) + " s",
            )
    mem = R["memory"]
    row("memory: raw block bytes", _fmt_b(mem["raw_block_bytes"]))
    row("memory: sparklr block files, largest executor", _fmt_b(mem["held_bytes_max_executor"]))
    row(
        f"memory: {len(mem['python_workers'])} Python workers' private RSS, sum",
        _fmt_b(mem["python_workers_rss_anon_sum"]),
    )
    blas = ", ".join(map(str, mem["python_workers_blas_threads"]))
    row("Python workers' BLAS threads", blas or "n/a")
    if ml:
        row(
            "memory: MLlib cached storage (memory + disk)",
            _fmt_b(ml["storage"]["memory"] + ml["storage"]["disk"]),
        )
    ov = R["overhead"]
    row(f"overhead: sparklr sums, {ov['tiny_rows']} rows", _fmt_s(ov["sparklr_sums_seconds"]))
    row(
        f"overhead: empty Python job, {ov['partitions']} partitions",
        _fmt_s(ov["empty_python_job_seconds"]),
    )
    row("overhead: empty JVM count", _fmt_s(ov["empty_jvm_count_seconds"]))
    lines += ["", f"{'ratio':<40} {'value':>8} {'target':>8}  note", "-" * 69]
    for key, r in R["ratios"].items():
        value = "n/a" if r["value"] is None else f"{r['value']:.2f}"
        target = "" if r["target"] is None else f"<= {r['target']}"
        note = "" if r["value"] is not None else r["reason"]
        if r["value"] is not None and r["target"] is not None:
            note = "met" if r["value"] <= r["target"] else "MISSED"
        lines.append(f"{key:<40} {value:>8} {target:>8}  {note}")
    return "\n".join(lines)


def dumps(result: dict) -> str:
    return json.dumps(result, indent=2, default=str)
