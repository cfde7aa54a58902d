"""The dense kernel (sparklr.kernels.dense) against the seed's definitions."""

import numpy as np
import pytest
from sparklr.kernels import AUC_BINS, HISTOGRAM_BINS, ROBUST, BlockSums
from sparklr.kernels.dense import block_sums, chunk_rows_for, score_summary
from sparklr.objective import FeatureMap

from tests.conftest import make_logistic_data


def naive_loss(X, y, w, b):
    a = 1 / (1 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))


def test_loss_matches_the_seed_definition(logistic_data):
    X, y, w, b = logistic_data
    sums = block_sums(X, y, w, b)
    assert sums.loss / sums.weight_sum == pytest.approx(naive_loss(X, y, w, b), rel=1e-13)
    a = 1 / (1 + np.exp(-(X @ w + b)))
    np.testing.assert_allclose(sums.grad_w, X.T @ (a - y), rtol=1e-12)
    assert sums.grad_b == pytest.approx(np.sum(a - y), rel=1e-12)
    assert sums.weight_sum == len(y) and sums.rows == len(y)


def test_extreme_z_gives_finite_sums():
    z = np.array([-800.0, -45.0, -40.0, 0.0, 40.0, 45.0, 800.0])
    for label in (0.0, 1.0):
        sums = block_sums(z[:, None], np.full(len(z), label), np.array([1.0]), 0.0)
        assert np.isfinite(sums.loss) and np.all(np.isfinite(sums.grad_w))


def test_chunking_does_not_change_the_sums():
    X, y, w, b = make_logistic_data(3000, 7, seed=3)
    whole = block_sums(X, y, w, b, hessian=True, chunk_rows=10**9)
    chunked = block_sums(X, y, w, b, hessian=True, chunk_rows=97)
    assert chunked.loss == pytest.approx(whole.loss, rel=1e-12)
    np.testing.assert_allclose(chunked.grad_w, whole.grad_w, rtol=1e-12)
    np.testing.assert_allclose(chunked.hess_ww, whole.hess_ww, rtol=1e-12)
    assert chunked.correct == whole.correct


def test_chunk_rows_target_one_mebibyte():
    assert chunk_rows_for(50) == (1 << 20) // 400
    assert chunk_rows_for(50, itemsize=4) == (1 << 20) // 200
    assert chunk_rows_for(10**6) == 64  # never fewer than 64 rows


def test_sample_weights_equal_repeated_rows():
    X, y, w, b = make_logistic_data(200, 3, seed=4)
    weights = np.random.default_rng(0).integers(1, 4, size=len(y)).astype(float)
    weighted = block_sums(X, y, w, b, weights)
    repeated = block_sums(
        np.repeat(X, weights.astype(int), 0), np.repeat(y, weights.astype(int)), w, b
    )
    assert weighted.loss == pytest.approx(repeated.loss, rel=1e-12)
    np.testing.assert_allclose(weighted.grad_w, repeated.grad_w, rtol=1e-12)
    assert weighted.weight_sum == repeated.weight_sum


def test_float32_storage_accumulates_in_float64():
    X, y, w, b = make_logistic_data(20000, 5, seed=5)
    exact = block_sums(X, y, w, b)
    single = block_sums(X.astype(np.float32), y, w, b)
    assert isinstance(single.loss, float)
    assert single.loss == pytest.approx(exact.loss, rel=1e-6)
    np.testing.assert_allclose(single.grad_w, exact.grad_w, rtol=1e-4)


def test_empty_block_gives_zero_sums():
    sums = block_sums(np.empty((0, 3)), np.empty(0), np.ones(3), 1.0, hessian=True)
    assert sums.weight_sum == 0 and sums.loss == 0 and not sums.grad_w.any()
    total = sums + BlockSums.zeros(3, True)
    assert total.rows == 0 and total.weight_sum == 0 and total.loss == 0
    assert total.has_hessian and not total.hess_ww.any() and total.hess_bb == 0


def augmented(X):
    return np.column_stack([X, np.ones(len(X))])


def direct_meat(X, y, w, b, v):
    """Σ v r² [x; 1][x; 1]ᵀ formed row by row from its definition."""
    total = np.zeros((X.shape[1] + 1,) * 2)
    for x, label, weight in zip(augmented(X.astype(np.float64)), y, v, strict=True):
        r = 1.0 / (1.0 + np.exp(-(x[:-1] @ w + b))) - label
        total += weight * r * r * np.outer(x, x)
    return total


def curvature_matrix(sums: BlockSums) -> np.ndarray:
    n = len(sums.hess_wb)
    M = np.empty((n + 1, n + 1))
    M[:n, :n], M[:n, n], M[n, :n], M[n, n] = (
        sums.hess_ww,
        sums.hess_wb,
        sums.hess_wb,
        sums.hess_bb,
    )
    return M


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_robust_curvature_is_the_meat_in_any_chunking(dtype, weighted):
    X, y, _, _ = make_logistic_data(300, 4, seed=5, offset=1.0, scale=2.0)
    X = np.ascontiguousarray(X, dtype=dtype)
    v = np.random.default_rng(1).uniform(0.5, 3.0, len(y)) if weighted else None
    w, b = np.array([0.4, -0.3, 0.2, 0.1]), -0.2
    expected = direct_meat(X, y, w, b, np.ones(len(y)) if v is None else v)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for chunk_rows in (None, 64, 7):
        got = block_sums(X, y, w, b, v, hessian=True, curvature=ROBUST, chunk_rows=chunk_rows)
        assert got.rows == 300
        np.testing.assert_allclose(curvature_matrix(got), expected, rtol=rtol)
        # the first-order sums do not depend on the curvature asked for
        fisher = block_sums(X, y, w, b, v, hessian=True, chunk_rows=chunk_rows)
        assert got.loss == fisher.loss and np.array_equal(got.grad_w, fisher.grad_w)
        assert not np.allclose(got.hess_ww, fisher.hess_ww)


def test_robust_curvature_in_training_coordinates_is_the_meat_of_the_mapped_features():
    X, y, _, _ = make_logistic_data(250, 3, seed=8, offset=3.0, scale=2.5)
    fmap = FeatureMap(X.mean(axis=0), 1.0 / X.std(axis=0, ddof=1))
    w, b = np.array([0.2, 0.1, -0.4]), 0.5
    X_t = (X - fmap.shift) * fmap.scale
    expected = direct_meat(X_t, y, w / fmap.scale, b + w @ fmap.shift, np.ones(len(y)))
    got = fmap.hessian(block_sums(X, y, w, b, hessian=True, curvature=ROBUST))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def direct_scores(X, y, w, b, bins):
    """The scoring sums straight from their definitions, in NumPy."""
    z = X @ w + b
    p = 1 / (1 + np.exp(-z))
    index = np.minimum(np.floor(p * bins).astype(int), bins - 1)
    return {
        "loss": np.sum(np.logaddexp(0, z) - y * z),
        "correct": int(np.sum((p >= 0.5) == (y == 1))),
        "count": np.bincount(index, minlength=bins),
        "positives": np.bincount(index, weights=y, minlength=bins),
        "sum_probability": np.bincount(index, weights=p, minlength=bins),
    }


@pytest.mark.parametrize("chunk_rows", [None, 64, 999])
def test_score_summary_equals_the_direct_computation(chunk_rows):
    X, y, w, b = make_logistic_data(3000, 4, seed=21)
    got = score_summary(X, y, w, b, chunk_rows=chunk_rows)
    ref = direct_scores(X, y, w, b, HISTOGRAM_BINS)
    assert (got.rows, got.positives, got.correct) == (3000, int(y.sum()), ref["correct"])
    assert got.loss == pytest.approx(ref["loss"], rel=1e-12)
    np.testing.assert_array_equal(got.count, ref["count"])
    np.testing.assert_array_equal(got.bin_positives, ref["positives"])
    np.testing.assert_allclose(got.sum_probability, ref["sum_probability"], rtol=1e-12)
    assert got.count.dtype == got.bin_positives.dtype == np.int64
    fine = direct_scores(X, y, w, b, AUC_BINS)
    keys = np.flatnonzero(fine["count"])
    np.testing.assert_array_equal(got.tally.keys, keys)
    np.testing.assert_array_equal(got.tally.count, fine["count"][keys])
    np.testing.assert_array_equal(got.tally.positives, fine["positives"][keys])
    assert not got.tally.exact


def test_score_summary_exact_tally_is_by_probability():
    X, y, w, b = make_logistic_data(500, 3, seed=4)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    tally = score_summary(X, y, w, b, exact_auc=True).tally
    assert tally.exact
    np.testing.assert_allclose(tally.keys, np.unique(p), rtol=1e-15)
    assert tally.count.sum() == 500 and tally.positives.sum() == y.sum()


def test_score_summary_of_extreme_z_and_of_no_rows():
    X = np.array([[-800.0], [800.0], [0.0]])
    y = np.array([0.0, 1.0, 0.0])
    got = score_summary(X, y, np.ones(1), 0.0)
    assert got.loss == pytest.approx(np.log(2.0), rel=1e-15)  # only the z = 0 row costs
    assert got.correct == 2 and (got.count[0], got.count[500], got.count[-1]) == (1, 1, 1)
    empty = score_summary(np.empty((0, 2)), np.empty(0), np.ones(2), 0.0)
    assert empty.rows == 0 and empty.count.sum() == 0 and len(empty.tally.keys) == 0
