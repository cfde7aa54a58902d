"""What a block type is: how its features are written from Arrow batches, checked, opened,
summed and scored. Dense and CSR (below).

Every block stores its labels y_p (and sample weights v_p) the same way, as float64 arrays
"y" (and "v"); the type owns only the features X_p: their arrays
(:attr:`BlockType.feature_arrays`, files written through a
:class:`~sparklr.spark.blockfiles.BlockWriter`), their in-memory form (``Features``: an
ndarray for dense), their checks and statistics, and the kernel that sums them.

A block type is a kernel module in :mod:`sparklr.kernels` and a module of ``sparklr.spark``
implementing :class:`BlockType` (its block-file format): dense
(:class:`~sparklr.spark.dense.DenseBlock`, and :class:`~sparklr.spark.vectors.DenseVectorBlock`
fed from a vector column) and CSR (:class:`~sparklr.spark.csr.CsrBlock`); nothing else
branches on the type. Implementations are small frozen dataclasses: they travel to the
executors inside the build and sums tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from sparklr.kernels import FISHER, BlockSums, ScoreSummary
from sparklr.kernels.multi import MultiSums
from sparklr.spark.blockfiles import BlockWriter
from sparklr.stats import FeatureMoments

#: The features of one block in memory, as the block type's kernel takes them.
Features = Any


class FeatureError(Exception):
    """Features a sink cannot store (a vector of the wrong size, an index out of range...):
    bad data at ``row`` of the block, which the build reports (a DataError on the driver)."""

    def __init__(self, row: int, message: str):
        super().__init__(f"row {row}: {message}")
        self.row = row
        self.message = message


class FeatureSink(Protocol):
    """Receives a block's feature columns batch by batch and writes them."""

    def append(self, batch: pa.RecordBatch) -> None:
        """Add the rows of ``batch``: its :meth:`BlockType.input_columns` feature columns
        (float64 columns, one per feature, nulls allowed; or one vector struct column).
        Raises :class:`FeatureError` on features it cannot store."""

    def finish(self) -> Features:
        """The written features (read-only; their files still pending in the writer)."""


class BlockType(Protocol):
    #: Names of the arrays that hold the features (dense: ("X",)).
    feature_arrays: tuple[str, ...]

    def input_columns(self, n_features: int) -> int:
        """How many columns of the build's batches hold the features (dense: n_x; a vector
        column: 1)."""

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

    def absent_arrays(self, X: Features) -> tuple[str, ...]:
        """The :attr:`feature_arrays` this block does not store (recorded in its meta)."""

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

    def multi_sums(
        self,
        X: Features,
        y: np.ndarray,
        v: np.ndarray | None,
        f: np.ndarray | None,
        W: np.ndarray,
        B: np.ndarray,
        folds: np.ndarray,
        *,
        class_weight: tuple[float, float] | None,
        hessian: bool = False,
    ) -> MultiSums:
        """The sums of K' models at once (:mod:`sparklr.kernels.multi`), with their Hessian
        pieces when asked: the type's multi-model kernel."""

    def score(
        self, X: Features, y: np.ndarray, w: np.ndarray, b: float, *, exact_auc: bool
    ) -> ScoreSummary:
        """The block's :class:`~sparklr.kernels.ScoreSummary` at raw (w, b): its scoring kernel."""

    def gram_sums(
        self, X: Features, v: np.ndarray | None, w: np.ndarray, b: float
    ) -> tuple[np.ndarray, float, float]:
        """(Σ v z x, Σ v z, Σ v) with z = X_p w + b: the block's share of a Gram mat-vec."""

    def row_digest(self, X: Features) -> np.ndarray:
        """A uint64 per row from the row's feature values alone (not its position), which
        the fold hash absorbs (:func:`sparklr.tuning.folds.fold_ids`). Dense:
        :func:`sparklr.tuning.folds.dense_row_digest`; a sparse type must digest the same
        (index, value) content however the block is laid out."""

    def take_rows(self, X: Features, mask: np.ndarray) -> Features:
        """The rows ``mask`` (boolean) of X, in memory (a fold's held-out rows, to score)."""


def array_names(
    block_type: BlockType, weighted: bool, absent: tuple[str, ...] = (), folded: bool = False
) -> tuple[str, ...]:
    """All arrays of a block of this type: its features (but those ``absent``), then "y" (and
    "v" when weighted, and the int8 fold ids "f" when built with folds)."""
    features = tuple(name for name in block_type.feature_arrays if name not in absent)
    return (*features, "y", *(("v",) if weighted else ()), *(("f",) if folded else ()))
