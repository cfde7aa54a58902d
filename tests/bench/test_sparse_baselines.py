"""The sparse benchmark's scipy side (sparklr.bench.sparse_baselines) against sparklr's own
dense objective on the same rows."""

import numpy as np
import pytest
import scipy.sparse as sp
from sparklr.bench.sparse_baselines import (
    CsrSource,
    first_reaching,
    objective_value,
    scipy_step_seconds,
)
from sparklr.in_memory import InMemorySource
from sparklr.objective import LogisticObjective


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    X = sp.random_array((300, 40), density=0.1, random_state=rng, format="csr")
    X.data[:] = 1.0
    y = (rng.random(300) < 0.4).astype(np.float64)
    return X, y, rng.standard_normal(40) * 0.5, -0.3


def test_csr_sums_equal_the_dense_kernels(data):
    X, y, w, b = data
    got = CsrSource(X, y).sums(w, b)
    ref = InMemorySource((X.toarray(), y)).sums(w, b)
    assert got.loss == pytest.approx(ref.loss, rel=1e-12)
    np.testing.assert_allclose(got.grad_w, ref.grad_w, rtol=1e-12, atol=1e-13)
    assert got.grad_b == pytest.approx(ref.grad_b, rel=1e-12)
    assert (got.rows, got.weight_sum, got.correct) == (ref.rows, ref.weight_sum, ref.correct)


def test_objective_value_is_sparklrs_l2_objective(data):
    X, y, w, b = data
    dense = LogisticObjective(InMemorySource((X.toarray(), y)), reg_param=1e-2)
    expected = dense.evaluate(np.append(w, b)).loss
    assert objective_value(CsrSource(X, y), w, b, 1e-2) == pytest.approx(expected, rel=1e-12)
    assert objective_value(CsrSource(X, y), w, b, 1e-2) > objective_value(
        CsrSource(X, y), w, b, 0.0
    )


def test_csr_source_refuses_what_it_does_not_sum(data):
    X, y, w, b = data
    with pytest.raises(ValueError, match="unweighted"):
        CsrSource(X, y).sums(w, b, hessian=True)


def test_first_reaching_and_the_step_timer(data):
    assert first_reaching([0.7, 0.6, 0.5, 0.5], 0.55) == 2
    assert first_reaching([0.7, 0.6], 0.5) is None
    X, y, _, _ = data
    assert scipy_step_seconds(X, y, repeats=2, warmup=0) > 0
