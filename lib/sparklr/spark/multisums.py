"""Passes that serve several models at once (K-fold CV in lockstep, issue 14): one Spark job
each, on the resident blocks of a :class:`~sparklr.spark.blockset.BlockSet`.

* :func:`multi_sums`: the :class:`~sparklr.kernels.multi.MultiSums` of K' models (W: n_x × K',
  B, a fold k_j per model, −1 for all rows), with their Hessian pieces when asked (Newton in
  lockstep) — each task runs its block type's multi-model kernel (Z = X W + B: the block is
  read once for all of them), the reduce tree adds the blocks' sums, Hessians included;
* :func:`held_out_scores`: the :class:`~sparklr.kernels.ScoreSummary` of fold k_j's held-out
  rows f = k_j at (w_j, b_j), for K folds in one job (the AUC's tally, which the sums cannot
  give).

Both reuse the pass machinery of the set (W as one array in the closure or an explicit
broadcast, the task body of :mod:`sparklr.spark.iteration`, the fixed reduce tree of
:mod:`sparklr.spark.treereduce`, the rebuild after a miss), so their results are
bit-identical run to run and do not depend on timing.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
from pyspark.broadcast import Broadcast
from pyspark.sql import Row

from sparklr.kernels import AUC_BINS, HISTOGRAM_BINS, ScoreSummary, add_scores
from sparklr.kernels.multi import ALL_ROWS, MultiSums
from sparklr.spark.blocktype import BlockType
from sparklr.spark.iteration import _block_task, weights_of


@dataclass(frozen=True, eq=False)
class MultiParams:
    """What every task of one multi-model pass needs (in the task closure; W there or as a
    broadcast)."""

    W: np.ndarray | Broadcast
    B: np.ndarray
    folds: np.ndarray
    evaluation: int
    block_type: BlockType
    n_features: int
    class_weight: tuple[float, float] | None = None
    exact_auc: bool = False
    hessian: bool = False


def partition_multi_sums(
    index: int, rows: Iterator[Row], params: MultiParams
) -> Iterator[tuple[MultiSums | None, object]]:
    """Task body: the block's multi-model sums (None on a miss) with its report."""

    def kernel(X, arrays: dict[str, np.ndarray]) -> MultiSums:
        return params.block_type.multi_sums(
            X,
            arrays["y"],
            arrays.get("v"),
            arrays.get("f"),
            weights_of(params.W),
            params.B,
            params.folds,
            class_weight=params.class_weight,
            hessian=params.hessian,
        )

    empty = MultiSums.zeros(params.n_features, len(params.B), params.hessian)
    return _block_task(index, rows, params.evaluation, params.block_type, empty, kernel)


def partition_held_out_scores(
    index: int, rows: Iterator[Row], params: MultiParams
) -> Iterator[tuple[list[ScoreSummary] | None, object]]:
    """Task body: per model j the block's summary of its rows f = k_j at (w_j, b_j)."""

    def kernel(X, arrays: dict[str, np.ndarray]) -> list[ScoreSummary]:
        f, y, W = arrays["f"], arrays["y"], weights_of(params.W)
        out = []
        for j, k in enumerate(params.folds):
            held = f == k
            X_k = params.block_type.take_rows(X, held)
            out.append(
                params.block_type.score(
                    X_k, y[held], W[:, j], params.B[j], exact_auc=params.exact_auc
                )
            )
        return out

    empty = [ScoreSummary.zeros() for _ in params.folds]
    return _block_task(index, rows, params.evaluation, params.block_type, empty, kernel)


def _check(blocks, W: np.ndarray, B: np.ndarray, folds: np.ndarray, held_out: bool) -> None:
    bad = [int(k) for k in folds if not (0 <= k < blocks.folds or (k == ALL_ROWS and not held_out))]
    if bad:
        raise ValueError(f"fold(s) {bad} are not among the {blocks.folds} folds of the blocks")
    if W.shape != (blocks.n_features, len(B)) or len(folds) != len(B):
        raise ValueError(f"W must be {blocks.n_features} × K' with K' = len(B) = len(folds)")


def multi_sums(
    blocks,
    W: np.ndarray,
    B: np.ndarray,
    folds: np.ndarray,
    class_weight: tuple[float, float] | None = None,
    hessian: bool = False,
) -> MultiSums:
    """The K' models' sums over every block of ``blocks`` in one Spark job (module docstring),
    with each model's Hessian pieces when ``hessian``."""
    W, B = np.asarray(W, dtype=np.float64), np.asarray(B, dtype=np.float64)
    folds = np.asarray(folds, dtype=np.int64)
    _check(blocks, W, B, folds, held_out=False)
    with blocks._shipped(W) as weights:

        def task(evaluation: int):
            params = MultiParams(
                weights,
                B,
                folds,
                evaluation,
                blocks.block_type,
                blocks.n_features,
                class_weight,
                hessian=hessian,
            )
            return partial(partition_multi_sums, params=params)

        n = blocks.n_features
        return blocks._pass(task, operator.add, 8 * (n + 8 + hessian * (n + 1) ** 2) * len(B))


def held_out_scores(blocks, W: np.ndarray, B: np.ndarray, folds: np.ndarray) -> list[ScoreSummary]:
    """Per model j the merged summary of fold k_j's held-out rows at raw (w_j, b_j), as
    :meth:`~sparklr.spark.blockset.BlockSet.score_summary` with ``fold`` = k_j, all in one job."""
    W, B = np.asarray(W, dtype=np.float64), np.asarray(B, dtype=np.float64)
    folds = np.asarray(folds, dtype=np.int64)
    _check(blocks, W, B, folds, held_out=True)
    exact = blocks.rows <= blocks.exact_auc_rows
    with blocks._shipped(W) as weights:

        def task(evaluation: int):
            params = MultiParams(
                weights, B, folds, evaluation, blocks.block_type, blocks.n_features, None, exact
            )
            return partial(partition_held_out_scores, params=params)

        keys = min(AUC_BINS, max(m.rows for m in blocks.metas))
        part_bytes = 8 * 3 * (HISTOGRAM_BINS + keys) * len(B)
        return blocks._pass(task, _add_score_lists, part_bytes)


def _add_score_lists(a: list[ScoreSummary], b: list[ScoreSummary]) -> list[ScoreSummary]:
    return [add_scores(x, y) for x, y in zip(a, b, strict=True)]
