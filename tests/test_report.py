"""The report module: curve data from histograms, the Markdown summary, the PNGs."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve
from sparklr import report


def histogram_of(p: np.ndarray, y: np.ndarray, bins: int = 1000) -> dict:
    """What sparklr.spark.scoring.probability_histogram computes, in NumPy."""
    index = np.minimum(np.floor(p * bins).astype(int), bins - 1)
    return {
        "bins": bins,
        "count": np.bincount(index, minlength=bins).tolist(),
        "positives": np.bincount(index, weights=y, minlength=bins).astype(int).tolist(),
        "sum_probability": np.bincount(index, weights=p, minlength=bins).tolist(),
        "bad_labels": 0,
    }


@pytest.fixture
def scores():
    rng = np.random.default_rng(3)
    p = rng.beta(2, 3, 5000)
    y = (rng.random(5000) < p).astype(float)
    return p, y


def test_roc_from_histogram_matches_sklearn_at_the_bin_edges(scores):
    p = np.round(scores[0], 3)  # probabilities on the bin grid: the binned ROC is exact
    y = scores[1]
    fpr, tpr = report.roc_curve(histogram_of(np.minimum(p, 0.999), y))
    ref_fpr, ref_tpr, _ = roc_curve(y, np.minimum(p, 0.999))
    # Every sklearn ROC vertex is a vertex of ours (ours also has the empty bins' repeats).
    ours = set(zip(np.round(fpr, 12), np.round(tpr, 12), strict=True))
    assert set(zip(np.round(ref_fpr, 12), np.round(ref_tpr, 12), strict=True)) <= ours
    assert np.trapezoid(tpr, fpr) == pytest.approx(
        roc_auc_score(y, np.minimum(p, 0.999)), abs=1e-12
    )


def test_roc_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        report.roc_curve(histogram_of(np.array([0.2, 0.7]), np.array([1.0, 1.0])))


def test_calibration_curve_is_mean_p_and_fraction_of_positives(scores):
    p, y = scores
    mean_p, frac, count = report.calibration_curve(histogram_of(p, y), 10)
    index = np.minimum((p * 10).astype(int), 9)
    for k, b in enumerate(sorted(set(index))):
        assert mean_p[k] == pytest.approx(p[index == b].mean(), rel=1e-12)
        assert frac[k] == pytest.approx(y[index == b].mean(), rel=1e-12)
        assert count[k] == (index == b).sum()
    # The data are calibrated by construction: observed ≈ predicted where bins are full.
    full = count > 200
    np.testing.assert_allclose(frac[full], mean_p[full], atol=0.06)


def test_top_coefficients_rank_by_standardized_size():
    top = report.top_coefficients(["a", "b", "c"], np.array([10.0, -1.0, 0.5]), [0.01, 5, 1], k=2)
    assert top == [("b", -5.0, -1.0), ("c", 0.5, 0.5)]


def test_top_coefficients_of_many_tied_features_match_a_full_sort():
    """The partition-based ranking equals sorting all n_x by (−|w σ|, j), ties included
    (an L1 model: mostly zeros; repeated values), and returns k rows at a million features."""
    rng = np.random.default_rng(4)
    w = rng.choice([0.0, 0.0, 0.0, 1.5, -1.5, 2.0], size=2000) * rng.choice([1.0, 2.0], 2000)
    std = rng.choice([1.0, 0.5], size=2000)
    names = [f"f{j}" for j in range(2000)]
    for k in (1, 10, 700, 2000, 3000):
        got = report.top_coefficients(names, w, std, k=k)
        s = w * std
        order = sorted(range(2000), key=lambda j: (-abs(s[j]), j))[:k]
        assert got == [(names[j], float(s[j]), float(w[j])) for j in order]
    n = 10**6
    wide = np.zeros(n)
    wide[[7, 999_999, 500_000]] = [3.0, -4.0, 3.0]
    top = report.top_coefficients([f"f{j}" for j in range(n)], wide, np.ones(n), k=10)
    assert [name for name, _, _ in top[:3]] == ["f999999", "f7", "f500000"]
    assert len(top) == 10 and [name for name, _, _ in top[3:5]] == ["f0", "f1"]


def _inputs(scores):
    p, y = scores
    history = [
        {"iteration": k, "loss": 0.69 * 0.9**k + 0.3, "grad_norm": 0.5 * 0.8**k} for k in range(40)
    ]
    summary = {
        "rows": 4000,
        "features": 3,
        "partitions": 2,
        "validation_rows": 1000,
        "iterations": 39,
        "stop_reason": "converged",
        "optimizer": "gd",
        "learning_rate": 1.25,
        "load_seconds": 1.5,
        "train_seconds": 7.25,
        "final_loss": history[-1]["loss"],
        "final_grad_norm": history[-1]["grad_norm"],
    }
    metrics = {
        "train": {"rows": 4000, "log_loss": 0.61, "accuracy": 0.7125, "auc": 0.77},
        "validation": {"rows": 1000, "log_loss": 0.63, "accuracy": 0.699, "auc": None},
    }
    histograms = {"train": histogram_of(p[:4000], y[:4000]), "validation": histogram_of(p, y)}
    top = [("b", -5.0, -1.0)]
    return summary, history, metrics, histograms, top


def test_write_report_with_validation_draws_all_plots(scores, tmp_path):
    files = report.write_report(tmp_path, *_inputs(scores))
    assert files == ["report.md", "loss.png", "roc.png", "calibration.png"]
    for name in files[1:]:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    text = (tmp_path / "report.md").read_text()
    assert "4,000 training rows x 3 features" in text and "1,000 validation rows" in text
    assert "| validation | 1,000 | 0.630000 | 0.6990 | n/a |" in text
    assert "| b | -5 | -1 |" in text
    assert "![ROC curve](roc.png)" in text and "converged" in text


def test_without_validation_only_the_loss_curve(scores, tmp_path):
    summary, history, metrics, histograms, top = _inputs(scores)
    del metrics["validation"], histograms["validation"]
    summary["validation_rows"] = None
    assert report.write_report(tmp_path, summary, history, metrics, histograms, top) == [
        "report.md",
        "loss.png",
    ]
    assert "No validation set" in (tmp_path / "report.md").read_text()


def test_without_matplotlib_the_report_says_so(scores, tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib → ImportError
    assert report.write_report(tmp_path, *_inputs(scores)) == ["report.md"]
    assert "matplotlib is not installed" in (tmp_path / "report.md").read_text()
    assert "matplotlib is not installed" in caplog.text
    assert not list(tmp_path.glob("*.png"))
