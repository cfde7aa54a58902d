"""The training report: ``report.md`` and PNG plots next to the model (no Spark).

Fed with plain data the training job already has on the driver: the summary numbers, the
per-iteration history, and per-dataset probability histograms (counts of rows, positives and
Σ p by probability bin, computed on the executors: :meth:`sparklr.kernels.ScoreSummary.histogram`
in training, :func:`sparklr.spark.scoring.probability_histogram` in scoring). From a histogram:

* ROC: with bins taken as thresholds from high to low, TPR_k = Σ_{bins ≥ k} positives / P and
  FPR_k = Σ_{bins ≥ k} negatives / N (the curve MLlib's BinaryClassificationMetrics draws with
  ``numBins``); the AUC printed is the metrics' (exact, or within ``auc_error_bound``), not the
  area of this curve.
* Calibration (reliability): the fine bins merged into ``calibration_bins`` equal-width bins;
  per bin the mean predicted probability Σp / count against the observed fraction of
  positives Σy / count.

Plots need matplotlib (the ``plot`` extra). Without it the Markdown report is still written
and says that the plots were skipped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

LOSS_PNG = "loss.png"
ROC_PNG = "roc.png"
CALIBRATION_PNG = "calibration.png"
REPORT_MD = "report.md"


# --------------------------------------------------------------------------- curve data


def roc_curve(histogram: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(FPR, TPR) from (0, 0) to (1, 1), thresholds at the bin edges from high to low."""
    count = np.asarray(histogram["count"], dtype=np.float64)
    pos = np.asarray(histogram["positives"], dtype=np.float64)
    neg = count - pos
    tp = np.concatenate([[0.0], np.cumsum(pos[::-1])])
    fp = np.concatenate([[0.0], np.cumsum(neg[::-1])])
    P, N = tp[-1], fp[-1]
    if P == 0 or N == 0:
        raise ValueError("ROC needs both classes")
    return fp / N, tp / P


def calibration_curve(
    histogram: dict[str, Any], calibration_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean predicted p, observed fraction of positives, rows) per non-empty merged bin."""
    bins = int(histogram["bins"])
    if bins % calibration_bins:
        raise ValueError(f"{bins} histogram bins do not merge into {calibration_bins}")
    shape = (calibration_bins, bins // calibration_bins)
    count = np.asarray(histogram["count"], dtype=np.float64).reshape(shape).sum(axis=1)
    pos = np.asarray(histogram["positives"], dtype=np.float64).reshape(shape).sum(axis=1)
    sp = np.asarray(histogram["sum_probability"], dtype=np.float64).reshape(shape).sum(axis=1)
    keep = count > 0
    return sp[keep] / count[keep], pos[keep] / count[keep], count[keep]


# --------------------------------------------------------------------------- plots


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def plot_loss(history: Sequence[dict[str, Any]], path: Path, plt) -> None:
    """J, J − min J (the convergence, which J's own scale flattens) and ‖∇J‖ per iteration,
    log scale, on stacked panels sharing the x axis."""
    it = np.array([h["iteration"] for h in history])
    loss = np.array([h["loss"] for h in history], dtype=np.float64)
    grad = np.array([h["grad_norm"] for h in history], dtype=np.float64)
    tiny = np.finfo(float).tiny
    fig, (top, middle, bottom) = plt.subplots(3, 1, sharex=True, figsize=(7, 8), dpi=100)
    top.plot(it, loss, color="tab:blue", lw=1.5)
    top.set_yscale("log")
    top.set_ylabel("J (mean log-loss)")
    top.set_title(f"Training loss (final J = {loss[-1]:.8g})")
    gap = loss - loss.min()
    shown = gap > 0
    middle.plot(it[shown], gap[shown], color="tab:purple", lw=1.5)
    middle.set_yscale("log")
    middle.set_ylabel("J − min J")
    bottom.plot(it, np.maximum(grad, tiny), color="tab:red", lw=1.5)
    bottom.set_yscale("log")
    bottom.set_ylabel("‖∇J‖₂")
    bottom.set_xlabel("iteration")
    for ax in (top, middle, bottom):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_roc(histograms: dict[str, dict], aucs: dict[str, float | None], path: Path, plt):
    fig, ax = plt.subplots(figsize=(5.5, 5.5), dpi=100)
    for name, hist in histograms.items():
        fpr, tpr = roc_curve(hist)
        auc = aucs.get(name)
        label = f"{name} (AUC {auc:.4f})" if auc is not None else name
        ax.plot(fpr, tpr, lw=1.8, label=label)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.005)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC curve")
    ax.set_aspect("equal")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_calibration(histograms: dict[str, dict], path: Path, plt, calibration_bins: int = 10):
    fig, (ax, hist_ax) = plt.subplots(
        2, 1, figsize=(5.5, 7), dpi=100, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    edges = np.linspace(0, 1, calibration_bins + 1)
    for name, hist in histograms.items():
        mean_p, frac, _ = calibration_curve(hist, calibration_bins)
        (line,) = ax.plot(mean_p, frac, marker="o", lw=1.5, label=name)
        merged = (
            np.asarray(hist["count"], dtype=np.float64).reshape(calibration_bins, -1).sum(axis=1)
        )
        hist_ax.stairs(merged, edges, color=line.get_color(), lw=1.5, label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("observed fraction of positives")
    ax.set_title("Calibration (reliability)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    hist_ax.set_yscale("log")
    hist_ax.set_xlabel("predicted probability")
    hist_ax.set_ylabel("rows")
    hist_ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# --------------------------------------------------------------------------- report


def fmt(value: Any, spec: str = ".6g") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return format(value, spec)


def top_coefficients(
    names: Sequence[str], coefficients: np.ndarray, std: np.ndarray, k: int = 10
) -> list[tuple[str, float, float]]:
    """(name, w_j σ_j, w_j) for the k largest |w_j σ_j|: the effect on z of one standard
    deviation of feature j — the coefficient on the standardized scale. Ties go to the lower
    index. O(n_x) (a partition, then a sort of k), so it stays fast at millions of features."""
    w = np.asarray(coefficients, dtype=np.float64)
    standardized = w * np.asarray(std, dtype=np.float64)
    size = np.abs(standardized)
    k = min(k, len(w))
    if k == 0:
        return []
    threshold = np.partition(size, len(size) - k)[len(size) - k]  # the k-th largest |w σ|
    above = np.flatnonzero(size > threshold)
    ties = np.flatnonzero(size == threshold)[: k - len(above)]  # lowest indices first
    chosen = np.concatenate([above, ties])
    order = chosen[np.lexsort((chosen, -size[chosen]))]
    return [(names[j], float(standardized[j]), float(w[j])) for j in order]


def markdown(
    summary: dict[str, Any],
    metrics: dict[str, dict],
    top: list[tuple[str, float, float]],
    plots: list[str],
    plot_note: str = "",
    inference_table: str = "",
) -> str:
    s = summary
    lines = [
        "# sparklr training report",
        "",
        f"- data: {s['rows']:,} training rows x {s['features']} features "
        f"({s['partitions']} partitions)"
        + (f", {s['validation_rows']:,} validation rows" if s.get("validation_rows") else ""),
        f"- iterations: {s['iterations']} (stopped: {s['stop_reason']}), optimizer "
        f"{s['optimizer']}, learning rate {fmt(s['learning_rate'])}",
        f"- time: {s['load_seconds']:.1f} s loading, {s['train_seconds']:.1f} s training",
        f"- final J: {fmt(s['final_loss'], '.10g')}, ‖∇J‖: {fmt(s['final_grad_norm'], '.3e')}",
        "",
        "## Metrics",
        "",
        "| data | rows | log-loss | accuracy | AUC |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, m in metrics.items():
        lines.append(
            f"| {name} | {m['rows']:,} | {fmt(m['log_loss'], '.6f')} | "
            f"{fmt(m['accuracy'], '.4f')} | {fmt(m['auc'], '.4f')} |"
        )
    lines += [
        "",
        "Accuracy at threshold 0.5; AUC exact or within model.json's auc_error_bound.",
        "",
        "## Top coefficients",
        "",
        "By |w·σ|, the change in z for one standard deviation of the feature.",
        "",
        "| feature | w·σ (standardized) | w (original scale) |",
        "|---|---:|---:|",
    ]
    for name, standardized, raw in top:
        lines.append(f"| {name} | {standardized:+.6g} | {raw:+.6g} |")
    if inference_table:
        lines += ["", "## Inference", "", "```", inference_table, "```"]
    lines += ["", "## Plots", ""]
    titles = {
        LOSS_PNG: "Loss curve",
        ROC_PNG: "ROC curve",
        CALIBRATION_PNG: "Calibration",
    }
    for name in plots:
        lines.append(f"![{titles.get(name, name)}]({name})")
        lines.append("")
    if plot_note:
        lines += [plot_note, ""]
    return "\n".join(lines)


def write_report(
    directory: Path,
    summary: dict[str, Any],
    history: Sequence[dict[str, Any]],
    metrics: dict[str, dict],
    histograms: dict[str, dict],
    top: list[tuple[str, float, float]],
    inference_table: str = "",
) -> list[str]:
    """Write report.md and the PNGs that apply into ``directory``; returns the file names.

    ROC and calibration plots are drawn when ``histograms`` has a "validation" entry (the
    training curve is drawn beside it for comparison).
    """
    directory = Path(directory)
    plt = pyplot()
    plots: list[str] = []
    note = ""
    if plt is None:
        note = (
            "Plots skipped: matplotlib is not installed "
            "(install the `plot` extra: `pip install 'sparklr[plot]'`)."
        )
        log.warning("report: %s", note)
    else:
        if history:
            plot_loss(history, directory / LOSS_PNG, plt)
            plots.append(LOSS_PNG)
        if "validation" in histograms:
            drawable = {
                name: h
                for name, h in histograms.items()
                if 0 < sum(h["positives"]) < sum(h["count"])
            }
            if drawable:
                aucs = {name: metrics.get(name, {}).get("auc") for name in drawable}
                plot_roc(drawable, aucs, directory / ROC_PNG, plt)
                plots.append(ROC_PNG)
            plot_calibration(histograms, directory / CALIBRATION_PNG, plt)
            plots.append(CALIBRATION_PNG)
        else:
            note = "No validation set: ROC and calibration plots need data.validation_path or "
            note += "data.validation_fraction."
    text = markdown(summary, metrics, top, plots, note, inference_table)
    (directory / REPORT_MD).write_text(text + "\n")
    return [REPORT_MD, *plots]
