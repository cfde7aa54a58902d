"""The dense block type: X_p as one C-contiguous (m_p × n_x) matrix of ``dtype``, file "X".

Written batch by batch: Arrow transposes each batch's feature columns into a row-major tensor
(nulls → NaN, for the build's checks to find), appended to X's file as one contiguous run of
rows, so the block goes to the page cache once, with no private copy (Arrow's transpose is ~4x
faster than column-by-column NumPy copies into fresh buffers). Summed by
:func:`sparklr.kernels.dense.block_sums`, scored by :func:`sparklr.kernels.dense.score_summary`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyarrow as pa

from sparklr.kernels import FISHER, BlockSums, ScoreSummary
from sparklr.kernels.dense import block_sums, gram_sums, multi_block_sums, score_summary
from sparklr.kernels.multi import MultiSums
from sparklr.spark.blockfiles import BlockWriter
from sparklr.stats import FeatureMoments
from sparklr.tuning.folds import dense_row_digest


@dataclass(frozen=True)
class DenseBlock:
    """The dense :class:`~sparklr.spark.blocktype.BlockType`; ``dtype`` float64 or float32."""

    dtype: str = "float64"
    feature_arrays: ClassVar[tuple[str, ...]] = ("X",)

    def input_columns(self, n_features: int) -> int:
        return n_features

    def sink(self, writer: BlockWriter, rows: int, n_features: int) -> _DenseSink:
        return _DenseSink(writer, rows, n_features, self.dtype)

    def finite_rows(self, X: np.ndarray) -> np.ndarray:
        return np.isfinite(X).all(axis=1)

    def first_nonfinite(self, X: np.ndarray, row: int) -> tuple[int, float]:
        col = int(np.flatnonzero(~np.isfinite(X[row]))[0])
        return col, X[row, col]

    def keep_rows(self, writer: BlockWriter, X: np.ndarray, keep: np.ndarray) -> np.ndarray:
        kept = np.ascontiguousarray(X[keep])
        if len(kept):
            writer.save("X", kept)
        else:
            writer.discard("X")
        return kept

    def moments(self, X: np.ndarray, y: np.ndarray, v: np.ndarray | None) -> FeatureMoments:
        return FeatureMoments.of_block(X, y, v)

    def absent_arrays(self, X: np.ndarray) -> tuple[str, ...]:
        return ()

    def features(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        return arrays["X"]

    def sums(
        self,
        X: np.ndarray,
        y: np.ndarray,
        v: np.ndarray | None,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool,
        class_weight: tuple[float, float] | None,
        curvature: str = FISHER,
    ) -> BlockSums:
        return block_sums(
            X, y, w, b, v, hessian=hessian, class_weight=class_weight, curvature=curvature
        )

    def multi_sums(
        self,
        X: np.ndarray,
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
        return multi_block_sums(X, y, v, f, W, B, folds, class_weight=class_weight, hessian=hessian)

    def score(
        self, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, *, exact_auc: bool
    ) -> ScoreSummary:
        return score_summary(X, y, w, b, exact_auc=exact_auc)

    def gram_sums(
        self, X: np.ndarray, v: np.ndarray | None, w: np.ndarray, b: float
    ) -> tuple[np.ndarray, float, float]:
        return gram_sums(X, v, w, b)

    def row_digest(self, X: np.ndarray) -> np.ndarray:
        return dense_row_digest(X)

    def take_rows(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(X[mask])


class _DenseSink:
    """Streams feature batches into X's pending file as row-major ``dtype`` rows."""

    def __init__(self, writer: BlockWriter, rows: int, n_features: int, dtype: str):
        self._writer = writer
        self._empty = np.empty((0, n_features), dtype=dtype) if rows == 0 else None
        self._out = None if rows == 0 else writer.stream("X", dtype, (rows, n_features))
        self._dtype = dtype

    def append(self, batch: pa.RecordBatch) -> None:
        self.write_rows(np.asarray(batch.to_tensor(null_to_nan=True, row_major=True)))

    def write_rows(self, rows: np.ndarray) -> None:
        """Append a C-contiguous (k × n_x) chunk of rows."""
        self._out.write(np.ascontiguousarray(rows, dtype=self._dtype).data)

    def finish(self) -> np.ndarray:
        return self._empty if self._out is None else self._writer.map("X")
