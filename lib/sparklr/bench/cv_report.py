"""The cross-validation benchmark's figures (typed, as the JSON), its ratios against the
targets of issue 14 ("Performance"), the agreement of the chosen λ and its printed table."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from sparklr.bench.report import Ratio, ratio

#: Ratio name → target, issue 14: 5-fold CV over a 20-λ path costs at most 3 single fits at
#: the smallest λ, and is at least 10 times faster than MLlib's CrossValidator.
TARGETS: dict[str, float] = {"cv_over_single_fit": 3.0, "mllib_over_cv": 10.0}
#: The ratios whose target is the smallest value that meets it (a speed-up).
AT_LEAST = frozenset({"mllib_over_cv"})


@dataclass(frozen=True)
class SpeedUp(Ratio):
    """A :class:`Ratio` that meets its target from above (value ≥ target)."""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return self.reason
        return "met" if self.value >= self.target else "MISSED"


@dataclass(frozen=True)
class SingleFit:
    """(a) one ``jobs/train.py`` process, cold, lbfgs at the smallest λ of the path: its wall
    seconds, the load and training seconds it printed, iterations and passes (history.json:
    the evaluations summed over the iterations)."""

    reg_param: float
    wall: float
    load_seconds: float
    train_seconds: float
    iterations: int
    passes: int
    stop_reason: str


@dataclass(frozen=True)
class SparklrCv:
    """(b) one ``jobs/train.py`` process with ``tune.path``, ``tune.folds``: its wall seconds and
    load seconds; the full-data path's passes (path.json); the CV's passes and seconds
    (cv.json "cost"); the refit at λ̂ (model.json); the λ grid in decreasing order (path.json)
    and the chosen λ̂ with its mean held-out metric (cv.json)."""

    wall: float
    load_seconds: float
    path_passes: int
    cv_passes: int
    cv_seconds: float
    refit_iterations: int
    reg_params: list[float]
    chosen_reg_param: float
    chosen_mean: float | None


@dataclass(frozen=True)
class MllibCv:
    """(c) MLlib ``CrossValidator`` in its own process (``sparklr.bench.cv_mllib fit``): the
    process wall, launch to exit; inside it the SparkSession's start, read + assemble + cache +
    count, the ``fit`` (K × N fits from scratch and the refit at the best λ) and the session's
    stop, in seconds; per λ the mean held-out metric over the folds (``avgMetrics``), the
    chosen λ, the iterations summed over every fit, and the best model against sparklr's path
    at the same λ (both fitted on all rows): max |w_ML − w| / max |w| and |b_ML − b|."""

    rows: int
    reg_params: list[float]
    wall: float
    session_seconds: float
    load_seconds: float
    fit_seconds: float
    stop_seconds: float
    avg_metrics: list[float]
    chosen_reg_param: float
    fits: int
    iterations: int
    coefficient_rel_diff: float | None
    intercept_diff: float | None


@dataclass(kw_only=True)
class CvBenchResult:
    """Everything one run measured; ``mllib`` is None when skipped (``skipped`` says why).
    ``data``: "dense" (double columns) or "sparse" (the sparse benchmark's vector column, its
    :class:`~sparklr.bench.sparse_data.SparseShape` in ``sparse_shape``)."""

    rows: int
    features: int
    files: int
    folds: int
    path: int
    metric: str
    tol: float
    max_iter: int
    seed: int
    master: str
    data_path: str
    data: str = "dense"
    sparse_shape: dict[str, Any] | None = None
    loadavg_start: list[float]
    loadavg_end: list[float] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    single: SingleFit
    cv: SparklrCv
    mllib: MllibCv | None = None


def grid_index(grid: list[float], value: float) -> int:
    """The index of ``value`` in ``grid`` (to 1e-9 relative: the values went through JSON);
    a ValueError when it is not on the grid."""
    for i, lam in enumerate(grid):
        if math.isclose(lam, value, rel_tol=1e-9):
            return i
    raise ValueError(f"λ = {value!r} is not on the grid {grid}")


def lambda_agreement(grid: list[float], ours: float, theirs: float) -> tuple[int, str]:
    """The grid steps from sparklr's λ̂ to MLlib's (positive: MLlib's is smaller, the grid being
    in decreasing λ) and the verdict: "same", "within one grid step" or "differ by k steps"."""
    steps = grid_index(grid, theirs) - grid_index(grid, ours)
    if steps == 0:
        return 0, "same"
    if abs(steps) == 1:
        return steps, "within one grid step"
    return steps, f"differ by {abs(steps)} steps"


def ratios(r: CvBenchResult) -> dict[str, Ratio]:
    """(b)/(a) and (c)/(b) of the process walls, with their targets."""
    no_ml = r.skipped.get("mllib", "MLlib not measured")
    terms = {
        "cv_over_single_fit": (r.cv.wall, r.single.wall, "cv", "single fit"),
        "mllib_over_cv": (r.mllib.wall if r.mllib else None, r.cv.wall, no_ml, "cv"),
    }
    out = {name: ratio(*t, target=TARGETS[name]) for name, t in terms.items()}
    return {k: SpeedUp(**asdict(v)) if k in AT_LEAST else v for k, v in out.items()}


def to_json(r: CvBenchResult) -> dict[str, Any]:
    targets = {k: f"{'>=' if k in AT_LEAST else '<='} {v:g}" for k, v in TARGETS.items()}
    out = asdict(r) | {"ratios": {k: asdict(v) for k, v in ratios(r).items()}, "targets": targets}
    if r.mllib is not None:
        steps, verdict = lambda_agreement(
            r.cv.reg_params, r.cv.chosen_reg_param, r.mllib.chosen_reg_param
        )
        out["chosen_lambda"] = {"grid_steps": steps, "verdict": verdict}
    return out


# ----------------------------------------------------------------------------- the table

_WIDTH = 75


def _s(v: float) -> str:
    return f"{v:.1f} s"


def format_table(r: CvBenchResult) -> str:
    """The printed report: the setup, (a), (b), (c), then the ratios and the chosen λ."""
    end = r.loadavg_end[0] if r.loadavg_end else float("nan")
    a, b = r.single, r.cv
    rows = [
        (f"(a) single fit, lbfgs at the smallest λ = {a.reg_param:.4g}: wall", _s(a.wall)),
        ("    load / training seconds (the job's)", f"{a.load_seconds:.1f} / "
         f"{a.train_seconds:.1f}"),
        ("    iterations / passes", f"{a.iterations} / {a.passes} ({a.stop_reason})"),
        (f"(b) sparklr CV, {r.folds} folds x {len(b.reg_params)} λ + refit: wall", _s(b.wall)),
        ("    load seconds (the job's)", f"{b.load_seconds:.1f}"),
        ("    CV seconds / passes (cv.json)", f"{b.cv_seconds:.1f} / {b.cv_passes}"),
        ("    full-data path passes / refit iterations", f"{b.path_passes} / {b.refit_iterations}"),
        (f"    chosen λ (mean held-out {r.metric})", _lambda(b.chosen_reg_param, b.chosen_mean)),
        *_mllib_rows(r),
    ]  # fmt: skip
    lines = [
        f"sparklr CV benchmark: {r.rows:,} rows x {r.features} features, {_kind(r)} "
        f"({r.files} Parquet files), {r.master}; lbfgs, tol {r.tol:g}, max_iter {r.max_iter}, "
        f"metric {r.metric}; every wall a whole process",
        f"  data: {r.data_path}",
        f"  load average at start {r.loadavg_start[0]:.1f}, at end {end:.1f}",
        "",
        f"{'measurement':<56} {'value':>18}",
        "-" * _WIDTH,
        *(f"{name:<56} {value:>18}" for name, value in rows),
        "",
        f"{'ratio':<44} {'value':>8} {'target':>8}  note",
        "-" * _WIDTH,
    ]
    for name, value in ratios(r).items():
        shown = "n/a" if value.value is None else f"{value.value:.2f}"
        target = f"{'>=' if name in AT_LEAST else '<='} {value.target:g}"
        lines.append(f"{name:<44} {shown:>8} {target:>8}  {value.verdict}")
    if r.mllib is not None:
        steps, verdict = lambda_agreement(
            b.reg_params, b.chosen_reg_param, r.mllib.chosen_reg_param
        )
        lines.append(f"{'chosen λ, sparklr vs MLlib':<44} {steps:>+8d} {'steps':>8}  {verdict}")
    return "\n".join(lines)


def _kind(r: CvBenchResult) -> str:
    if r.sparse_shape is None:
        return "dense doubles"
    return f"sparse binary vectors, {r.sparse_shape['nnz_per_row']:g} non-zeros per row"


def _lambda(lam: float, mean: float | None) -> str:
    return f"{lam:.4g}" + ("" if mean is None else f" ({mean:.6f})")


def _mllib_rows(r: CvBenchResult) -> list[tuple[str, str]]:
    m = r.mllib
    if m is None:
        return [("(c) MLlib CrossValidator", f"n/a ({r.skipped.get('mllib', '')})")]
    chosen_mean = m.avg_metrics[grid_index(m.reg_params, m.chosen_reg_param)]
    diff = "n/a" if m.coefficient_rel_diff is None else f"{m.coefficient_rel_diff:.1e}"
    return [
        (f"(c) MLlib CrossValidator, {r.folds} folds x {len(m.reg_params)} λ: wall", _s(m.wall)),
        ("    inside: start / read+cache+count / fit / stop s",
         f"{m.session_seconds:.1f} / {m.load_seconds:.1f} / {m.fit_seconds:.1f} / "
         f"{m.stop_seconds:.1f}"),
        ("    fits / iterations summed over them", f"{m.fits} / {m.iterations}"),
        (f"    chosen λ (avgMetrics {r.metric})", _lambda(m.chosen_reg_param, chosen_mean)),
        ("    best model vs sparklr's path at that λ: max|Δw|/max|w|", diff),
    ]  # fmt: skip
