"""The dense block type (sparklr.spark.dense): its file format, checks and kernel."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sparklr.kernels.dense import block_sums
from sparklr.spark import blockfiles
from sparklr.spark.blockfiles import BlockWriter
from sparklr.spark.blocktype import array_names
from sparklr.spark.dense import DenseBlock

from tests.conftest import make_logistic_data


@pytest.fixture(autouse=True)
def local_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARK_LOCAL_DIRS", str(tmp_path))


def test_sink_writes_row_major_rows_with_nulls_as_nan():
    dense = DenseBlock("float32")
    with BlockWriter("ds", 0) as writer:
        sink = dense.sink(writer, 3, 2)
        sink.append(pa.record_batch({"a": [1.0, None], "b": [2.0, 4.0]}))
        sink.append(pa.record_batch({"a": [5.0], "b": [6.0]}))
        X = sink.finish()
        assert X.dtype == np.float32 and X.flags.c_contiguous and not X.flags.writeable
        np.testing.assert_array_equal(X, [[1, 2], [np.nan, 4], [5, 6]])
        assert dense.finite_rows(X).tolist() == [True, False, True]
        col, value = dense.first_nonfinite(X, 1)
        assert col == 0 and np.isnan(value)
        kept = dense.keep_rows(writer, X, dense.finite_rows(X))
        np.testing.assert_array_equal(kept, [[1, 2], [5, 6]])
        writer.commit()
    np.testing.assert_array_equal(blockfiles.read_block(writer.path, ["X"])["X"], kept)


def test_keeping_no_rows_discards_the_features():
    dense = DenseBlock()
    with BlockWriter("ds", 1) as writer:
        sink = dense.sink(writer, 1, 2)
        sink.append(pa.record_batch({"a": [np.nan], "b": [1.0]}))
        kept = dense.keep_rows(writer, sink.finish(), np.array([False]))
        assert kept.shape == (0, 2)
        writer.commit()
    assert blockfiles.block_files(writer.path) == []


def test_an_empty_sink_writes_nothing():
    with BlockWriter("ds", 2) as writer:
        X = DenseBlock().sink(writer, 0, 4).finish()
        assert X.shape == (0, 4) and blockfiles.block_files(writer.path) == []


def test_opened_features_are_summed_by_the_dense_kernel():
    X, y, w, b = make_logistic_data(50, 3, seed=9)
    v = np.linspace(0.5, 1.5, 50)
    dense = DenseBlock()
    assert dense.feature_arrays == ("X",)
    assert array_names(dense, True) == ("X", "y", "v") and array_names(dense, False) == ("X", "y")
    opened = dense.features({"X": X, "y": y})
    assert opened is X
    got = dense.sums(opened, y, v, w, b, hessian=True, class_weight=(1.0, 2.0))
    ref = block_sums(X, y, w, b, v, hessian=True, class_weight=(1.0, 2.0))
    assert got.loss == ref.loss and got.weight_sum == ref.weight_sum
    np.testing.assert_array_equal(got.hess_ww, ref.hess_ww)
