import numpy as np
import pytest
from sparklr.inference_sums import GramSums, meat_sums
from sparklr.kernels.dense import block_sums
from sparklr.objective import FeatureMap

from tests.conftest import make_logistic_data


def augmented(X):
    return np.column_stack([X, np.ones(len(X))])


def direct_meat(X, y, w, b, v):
    """Σ v r² [x; 1][x; 1]ᵀ formed row by row from its definition."""
    total = np.zeros((X.shape[1] + 1,) * 2)
    for x, label, weight in zip(augmented(X.astype(np.float64)), y, v, strict=True):
        r = 1.0 / (1.0 + np.exp(-(x[:-1] @ w + b))) - label
        total += weight * r * r * np.outer(x, x)
    return total


def as_matrix(g: GramSums):
    n = len(g.wb)
    M = np.empty((n + 1, n + 1))
    M[:n, :n], M[:n, n], M[n, :n], M[n, n] = g.ww, g.wb, g.wb, g.bb
    return M


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_meat_equals_its_definition_in_any_chunking(dtype, weighted):
    X, y, _, _ = make_logistic_data(300, 4, seed=5, offset=1.0, scale=2.0)
    X = np.ascontiguousarray(X, dtype=dtype)
    v = np.random.default_rng(1).uniform(0.5, 3.0, len(y)) if weighted else None
    w, b = np.array([0.4, -0.3, 0.2, 0.1]), -0.2
    expected = direct_meat(X, y, w, b, np.ones(len(y)) if v is None else v)
    for chunk_rows in (None, 64, 7):
        got = meat_sums(X, y, w, b, v, chunk_rows=chunk_rows)
        assert got.rows == 300
        np.testing.assert_allclose(as_matrix(got), expected, rtol=1e-12)


def test_meat_of_two_blocks_adds_up_to_the_meat_of_both():
    X, y, _, _ = make_logistic_data(200, 3, seed=6)
    w, b = np.array([0.5, -0.5, 1.0]), 0.3
    parts = meat_sums(X[:80], y[:80], w, b) + meat_sums(X[80:], y[80:], w, b)
    assert parts.rows == 200
    np.testing.assert_allclose(as_matrix(parts), as_matrix(meat_sums(X, y, w, b)), rtol=1e-13)


def test_training_coordinates_are_the_transform_of_the_hessian_and_of_the_definition():
    X, y, _, _ = make_logistic_data(250, 3, seed=8, offset=3.0, scale=2.5)
    fmap = FeatureMap(X.mean(axis=0), 1.0 / X.std(axis=0, ddof=1))
    w, b = np.array([0.2, 0.1, -0.4]), 0.5
    hessian = block_sums(X, y, w, b, hessian=True)
    as_gram = GramSums(hessian.hess_ww, hessian.hess_wb, hessian.hess_bb)
    np.testing.assert_allclose(
        as_gram.in_training_coordinates(fmap), fmap.hessian(hessian), rtol=1e-14
    )
    X_t = (X - fmap.shift) * fmap.scale
    expected = direct_meat(X_t, y, w / fmap.scale, b + w @ fmap.shift, np.ones(len(y)))
    got = meat_sums(X, y, w, b).in_training_coordinates(fmap)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
