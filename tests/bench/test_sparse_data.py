"""The sparse benchmark's generator (sparklr.bench.sparse_data) at tiny sizes, without Spark."""

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from sparklr.bench.sparse_data import (
    RowGenerator,
    SparseShape,
    csr_bytes,
    draws_per_row,
    rank_cdf,
    true_model,
    vector_batch,
)

SHAPE = SparseShape(rows=20_000, features=4096, nnz_per_row=30, zipf=1.1, seed=3)


@pytest.fixture(scope="module")
def rows():
    return RowGenerator(SHAPE).rows(0, SHAPE.rows)


def test_rows_are_csr_with_sorted_distinct_in_range_indices(rows):
    assert rows.indptr[0] == 0 and rows.indptr[-1] == len(rows.indices)
    assert len(rows.indptr) == SHAPE.rows + 1 and len(rows.y) == SHAPE.rows
    assert rows.indices.dtype == np.int32
    assert rows.indices.min() >= 0 and rows.indices.max() < SHAPE.features
    X = sp.csr_array((np.ones(len(rows.indices)), rows.indices, rows.indptr))
    assert X.has_canonical_format  # sorted, no duplicates within a row


def test_density_is_the_asked_non_zeros_per_row(rows):
    per_row = np.diff(rows.indptr)
    assert per_row.mean() == pytest.approx(SHAPE.nnz_per_row, rel=0.02)
    assert per_row.std() > 1  # Poisson-like, not a constant


def test_column_frequencies_follow_the_power_law(rows):
    counts = np.bincount(rows.indices, minlength=SHAPE.features)
    ranked = np.sort(counts)[::-1]
    # Rows hold a column at most once, so the very top saturates; fit ranks 20..400.
    r = np.arange(20, 400)
    slope = np.polyfit(np.log(r), np.log(ranked[r - 1]), 1)[0]
    assert slope == pytest.approx(-SHAPE.zipf, abs=0.15)
    # The most frequent column is the permutation's rank 0, not column 0.
    assert np.argmax(counts) == RowGenerator(SHAPE).columns[0]


def test_labels_come_from_the_sparse_true_model(rows):
    w, b = true_model(SHAPE)
    assert 0.05 < np.mean(w != 0) < 0.15  # true_density 0.1
    X = sp.csr_array((np.ones(len(rows.indices)), rows.indices, rows.indptr))
    z = X @ w + b
    high, low = rows.y[z > 1].mean(), rows.y[z < -1].mean()
    assert high > 0.7 and low < 0.3  # learnable, not noise
    assert 0.2 < rows.y.mean() < 0.8


def test_same_shape_same_rows_and_another_seed_other_rows():
    a = RowGenerator(SHAPE).rows(100, 50)
    b = RowGenerator(SHAPE).rows(100, 50)
    c = RowGenerator(SparseShape(features=4096, seed=4)).rows(100, 50)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.indices[:20], c.indices[:20])


def test_draws_per_row_solves_the_distinct_count():
    cdf = rank_cdf(1000, 1.2)
    lam = draws_per_row(cdf, 20.0)
    p = np.diff(cdf, prepend=0.0)
    assert -np.expm1(-lam * p).sum() == pytest.approx(20.0, rel=1e-9)
    assert lam > 20  # duplicates of the head columns need extra draws
    with pytest.raises(ValueError, match="below"):
        draws_per_row(cdf, 1000)


def test_vector_batch_is_spark_mls_sparse_vector_layout():
    rows = RowGenerator(SparseShape(features=64, nnz_per_row=5)).rows(0, 7)
    batch = vector_batch(rows, 64)
    assert batch.schema.names == ["label", "features"]
    features = batch.column(1)
    assert features.type.names == ["type", "size", "indices", "values"]
    first = features[0].as_py()
    assert first["type"] == 0 and first["size"] == 64
    assert first["indices"] == rows.indices[rows.indptr[0] : rows.indptr[1]].tolist()
    assert set(first["values"]) == {1.0}
    assert batch.column(0).type == pa.float64()


def test_csr_bytes_counts_the_three_arrays():
    X = sp.csr_array(np.eye(4))
    assert csr_bytes(X) == 4 * 8 + 4 * X.indices.itemsize + 5 * X.indptr.itemsize


def test_cache_key_names_every_shape_parameter():
    key = SparseShape().key()
    assert key == "sparse-2000000x1048576-nnz30-zipf1.1-true0.1-p8-seed7"
    assert SparseShape(seed=8).key() != key


def test_parquet_is_written_once_as_a_vector_column_and_read_back_as_csr(spark, tmp_path):
    from pyspark.ml.linalg import VectorUDT
    from sparklr.bench.sparse_data import ensure_parquet, read_csr

    shape = SparseShape(rows=500, features=64, nnz_per_row=5, partitions=2, seed=1)
    path, wrote = ensure_parquet(spark, shape, tmp_path)
    assert wrote and path.name == shape.key() and (path / "_shape.json").exists()
    assert isinstance(spark.read.parquet(str(path)).schema["features"].dataType, VectorUDT)
    X, y = read_csr(path)
    # Two partitions of 250 rows, one Arrow batch each, files in partition order.
    gen = RowGenerator(shape)
    parts = [gen.rows(0, 250), gen.rows(250, 250)]
    expected = sp.vstack(
        [
            sp.csr_array((np.ones(len(p.indices)), p.indices, p.indptr), shape=(250, 64))
            for p in parts
        ]
    )
    assert X.shape == (500, 64) and (X != expected).nnz == 0
    np.testing.assert_array_equal(y, np.concatenate([p.y for p in parts]))
    assert ensure_parquet(spark, shape, tmp_path) == (path, False)  # reused
