import numpy as np
import pytest
from sparklr.kernels import BlockSums, block_sums, log_loss_terms, sigmoid, sum_in_order
from sparklr.objective import InMemorySource, LogisticObjective

from tests.conftest import make_logistic_data


def naive_loss(X, y, w, b):
    a = 1 / (1 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))


def test_loss_matches_the_seed_definition(logistic_data):
    X, y, w, b = logistic_data
    sums = block_sums(X, y, w, b)
    assert sums.loss / sums.count == pytest.approx(naive_loss(X, y, w, b), rel=1e-13)
    a = 1 / (1 + np.exp(-(X @ w + b)))
    np.testing.assert_allclose(sums.grad_w, X.T @ (a - y), rtol=1e-12)
    assert sums.grad_b == pytest.approx(np.sum(a - y), rel=1e-12)
    assert sums.count == len(y) and sums.rows == len(y)


@pytest.mark.parametrize("b", [0.0, 2.5])
def test_gradient_matches_finite_differences(logistic_data, b):
    X, y, w, _ = logistic_data
    objective = LogisticObjective(InMemorySource((X, y)))
    theta = np.append(w, b)
    grad = objective.evaluate(theta).grad
    h = 1e-6
    numeric = np.empty_like(theta)
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        numeric[j] = (objective.evaluate(theta + e).loss - objective.evaluate(theta - e).loss) / (
            2 * h
        )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_hessian_matches_finite_differences_of_the_gradient(logistic_data):
    X, y, w, b = logistic_data
    objective = LogisticObjective(InMemorySource((X, y)))
    theta = np.append(w, b)
    H = objective.evaluate(theta, hessian=True).hessian
    h = 1e-6
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        column = (objective.evaluate(theta + e).grad - objective.evaluate(theta - e).grad) / (2 * h)
        np.testing.assert_allclose(H[:, j], column, rtol=1e-5, atol=1e-8)


def test_extreme_z_is_finite_and_exact():
    z = np.array([-800.0, -45.0, -40.0, 0.0, 40.0, 45.0, 800.0])
    X = z[:, None]
    for label in (0.0, 1.0):
        y = np.full(len(z), label)
        sums = block_sums(X, y, np.array([1.0]), 0.0)
        assert np.isfinite(sums.loss) and np.all(np.isfinite(sums.grad_w))
        # softplus(z) - y z: exact references for the large |z| ends
        with np.errstate(over="ignore"):
            expected = np.where(z > 0, z + np.log1p(np.exp(-z)), np.log1p(np.exp(z))) - label * z
        np.testing.assert_allclose(log_loss_terms(z, y), expected, rtol=1e-15)
    # a correct confident prediction costs ~e^{-|z|}, not 0 and not NaN
    assert log_loss_terms(np.array([45.0]), np.array([1.0]))[0] == pytest.approx(np.exp(-45.0))
    assert sigmoid(np.array([-800.0]))[0] == 0.0 and sigmoid(np.array([800.0]))[0] == 1.0


def test_chunking_does_not_change_the_sums():
    X, y, w, b = make_logistic_data(3000, 7, seed=3)
    whole = block_sums(X, y, w, b, hessian=True, chunk_rows=10**9)
    chunked = block_sums(X, y, w, b, hessian=True, chunk_rows=97)
    assert chunked.loss == pytest.approx(whole.loss, rel=1e-12)
    np.testing.assert_allclose(chunked.grad_w, whole.grad_w, rtol=1e-12)
    np.testing.assert_allclose(chunked.hess_ww, whole.hess_ww, rtol=1e-12)
    assert chunked.correct == whole.correct


def test_sample_weights_equal_repeated_rows():
    X, y, w, b = make_logistic_data(200, 3, seed=4)
    weights = np.random.default_rng(0).integers(1, 4, size=len(y)).astype(float)
    weighted = block_sums(X, y, w, b, weights)
    repeated = block_sums(
        np.repeat(X, weights.astype(int), 0), np.repeat(y, weights.astype(int)), w, b
    )
    assert weighted.loss == pytest.approx(repeated.loss, rel=1e-12)
    np.testing.assert_allclose(weighted.grad_w, repeated.grad_w, rtol=1e-12)
    assert weighted.count == repeated.count


def test_float32_storage_accumulates_in_float64():
    X, y, w, b = make_logistic_data(20000, 5, seed=5)
    exact = block_sums(X, y, w, b)
    single = block_sums(X.astype(np.float32), y, w, b)
    assert isinstance(single.loss, float)
    assert single.loss == pytest.approx(exact.loss, rel=1e-6)
    np.testing.assert_allclose(single.grad_w, exact.grad_w, rtol=1e-4)


def test_sums_of_blocks_equal_the_single_block_for_any_split():
    X, y, w, b = make_logistic_data(1000, 4, seed=6)
    whole = block_sums(X, y, w, b)
    for cuts in ([500], [1, 2, 999], [0, 0, 1000], [333, 666]):
        parts = [
            block_sums(Xp, yp, w, b)
            for Xp, yp in zip(np.split(X, cuts), np.split(y, cuts), strict=True)
        ]
        total = sum_in_order(parts, 4)
        assert total.loss == pytest.approx(whole.loss, rel=1e-12)
        np.testing.assert_allclose(total.grad_w, whole.grad_w, rtol=1e-12)
        assert total.rows == 1000


def test_empty_block_gives_zero_sums():
    sums = block_sums(np.empty((0, 3)), np.empty(0), np.ones(3), 1.0, hessian=True)
    assert sums.count == 0 and sums.loss == 0 and not sums.grad_w.any()
    assert isinstance(sums + BlockSums.zeros(3, True), BlockSums)
