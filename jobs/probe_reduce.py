"""The reduce and the (w, b) shipping of one pass at large n_x (issue 11): a probe, not a
benchmark. Runs :func:`sparklr.spark.treereduce.reduce_pass` over P synthetic blocks of 8 rows
× N_X features generated in the tasks (no block build: a DataFrame of 10⁵ columns is itself the
bottleneck), at local[2] or on ``local-cluster[EXECUTORS,1,512]``, and prints the median
seconds per pass and what the driver received.

Modes: ``flat`` (the driver combines the tree), ``tree`` (its levels on the executors),
``broadcast`` (flat, with w in an explicit broadcast instead of the closure). Run from the
repository root: ``PYTHONPATH=lib python jobs/probe_reduce.py N_X P REPS MODE [EXECUTORS]``.
"""

from __future__ import annotations

import operator
import statistics
import sys
import time
from functools import partial

import numpy as np

ROWS = 8


def block_task(index, rows, w):
    from sparklr.kernels import BlockSums
    from sparklr.spark.iteration import TaskReport, weights_of

    list(rows)
    w = weights_of(w)
    X = np.random.default_rng(index).standard_normal((ROWS, w.size))
    r = 1 / (1 + np.exp(-(X @ w))) - 0.5
    sums = BlockSums(0.0, X.T @ r, float(r.sum()), float(ROWS), ROWS)
    return [(sums, TaskReport(index, 0, "", 0.0, 0.0, False))]


def main() -> None:
    from sparklr.bench.scaling import cluster_session
    from sparklr.kernels.tree import fan_in
    from sparklr.spark.session import build_session
    from sparklr.spark.treereduce import reduce_pass

    n, parts, reps, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    executors = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    if executors:
        spark = cluster_session(executors, 512, "probe-reduce", "ERROR")
    else:
        spark = build_session("local[2]", "probe-reduce", "ERROR", {})
    sc = spark.sparkContext
    base = sc.parallelize(range(parts), parts).cache()
    base.count()
    w = np.full(n, 1e-3)
    seconds = []
    for rep in range(reps + 2):  # two warm-up passes
        t0 = time.perf_counter()
        shipped = sc.broadcast(w) if mode == "broadcast" else w
        results = base.mapPartitionsWithIndex(partial(block_task, w=shipped))
        _, _, received = reduce_pass(
            results, parts, fan_in(parts, 2), operator.add, tree=mode == "tree"
        )
        if mode == "broadcast":
            shipped.destroy()
        if rep >= 2:
            seconds.append(time.perf_counter() - t0)
    print(
        f"{spark.sparkContext.master} n_x={n} P={parts} {mode}: "
        f"median {1e3 * statistics.median(seconds):.0f} ms, "
        f"received {received.parts} partials, {received.bytes / 1e6:.2f} MB"
    )
    spark.stop()


if __name__ == "__main__":
    main()
