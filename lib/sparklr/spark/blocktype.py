"""What a block type is: how its features are written from Arrow batches, checked, opened,
summed and scored. Dense (:class:`sparklr.spark.dense.DenseBlock`) is the first.

Every block stores its labels y_p (and sample weights v_p) the same way, as float64 arrays
"y" (and "v"); the type owns only the features X_p: their arrays
(:attr:`BlockType.feature_arrays`, files written through a
:class:`~sparklr.spark.blockfiles.BlockWriter`), their in-memory form (``Features``: an
ndarray for dense), their checks and statistics, and the kernel that sums them.

Adding a block type (CSR next) is a kernel module in :mod:`sparklr.kernels` and a module of
``sparklr.spark`` implementing :class:`BlockType` (its block-file format): nothing else
branches on the type. Implementations are small frozen dataclasses: they travel to the
executors inside the build and sums tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from sparklr.kernels import FISHER, BlockSums, ScoreSummary
from sparklr.spark.blockfiles import BlockWriter
from sparklr.stats import FeatureMoments

#: The features of one block in memory, as the block type's kernel takes them.
Features = Any


class FeatureSink(Protocol):
    """Receives a block's feature columns batch by batch and writes them."""

    def append(self, batch: pa.RecordBatch) -> None:
        """Add the rows of ``batch`` (float64 columns, one per feature, nulls allowed)."""

    def finish(self) -> Features:
        """The written features (read-only; their files still pending in the writer)."""


class BlockType(Protocol):
    #: Names of the arrays that hold the features (dense: ("X",)).
    feature_arrays: tuple[str, ...]

    def sink(self, writer: BlockWriter, rows: int, n_features: int) -> FeatureSink:
        """Where the ``rows`` × ``n_features`` features of a block being built go."""

    def finite_rows(self, X: Features) -> np.ndarray:
        """Boolean mask of the rows whose features are all finite (nulls were NaN)."""

    def first_nonfinite(self, X: Features, row: int) -> tuple[int, float]:
        """(column, value) of the first non-finite feature of ``row``."""

    def keep_rows(self, writer: BlockWriter, X: Features, keep: np.ndarray) -> Features:
        """The rows ``keep`` (a boolean mask) of X, rewritten as the pending feature arrays."""

    def moments(self, X: Features, y: np.ndarray, v: np.ndarray | None) -> FeatureMoments:
        """The block's :class:`~sparklr.stats.FeatureMoments`."""

    def features(self, arrays: Mapping[str, np.ndarray]) -> Features:
        """The features of a block from its mapped :attr:`feature_arrays`."""

    def sums(
        self,
        X: Features,
        y: np.ndarray,
        v: np.ndarray | None,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool,
        class_weight: tuple[float, float] | None,
        curvature: str = FISHER,
    ) -> BlockSums:
        """The block's partial sums at (w, b): the type's kernel."""

    def score(
        self, X: Features, y: np.ndarray, w: np.ndarray, b: float, *, exact_auc: bool
    ) -> ScoreSummary:
        """The block's :class:`~sparklr.kernels.ScoreSummary` at raw (w, b): its scoring kernel."""

    def feature_bytes(self, rows: int, n_features: int) -> int:
        """Bytes of the features of a block of ``rows`` rows (for the memory figures)."""

    def row_digest(self, X: Features) -> np.ndarray:
        """A uint64 per row from the row's feature values alone (not its position), which
        the fold hash absorbs (:func:`sparklr.tuning.folds.fold_ids`). Dense:
        :func:`sparklr.tuning.folds.dense_row_digest`; a sparse type must digest the same
        (index, value) content however the block is laid out."""

    def take_rows(self, X: Features, mask: np.ndarray) -> Features:
        """The rows ``mask`` (boolean) of X, in memory (a fold's held-out rows, to score)."""


def array_names(block_type: BlockType, weighted: bool, folded: bool = False) -> tuple[str, ...]:
    """All arrays of a block of this type: its features, then "y" (and "v" when weighted, and
    the int8 fold ids "f" when built with folds)."""
    return (
        *block_type.feature_arrays,
        "y",
        *(("v",) if weighted else ()),
        *(("f",) if folded else ()),
    )
