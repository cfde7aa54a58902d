"""Decoding Spark ML vector structs (sparklr.spark.vectors) from Arrow, without Spark."""

import numpy as np
import pyarrow as pa
import pytest
from sparklr.spark.blocktype import FeatureError
from sparklr.spark.vectors import decode, is_vector_struct

VECTOR = pa.struct(
    [
        ("type", pa.int8()),
        ("size", pa.int32()),
        ("indices", pa.list_(pa.int32())),
        ("values", pa.list_(pa.float64())),
    ]
)


def sparse(size, indices, values):
    return {"type": 0, "size": size, "indices": indices, "values": values}


def dense(values):
    return {"type": 1, "size": None, "indices": None, "values": values}


def test_mixed_rows_give_their_non_zeros_in_row_order():
    column = pa.array(
        [sparse(4, [1, 3], [2.0, 0.0]), dense([0.0, 5.0, 0.0, -1.0]), sparse(4, [], [])],
        type=VECTOR,
    )
    assert is_vector_struct(column.type)
    entries = decode(column, 4)
    np.testing.assert_array_equal(entries.row_nnz, [1, 2, 0])  # the stored 0.0 is dropped
    np.testing.assert_array_equal(entries.columns, [1, 1, 3])
    np.testing.assert_array_equal(entries.values, [2.0, 5.0, -1.0])


def test_a_sliced_batch_decodes_its_own_rows():
    column = pa.array([sparse(3, [0], [1.0]), sparse(3, [2], [7.0])], type=VECTOR).slice(1)
    entries = decode(column, 3)
    np.testing.assert_array_equal(entries.columns, [2])
    np.testing.assert_array_equal(entries.values, [7.0])


def test_nan_is_kept_for_the_non_finite_check():
    entries = decode(pa.array([sparse(3, [2], [float("nan")])], type=VECTOR), 3)
    assert np.isnan(entries.values[0]) and entries.columns[0] == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (sparse(5, [1], [1.0]), "row 11: vector size 5, but n_x = 4"),
        (dense([1.0, 2.0]), "row 11: vector size 2, but n_x = 4"),
        (sparse(4, [4], [1.0]), "row 11: feature index 4 outside \\[0, 4\\)"),
        (sparse(4, [-1], [1.0]), "row 11: feature index -1 outside"),
        (sparse(4, [2, 1], [1.0, 1.0]), "row 11: .*not strictly ascending \\(2 then 1"),
        (sparse(4, [2, 2], [1.0, 1.0]), "row 11: .*unsorted or duplicate"),
        (None, "row 11: the feature vector is null"),
    ],
)
def test_bad_vectors_raise_naming_the_row(row, message):
    column = pa.array([sparse(4, [0], [1.0]), row], type=VECTOR)
    with pytest.raises(FeatureError, match=message):
        decode(column, 4, first_row=10)
