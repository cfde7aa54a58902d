"""A :class:`~sparklr.objective.SumsSource` over NumPy arrays held in this process.

For tests, benchmarks and notebooks: the same interface as the Spark
:class:`~sparklr.spark.blockset.BlockSet`, with the blocks in memory, so the optimizers run
without Spark and "the distributed answer equals the local answer" is a one-line comparison.
"""

from __future__ import annotations

import numpy as np

from sparklr.kernels import AUC_BINS, FISHER, BlockSums, ScoreSummary, merge_scores, sum_in_order
from sparklr.kernels.dense import block_sums, multi_block_sums, score_summary
from sparklr.kernels.multi import MultiSums
from sparklr.stats import FeatureMoments, merge_all
from sparklr.tuning.folds import fold_mask, fold_weights


class InMemorySource:
    """Dense NumPy blocks in this process; a block is (X, y) or (X, y, v) with sample weights v.

    :meth:`sums` adds the blocks' :func:`~sparklr.kernels.dense.block_sums` in list order;
    :meth:`score_summary` merges their :func:`~sparklr.kernels.dense.score_summary` as the
    Spark :class:`~sparklr.spark.blockset.BlockSet` does (exact AUC up to ``exact_auc_rows``).
    """

    exact_auc_rows = AUC_BINS

    def __init__(self, blocks: list[tuple[np.ndarray, ...]] | tuple[np.ndarray, ...]):
        if isinstance(blocks, tuple):
            blocks = [blocks]
        self.blocks = [
            (
                np.ascontiguousarray(block[0]),
                np.asarray(block[1], dtype=np.float64),
                None if len(block) < 3 else np.asarray(block[2], dtype=np.float64),
            )
            for block in blocks
        ]
        self.n_features = self.blocks[0][0].shape[1]

    def sums(
        self,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool = False,
        class_weight: tuple[float, float] | None = None,
        curvature: str = FISHER,
    ) -> BlockSums:
        parts = [
            block_sums(
                X, y, w, b, v, hessian=hessian, class_weight=class_weight, curvature=curvature
            )
            for X, y, v in self.blocks
        ]
        return sum_in_order(parts, self.n_features, hessian)

    def score_summary(self, w: np.ndarray, b: float) -> ScoreSummary:
        exact = sum(len(y) for _, y, _ in self.blocks) <= self.exact_auc_rows
        return merge_scores([score_summary(X, y, w, b, exact_auc=exact) for X, y, _ in self.blocks])

    def moments(self) -> FeatureMoments:
        """The blocks' :class:`~sparklr.stats.FeatureMoments`, as the Spark build gathers them."""
        return merge_all(
            [FeatureMoments.of_block(X, y, v) for X, y, v in self.blocks], self.n_features
        )


class FoldedInMemorySource:
    """One dense block (X, y, optional v) with fold ids f ∈ [0, ``folds``): the interface of a
    :class:`~sparklr.spark.blockset.BlockSet` built with folds — per-fold sums and held-out
    scores, and the multi-model passes of :mod:`sparklr.spark.multisums` (for CV in lockstep)."""

    exact_auc_rows = AUC_BINS

    def __init__(self, X, y, f, folds: int, v=None):
        self.X = np.ascontiguousarray(X)
        self.y = np.asarray(y, dtype=np.float64)
        self.f = np.asarray(f, dtype=np.int8)
        self.v = None if v is None else np.asarray(v, dtype=np.float64)
        self.folds = folds
        self.n_features = self.X.shape[1]
        #: Passes made (sums, scores, multi-model), as BlockSet.evaluations.
        self.evaluations = 0

    def sums(self, w, b, *, hessian=False, class_weight=None, curvature=FISHER, fold=None):
        self.evaluations += 1
        v = self.v if fold is None else fold_weights(self.f, self.v, fold, exclude=True)
        sums = block_sums(
            self.X, self.y, w, b, v, hessian=hessian, class_weight=class_weight, curvature=curvature
        )
        if fold is not None:
            sums.rows = int(np.count_nonzero(self.f != fold))
        return sums

    def score_summary(self, w, b, *, fold=None, held_out=True) -> ScoreSummary:
        self.evaluations += 1
        keep = np.ones(len(self.y), bool) if fold is None else fold_mask(self.f, fold, not held_out)
        exact = len(self.y) <= self.exact_auc_rows
        return score_summary(self.X[keep], self.y[keep], w, b, exact_auc=exact)

    def multi_sums(self, W, B, folds, *, class_weight=None, hessian=False) -> MultiSums:
        self.evaluations += 1
        return multi_block_sums(
            self.X, self.y, self.v, self.f, W, B, folds, class_weight=class_weight, hessian=hessian
        )

    def held_out_scores(self, W, B, folds) -> list[ScoreSummary]:
        self.evaluations += 1
        exact = len(self.y) <= self.exact_auc_rows
        out = []
        for j, k in enumerate(folds):
            held = self.f == k
            out.append(score_summary(self.X[held], self.y[held], W[:, j], B[j], exact_auc=exact))
        return out
