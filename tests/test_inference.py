"""sparklr.inference against statsmodels (and Stata's results that statsmodels ships) on real data.

θ̂ comes from the project's own Newton optimizer on an in-memory source; statsmodels fits the
same data independently; everything is compared to 1e-6 relative.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer
from sparklr.errors import ConfigError, DataError
from sparklr.in_memory import InMemorySource
from sparklr.inference import INTERCEPT, choose_method, infer
from sparklr.inference_report import CSV_COLUMNS
from sparklr.kernels import ROBUST
from sparklr.objective import FeatureMap, LogisticObjective
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get
from statsmodels.discrete.tests.results.results_discrete import Spector

RTOL = 1e-6


def breast_cancer_mean():
    """scikit-learn's breast cancer data, the ten "mean ..." features (569 × 10)."""
    data = load_breast_cancer()
    return (
        np.ascontiguousarray(data.data[:, :10]),
        data.target.astype(float),
        data.feature_names[:10],
    )


def fair():
    """statsmodels' Fair (1978) affairs data: had any affair (6366 × 8)."""
    df = sm.datasets.fair.load_pandas().data
    names = [c for c in df.columns if c != "affairs"]
    return np.ascontiguousarray(df[names].to_numpy(float)), (df.affairs > 0).to_numpy(float), names


def fair_frequencies():
    """The Fair data with identical rows merged: 5188 distinct rows, frequency weights 1..15."""
    X, y, names = fair()
    rows, counts = np.unique(np.column_stack([X, y]), axis=0, return_counts=True)
    return np.ascontiguousarray(rows[:, :-1]), rows[:, -1].copy(), counts.astype(float), names


def spector():
    """Greene's (Spector & Mazzeo 1980) grade data, 32 × 3."""
    data = sm.datasets.spector.load_pandas()
    X = np.ascontiguousarray(data.exog.to_numpy(float))
    return X, data.endog.to_numpy(float), list(data.exog.columns)


DATASETS = {"breast_cancer": breast_cancer_mean, "fair": fair}


def fit(X, y, weights=None, *, standardize=True, max_iter=100):
    """(objective, moments, final state) of Newton on the in-memory data."""
    source = InMemorySource((X, y) if weights is None else (X, y, weights))
    moments = source.moments()
    objective = LogisticObjective(source, FeatureMap.from_moments(moments, standardize))
    state = get("newton")(
        objective,
        OptimizerState(0, np.zeros(X.shape[1] + 1)),
        options=OptimizerOptions(),
        stop=StopRule(max_iter, 1e-10),
    )
    return objective, moments, state


def run(fitted, method, names, ci_level=0.95):
    objective, moments, state = fitted
    at = objective.evaluate(state.theta, hessian=True)
    meat = None
    if method == "robust":
        w, b = objective.feature_map.to_raw(state.theta)
        sums = objective.source.sums(w, b, hessian=True, curvature=ROBUST)
        meat = objective.feature_map.hessian(sums)
    return infer(
        method,
        theta=state.theta,
        feature_map=objective.feature_map,
        information=at.hessian * at.count,
        loss=at.loss,
        count=at.count,
        positives=moments.positives,
        feature_names=names,
        meat=meat,
        ci_level=ci_level,
        stop_reason=state.stop_reason,
    )


def design(X):
    """statsmodels' design matrix in sparklr's order: the features, then the intercept."""
    return sm.add_constant(X, prepend=False, has_constant="add")


def statsmodels_logit(X, y, method):
    cov_type = "nonrobust" if method == "fisher" else "HC0"
    model = sm.Logit(y, design(X))
    return model.fit(method="newton", tol=1e-12, maxiter=100, disp=0, cov_type=cov_type)


def coefficient_table(result):
    """Per coefficient (estimate, std_error, z, p, ci_low, ci_high, odds ratio and its CI)."""
    return np.array([c.row for c in result.coefficients])


def reference_table(ref, alpha):
    ci = np.asarray(ref.conf_int(alpha))
    columns = [ref.params, ref.bse, ref.tvalues, ref.pvalues, ci[:, 0], ci[:, 1]]
    columns += [np.exp(ref.params), np.exp(ci[:, 0]), np.exp(ci[:, 1])]
    return np.column_stack([np.asarray(c) for c in columns])


def assert_matches(result, ref, *, bic, null_deviance=None, alpha=0.05):
    np.testing.assert_allclose(coefficient_table(result), reference_table(ref, alpha), rtol=RTOL)
    np.testing.assert_allclose(result.covariance, ref.cov_params(), rtol=RTOL)
    model = [result.log_likelihood, result.null_log_likelihood, result.aic, result.bic]
    model += [result.pseudo_r2, result.df_model, result.df_residual]
    expected = [ref.llf, ref.llnull, ref.aic, bic, 1 - ref.llf / ref.llnull]
    expected += [ref.df_model, ref.df_resid]
    np.testing.assert_allclose(model, expected, rtol=RTOL)
    assert result.deviance == pytest.approx(-2 * ref.llf, rel=RTOL)
    expected_null = -2 * ref.llnull if null_deviance is None else null_deviance
    assert result.null_deviance == pytest.approx(expected_null, rel=RTOL)


@pytest.mark.parametrize("method", ["fisher", "robust"])
@pytest.mark.parametrize("standardize", [True, False], ids=["standardized", "raw"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_matches_statsmodels_logit(dataset, standardize, method):
    X, y, names = DATASETS[dataset]()
    fitted = fit(X, y, standardize=standardize)
    assert fitted[2].stop_reason == "converged"
    ci_level = 0.95 if standardize else 0.9  # the level reaches the CIs (vs conf_int(alpha))
    result = run(fitted, method, names, ci_level)
    ref = statsmodels_logit(X, y, method)
    assert_matches(result, ref, bic=ref.bic, alpha=1 - ci_level)
    assert [c.name for c in result.coefficients] == [*names, INTERCEPT]


@pytest.mark.parametrize("method", ["fisher", "robust"])
@pytest.mark.parametrize("standardize", [True, False], ids=["standardized", "raw"])
def test_frequency_weights_match_glm_and_the_expanded_data(standardize, method):
    X, y, v, names = fair_frequencies()
    result = run(fit(X, y, v, standardize=standardize), method, names)
    cov_type = "nonrobust" if method == "fisher" else "HC0"
    glm = sm.GLM(y, design(X), family=sm.families.Binomial(), freq_weights=v)
    ref = glm.fit(tol=1e-13, maxiter=100, cov_type=cov_type)
    assert_matches(result, ref, bic=ref.bic_llf, null_deviance=ref.null_deviance)
    X_all, y_all, _ = fair()  # the rows before merging: weights are frequencies
    expanded = statsmodels_logit(X_all, y_all, method)
    assert_matches(result, expanded, bic=expanded.bic)


#: Relative slack of the printed-digit check: a few ulps of double round-off (Stata prints its
#: log-likelihoods and pseudo-R² with 15 significant digits) ...
DOUBLE_ROUNDOFF = 2e-15
#: ... and, for Stata's 12-digit estimates, standard errors and covariance, its convergence:
#: they differ from the exact MLE (statsmodels' and ours agree to 1e-15) by up to 5e-12.
STATA_CONVERGENCE = 1e-11


def printed_digits_agree(ours, printed, *, rel=DOUBLE_ROUNDOFF) -> bool:
    """|ours − printed| ≤ max(half a unit of the last digit printed, rel |printed|), for all."""
    for value, shown in zip(np.ravel(ours), np.ravel(printed), strict=True):
        last_digit = Decimal(repr(float(shown))).as_tuple().exponent
        if not abs(value - shown) <= max(0.5 * 10.0**last_digit, rel * abs(shown)):
            return False
    return True


@pytest.mark.parametrize("standardize", [True, False], ids=["standardized", "raw"])
def test_spector_matches_stata_to_every_printed_digit(standardize):
    """Stata 11's logit of Greene's data, as statsmodels ships it (its tests' results).

    Stata stores the data as float (single precision) and computes in double: its results are
    those of the float-rounded values, so the fit here uses them too (held as float64).
    """
    X, y, names = spector()
    X = X.astype(np.float32).astype(np.float64)
    result = run(fit(X, y, standardize=standardize), "fisher", names)
    stata = Spector.logit
    table = coefficient_table(result)
    ours = {
        "z": table[:, 2],
        "pvalues": table[:, 3],
        "conf_int": table[:, 4:6],
        "llf": result.log_likelihood,
        "llnull": result.null_log_likelihood,
        "prsquared": result.pseudo_r2,
        "aic": result.aic,
        "bic": result.bic,
        "df_model": result.df_model,
        "df_resid": result.df_residual,
    }
    wrong = [k for k, value in ours.items() if not printed_digits_agree(value, getattr(stata, k))]
    assert wrong == []
    converged = {"params": table[:, 0], "bse": table[:, 1], "cov_params": result.covariance}
    wrong = [
        k
        for k, value in converged.items()
        if not printed_digits_agree(value, getattr(stata, k), rel=STATA_CONVERGENCE)
    ]
    assert wrong == []


def test_printed_digit_check_catches_a_difference_in_the_last_digit():
    assert printed_digits_agree([0.2921849], [0.29218])
    assert not printed_digits_agree([0.2921851], [0.29218])
    assert printed_digits_agree([2.82611297203], [2.82611297201], rel=STATA_CONVERGENCE)
    assert not printed_digits_agree([2.82611297201 * (1 + 2e-11)], [2.82611297201])


def with_columns(X, *columns):
    return np.ascontiguousarray(np.column_stack([X, *columns]))


@pytest.mark.parametrize("standardize", [True, False], ids=["standardized", "raw"])
def test_collinear_column_is_not_estimable_and_the_rest_is_the_model_without_it(standardize):
    X, y, names = breast_cancer_mean()
    area = list(names).index("mean area")
    X2 = with_columns(X, 2.0 * X[:, area] + 1.0)
    result = run(fit(X2, y, standardize=standardize), "fisher", [*names, "area again"])
    dup = result.coefficients[10]
    assert dup.reason.startswith("collinear with mean area: ")
    assert np.isnan([dup.estimate, dup.std_error, dup.z, dup.p_value]).all()
    assert all(c.reason is None for i, c in enumerate(result.coefficients) if i != 10)
    assert result.to_json()["coefficients"]["area again"] == {
        "estimate": None,
        "std_error": None,
        "z": None,
        "p_value": None,
        "ci_low": None,
        "ci_high": None,
        "odds_ratio": None,
        "reason": dup.reason,
    }
    ref = statsmodels_logit(X, y, "fisher")
    kept = np.delete(coefficient_table(result), 10, axis=0)
    np.testing.assert_allclose(kept, reference_table(ref, 0.05), rtol=RTOL)
    assert result.df_model == 10
    assert result.aic == pytest.approx(ref.aic, rel=RTOL)
    assert np.isnan(result.covariance[10]).all() and np.isnan(result.covariance[:, 10]).all()


@pytest.mark.parametrize("standardize", [True, False], ids=["standardized", "raw"])
def test_a_constant_feature_is_not_estimable_and_the_rest_is_the_model_without_it(standardize):
    X, y, _ = spector()
    X2 = with_columns(X[:, :1], np.full(len(y), 5.0), X[:, 1:])
    result = run(fit(X2, y, standardize=standardize), "robust", ["GPA", "five", "TUCE", "PSI"])
    assert [c.reason for c in result.coefficients] == [None, "constant feature", None, None, None]
    ref = statsmodels_logit(X, y, "robust")
    kept = np.delete(coefficient_table(result), 1, axis=0)
    np.testing.assert_allclose(kept, reference_table(ref, 0.05), rtol=RTOL)
    assert (result.df_model, result.bic) == (3, pytest.approx(ref.bic, rel=RTOL))


def test_a_feature_constant_to_within_round_off_is_not_estimable():
    """1e9 + (0 or 1): its variation is lost in the round-off of Σ v d x² (≈ 1e18 Σ v d)."""
    X, y, names = spector()
    X2 = with_columns(X, 1e9 + np.arange(len(y)) % 2)
    result = run(fit(X2, y), "fisher", [*names, "huge"])
    reasons = [c.reason for c in result.coefficients]
    assert reasons[3].startswith("constant to within round-off")
    assert reasons[:3] == [None] * 3 and reasons[4] is None
    kept = [c for c in result.coefficients if c.reason is None]
    assert all(0 < c.std_error < 10 for c in kept)


def test_collinearity_hidden_by_round_off_is_caught_by_the_variance_inflation_factor():
    X, y, _ = breast_cancer_mean()
    u, v, t = ((X[:, j] - X[:, j].mean()) / X[:, j].std() for j in (1, 4, 8))
    e = f = 1e-4  # x1 ≈ x2 − e x3 to within e f: each pivot is ≈ 1e-8, VIF of x1 ≈ 1e16
    X3 = with_columns(u, u + e * v, v + f * t)
    result = run(fit(X3, y), "fisher", ["x1", "x2", "x3"])
    dropped = [c for c in result.coefficients if c.reason is not None]
    assert len(dropped) == 1
    assert "variance inflation factor" in dropped[0].reason
    kept = [c for c in result.coefficients if c.reason is None]
    assert all(np.isfinite(c.std_error) and c.std_error < 1e6 for c in kept)


def test_a_stop_on_max_iter_is_flagged_next_to_the_table():
    X, y, names = spector()
    stopped = run(fit(X, y, max_iter=1), "fisher", names)
    assert stopped.stop_reason == "max_iter"
    assert "stopped on max_iter, not converged" in stopped.warning
    assert stopped.format_table().splitlines()[-1] == f"Warning: {stopped.warning}"
    converged = run(fit(X, y), "fisher", names)
    assert converged.warning is None
    assert "Warning" not in converged.format_table()


def test_json_has_exactly_the_documented_shape():
    X, y, names = spector()
    data = run(fit(X, y), "robust", names, ci_level=0.9).to_json()
    assert list(data) == [
        "method",
        "ci_level",
        "coefficients",
        "log_likelihood",
        "null_log_likelihood",
        "deviance",
        "null_deviance",
        "aic",
        "bic",
        "pseudo_r2",
        "df_model",
        "df_residual",
    ]
    assert (data["method"], data["ci_level"], data["df_model"]) == ("robust", 0.9, 3)
    assert list(data["coefficients"]) == [*names, "(intercept)"]
    keys = ["estimate", "std_error", "z", "p_value", "ci_low", "ci_high", "odds_ratio"]
    assert all(list(entry) == keys for entry in data["coefficients"].values())
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_csv_rows_carry_every_number_at_full_precision():
    X, y, names = spector()
    X2 = with_columns(X, np.zeros(len(y)))
    result = run(fit(X2, y), "fisher", [*names, "zero"])
    rows = list(csv.reader(io.StringIO(result.to_csv())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[0] for r in rows[1:]] == [*names, "zero", INTERCEPT]
    table = coefficient_table(result)
    for row, values in zip(rows[1:], table, strict=True):
        if row[0] == "zero":
            assert row[1:-1] == [""] * 9 and row[-1] == "constant feature"
        else:
            assert [float(x) for x in row[1:-1]] == list(values) and row[-1] == ""


def test_table_is_aligned_with_stars_and_the_ci_level():
    X, y, names = spector()
    result = run(fit(X, y), "fisher", names, ci_level=0.9)
    lines = result.format_table().splitlines()
    header = next(line for line in lines if "std err" in line)
    assert "[0.05" in header and "0.95]" in header
    rows = {line.split()[0]: line for line in lines if line.split()[:1] in ([n] for n in names)}
    rows[INTERCEPT] = next(line for line in lines if line.startswith(INTERCEPT))
    for name, line in rows.items():
        body = line.rstrip(" *.")
        assert len(body) == len(header), name
    stars = {name: line[len(header) :].strip() for name, line in rows.items()}
    # p: GPA 0.025, TUCE 0.50, PSI 0.025, intercept 0.008 (Stata's values)
    assert stars == {"GPA": "*", "TUCE": "", "PSI": "*", INTERCEPT: "**"}


def test_choose_method_auto_none_and_refusals():
    unpenalized = {"reg_param": 0.0, "class_weighted": False}
    assert choose_method("auto", **unpenalized, n_features=4096)[0] == "fisher"
    assert choose_method("robust", **unpenalized, n_features=10**6)[0] == "robust"
    assert choose_method("none", **unpenalized) == (None, "train.inference = none")
    method, reason = choose_method("auto", **unpenalized, n_features=4097)
    assert method is None and "4097 features > 4096" in reason
    method, reason = choose_method("auto", reg_param=0.1, class_weighted=False)
    assert method is None and "train.reg_param = 0.1 > 0" in reason
    method, reason = choose_method("auto", reg_param=0.0, class_weighted=True)
    assert method is None and "train.class_weight" in reason
    method, reason = choose_method("fisher", **unpenalized, separated=True)
    assert method is None and "separated" in reason
    with pytest.raises(ConfigError, match=r"train.inference = fisher .*train.reg_param = 0.5"):
        choose_method("fisher", reg_param=0.5, class_weighted=False)
    with pytest.raises(ConfigError, match=r"train.inference = robust .*train.class_weight"):
        choose_method("robust", reg_param=0.0, class_weighted=True)
    with pytest.raises(ConfigError, match=r"config key train\.inference must be one of"):
        choose_method("sandwich", **unpenalized)


def test_a_feature_named_like_the_intercept_is_refused():
    X, y, _ = spector()
    with pytest.raises(DataError, match=r"feature column '\(intercept\)' clashes"):
        run(fit(X, y), "fisher", ["GPA", INTERCEPT, "PSI"])


def test_inference_without_intercept_has_no_intercept_row_and_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    from sparklr import optimizers
    from sparklr.in_memory import InMemorySource
    from sparklr.inference import infer_at
    from sparklr.objective import FeatureMap, LogisticObjective
    from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule

    from tests.conftest import make_logistic_data

    X, y, _, _ = make_logistic_data(600, 2, seed=8, offset=0.5)
    source = InMemorySource((X, y))
    fmap = FeatureMap.from_moments(source.moments(), True, center=False)
    objective = LogisticObjective(source, fmap, fit_intercept=False)
    state = optimizers.get("newton")(
        objective,
        OptimizerState(0, np.zeros(3)),
        options=OptimizerOptions(),
        stop=StopRule(50, 1e-12),
    )
    result = infer_at("fisher", objective, state.theta, positives=y.sum(), feature_names=["a", "b"])
    assert [c.name for c in result.coefficients] == ["a", "b"]
    assert result.covariance.shape == (2, 2) and result.df_model == 2
    reference = sm.Logit(y, X).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(
        [c.estimate for c in result.coefficients], reference.params, rtol=1e-8
    )
    np.testing.assert_allclose([c.std_error for c in result.coefficients], reference.bse, rtol=1e-7)


def test_an_explicit_method_above_the_hessian_limit_is_refused_auto_skips():
    from sparklr.inference import width_refusal

    assert width_refusal("fisher", 4096) is None
    assert width_refusal("auto", 10**7) is None and width_refusal("none", 10**7) is None
    for method in ("fisher", "robust"):
        assert f"train.inference = {method} is not possible for 4097" in width_refusal(method, 4097)
    method, reason = choose_method("auto", reg_param=0.0, class_weighted=False, n_features=10**7)
    assert method is None and "features > 4096" in reason
