"""The multi-model kernels (sparklr.kernels.multi; dense and CSR), their sums and Hessian
pieces, against the single-model kernels on the explicit fold weights, finite differences
and the scoring kernel."""

import numpy as np
import pytest
from sparklr.kernels import csr, dense
from sparklr.kernels.csr import CsrMatrix
from sparklr.kernels.multi import ALL_ROWS, MultiSums
from sparklr.tuning.folds import dense_row_digest, fold_ids, fold_weights

from tests.conftest import make_logistic_data

K = 3
FOLDS = np.array([0, 1, 2, ALL_ROWS])


@pytest.fixture(scope="module")
def block():
    X, y, _, _ = make_logistic_data(700, 5, seed=21)
    X[np.abs(X) < 0.6] = 0.0  # sparse enough to make the CSR form meaningful
    v = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    f = fold_ids(7, K, y, None, dense_row_digest(X))
    rng = np.random.default_rng(3)
    W = 0.5 * rng.standard_normal((5, len(FOLDS)))
    B = rng.standard_normal(len(FOLDS))
    return X, y, v, f, W, B


def kernels(X):
    """(multi kernel, single kernel, features) of each block type."""
    return {
        "dense": (dense.multi_block_sums, dense.block_sums, X),
        "dense-chunked": (
            lambda *a, **k: dense.multi_block_sums(*a, chunk_rows=97, **k),
            dense.block_sums,
            X,
        ),
        "csr": (csr.multi_block_sums, csr.block_sums, CsrMatrix.of_dense(X)),
    }


@pytest.mark.parametrize("kind", ["dense", "dense-chunked", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("class_weight", [None, (0.7, 1.9)])
def test_each_column_equals_the_single_model_kernel_on_its_fold_weights(
    block, kind, weighted, class_weight
):
    X, y, v, f, W, B = block
    multi, single, features = kernels(X)[kind]
    v = v if weighted else None
    sums = multi(features, y, v, f, W, B, FOLDS, class_weight=class_weight)
    for j, k in enumerate(FOLDS):
        weights = v if k == ALL_ROWS else fold_weights(f, v, int(k), exclude=True)
        ref = single(features, y, W[:, j], B[j], weights, class_weight=class_weight)
        got = sums.model(j)
        assert got.loss == pytest.approx(ref.loss, rel=1e-12)
        np.testing.assert_allclose(got.grad_w, ref.grad_w, rtol=1e-12, atol=1e-12)
        assert got.grad_b == pytest.approx(ref.grad_b, rel=1e-12, abs=1e-12)
        assert got.weight_sum == pytest.approx(ref.weight_sum, rel=1e-13)
        assert got.correct == pytest.approx(ref.correct, rel=1e-13)
        assert got.rows == (len(y) if k == ALL_ROWS else int(np.sum(f != k)))


@pytest.mark.parametrize("kind", ["dense", "dense-chunked", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("class_weight", [None, (0.7, 1.9)])
def test_each_columns_hessian_equals_the_single_model_kernels_on_its_fold_weights(
    block, kind, weighted, class_weight
):
    X, y, v, f, W, B = block
    multi, single, features = kernels(X)[kind]
    v = v if weighted else None
    sums = multi(features, y, v, f, W, B, FOLDS, class_weight=class_weight, hessian=True)
    plain = multi(features, y, v, f, W, B, FOLDS, class_weight=class_weight)
    assert not plain.has_hessian and plain.model(0).hess_ww is None
    np.testing.assert_array_equal(sums.grad_w, plain.grad_w)  # the rest is unchanged
    np.testing.assert_array_equal(sums.loss, plain.loss)
    for j, k in enumerate(FOLDS):
        weights = v if k == ALL_ROWS else fold_weights(f, v, int(k), exclude=True)
        ref = single(features, y, W[:, j], B[j], weights, class_weight=class_weight, hessian=True)
        got = sums.model(j)
        np.testing.assert_allclose(got.hess_ww, ref.hess_ww, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got.hess_wb, ref.hess_wb, rtol=1e-12, atol=1e-12)
        assert got.hess_bb == pytest.approx(ref.hess_bb, rel=1e-12)


def test_the_hessian_columns_are_the_derivatives_of_the_gradient(block):
    X, y, v, f, W, B = block
    sums = dense.multi_block_sums(X, y, v, f, W, B, FOLDS, hessian=True)
    h = 1e-6
    for j in (1, 3):
        for i in range(X.shape[1]):
            Wp, Wm = W.copy(), W.copy()
            Wp[i, j] += h
            Wm[i, j] -= h
            up = dense.multi_block_sums(X, y, v, f, Wp, B, FOLDS)
            down = dense.multi_block_sums(X, y, v, f, Wm, B, FOLDS)
            column = (up.grad_w[:, j] - down.grad_w[:, j]) / (2 * h)
            np.testing.assert_allclose(column, sums.hess_ww[j][:, i], rtol=1e-6, atol=1e-7)
            slope = (up.grad_b[j] - down.grad_b[j]) / (2 * h)
            assert slope == pytest.approx(sums.hess_wb[i, j], rel=1e-6)
        Bp, Bm = B.copy(), B.copy()
        Bp[j] += h
        Bm[j] -= h
        up = dense.multi_block_sums(X, y, v, f, W, Bp, FOLDS).grad_b[j]
        down = dense.multi_block_sums(X, y, v, f, W, Bm, FOLDS).grad_b[j]
        assert (up - down) / (2 * h) == pytest.approx(sums.hess_bb[j], rel=1e-6)


def test_the_csr_kernel_refuses_the_hessian_above_its_width():
    wide = CsrMatrix.of_dense(np.eye(2, csr.MAX_HESSIAN_FEATURES + 1))
    W = np.zeros((wide.n_features, 1))
    args = (wide, np.array([0.0, 1.0]), None, None, W, np.zeros(1), np.array([ALL_ROWS]))
    with pytest.raises(ValueError, match="only for n_x"):
        csr.multi_block_sums(*args, hessian=True)
    assert csr.multi_block_sums(*args).rows[0] == 2


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_the_held_out_loss_equals_the_scoring_kernel_on_the_fold(block, kind):
    X, y, v, f, W, B = block
    multi, _, features = kernels(X)[kind]
    sums = multi(features, y, v, f, W, B, FOLDS)
    for j, k in enumerate(FOLDS[:-1]):
        held = f == k
        ref = dense.score_summary(X[held], y[held], W[:, j], B[j], exact_auc=True)
        assert sums.held_loss[j] == pytest.approx(ref.loss, rel=1e-12)
        assert sums.held_rows[j] == ref.rows
    assert sums.held_loss[-1] == 0.0 and sums.held_rows[-1] == 0  # the full-data model


def test_the_gradient_columns_are_the_derivatives_of_the_loss(block):
    X, y, v, f, W, B = block
    sums = dense.multi_block_sums(X, y, v, f, W, B, FOLDS)
    h = 1e-6
    for j in (0, 3):
        for i in range(X.shape[1]):
            Wp, Wm = W.copy(), W.copy()
            Wp[i, j] += h
            Wm[i, j] -= h
            up = dense.multi_block_sums(X, y, v, f, Wp, B, FOLDS).loss[j]
            down = dense.multi_block_sums(X, y, v, f, Wm, B, FOLDS).loss[j]
            assert (up - down) / (2 * h) == pytest.approx(sums.grad_w[i, j], rel=1e-6)
        Bp, Bm = B.copy(), B.copy()
        Bp[j] += h
        Bm[j] -= h
        up = dense.multi_block_sums(X, y, v, f, W, Bp, FOLDS).loss[j]
        down = dense.multi_block_sums(X, y, v, f, W, Bm, FOLDS).loss[j]
        assert (up - down) / (2 * h) == pytest.approx(sums.grad_b[j], rel=1e-6)


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_a_column_is_bit_identical_whatever_the_other_columns_hold(block, kind):
    X, y, v, f, W, B = block
    multi, _, features = kernels(X)[kind]
    first = multi(features, y, v, f, W, B, FOLDS)
    other_W, other_B = W.copy(), B.copy()
    other_W[:, 1:] = 0.0
    other_B[1:] = -3.0
    second = multi(features, y, v, f, other_W, other_B, FOLDS)
    assert first.loss[0] == second.loss[0] and first.grad_b[0] == second.grad_b[0]
    np.testing.assert_array_equal(first.grad_w[:, 0], second.grad_w[:, 0])
    first = multi(features, y, v, f, W, B, FOLDS, hessian=True)
    second = multi(features, y, v, f, other_W, other_B, FOLDS, hessian=True)
    np.testing.assert_array_equal(first.hess_ww[0], second.hess_ww[0])
    np.testing.assert_array_equal(first.hess_wb[:, 0], second.hess_wb[:, 0])
    assert first.hess_bb[0] == second.hess_bb[0]


def test_sums_of_blocks_add_and_fold_models_need_fold_ids(block):
    X, y, v, f, W, B = block
    whole = dense.multi_block_sums(X, y, v, f, W, B, FOLDS)
    parts = [
        dense.multi_block_sums(X[s], y[s], v[s], f[s], W, B, FOLDS)
        for s in (slice(0, 300), slice(300, None))
    ]
    added = parts[0] + parts[1]
    np.testing.assert_allclose(added.loss, whole.loss, rtol=1e-12)
    np.testing.assert_allclose(added.grad_w, whole.grad_w, rtol=1e-12)
    np.testing.assert_array_equal(added.rows, whole.rows)
    zero = MultiSums.zeros(5, 4) + whole
    np.testing.assert_array_equal(zero.held_rows, whole.held_rows)
    whole = dense.multi_block_sums(X, y, v, f, W, B, FOLDS, hessian=True)
    parts = [
        dense.multi_block_sums(X[s], y[s], v[s], f[s], W, B, FOLDS, hessian=True)
        for s in (slice(0, 300), slice(300, None))
    ]
    added = MultiSums.zeros(5, 4, hessian=True) + parts[0] + parts[1]
    np.testing.assert_allclose(added.hess_ww, whole.hess_ww, rtol=1e-12)
    np.testing.assert_allclose(added.hess_wb, whole.hess_wb, rtol=1e-12)
    np.testing.assert_allclose(added.hess_bb, whole.hess_bb, rtol=1e-12)
    with pytest.raises(ValueError, match="fold ids"):
        dense.multi_block_sums(X, y, v, None, W, B, FOLDS)
    with pytest.raises(ValueError, match="one fold per model"):
        dense.multi_block_sums(X, y, v, f, W, B, FOLDS[:2])
