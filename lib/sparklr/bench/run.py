"""One benchmark run, start to end: the session, the data, then each measurement in turn."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyspark
from pyspark.sql import SparkSession

from sparklr.bench.baselines import agreement, fit_sklearn, measure_mllib, numpy_result
from sparklr.bench.cli import Settings
from sparklr.bench.data import driver_matrix, prepare_data
from sparklr.bench.results import BenchResult, Setup
from sparklr.bench.sparklr_run import (
    measure_loads,
    measure_memory,
    measure_other_dtype,
    measure_overhead,
    time_iterations,
)
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.spark.blockset import BlockSet
from sparklr.spark.session import build_session, is_local_master

log = logging.getLogger("sparklr.benchmark")


def run_benchmark(settings: Settings) -> BenchResult:
    """Build the session, measure everything in a scratch directory (removed unless
    ``--workdir`` named it), return the figures."""
    conf = {
        # MLlib's cache must fit in storage memory for a fair comparison.
        "spark.sql.files.maxPartitionBytes": str(8 << 30),
        "spark.sql.files.minPartitionNum": str(settings.partitions),
        # --source generator: the NumPy baseline collects the data with toArrow().
        "spark.driver.maxResultSize": "0",
    }
    if is_local_master(settings.master):
        conf["spark.driver.memory"] = settings.driver_memory
    spark = build_session(settings.master, "sparklr-benchmark", "WARN", conf)
    own_workdir = settings.workdir is None
    workdir = Path(settings.workdir or tempfile.mkdtemp(prefix="sparklr-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _run(spark, settings, workdir)
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(spark: SparkSession, settings: Settings, workdir: Path) -> BenchResult:
    """The measurements, in an order that keeps the driver's memory low: everything that needs
    the driver-side matrix, then the overhead, then MLlib (its cache) after the blocks are gone."""
    setup = _setup_at_start(settings)
    dataset = prepare_data(spark, settings, workdir)
    setup.generate_parquet_seconds = dataset.generate_seconds
    load, blocks = measure_loads(dataset)
    log.info("sparklr blocks ready: %d rows in %d blocks", blocks.rows, blocks.partitions)
    _describe_blocks(setup, blocks)
    fmap = FeatureMap.from_moments(blocks.moments, True)
    lr = 1.0 / LogisticObjective(blocks, fmap).lipschitz(blocks.moments)
    X, y = driver_matrix(dataset, blocks)
    sparklr, numpy_laps, theta = time_iterations(blocks, fmap, lr, X, y, settings)
    numpy = numpy_result(numpy_laps, X, y, settings.iterations)
    agree = agreement(blocks, fmap, theta, X, y)
    other_dtype = (
        None if settings.skip_float32 else measure_other_dtype(dataset, blocks, fmap, lr, theta)
    )
    memory = measure_memory(blocks)
    sklearn = None if settings.skip_sklearn else fit_sklearn(X, y)
    del X, y
    overhead = measure_overhead(spark, settings)
    blocks.unpersist()
    mllib = None
    if not settings.skip_mllib:
        k = settings.mllib_iterations
        mllib = measure_mllib(spark, dataset.frame, dataset.label, dataset.names, k)
    setup.loadavg_end = list(os.getloadavg())
    return BenchResult(
        setup=setup,
        skipped=_skip_reasons(settings, sklearn_missing=sklearn is None),
        load=load,
        sparklr=sparklr,
        numpy=numpy,
        agreement_sparklr_vs_numpy=agree,
        other_dtype=other_dtype,
        memory=memory,
        sklearn=sklearn,
        overhead=overhead,
        mllib=mllib,
    )


def _setup_at_start(s: Settings) -> Setup:
    return Setup(
        rows=s.rows,
        features=s.features,
        partitions_requested=s.partitions,
        iterations=s.iterations,
        warmup=s.warmup,
        master=s.master,
        dtype=s.dtype,
        source="parquet:" + s.data if s.data else s.source,
        python=platform.python_version(),
        pyspark=pyspark.__version__,
        numpy=np.__version__,
        cpus=os.cpu_count(),
        loadavg_start=list(os.getloadavg()),
        started=time.strftime("%Y-%m-%d %H:%M:%S"),
    )


def _describe_blocks(setup: Setup, blocks: BlockSet) -> None:
    setup.rows = blocks.rows
    setup.features = blocks.n_features
    setup.partitions = blocks.partitions
    setup.rows_per_block = [m.rows for m in blocks.metas]


def _skip_reasons(s: Settings, sklearn_missing: bool) -> dict[str, str]:
    """Why a section is missing, by section name."""
    reasons = {}
    if s.skip_float32:
        reasons["float32"] = "--skip-float32"
    if s.skip_sklearn:
        reasons["sklearn"] = "--skip-sklearn"
    elif sklearn_missing:
        reasons["sklearn"] = "scikit-learn not installed"
    if s.skip_mllib:
        reasons["mllib"] = "--skip-mllib"
    return reasons
