"""Text forms of an :class:`sparklr.inference.InferenceResult`: the table and coefficients.csv.

The table follows statsmodels' summary: model statistics in two columns, then one aligned row
per coefficient (features in order, the intercept last) with its estimate, standard error,
z, two-sided p, confidence interval, odds ratio and the odds ratio's interval, and R's
significance stars; not-estimable coefficients and a run that did not converge are noted
below it.
"""

from __future__ import annotations

import csv
import io
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sparklr.inference import Coefficient, InferenceResult

#: coefficients.csv columns (numbers at full precision; empty = not estimable).
CSV_COLUMNS = (
    "name",
    "estimate",
    "std_error",
    "z",
    "p_value",
    "ci_low",
    "ci_high",
    "odds_ratio",
    "odds_ratio_ci_low",
    "odds_ratio_ci_high",
    "reason",
)
#: (threshold, stars): p below the threshold earns the stars (R's codes).
STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, "."))
NUMBER_WIDTH = 11
#: Width of one "label: value" pair of the model statistics.
PAIR_WIDTH = 36
DESCRIPTION = {"fisher": "inverse observed information", "robust": "HC0 sandwich"}


def to_csv(result: InferenceResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in result.coefficients:
        writer.writerow([c.name, *(_full(x) for x in c.row), c.reason or ""])
    return out.getvalue()


def format_table(result: InferenceResult) -> str:
    lo, hi = (1 - result.ci_level) / 2, (1 + result.ci_level) / 2
    bounds = [f"[{lo:.4g}", f"{hi:.4g}]"]
    headers = ["coef", "std err", "z", "P>|z|", *bounds, "odds ratio", *bounds]
    name_width = max(11, *(len(c.name) for c in result.coefficients))
    head = " " * name_width + "".join(h.rjust(NUMBER_WIDTH) for h in headers)
    width = len(head) + 4
    title = f"Logistic regression: {result.method} standard errors ({DESCRIPTION[result.method]})"
    lines = [title.center(width).rstrip(), "=" * width, *_statistics(result), "=" * width]
    lines += [head, "-" * width]
    lines += [_row(c, name_width) for c in result.coefficients]
    lines.append("=" * width)
    lines.append("Significance: " + ", ".join(f"{s} p < {t:g}" for t, s in STARS))
    missing = [c for c in result.coefficients if c.reason is not None]
    if missing:
        lines.append("Not estimable:")
        lines += [f"  {c.name}: {c.reason}" for c in missing]
    if result.warning:
        lines.append(f"Warning: {result.warning}")
    return "\n".join(lines)


def _statistics(result: InferenceResult) -> list[str]:
    left = [
        ("Observations:", _g(result.nobs)),
        ("Df residuals:", _g(result.df_residual)),
        ("Df model:", str(result.df_model)),
        ("Deviance:", _g(result.deviance)),
        ("Null deviance:", _g(result.null_deviance)),
    ]
    right = [
        ("Log-likelihood:", _g(result.log_likelihood)),
        ("LL-null:", _g(result.null_log_likelihood)),
        ("Pseudo R² (McFadden):", _g(result.pseudo_r2)),
        ("AIC:", _g(result.aic)),
        ("BIC:", _g(result.bic)),
    ]
    return [_pair(*a) + "    " + _pair(*b) for a, b in zip(left, right, strict=True)]


def _pair(label: str, value: str) -> str:
    return label + value.rjust(PAIR_WIDTH - len(label))


def _row(c: Coefficient, name_width: int) -> str:
    if c.reason is not None:
        return c.name.ljust(name_width) + "not estimable (see below)".rjust(2 * NUMBER_WIDTH)
    p = "<0.001" if c.p_value < 0.001 else f"{c.p_value:.3f}"
    cells = [
        _g(c.estimate, 4),
        _g(c.std_error, 4),
        f"{c.z:.3f}",
        p,
        _g(c.ci_low, 4),
        _g(c.ci_high, 4),
        _g(c.odds_ratio, 4),
        *(_g(x, 4) for x in c.odds_ratio_ci),
    ]
    stars = next((s for t, s in STARS if c.p_value < t), "")
    row = c.name.ljust(name_width) + "".join(x.rjust(NUMBER_WIDTH) for x in cells)
    return f"{row} {stars}".rstrip()


def _g(x: float, digits: int = 6) -> str:
    return "nan" if math.isnan(x) else f"{x:.{digits}g}"


def _full(x: float) -> str:
    return "" if math.isnan(x) else repr(float(x))
