"""The sparse benchmark's figures (typed, as the JSON), its ratios against the targets of the
sparse issue, and its printed table (the layout of :mod:`sparklr.bench.report`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sparklr.bench.report import Ratio, ratio

#: Ratio name → the largest value that meets the target (issue 11, "Performance").
TARGETS: dict[str, float] = {
    "sparklr_over_mllib_iteration_std_off": 0.25,
    "sparklr_over_mllib_iteration_std_on": 0.25,
    "sparklr_over_scipy_step": 1.2,
    "load_sparklr_over_mllib": 0.5,
    "memory_blocks_over_csr": 1.2,
    "time_to_optimum_sparklr_over_mllib": 0.5,
}


@dataclass(frozen=True)
class JobIterations:
    """sparklr's GD iteration from two whole ``train.py`` runs (short, long iterations):
    (wall(long) − wall(short)) / (long − short), and the same from the training seconds the
    job recorded (history.json)."""

    standardize: bool
    short: int
    long: int
    wall_short: float
    wall_long: float
    per_iteration: float
    per_iteration_training: float
    partitions: int


@dataclass(frozen=True)
class MllibIterations:
    """MLlib's L-BFGS iteration from two fits (maxIter short, long; tol 0):
    (t(long) − t(short)) / (iterations(long) − iterations(short)); the Spark jobs of the extra
    iterations per iteration (its passes, line-search evaluations included)."""

    standardization: bool
    seconds_short: float
    seconds_long: float
    iterations_short: int
    iterations_long: int
    per_iteration: float | None
    jobs_per_iteration: float | None


@dataclass(frozen=True)
class Optimum:
    """Time to the same J with lbfgs + L2: goal = J*(1 + rtol), J* the lower of both final J
    (sparklr's objective at each final (w, b)). sparklr: training seconds of its first
    iterate at or below the goal (history.json); MLlib: a fit with maxIter = the first
    iteration its objective history reached the goal, timed, its J checked by ours."""

    reg_param: float
    rtol: float
    j_star: float
    goal: float
    sparklr_final_j: float
    sparklr_final_j_reported: float
    sparklr_iterations: int | None
    sparklr_seconds: float | None
    mllib_final_j: float
    mllib_iterations: int | None
    mllib_seconds: float | None
    mllib_j_at_goal_fit: float | None


@dataclass(kw_only=True)
class SparseBenchResult:
    """Everything one sparse run measured; None where skipped (``skipped`` says why)."""

    shape: dict
    data_path: str
    sparklr_input: str
    master: str
    loadavg_start: list[float]
    loadavg_end: list[float] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    rows: int
    nnz: int
    csr_bytes: int
    sparklr_iterations: list[JobIterations]
    sparklr_load_seconds: float | None
    sparklr_load_laps: list[float]
    sparklr_block_bytes: int | None
    scipy_step_seconds: float | None
    mllib_iterations: list[MllibIterations] = field(default_factory=list)
    mllib_load_seconds: float | None = None
    mllib_load_laps: list[float] = field(default_factory=list)
    mllib_cached_bytes: int | None = None
    optimum: Optimum | None = None


def positive(seconds: float | None) -> float | None:
    """A difference of two runs, None when noise made it ≤ 0 (no figure, not a fast one)."""
    return seconds if seconds is not None and seconds > 0 else None


def ratios(r: SparseBenchResult) -> dict[str, Ratio]:
    """Every ratio of the run, with its target."""
    no_ml = r.skipped.get("mllib", "MLlib not measured")
    job = {it.standardize: positive(it.per_iteration) for it in r.sparklr_iterations}
    ml = {it.standardization: positive(it.per_iteration) for it in r.mllib_iterations}
    no_ml = no_ml if not r.mllib_iterations else "MLlib's two fits differ by <= 0 s (noise)"
    noisy = "sparklr's two runs differ by <= 0 s (noise)"
    opt = r.optimum
    terms = {
        "sparklr_over_mllib_iteration_std_off": (job.get(False), ml.get(False), noisy, no_ml),
        "sparklr_over_mllib_iteration_std_on": (job.get(True), ml.get(True), noisy, no_ml),
        "sparklr_over_scipy_step": (job.get(False), r.scipy_step_seconds, noisy, "scipy"),
        "load_sparklr_over_mllib": (r.sparklr_load_seconds, r.mllib_load_seconds, "load", no_ml),
        "memory_blocks_over_csr": (
            r.sparklr_block_bytes,
            r.csr_bytes,
            "model.json has no block_bytes",
            "no CSR",
        ),
        "time_to_optimum_sparklr_over_mllib": (
            opt.sparklr_seconds if opt else None,
            opt.mllib_seconds if opt else None,
            "sparklr did not reach the goal" if opt else no_ml,
            "MLlib did not reach the goal",
        ),
    }
    return {name: ratio(*t, target=TARGETS[name]) for name, t in terms.items()}


def to_json(r: SparseBenchResult) -> dict[str, Any]:
    return asdict(r) | {"ratios": {k: asdict(v) for k, v in ratios(r).items()}}


# ----------------------------------------------------------------------------- the table

_WIDTH = 75


def _s(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f} s"


def _mib(v: int | None) -> str:
    return "n/a" if v is None else f"{v / 2**20:,.1f} MiB"


def _laps(laps: list[float]) -> str:
    return " / ".join(f"{v:.1f}" for v in laps) + " s"


def format_table(r: SparseBenchResult) -> str:
    """The printed report: the setup, one row per measurement, then the ratios."""
    sh = r.shape
    end = r.loadavg_end[0] if r.loadavg_end else float("nan")
    lines = [
        f"sparklr sparse benchmark: {r.rows:,} rows x {sh['features']:,} features, "
        f"{r.nnz / max(r.rows, 1):.1f} non-zeros/row (zipf {sh['zipf']:g}, binary), "
        f"{r.master}, sparklr input: {r.sparklr_input}",
        f"  data: {r.data_path}",
        f"  load average at start {r.loadavg_start[0]:.1f}, at end {end:.1f}",
        "",
        f"{'measurement':<56} {'value':>18}",
        "-" * _WIDTH,
    ]
    rows = [*_iteration_rows(r), *_load_memory_rows(r), *_optimum_rows(r)]
    lines += [f"{name:<56} {value:>18}" for name, value in rows]
    lines += ["", f"{'ratio':<44} {'value':>8} {'target':>8}  note", "-" * _WIDTH]
    for name, value in ratios(r).items():
        shown = "n/a" if value.value is None else f"{value.value:.2f}"
        target = "" if value.target is None else f"<= {value.target}"
        lines.append(f"{name:<44} {shown:>8} {target:>8}  {value.verdict}")
    return "\n".join(lines)


Rows = list[tuple[str, str]]


def _iteration_rows(r: SparseBenchResult) -> Rows:
    rows: Rows = []
    for it in r.sparklr_iterations:
        std = "on" if it.standardize else "off"
        rows += [
            (
                f"sparklr GD iteration, job runs {it.short}/{it.long} (std {std})",
                _s(it.per_iteration),
            ),
            ("  from the job's training seconds", _s(it.per_iteration_training)),
        ]
    if r.sparklr_iterations:
        rows.append(("  blocks", str(r.sparklr_iterations[0].partitions)))
    if not r.mllib_iterations:
        rows.append(("MLlib LogisticRegression", f"n/a ({r.skipped.get('mllib', '')})"))
    for ml in r.mllib_iterations:
        std = "on" if ml.standardization else "off"
        rows += [
            (
                f"MLlib L-BFGS iteration, fits of {ml.iterations_short}/{ml.iterations_long} "
                f"(std {std})",
                _s(ml.per_iteration),
            ),
            (
                "  Spark jobs (passes) per iteration",
                "n/a" if ml.jobs_per_iteration is None else f"{ml.jobs_per_iteration:.2f}",
            ),
        ]
    rows.append(("scipy.sparse step X'(sigma(Xw+b)-y), one process", _s(r.scipy_step_seconds)))
    return rows


def _load_memory_rows(r: SparseBenchResult) -> Rows:
    rows: Rows = [
        ("load to ready blocks: sparklr (median of the job runs)", _s(r.sparklr_load_seconds))
    ]
    if r.sparklr_load_laps:
        rows.append(
            ("  sparklr loads, one per job run (fresh JVM each)", _laps(r.sparklr_load_laps))
        )
    rows.append(("load: MLlib (read + cache + count, median)", _s(r.mllib_load_seconds)))
    if r.mllib_load_laps:
        rows.append(("  MLlib loads in run order (one JVM)", _laps(r.mllib_load_laps)))
    rows += [
        ("memory: CSR bytes (values + indices + indptr)", _mib(r.csr_bytes)),
        ("memory: sparklr blocks (model.json block_bytes)", _mib(r.sparklr_block_bytes)),
        ("memory: MLlib cached storage (memory + disk)", _mib(r.mllib_cached_bytes)),
    ]
    return rows


def _optimum_rows(r: SparseBenchResult) -> Rows:
    o = r.optimum
    if o is None:
        return [("time to optimum (lbfgs + L2)", f"n/a ({r.skipped.get('optimum', '')})")]

    def reached(iterations: int | None, seconds: float | None) -> str:
        return "not reached" if seconds is None else f"{seconds:.2f} s ({iterations} it)"

    return [
        (f"optimum: regParam {o.reg_param:g}, goal J*(1+{o.rtol:g})", f"{o.goal:.10g}"),
        ("  sparklr final J, our objective on the CSR", f"{o.sparklr_final_j:.10g}"),
        ("  sparklr final J, as the job reported it", f"{o.sparklr_final_j_reported:.10g}"),
        ("  MLlib final J, our objective on the CSR", f"{o.mllib_final_j:.10g}"),
        (
            "time to goal: sparklr lbfgs (training seconds)",
            reached(o.sparklr_iterations, o.sparklr_seconds),
        ),
        (
            "time to goal: MLlib fit (maxIter = first reaching)",
            reached(o.mllib_iterations, o.mllib_seconds),
        ),
        (
            "  MLlib J of that fit, our objective",
            "n/a" if o.mllib_j_at_goal_fit is None else f"{o.mllib_j_at_goal_fit:.10g}",
        ),
    ]
