import numpy as np
import pytest
from sparklr.tuning.folds import dense_row_digest, fold_ids, fold_mask, fold_weights

from tests.conftest import make_logistic_data


def folds_of(X, y, v=None, seed=7, k=5):
    return fold_ids(seed, k, y, v, dense_row_digest(X))


def test_folds_are_deterministic_in_range_and_about_equal_in_size():
    X, y, _, _ = make_logistic_data(20000, 4, seed=2)
    f = folds_of(X, y)
    assert f.dtype == np.int8
    np.testing.assert_array_equal(f, folds_of(X.copy(), y.copy()))
    counts = np.bincount(f, minlength=5)
    assert counts.sum() == 20000 and len(counts) == 5
    assert np.all(np.abs(counts - 4000) < 4 * np.sqrt(4000))  # a fair multinomial: ±4 sd


def test_a_rows_fold_depends_on_its_content_not_its_position():
    X, y, _, _ = make_logistic_data(3000, 3, seed=4)
    order = np.random.default_rng(0).permutation(3000)
    np.testing.assert_array_equal(folds_of(X, y)[order], folds_of(X[order], y[order]))
    # chunking inside the digest does not matter either (more rows than one chunk)
    big = np.tile(X, (4, 1))
    np.testing.assert_array_equal(folds_of(big, np.tile(y, 4))[:3000], folds_of(X, y))


def test_the_seed_the_label_the_weight_and_every_feature_change_the_fold():
    X, y, _, _ = make_logistic_data(4000, 3, seed=1)
    base = folds_of(X, y)
    changed = [
        folds_of(X, y, seed=8),
        folds_of(X, 1.0 - y),
        folds_of(X, y, v=np.full(4000, 2.0)),
        *(folds_of(X + np.eye(3)[j] * 1e-9, y) for j in range(3)),
    ]
    for other in changed:  # about 1/K of the rows keep their fold by chance
        assert 0.7 < np.mean(other != base) < 0.9


def test_minus_zero_hashes_as_zero_and_float32_storage_as_its_float64_values():
    X = np.array([[0.0, 1.5], [-0.0, 1.5]])
    f = fold_ids(3, 7, np.array([1.0, 1.0]), None, dense_row_digest(X))
    assert f[0] == f[1]
    X32 = np.random.default_rng(0).standard_normal((100, 3)).astype(np.float32)
    np.testing.assert_array_equal(dense_row_digest(X32), dense_row_digest(X32.astype(np.float64)))


def test_fold_masks_split_every_row_into_training_and_held_out():
    f = np.array([0, 1, 2, 1, 0], dtype=np.int8)
    np.testing.assert_array_equal(fold_mask(f, 1, exclude=True), [1, 0, 1, 0, 1])
    np.testing.assert_array_equal(fold_mask(f, 1, exclude=False), [0, 1, 0, 1, 0])
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(fold_weights(f, v, 0, exclude=True), [0, 2, 3, 4, 0])
    np.testing.assert_array_equal(fold_weights(f, None, 2, exclude=False), [0, 0, 1, 0, 0])


@pytest.mark.parametrize("k", [1, 101])
def test_fold_ids_refuse_a_fold_count_out_of_range(k):
    with pytest.raises(ValueError, match="folds"):
        fold_ids(0, k, np.zeros(3), None, np.zeros(3, dtype=np.uint64))


def test_sparse_row_digest_depends_on_the_row_content_only():
    from sparklr.tuning.folds import sparse_row_digest

    # rows: {1: 2.0, 5: 1.0}, {}, {1: 2.0, 5: 1.0}, {1: 1.0, 5: 2.0}, {5: 1.0}
    indptr = np.array([0, 2, 2, 4, 6, 7])
    indices = np.array([1, 5, 1, 5, 1, 5, 5])
    values = np.array([2.0, 1.0, 2.0, 1.0, 1.0, 2.0, 1.0])
    d = sparse_row_digest(indptr, indices, values)
    assert d[0] == d[2] and d[1] == 0
    assert len({int(d[0]), int(d[3]), int(d[4])}) == 3
    # the same rows in another block order digest alike; values None means all 1.0
    shuffled = sparse_row_digest(np.array([0, 1, 3]), np.array([5, 1, 5]), None)
    ones = sparse_row_digest(np.array([0, 2, 3]), np.array([1, 5, 5]), np.ones(3))
    assert shuffled[0] == ones[1]


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("width", [50, 1 << 40])  # tabulated indices; indices beyond the entries
def test_sparse_row_digest_is_its_definition_on_every_path(binary, width):
    """d_i = Σ_{stored (j, x)} mix64(mix64(j + φ) ⊕ bits(x)), wrapping — by a loop over rows, on
    more entries than one chunk (so the chunked paths meet a chunk boundary inside a row)."""
    from sparklr.tuning import folds
    from sparklr.tuning.folds import float_bits, mix64, sparse_row_digest

    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 9, 20_000)
    lengths[7] = 0
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    assert indptr[-1] > folds._CHUNK_ENTRIES
    indices = rng.integers(0, width, indptr[-1]).astype(np.int64)
    values = None if binary else rng.normal(size=indptr[-1])
    d = sparse_row_digest(indptr, indices, values)
    golden = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        bits = float_bits(np.ones(len(indices)) if binary else values)
        terms = mix64(mix64(indices.astype(np.uint64) + golden) ^ bits)
        for i in [*rng.choice(len(lengths), 300, replace=False).tolist(), 7]:
            row = terms[indptr[i] : indptr[i + 1]]
            assert d[i] == np.sum(row, dtype=np.uint64), i
