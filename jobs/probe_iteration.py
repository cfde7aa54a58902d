"""Where the fixed cost of one training iteration goes (issue 16): a probe, not a benchmark.

Times, ``--reps`` times per SparkContext, three jobs over 2 cached partitions at local[2]:

* ``jvm``   – count of a cached JVM-only RDD (no Python worker): Spark's own floor,
* ``empty`` – a Python ``mapPartitions`` over a cached 2-row RDD, one small tuple back per task,
* ``sums``  – :meth:`BlockSet.sums` over 1,000 rows × 10 features (the real GD iteration),

under each worker-socket configuration of ``CONFIGS``, alternating round by round (one
SparkContext each, sequentially) so that the machine's load hits them alike. The ``empty`` job
is split with the driver's clock, Spark's own event times (ms) and stamps taken inside the
task function::

    pickle    driver: pickling the closure, creating the PythonRDD
    submit    py4j call until the DAG scheduler has the job
    schedule  job submitted until its last task is launched
    to_func   task launched until the task's Python function starts (executor deserializes the
              task, takes a Python worker, sends it the task; the worker unpickles the function)
    in_func   the Python function, reading its input (one row) and returning
    back      function returned until the driver has the task's result (worker → executor →
              driver's task scheduler)
    finish    last task result until the job is marked complete
    fetch     job complete until the driver has unpickled the result (collectAndServe's socket)

(per-task parts are medians over both tasks). Run from the repository root:
``PYTHONPATH=lib python jobs/probe_iteration.py [--rounds 3] [--reps 50] [--configs ...]``.
Prints a table: one row per measure, one column per configuration, median [q1-q3] in ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict

import numpy as np

CONFIGS: dict[str, dict[str, str]] = {
    "tcp": {"spark.python.daemon.module": "pyspark.daemon"},
    "uds": {
        "spark.python.daemon.module": "pyspark.daemon",
        "spark.python.unix.domain.socket.enabled": "true",
    },
    "quickack": {"spark.python.daemon.module": "sparklr.spark.daemon"},
}
WARMUP = 5
GROUP = "probe-empty"
PARTS = ["pickle", "submit", "schedule", "to_func", "in_func", "back", "finish", "fetch"]


def stamp_partition(rows):
    from pyspark import TaskContext

    started = time.time()
    count = sum(1 for _ in rows)  # consume the input, so the worker is reused
    return [(TaskContext.get().partitionId(), started, time.time(), count)]


def time_empty(sc, rdd) -> dict[str, float]:
    from pyspark.traceback_utils import SCCallSiteSync
    from pyspark.util import _load_from_socket

    t0 = time.time()
    mapped = rdd.mapPartitions(stamp_partition)
    jrdd = mapped._jrdd
    t1 = time.time()
    with SCCallSiteSync(sc):
        sock_info = sc._jvm.PythonRDD.collectAndServe(jrdd.rdd())
    with _load_from_socket(sock_info, mapped._jrdd_deserializer) as stream:
        stamps = list(stream)
    t2 = time.time()
    return {"t0": t0, "t1": t1, "t2": t2, "stamps": stamps}


def split_empty(sc, runs: list[dict]) -> dict[str, list[float]]:
    """Seconds per part of each ``empty`` run, with Spark's event times from its status store."""
    store = sc._jsc.sc().statusStore()
    job_ids = sorted(sc.statusTracker().getJobIdsForGroup(GROUP))
    parts = defaultdict(list)
    for job_id, run in zip(job_ids[-len(runs) :], runs, strict=True):
        job = store.job(job_id)
        stage_id = sc.statusTracker().getJobInfo(job_id).stageIds[0]
        stage = store.lastStageAttempt(stage_id)
        tasks = store.taskList(stage_id, stage.attemptId(), 10)
        tasks = {t.index(): t for t in (tasks.apply(i) for i in range(tasks.size()))}
        launched = {p: t.launchTime().getTime() / 1000 for p, t in tasks.items()}
        ended = {p: launched[p] + t.duration().get() / 1000 for p, t in tasks.items()}
        stamps = {p: (start, end) for p, start, end, _ in run["stamps"]}
        submitted = job.submissionTime().get().getTime() / 1000
        completed = job.completionTime().get().getTime() / 1000
        parts["pickle"].append(run["t1"] - run["t0"])
        parts["submit"].append(submitted - run["t1"])
        parts["schedule"].append(max(launched.values()) - submitted)
        parts["to_func"].append(statistics.median(s - launched[p] for p, (s, _) in stamps.items()))
        parts["in_func"].append(statistics.median(e - s for s, e in stamps.values()))
        parts["back"].append(statistics.median(ended[p] - e for p, (_, e) in stamps.items()))
        parts["finish"].append(completed - max(ended.values()))
        parts["fetch"].append(run["t2"] - completed)
    return parts


def build_blocks(spark):
    from sparklr.spark.blockset import BlockSet

    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 10))
    y = (rng.random(1000) < 0.5).astype(float)
    names = [f"x{i}" for i in range(10)]
    rows = [(float(label), *map(float, x)) for label, x in zip(y, X, strict=True)]
    frame = spark.createDataFrame(rows, ["label", *names]).repartition(2)
    return BlockSet(spark, frame, "label", names).build()


def run_config(name: str, reps: int, samples) -> None:
    from sparklr.spark.session import build_session

    spark = build_session("local[2]", f"probe-{name}", "ERROR", CONFIGS[name])
    sc = spark.sparkContext
    try:
        jvm_rdd = sc.parallelize(range(2), 2)._jrdd.cache()
        jvm_rdd.count()
        py_rdd = sc.parallelize(range(2), 2).cache()
        py_rdd.count()
        blocks = build_blocks(spark)
        w, b = np.zeros(10), 0.0
        runs = []
        for rep in range(WARMUP + reps):
            t0 = time.time()
            jvm_rdd.count()
            t1 = time.time()
            sc.setJobGroup(GROUP, "")
            run = time_empty(sc, py_rdd)
            sc.setLocalProperty("spark.jobGroup.id", None)
            t2 = time.time()
            blocks.sums(w, b)
            t3 = time.time()
            if rep >= WARMUP:
                samples[name]["jvm"].append(t1 - t0)
                samples[name]["empty"].append(run["t2"] - run["t0"])
                samples[name]["sums"].append(t3 - t2)
                runs.append(run)
        blocks.unpersist()
        time.sleep(1)  # let the status store catch up with the listener bus
        for part, values in split_empty(sc, runs).items():
            samples[name][part].extend(values)
    finally:
        spark.stop()


def summarize(samples, names: list[str]) -> None:
    """One row per measure, one column per configuration: median [q1-q3] in ms."""
    print(f"{'ms':<10}" + "".join(f"{name:>20}" for name in names))
    for key in ["jvm", "empty", "sums", *PARTS]:
        cells = []
        for name in names:
            q1, med, q3 = statistics.quantiles([1000 * v for v in samples[name][key]], n=4)
            cells.append(f"{med:.1f} [{q1:.1f}-{q3:.1f}]")
        print(f"{key:<10}" + "".join(f"{cell:>20}" for cell in cells))
    print(f"(median [q1-q3], n = {len(samples[names[0]]['jvm'])} per cell)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args(argv)
    names = args.configs.split(",")
    unknown = sorted(set(names) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown --configs {unknown}; known: {sorted(CONFIGS)}")
    samples = defaultdict(lambda: defaultdict(list))
    for round_ in range(args.rounds):
        for name in names:
            run_config(name, args.reps, samples)
            print(f"round {round_ + 1}: {name} done", file=sys.stderr, flush=True)
    summarize(samples, names)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    sys.exit(main(sys.argv[1:]))
