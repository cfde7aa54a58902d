import numpy as np
from sparklr.inference_linalg import BLOCK, TOLERANCE, invert_information, pivot_check
from sparklr.objective import FeatureMap


def test_blocked_pivot_check_drops_exactly_the_dependent_columns():
    rng = np.random.default_rng(7)
    Z = rng.standard_normal((400, 150))
    Z[:, 70] = Z[:, 3] - 2 * Z[:, 69]  # dependent columns in the first, second and third block
    Z[:, 20] = Z[:, 5]
    Z[:, 140] = Z[:, 20] + Z[:, 100]
    Z -= Z.mean(axis=0)
    S = Z.T @ Z
    d = np.sqrt(np.diag(S))
    keep, pivots = pivot_check(S / np.outer(d, d))
    assert list(np.flatnonzero(~keep)) == [20, 70, 140]
    assert [j // BLOCK for j in (20, 70, 140)] == [0, 1, 2]
    assert np.all(pivots[~keep] < TOLERANCE)
    R_kept = (S / np.outer(d, d))[np.ix_(keep, keep)]
    np.testing.assert_allclose(pivots[keep], np.diag(np.linalg.cholesky(R_kept)) ** 2, rtol=1e-8)


def test_inverse_of_a_well_conditioned_information_is_the_plain_inverse():
    rng = np.random.default_rng(3)
    shift = np.array([5.0, -2.0, 0.0, 1.0])
    Z = np.column_stack([rng.standard_normal((200, 4)) + shift, np.ones(200)])
    info = (Z.T * rng.uniform(0.05, 0.25, 200)) @ Z
    inverse, reasons = invert_information(info, FeatureMap.identity(4))
    assert reasons == {}
    np.testing.assert_allclose(inverse, np.linalg.inv(info), rtol=1e-12)


def test_no_information_makes_nothing_estimable():
    inverse, reasons = invert_information(np.zeros((3, 3)), FeatureMap.identity(2))
    assert set(reasons) == {0, 1, 2}
    assert reasons[2].startswith("no information")
    assert not inverse.any()
