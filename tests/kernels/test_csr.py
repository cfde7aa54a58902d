"""The CSR kernel (sparklr.kernels.csr) against the dense kernel and finite differences."""

import numpy as np
import pytest
from sparklr.kernels import ROBUST
from sparklr.kernels import dense as dense_kernel
from sparklr.kernels.csr import (
    MAX_HESSIAN_FEATURES,
    CsrMatrix,
    block_sums,
    gram_sums,
    ones,
    score_summary,
)


def sparse_data(m=400, n=30, density=0.15, seed=0, binary=False):
    """Sparse X with an empty row, an all-zero column and (unless binary) non-unit values."""
    rng = np.random.default_rng(seed)
    X = (rng.random((m, n)) < density) * (1.0 if binary else rng.normal(size=(m, n)))
    X[3] = 0.0  # an empty row
    X[:, 7] = 0.0  # an all-zero column
    w = rng.normal(size=n)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    return X, y, rng.normal(size=n) * 0.5, 0.2


@pytest.mark.parametrize("binary", [False, True])
def test_csr_sums_equal_the_dense_kernel(binary):
    X, y, w, b = sparse_data(binary=binary)
    csr = CsrMatrix.of_dense(X)
    assert csr.binary == binary and csr.indptr[4] == csr.indptr[3]
    v = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    for weights, class_weight in [(None, None), (v, None), (v, (0.7, 1.9))]:
        got = block_sums(csr, y, w, b, weights, hessian=True, class_weight=class_weight)
        want = dense_kernel.block_sums(X, y, w, b, weights, hessian=True, class_weight=class_weight)
        assert got.loss == pytest.approx(want.loss, rel=1e-12)
        np.testing.assert_allclose(got.grad_w, want.grad_w, rtol=1e-11, atol=1e-12)
        assert got.grad_b == pytest.approx(want.grad_b, rel=1e-12)
        assert got.weight_sum == pytest.approx(want.weight_sum, rel=1e-14)
        assert got.correct == pytest.approx(want.correct) and got.rows == want.rows
        np.testing.assert_allclose(got.hess_ww, want.hess_ww, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(got.hess_wb, want.hess_wb, rtol=1e-11, atol=1e-12)
        assert got.hess_bb == pytest.approx(want.hess_bb, rel=1e-12)
    assert got.grad_w[7] == 0.0  # the all-zero column


def test_gradient_and_hessian_match_finite_differences():
    X, y, w, b = sparse_data(m=200, n=12, seed=2)
    csr = CsrMatrix.of_dense(X)
    theta = np.append(w, b)

    def loss(t):
        return block_sums(csr, y, t[:-1], t[-1]).loss

    sums = block_sums(csr, y, w, b, hessian=True)
    grad = np.append(sums.grad_w, sums.grad_b)
    h = 1e-6
    numeric = np.array(
        [(loss(theta + h * e) - loss(theta - h * e)) / (2 * h) for e in np.eye(len(theta))]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)

    def gradient(t):
        s = block_sums(csr, y, t[:-1], t[-1])
        return s.grad_w

    numeric_h = np.array(
        [(gradient(theta + h * e) - gradient(theta - h * e)) / (2 * h) for e in np.eye(13)[:12]]
    )
    np.testing.assert_allclose(sums.hess_ww, numeric_h, rtol=1e-5, atol=1e-6)


def test_float32_values_sum_in_float64():
    X, y, w, b = sparse_data(seed=3)
    X32 = X.astype(np.float32)
    csr64 = CsrMatrix.of_dense(X32.astype(np.float64))
    csr32 = CsrMatrix(csr64.indptr, csr64.indices, csr64.values.astype(np.float32), X.shape[1])
    got = block_sums(csr32, y, w, b)
    want = block_sums(csr64, y, w, b)
    assert got.grad_w.dtype == np.float64
    assert got.loss == pytest.approx(want.loss, rel=1e-12)
    np.testing.assert_allclose(got.grad_w, want.grad_w, rtol=1e-12, atol=1e-12)


def test_robust_curvature_and_hessian_limit():
    X, y, w, b = sparse_data(seed=4)
    got = block_sums(CsrMatrix.of_dense(X), y, w, b, hessian=True, curvature=ROBUST)
    want = dense_kernel.block_sums(X, y, w, b, hessian=True, curvature=ROBUST)
    np.testing.assert_allclose(got.hess_ww, want.hess_ww, rtol=1e-11, atol=1e-12)
    wide = CsrMatrix(np.zeros(2, np.int32), np.zeros(0, np.int32), None, MAX_HESSIAN_FEATURES + 1)
    with pytest.raises(ValueError, match="lbfgs"):
        block_sums(wide, np.zeros(1), np.zeros(MAX_HESSIAN_FEATURES + 1), 0.0, hessian=True)


def test_empty_block_gives_zero_sums():
    empty = CsrMatrix(np.zeros(1, np.int32), np.zeros(0, np.int32), None, 5)
    sums = block_sums(empty, np.zeros(0), np.ones(5), 1.0)
    assert sums.rows == 0 and sums.loss == 0.0 and not sums.grad_w.any()
    assert score_summary(empty, np.zeros(0), np.ones(5), 1.0).rows == 0


@pytest.mark.parametrize("exact", [True, False])
def test_score_summary_equals_the_dense_one(exact):
    X, y, w, b = sparse_data(seed=5)
    got = score_summary(CsrMatrix.of_dense(X), y, w, b, exact_auc=exact)
    want = dense_kernel.score_summary(X, y, w, b, exact_auc=exact)
    assert got.metrics() == pytest.approx(want.metrics(), rel=1e-12)
    np.testing.assert_array_equal(got.count, want.count)
    np.testing.assert_allclose(got.sum_probability, want.sum_probability, rtol=1e-12)


def test_gram_sums_are_the_gram_matvec():
    X, y, w, b = sparse_data(seed=6)
    v = np.random.default_rng(0).uniform(0.5, 2, len(y))
    sum_zx, sum_z, total = gram_sums(CsrMatrix.of_dense(X), v, w, b)
    Xb = np.column_stack([X, np.ones(len(y))])
    want = Xb.T @ (v[:, None] * Xb) @ np.append(w, b)
    np.testing.assert_allclose(np.append(sum_zx, sum_z), want, rtol=1e-12)
    assert total == pytest.approx(v.sum())
    dense = dense_kernel.gram_sums(X, v, w, b)
    np.testing.assert_allclose(dense[0], sum_zx, rtol=1e-12)


def test_binary_blocks_share_one_read_only_ones_array():
    X, y, w, b = sparse_data(binary=True)
    block = CsrMatrix.of_dense(X)
    assert block.binary
    first = block.scipy().data
    assert np.all(first == 1.0) and len(first) == block.nnz
    assert not first.flags.writeable  # a kernel cannot change the ones under another block
    again = block.scipy().data
    assert np.shares_memory(first, again)  # made once per process, not per pass
    similar = CsrMatrix.of_dense(X[: len(X) * 3 // 4])  # scipy keeps views of ≥ half the base
    assert np.shares_memory(similar.scipy().data, first)
    bigger = ones(block.nnz + 10)  # remade when a larger block asks
    assert len(bigger) == block.nnz + 10 and np.all(bigger == 1.0)
    assert not np.shares_memory(bigger, first)
    tiny = CsrMatrix.of_dense(X[:20]).scipy()  # and at a size scipy would copy a view of
    assert np.all(tiny.data == 1.0) and len(tiny.data) == CsrMatrix.of_dense(X[:20]).nnz
    np.testing.assert_array_equal(
        block_sums(block, y, w, b).grad_w,
        block_sums(CsrMatrix.of_dense(X, binary_ok=False), y, w, b).grad_w,
    )
