"""Spark ML vector columns (``VectorUDT``) as Arrow gives them: decoding and checking.

In Arrow -- through ``mapInArrow`` (Spark 4.3 converts a UDT column to its sqlType) and in
the Parquet files Spark writes (read straight by pyarrow) -- a vector column is the struct::

    type: int8 (0 = sparse, 1 = dense)   size: int32 (sparse only)
    indices: list<int32> (sparse only)   values: list<double>

:func:`decode` turns one batch of it into the batch's non-zeros (per-row counts, column
indices, values) with Arrow/NumPy vector operations only: no Python per row, and a sparse row
is never densified. Dense rows contribute their non-zero entries. A stored 0.0 is dropped (a
NaN or ±Inf is kept, for the build's non-finite check to name). The checks raise
:class:`FeatureError` naming the row (within the block): a null vector, a size other than
n_x, an index outside [0, n_x), indices not strictly ascending (unsorted or duplicate).

:class:`DenseVectorBlock` is the dense block type fed from a vector column (the row's
non-zeros scattered into a zeroed row-major chunk); :class:`~sparklr.spark.csr.CsrBlock` is
the sparse one. The driver side (sizes, names, density, the block-type rule) is
:mod:`sparklr.spark.vector_input`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sparklr.spark.blockfiles import BlockWriter
from sparklr.spark.blocktype import FeatureError
from sparklr.spark.dense import DenseBlock

#: The field names of Spark ML's vector struct, in order.
VECTOR_FIELDS = ("type", "size", "indices", "values")
SPARSE, DENSE = 0, 1


def is_vector_struct(t: pa.DataType) -> bool:
    """Whether ``t`` is the Arrow form of a Spark ML vector (module docstring)."""
    if not pa.types.is_struct(t):
        return False
    return tuple(t.field(i).name for i in range(t.num_fields)) == VECTOR_FIELDS


@dataclass(frozen=True)
class Entries:
    """The non-zeros of k rows: ``row_nnz`` (k,), then ``columns`` and ``values`` row by row."""

    row_nnz: np.ndarray
    columns: np.ndarray
    values: np.ndarray

    @property
    def row_of(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.row_nnz)), self.row_nnz)


def _numpy(array: pa.Array, fill=None) -> np.ndarray:
    if fill is not None:
        array = array.fill_null(fill)
    return array.to_numpy(zero_copy_only=False)


def decode(column: pa.Array, n_features: int, first_row: int = 0) -> Entries:
    """The non-zeros of a batch's vector ``column`` (module docstring); rows are numbered
    from ``first_row`` in the errors."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        row = int(np.flatnonzero(_numpy(column.is_null()))[0])
        raise FeatureError(first_row + row, "the feature vector is null")
    kind, size, index_lists, value_lists = column.flatten()
    sparse = _numpy(kind) == SPARSE
    value_len = _numpy(pc.list_value_length(value_lists), 0).astype(np.int64)
    index_len = _numpy(pc.list_value_length(index_lists), 0).astype(np.int64)
    sizes = np.where(sparse, _numpy(size, -1), value_len)
    wrong = np.flatnonzero(sizes != n_features)
    if len(wrong):
        row = int(wrong[0])
        raise FeatureError(
            first_row + row, f"vector size {int(sizes[row])}, but n_x = {n_features}"
        )
    broken = np.flatnonzero(np.where(sparse, index_len != value_len, index_len != 0))
    if len(broken):
        row = int(broken[0])
        raise FeatureError(first_row + row, "a sparse vector with as many indices as values")
    values = _numpy(pc.list_flatten(value_lists)).astype(np.float64, copy=False)
    row_of = np.repeat(np.arange(len(sizes)), value_len)
    columns = _element_columns(row_of, value_len, sparse, index_lists)
    _check_indices(columns, row_of, n_features, first_row)
    keep = values != 0.0
    row_nnz = np.bincount(row_of[keep], minlength=len(sizes))
    return Entries(row_nnz, columns[keep], values[keep])


def _element_columns(row_of, value_len, sparse, index_lists) -> np.ndarray:
    """The column of every stored element: a sparse row's indices, a dense row's positions."""
    elem_sparse = sparse[row_of]
    columns = np.arange(len(row_of), dtype=np.int64)
    columns -= np.repeat(np.cumsum(value_len) - value_len, value_len)  # position in the row
    if elem_sparse.any():
        columns[elem_sparse] = _numpy(pc.list_flatten(index_lists))
    return columns


def _check_indices(columns, row_of, n_features: int, first_row: int) -> None:
    outside = np.flatnonzero((columns < 0) | (columns >= n_features))
    if len(outside):
        j = int(outside[0])
        raise FeatureError(
            first_row + int(row_of[j]),
            f"feature index {int(columns[j])} outside [0, {n_features})",
        )
    disorder = np.flatnonzero((row_of[1:] == row_of[:-1]) & (np.diff(columns) <= 0))
    if len(disorder):
        j = int(disorder[0]) + 1
        raise FeatureError(
            first_row + int(row_of[j]),
            f"sparse vector indices not strictly ascending ({int(columns[j - 1])} then "
            f"{int(columns[j])}: unsorted or duplicate)",
        )


@dataclass(frozen=True)
class DenseVectorBlock(DenseBlock):
    """:class:`~sparklr.spark.dense.DenseBlock` whose input is one vector column."""

    def input_columns(self, n_features: int) -> int:
        return 1

    def sink(self, writer: BlockWriter, rows: int, n_features: int) -> _DenseVectorSink:
        return _DenseVectorSink(super().sink(writer, rows, n_features), n_features, self.dtype)


class _DenseVectorSink:
    """Scatters each batch's non-zeros into a zeroed row-major chunk, appended to X's file."""

    def __init__(self, dense_sink, n_features: int, dtype: str):
        self._dense = dense_sink
        self._n = n_features
        self._dtype = dtype
        self._rows = 0

    def append(self, batch: pa.RecordBatch) -> None:
        entries = decode(batch.column(0), self._n, self._rows)
        chunk = np.zeros((batch.num_rows, self._n), dtype=self._dtype)
        chunk[entries.row_of, entries.columns] = entries.values
        self._dense.write_rows(chunk)
        self._rows += batch.num_rows

    def finish(self) -> np.ndarray:
        return self._dense.finish()
