"""Statistical inference at the optimum of an unpenalized fit (NumPy and the standard library).

Model. With frequency weights v_i (``data.weight``; 1 without: sample i counts as v_i
independent copies, as statsmodels' ``freq_weights`` and Stata's ``fweight``), m J(θ) = Σ v L
= −ℓ(θ) is the negative log-likelihood of P(y = 1 | x) = σ(wᵀx + b), m = Σ v. At the
maximum-likelihood estimate θ̂ the observed information is the Hessian of m J::

    I = Σ v a(1 − a) [x; 1][x; 1]ᵀ              (observed = expected for the logit link)
    fisher:  Cov(θ̂) = I⁻¹
    robust:  Cov(θ̂) = I⁻¹ M I⁻¹,   M = Σ v r² [x; 1][x; 1]ᵀ,  r = a − y     (HC0)

(v, not v², in M: each copy adds its own score r x; this is HC0 of the expanded data, and
what statsmodels' GLM(freq_weights=v) computes.)

Training coordinates. The sums arrive in training coordinates θ̃ = (w̃, b̃)
(:mod:`sparklr.objective`): Ĩ = Σ v d [x̃; 1][x̃; 1]ᵀ = ``FeatureMap.hessian(sums)``, which is
m · ``Evaluation.hessian`` when there is no penalty, and M̃ likewise
(:meth:`sparklr.inference_sums.GramSums.in_training_coordinates`). With θ = T θ̃,
T = [[diag(s), 0], [−(s⊙c)ᵀ, 1]] (w = s⊙w̃, b = b̃ − wᵀc), [x̃; 1] = Tᵀ[x; 1], so Ĩ = TᵀIT,
M̃ = TᵀMT and T Ĩ⁻¹ Tᵀ = I⁻¹, T Ĩ⁻¹M̃Ĩ⁻¹ Tᵀ = I⁻¹MI⁻¹: the covariance is solved in training
coordinates and mapped exactly; standardization changes nothing but round-off.

Solving. The intercept is profiled out first, S = Ĩ_ww − ĩ_wb ĩ_wbᵀ / ĩ_bb (the information of
w̃ about centred features), and by the block inverse, with g = ĩ_wb / ĩ_bb::

    Ĩ⁻¹ = [[S⁻¹, −S⁻¹g], [−gᵀS⁻¹, 1/ĩ_bb + gᵀS⁻¹g]]

S, scaled to unit diagonal (R = D^(-1/2) S D^(-1/2)), is factored by Cholesky in column order.
Coefficient j is **not estimable** (null values and a reason, never a huge number) when, with
τ = :data:`TOLERANCE` = 10⁻¹⁰:

* s_j = 0: a constant feature;
* S_jj / s_j² ≤ τ Σ v d x_j²: its variation is below τ of its mean square, i.e. it is constant
  to within the round-off of the sums;
* its Cholesky pivot, 1 − R²_j of x_j regressed (in the metric v d) on the intercept and the
  kept earlier features, is below τ: collinear; the later of collinear columns is dropped;
* its variance inflation factor VIF_j = S_jj (S⁻¹)_jj on the kept set exceeds 1/τ (the
  largest is dropped until none does; this catches collinearity hidden by round-off).

The kept coefficients are those of the model without the dropped columns: as the dropped
columns lie (to within τ) in the span of the kept ones E, the fit's z is also reached with
θ̃_E + B θ̃_D, B = Ĩ_EE⁻¹ Ĩ_ED (exact for exact collinearity), and with 1/τ the covariance has
about ε/τ ≈ 10⁻⁶ relative accuracy at worst.

Statistics. Each estimable coefficient β with standard error se = √Cov_jj gets z = β / se,
p = erfc(|z| / √2) (two-sided, normal), CI = β ± q se with q = Φ⁻¹(1 − (1 − level)/2), odds
ratio e^β with CI e^CI. With k estimable coefficients (intercept included), m₁ = Σ v y,
m₀ = m − m₁::

    ℓ = −m J,  ℓ₀ = m₁ ln(m₁/m) + m₀ ln(m₀/m)  (intercept-only fit, b = ln(m₁/m₀)),
    deviance = −2ℓ,  null deviance = −2ℓ₀,  AIC = −2ℓ + 2k,  BIC = −2ℓ + k ln m,
    McFadden R² = 1 − ℓ/ℓ₀,  df_model = k − 1,  df_residual = m − k.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from sparklr.errors import ConfigError, DataError
from sparklr.inference_report import format_table, to_csv
from sparklr.objective import FeatureMap

#: Values of ``train.inference``.
METHODS = ("auto", "none", "fisher", "robust")
#: ``auto`` computes Fisher standard errors up to this many features: the (n_x + 1)² information
#: matrix (134 MB at 4,096) is summed over partitions and factored on the driver, O(n_x³).
AUTO_MAX_FEATURES = 4096
#: τ of the module docstring: 1 − R² below it (VIF above 1/τ) makes a coefficient not estimable.
TOLERANCE = 1e-10
#: Name of the intercept in the coefficient table (a feature may not be called so).
INTERCEPT = "(intercept)"
#: Columns of the panel in which the Cholesky factorization with dropped columns is blocked.
BLOCK = 64


def choose_method(
    requested: str,
    *,
    reg_param: float,
    class_weighted: bool,
    n_features: int | None = None,
    separated: bool = False,
) -> tuple[str | None, str]:
    """(method or None, reason) for ``train.inference = requested``.

    Call it while validating the config (``n_features`` unknown: None) to fail early, and after
    the fit with n_x and whether the classes are separated. ``fisher``/``robust`` with a
    penalty or class weights raise :class:`ConfigError`; ``auto`` skips them, and skips above
    :data:`AUTO_MAX_FEATURES`. Separated classes have no maximum-likelihood estimate: inference
    is skipped (not an error, the model is still the run's result) whatever was requested.
    """
    if requested not in METHODS:
        raise ConfigError(
            f"config key train.inference must be one of {', '.join(METHODS)}, got {requested!r}"
        )
    if requested == "none":
        return None, "train.inference = none"
    refusal = _refusal(reg_param, class_weighted)
    if refusal and requested != "auto":
        raise ConfigError(
            f"config key train.inference = {requested} is not possible: {refusal}; "
            'set train.inference = "auto" or "none"'
        )
    if refusal:
        return None, f"inference skipped: {refusal}"
    if separated:
        return None, (
            "inference skipped: the classes are separated, so the maximum-likelihood estimate "
            "does not exist"
        )
    if requested != "auto":
        return requested, f"train.inference = {requested}"
    if n_features is not None and n_features > AUTO_MAX_FEATURES:
        return None, (
            f"inference skipped: {n_features} features > {AUTO_MAX_FEATURES}, the limit of "
            "train.inference = auto (the (n_x + 1)² information matrix is gathered and factored "
            'on the driver); set train.inference = "fisher" to compute it anyway'
        )
    return "fisher", "train.inference = auto: Fisher standard errors of an unpenalized fit"


def _refusal(reg_param: float, class_weighted: bool) -> str | None:
    if reg_param > 0:
        return (
            f"train.reg_param = {reg_param} > 0: a penalized estimate is biased and the inverse "
            "of its Hessian is not its covariance"
        )
    if class_weighted:
        return (
            "train.class_weight reweights the classes, so Σ v L is not a log-likelihood and its "
            "information is not a covariance"
        )
    return None


@dataclass(frozen=True)
class Coefficient:
    """One row of the table; every number is NaN when ``reason`` says it is not estimable."""

    name: str
    estimate: float
    std_error: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    reason: str | None = None

    @property
    def odds_ratio(self) -> float:
        return _exp(self.estimate)

    @property
    def odds_ratio_ci(self) -> tuple[float, float]:
        return _exp(self.ci_low), _exp(self.ci_high)

    def to_json(self) -> dict:
        data = {
            "estimate": _number(self.estimate),
            "std_error": _number(self.std_error),
            "z": _number(self.z),
            "p_value": _number(self.p_value),
            "ci_low": _number(self.ci_low),
            "ci_high": _number(self.ci_high),
            "odds_ratio": _number(self.odds_ratio),
        }
        if self.reason is not None:
            data["reason"] = self.reason
        return data


@dataclass(frozen=True)
class InferenceResult:
    """Coefficients (features in order, then the intercept) and model-level statistics."""

    method: str
    ci_level: float
    coefficients: list[Coefficient]
    #: Cov(θ̂) on the original scale, order (w, b); NaN rows/columns where not estimable.
    covariance: np.ndarray = field(repr=False)
    log_likelihood: float
    null_log_likelihood: float
    #: m = Σ v (the number of samples without weights).
    nobs: float
    #: The optimizer's stop reason; anything but "converged" is flagged next to the table.
    stop_reason: str | None = None

    @property
    def n_estimable(self) -> int:
        return sum(c.reason is None for c in self.coefficients)

    @property
    def deviance(self) -> float:
        return -2.0 * self.log_likelihood

    @property
    def null_deviance(self) -> float:
        return -2.0 * self.null_log_likelihood

    @property
    def aic(self) -> float:
        return self.deviance + 2.0 * self.n_estimable

    @property
    def bic(self) -> float:
        return self.deviance + self.n_estimable * math.log(self.nobs)

    @property
    def pseudo_r2(self) -> float:
        """McFadden's 1 − ℓ/ℓ₀ (NaN when ℓ₀ = 0: a single class)."""
        if self.null_log_likelihood == 0:
            return math.nan
        return 1.0 - self.log_likelihood / self.null_log_likelihood

    @property
    def df_model(self) -> int:
        return self.n_estimable - 1

    @property
    def df_residual(self) -> float:
        return self.nobs - self.n_estimable

    @property
    def warning(self) -> str | None:
        """Why the numbers may not be those of the maximum-likelihood estimate, or None."""
        if self.stop_reason in (None, "converged"):
            return None
        return (
            f"the optimizer stopped on {self.stop_reason}, not converged: these are the "
            "statistics of the last iterate, not of the maximum-likelihood estimate"
        )

    def to_json(self) -> dict:
        """The ``inference`` object of model.json (non-finite numbers become null)."""
        return {
            "method": self.method,
            "ci_level": self.ci_level,
            "coefficients": {c.name: c.to_json() for c in self.coefficients},
            "log_likelihood": _number(self.log_likelihood),
            "null_log_likelihood": _number(self.null_log_likelihood),
            "deviance": _number(self.deviance),
            "null_deviance": _number(self.null_deviance),
            "aic": _number(self.aic),
            "bic": _number(self.bic),
            "pseudo_r2": _number(self.pseudo_r2),
            "df_model": self.df_model,
            "df_residual": _number(self.df_residual),
        }

    def to_csv(self) -> str:
        """coefficients.csv: one row per coefficient (see :mod:`sparklr.inference_report`)."""
        return to_csv(self)

    def format_table(self) -> str:
        """The statsmodels-like text table (see :mod:`sparklr.inference_report`)."""
        return format_table(self)


def infer(
    method: str,
    *,
    theta: np.ndarray,
    feature_map: FeatureMap,
    information: np.ndarray,
    loss: float,
    count: float,
    positives: float,
    feature_names: Sequence[str],
    meat: np.ndarray | None = None,
    ci_level: float = 0.95,
    stop_reason: str | None = None,
) -> InferenceResult:
    """Inference at θ̃ = ``theta`` (training coordinates; see module docstring).

    ``information`` is Ĩ = Σ v a(1 − a) [x̃; 1][x̃; 1]ᵀ at θ̃, ``meat`` M̃ = Σ v r² [x̃; 1][x̃; 1]ᵀ
    (required for ``robust``), ``loss`` the unpenalized J(θ̃), ``count`` m = Σ v and
    ``positives`` m₁ = Σ v y.
    """
    names = _check(method, theta, information, meat, feature_names, ci_level)
    info = np.asarray(information, dtype=np.float64)
    fisher, reasons = _inverse(info, feature_map)
    cov_t = fisher if method == "fisher" else fisher @ np.asarray(meat) @ fisher
    dropped = sorted(reasons)
    B = fisher @ info[:, dropped]  # x̃_D ≈ [x̃; 1]_E B: the kept columns that span the dropped
    _name_partners(reasons, dropped, B, np.diag(info), names)
    theta_t = np.asarray(theta, dtype=np.float64).copy()
    theta_t += B @ theta_t[dropped]
    theta_t[dropped] = 0.0
    w, b = feature_map.to_raw(theta_t)
    estimates = np.append(w, b)
    cov = _to_original_scale(cov_t, feature_map)
    cov[dropped, :] = cov[:, dropped] = np.nan
    q = NormalDist().inv_cdf(0.5 + ci_level / 2.0)
    coefficients = [
        _coefficient(name, estimates[j], cov[j, j], q, reasons.get(j))
        for j, name in enumerate(names)
    ]
    return InferenceResult(
        method=method,
        ci_level=ci_level,
        coefficients=coefficients,
        covariance=cov,
        log_likelihood=-count * loss,
        null_log_likelihood=_null_log_likelihood(count, positives),
        nobs=float(count),
        stop_reason=stop_reason,
    )


def _check(method, theta, information, meat, feature_names, ci_level) -> list[str]:
    names = [str(n) for n in feature_names]
    if method not in ("fisher", "robust"):
        raise ValueError(f"method must be fisher or robust, got {method!r}")
    if INTERCEPT in names:
        raise DataError(f"feature column {INTERCEPT!r} clashes with the intercept's name")
    shape = (len(names) + 1,) * 2
    if np.shape(theta) != shape[:1] or np.shape(information) != shape:
        raise ValueError(f"theta and information must have {shape[0]} entries per side")
    if method == "robust" and np.shape(meat) != shape:
        raise ValueError(f"robust inference needs the {shape} meat matrix")
    if not 0 < ci_level < 1:
        raise ValueError(f"ci_level must be in (0, 1), got {ci_level!r}")
    return [*names, INTERCEPT]


def _inverse(info: np.ndarray, fm: FeatureMap) -> tuple[np.ndarray, dict[int, str]]:
    """Ĩ⁻¹ on the estimable coordinates (zero elsewhere) and {index: reason} for the others."""
    n = len(info) - 1
    inverse = np.zeros_like(info)
    h_bb, h_wb = info[n, n], info[:n, n]
    if not h_bb > 0:
        reason = "no information: a(1 − a) = 0 for every sample"
        return inverse, dict.fromkeys(range(n + 1), reason)
    S = info[:n, :n] - np.outer(h_wb, h_wb) / h_bb
    reasons = _flat_features(info, S, fm)
    candidates = np.array([j for j in range(n) if j not in reasons], dtype=int)
    d = np.sqrt(np.diag(S)[candidates])
    keep, R_inv, found = _drop_collinear(S[np.ix_(candidates, candidates)] / np.outer(d, d))
    reasons.update({int(candidates[i]): why for i, why in found.items()})
    kept = candidates[keep]
    S_inv = R_inv / np.outer(d[keep], d[keep])
    g = h_wb[kept] / h_bb
    S_inv_g = S_inv @ g
    inverse[np.ix_(kept, kept)] = S_inv
    inverse[kept, n] = inverse[n, kept] = -S_inv_g
    inverse[n, n] = 1.0 / h_bb + g @ S_inv_g
    return inverse, reasons


def _flat_features(info: np.ndarray, S: np.ndarray, fm: FeatureMap) -> dict[int, str]:
    """Constant features, and features constant to within round-off (module docstring)."""
    n = len(S)
    s, c = fm.scale, fm.shift
    safe = np.where(s == 0, 1.0, s)
    mean_square = np.diag(info)[:n] / safe**2 + 2 * c * info[:n, n] / safe + c**2 * info[n, n]
    flat = ~(np.diag(S) / safe**2 > TOLERANCE * mean_square)
    reasons = {int(j): "constant feature" for j in np.flatnonzero(s == 0)}
    for j in np.flatnonzero(flat & (s != 0)):
        reasons[int(j)] = f"constant to within round-off (variance < {TOLERANCE:g} × mean square)"
    return reasons


def _drop_collinear(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Keep mask, (R_KK)⁻¹ and {index: reason}: pivots, then variance inflation factors."""
    keep, pivots = _pivot_check(R)
    found = {
        int(j): f"collinear: 1 − R² = {pivots[j]:.2g} < {TOLERANCE:g}"
        for j in np.flatnonzero(~keep)
    }
    while True:
        R_inv = _inverse_of_kept(R, keep)
        vif = np.diag(R_inv)
        if not len(vif) or vif.max() <= 1.0 / TOLERANCE:
            return keep, R_inv, found
        worst = int(np.argmax(vif))
        j = int(np.flatnonzero(keep)[worst])
        keep[j] = False
        found[j] = f"collinear: variance inflation factor {vif[worst]:.2g} > {1 / TOLERANCE:g}"


def _name_partners(reasons, dropped, B, info_diag, names) -> None:
    """Add to each collinear column's reason the (up to 3) kept features that span it."""
    n = len(names) - 1
    for col, j in enumerate(dropped):
        if not reasons[j].startswith("collinear"):
            continue
        weight = np.abs(B[:n, col]) * np.sqrt(np.maximum(info_diag[:n], 0.0))
        order = [
            k for k in np.argsort(-weight, kind="stable")[:3] if weight[k] > 1e-3 * weight.max()
        ]
        if order:
            partners = ", ".join(names[k] for k in order)
            reasons[j] = reasons[j].replace("collinear", f"collinear with {partners}", 1)


def _pivot_check(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky of R in column order, skipping columns whose pivot is below τ (blocked)."""
    n = len(R)
    try:
        pivots = np.diag(np.linalg.cholesky(R)) ** 2
        if np.all(pivots >= TOLERANCE):
            return np.ones(n, dtype=bool), pivots
    except np.linalg.LinAlgError:
        pass
    A = R.copy()  # lower triangle becomes L; the trailing block the Schur complement
    keep = np.zeros(n, dtype=bool)
    pivots = np.zeros(n)
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        for j in range(lo, hi):
            pivots[j] = A[j, j]
            if pivots[j] < TOLERANCE:
                A[j:, j] = 0.0
                continue
            keep[j] = True
            A[j:, j] /= math.sqrt(pivots[j])
            A[j + 1 :, j + 1 : hi] -= np.outer(A[j + 1 :, j], A[j + 1 : hi, j])
        panel = A[hi:, lo:hi]
        A[hi:, hi:] -= panel @ panel.T
    return keep, pivots


def _inverse_of_kept(R: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """(R_KK)⁻¹ by Cholesky, K = the kept columns."""
    idx = np.flatnonzero(keep)
    if not len(idx):
        return np.zeros((0, 0))
    L_inv = np.linalg.inv(np.linalg.cholesky(R[np.ix_(idx, idx)]))
    return L_inv.T @ L_inv


def _to_original_scale(cov: np.ndarray, fm: FeatureMap) -> np.ndarray:
    """T C Tᵀ for θ = T θ̃ (module docstring), without forming T."""

    def rows(A: np.ndarray) -> np.ndarray:
        out = np.empty_like(A)
        out[:-1] = fm.scale[:, None] * A[:-1]
        out[-1] = A[-1] - (fm.scale * fm.shift) @ A[:-1]
        return out

    return rows(rows(cov).T).T


def _coefficient(name, estimate, variance, q, reason) -> Coefficient:
    if reason is not None:
        nan = math.nan
        return Coefficient(name, nan, nan, nan, nan, nan, nan, reason)
    se = math.sqrt(variance)
    z = estimate / se
    p = math.erfc(abs(z) / math.sqrt(2.0))
    return Coefficient(name, float(estimate), se, z, p, estimate - q * se, estimate + q * se)


def _null_log_likelihood(m: float, m1: float) -> float:
    m0 = m - m1
    return sum(k * math.log(k / m) for k in (m0, m1) if k > 0)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _number(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
