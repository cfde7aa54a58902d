"""The cross-validation files of a training run (``tune.folds``), written beside the model:

* ``cv.json``: the metric, rule, folds, seed, the chosen λ, the cost (passes, seconds) and per
  λ: mean, sd (ddof = 1) and standard error se = sd/√K over the folds, and the per-fold values;
* ``cv.csv``: the same, one row per λ, one column per fold;
* ``cv.png``: the mean against log₁₀ λ with ±se error bars, the chosen λ marked (skipped with a
  warning without matplotlib);
* a "Cross-validation" section in report.md (:func:`append_cv_section`, from the summary that
  model.json records under "cv").
"""

from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path

import numpy as np

from sparklr.config import Config
from sparklr.output import write_json_atomic
from sparklr.tuning.cv import CvResult

log = logging.getLogger("sparklr.train")

CV_JSON, CV_CSV, CV_PNG = "cv.json", "cv.csv", "cv.png"


def _number(x: float) -> float | None:
    """JSON has no NaN: an undefined value (AUC of a one-class fold) is null."""
    return None if not math.isfinite(x) else float(x)


def write_cv_files(staging: Path, config: Config, result: CvResult, cost: dict) -> dict:
    """Write cv.json, cv.csv and cv.png into ``staging``; returns the run's CV summary (the
    chosen λ, its mean and se, the rule, the cost) for model.json and the report."""
    u = config.tune
    mean, sd, se = result.mean, result.sd, result.se
    i = result.chosen
    summary = {
        "folds": u.folds,
        "seed": u.seed,
        "metric": result.metric,
        "rule": result.rule,
        "reg_param": result.chosen_reg_param,
        "mean": _number(mean[i]),
        "se": _number(se[i]),
        "values": len(result.reg_params),
        **cost,
    }
    points = [
        {
            "reg_param": float(lam),
            "mean": _number(mean[j]),
            "sd": _number(sd[j]),
            "se": _number(se[j]),
            "folds": [_number(v) for v in result.values[j]],
        }
        for j, lam in enumerate(result.reg_params)
    ]
    write_json_atomic(staging / CV_JSON, {**summary, "points": points})
    _write_csv(staging / CV_CSV, points, u.folds)
    _plot(staging / CV_PNG, result)
    return summary


def _write_csv(path: Path, points: list[dict], folds: int) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["reg_param", "mean", "sd", "se", *(f"fold_{k}" for k in range(folds))])
    for p in points:
        writer.writerow([p["reg_param"], p["mean"], p["sd"], p["se"], *p["folds"]])
    path.write_text(buffer.getvalue())


def _plot(path: Path, result: CvResult) -> None:
    from sparklr.report import pyplot

    plt = pyplot()
    if plt is None:
        log.warning("cv: %s skipped: matplotlib is not installed (the `plot` extra)", path.name)
        return
    lam = result.reg_params
    shown = lam > 0
    x = np.log10(lam[shown])
    fig, ax = plt.subplots(figsize=(7, 5), dpi=100)
    ax.errorbar(x, result.mean[shown], yerr=result.se[shown], fmt="o-", ms=3, capsize=3)
    if lam[result.chosen] > 0:
        ax.axvline(np.log10(lam[result.chosen]), color="red", ls="--", lw=1, label="chosen λ")
        ax.legend(fontsize="small")
    ax.set_xlabel("log₁₀ λ")
    ax.set_ylabel(f"held-out {result.metric} (mean ± se over {result.values.shape[1]} folds)")
    ax.set_title(f"Cross-validation ({result.rule} rule)")
    ax.invert_xaxis()
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def cv_markdown(summary: dict, plot: bool = True) -> str:
    """The report.md section of a run's CV summary (with cv.png when ``plot``)."""
    from sparklr.report import fmt

    s = summary
    return "\n".join(
        [
            "## Cross-validation",
            "",
            f"- {s['folds']} folds (seed {s['seed']}), {s['values']} values of λ, held-out "
            f"{s['metric']}, rule {s['rule']}",
            f"- chosen λ = {fmt(s['reg_param'])}: {s['metric']} {fmt(s['mean'], '.6f')} "
            f"± {fmt(s['se'], '.2g')} (se); the model is the refit on all rows at this λ",
            f"- cost: {s['passes']} passes over the data, {s['seconds']:.1f} s "
            f"(see {CV_JSON}, {CV_CSV})",
            "",
            *([f"![Cross-validation]({CV_PNG})", ""] if plot else []),
        ]
    )


def append_cv_section(report: Path, summary: dict) -> None:
    """Add the CV section to a written report.md."""
    with report.open("a") as out:
        out.write("\n" + cv_markdown(summary, (report.parent / CV_PNG).exists()))
