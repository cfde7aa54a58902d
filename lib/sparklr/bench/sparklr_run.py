"""sparklr's side of the benchmark: load to ready blocks, timed GD iterations (taken in turn
with NumPy's), the other dtype, memory, and the fixed cost of one iteration."""

from __future__ import annotations

import time

import numpy as np
from pyspark.sql import SparkSession

from sparklr.bench.baselines import assemble_mllib, numpy_objective
from sparklr.bench.cli import Settings
from sparklr.bench.data import Dataset
from sparklr.bench.results import (
    LoadResult,
    MemoryResult,
    OtherDtype,
    OverheadResult,
    RelativeError,
    SparklrResult,
)
from sparklr.bench.timing import GradientWalk, initial_theta, interleaved, median, timed
from sparklr.objective import Evaluation, FeatureMap, LogisticObjective
from sparklr.spark.blockset import BlockSet
from sparklr.spark.build import BUILD_PHASES
from sparklr.spark.data import select_columns
from sparklr.spark.iteration import TaskReport
from sparklr.spark.loading import load_frames
from sparklr.spark.synthetic import feature_names, synthetic_frame


def build_blocks(dataset: Dataset, dtype: str) -> BlockSet:
    """Read + build sparklr's blocks as the training job does (for Parquet: pyarrow in the
    executors, unless ``--reader spark``)."""
    spark, label, names = dataset.spark, dataset.label, dataset.names
    if dataset.parquet_path is None:
        return BlockSet(spark, dataset.frame(), label, names, dtype=dtype).build()
    frames = load_frames(
        spark,
        fmt="parquet",
        path=dataset.parquet_path,
        label=label,
        features=names,
        reader=dataset.settings.reader,
    )
    return BlockSet(spark, frames.train, label, names, dtype=dtype, parquet=frames.parquet).build()


def measure_loads(dataset: Dataset) -> tuple[LoadResult, BlockSet]:
    """``--load-repeats`` loads of sparklr and of MLlib, alternating; the last blocks stay.

    Alternating (sparklr, MLlib, sparklr, …) shares out the one-time costs of the first load
    in a JVM and a process (class loading, JIT, query planning code paths, the first touch of
    fresh memory), which belong to neither tool."""
    settings = dataset.settings
    laps: dict[str, list[float]] = {"sparklr": [], "mllib": []}
    blocks: BlockSet | None = None
    for _ in range(settings.load_repeats):
        if blocks is not None:
            blocks.unpersist()
        t0 = time.perf_counter()
        blocks = build_blocks(dataset, settings.dtype)
        laps["sparklr"].append(time.perf_counter() - t0)
        if not settings.skip_mllib:
            assembled, seconds = assemble_mllib(dataset.frame, dataset.label, dataset.names)
            laps["mllib"].append(seconds)
            assembled.unpersist()
    assert blocks is not None  # load_repeats ≥ 1
    result = LoadResult(
        repeats=settings.load_repeats,
        sparklr_seconds=median(laps["sparklr"]),
        sparklr_laps=laps["sparklr"],
        mllib_seconds=median(laps["mllib"]),
        mllib_laps=laps["mllib"],
        sparklr_reader="pyarrow" if blocks.parquet is not None else "spark",
        sparklr_build_phases_slowest_block=_slowest_block_phases(blocks),
    )
    return result, blocks


def _slowest_block_phases(blocks: BlockSet) -> dict[str, float]:
    slowest = max(blocks.metas, key=lambda m: sum(m.seconds) if m.seconds else 0.0)
    return dict(zip(BUILD_PHASES, slowest.seconds, strict=False))


def time_iterations(
    blocks: BlockSet, fmap: FeatureMap, lr: float, X: np.ndarray, y: np.ndarray, s: Settings
) -> tuple[SparklrResult, dict[str, list[float]], np.ndarray]:
    """GD over the blocks and over (X, y) in NumPy (float64 and float32), one iteration of each
    in turn from the same θ⁰; sparklr's figures, NumPy's laps by dtype and sparklr's final θ."""
    reports: list[list[TaskReport]] = []
    blocks.add_listener(reports.append)
    theta0 = initial_theta(blocks.n_features + 1)
    walks = {
        "sparklr": GradientWalk(LogisticObjective(blocks, fmap), theta0, lr),
        "float64": GradientWalk(numpy_objective(X, y, fmap), theta0, lr),
        "float32": GradientWalk(numpy_objective(X.astype(np.float32), y, fmap), theta0, lr),
    }
    laps = interleaved({name: w.step for name, w in walks.items()}, s.iterations, s.warmup)
    seen = list(reports)  # the timed run's evaluations only, not the checks that follow
    timed_reports = seen[s.warmup : s.warmup + s.iterations]
    result = SparklrResult(
        dtype=s.dtype,
        iteration_seconds=median(laps["sparklr"]),
        iteration_seconds_min=min(laps["sparklr"]),
        iteration_laps=laps["sparklr"],
        task_kernel_seconds_max=median([max(r.kernel_seconds for r in t) for t in timed_reports]),
        task_body_seconds_max=median([max(r.seconds for r in t) for t in timed_reports]),
        python_workers_seen=len({r.pid for t in seen for r in t}),
        blocks_remapped_after_warmup=sum(r.opened for t in timed_reports for r in t),
        block_mappings_total=sum(r.opened for t in seen for r in t),
        learning_rate=lr,
        final_loss=walks["sparklr"].loss,
    )
    numpy_laps = {"float64": laps["float64"], "float32": laps["float32"]}
    return result, numpy_laps, walks["sparklr"].theta


def measure_other_dtype(
    dataset: Dataset, blocks: BlockSet, fmap: FeatureMap, lr: float, theta: np.ndarray
) -> OtherDtype:
    """Build the same data in the other dtype, time GD on it, compare J and ∇J with the main
    blocks at θ⁰ = 0 and at ``theta``."""
    s = dataset.settings
    dtype = "float32" if s.dtype == "float64" else "float64"
    t0 = time.perf_counter()
    other = build_blocks(dataset, dtype)
    load = time.perf_counter() - t0
    try:
        objective = LogisticObjective(other, fmap)
        walk = GradientWalk(objective, initial_theta(blocks.n_features + 1), lr)
        laps = timed(walk.step, s.iterations, s.warmup)
        main = LogisticObjective(blocks, fmap)
        zero = np.zeros(blocks.n_features + 1)
        at_zero, at_k = (
            _relative_error(main.evaluate(th), objective.evaluate(th)) for th in (zero, theta)
        )
        return OtherDtype(
            dtype=dtype,
            load_seconds=load,
            iteration_seconds=median(laps),
            error_at_theta0=at_zero,
            error_at_theta_k=at_k,
            block_bytes=other.block_bytes,
        )
    finally:
        other.unpersist()


def _relative_error(reference: Evaluation, other: Evaluation) -> RelativeError:
    return RelativeError(
        loss_rel=abs(reference.loss - other.loss) / abs(reference.loss),
        grad_rel=float(
            np.linalg.norm(reference.grad - other.grad) / np.linalg.norm(reference.grad)
        ),
    )


def measure_memory(blocks: BlockSet) -> MemoryResult:
    """Block files per executor and the Python workers' memory, against the raw bytes."""
    per_executor: dict[str, int] = {}
    for usage in blocks.file_usage():
        key = f"{usage.host}:{usage.local_dir}"
        per_executor[key] = per_executor.get(key, 0) + usage.bytes
    workers = blocks.worker_usage()
    anon = [w.rss_anon for w in workers]
    return MemoryResult(
        raw_block_bytes=blocks.block_bytes,
        block_file_bytes_per_executor=per_executor,
        held_bytes_max_executor=max(per_executor.values()) if per_executor else None,
        raw_bytes_max_executor=blocks.block_bytes,
        python_workers=workers,
        python_workers_rss_anon_sum=sum(anon) if all(anon) else None,
        python_workers_blas_threads=sorted({w.blas_threads for w in workers} - {None}),
        jvm_meta_rdd_bytes=blocks.cached_meta_bytes(),
    )


def measure_overhead(spark: SparkSession, s: Settings) -> OverheadResult:
    """sparklr's sums on ``--tiny-rows`` rows vs an empty Python job and a JVM count on the
    same number of partitions, taken in turn."""
    p = s.partitions
    names = feature_names(s.features)
    raw, _ = synthetic_frame(spark, s.tiny_rows, s.features, p, s.seed + 1)
    frame, _ = select_columns(raw, "label", names)
    tiny = BlockSet(spark, frame, "label", names, dtype=s.dtype).build()
    cached = spark.sparkContext.parallelize(range(p), p).cache()
    cached.count()
    w = np.zeros(len(names))
    jobs = {
        "sums": lambda: tiny.sums(w, 0.0),
        "empty_py": lambda: cached.mapPartitions(lambda it: [sum(1 for _ in it)]).collect(),
        "empty_jvm": cached.count,
    }
    try:
        laps = interleaved(jobs, max(s.iterations, 5), max(s.warmup, 2))
    finally:
        cached.unpersist()
        tiny.unpersist()
    return OverheadResult(
        tiny_rows=s.tiny_rows,
        partitions=p,
        sparklr_sums_seconds=median(laps["sums"]),
        sparklr_sums_seconds_min=min(laps["sums"]),
        empty_python_job_seconds=median(laps["empty_py"]),
        empty_python_job_seconds_min=min(laps["empty_py"]),
        empty_jvm_count_seconds=median(laps["empty_jvm"]),
    )
