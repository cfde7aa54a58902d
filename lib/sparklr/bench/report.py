"""The benchmark's ratios against the targets, its printed table and its JSON.

A ratio has a value only when both of its terms were measured in this run; otherwise the
value is None (printed ``n/a``) and the reason says which term is missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sparklr.bench.results import BenchResult
from sparklr.output import write_json_atomic

#: Targets from the performance issue: ratio name → the largest value that meets it.
TARGETS: dict[str, float] = {
    "sparklr_over_numpy": 1.2,
    "sparklr_over_mllib_iteration": 0.25,
    "tiny_over_empty_job": 1.3,
    "load_sparklr_over_mllib": 0.5,
    "memory_over_raw": 1.2,
}


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator; ``reason`` says why ``value`` is None."""

    value: float | None
    reason: str
    target: float | None

    @property
    def verdict(self) -> str:
        """Against the target: "met" or "MISSED"; the reason when unmeasured; else empty."""
        if self.value is None:
            return self.reason
        if self.target is None:
            return ""
        return "met" if self.value <= self.target else "MISSED"


def ratio(
    num: float | None, den: float | None, why_num: str, why_den: str, target: float | None
) -> Ratio:
    """num / den, either of which may be missing (None) for the reason given."""
    if num is None:
        return Ratio(None, why_num, target)
    if den is None:
        return Ratio(None, why_den, target)
    if den <= 0:
        return Ratio(None, "denominator is zero", target)
    return Ratio(num / den, "", target)


def ratios(r: BenchResult) -> dict[str, Ratio]:
    """Every ratio of the run by name, with its target from :data:`TARGETS` (if any)."""
    sparklr = r.sparklr.iteration_seconds
    numpy = getattr(r.numpy, f"{r.sparklr.dtype}_iteration_seconds")
    ml, ov, mem, load = r.mllib, r.overhead, r.memory, r.load
    no_ml = r.skipped.get("mllib", "MLlib not measured")
    same_iterations = "MLlib's two fits ran the same number of iterations"
    terms = {
        "sparklr_over_numpy": (sparklr, numpy, "sparklr not measured", "NumPy not measured"),
        "sparklr_over_mllib_iteration": (
            sparklr,
            ml.iteration_seconds if ml else None,
            "sparklr not measured",
            no_ml,
        ),
        "sparklr_over_mllib_marginal_iteration": (
            sparklr,
            ml.marginal_iteration_seconds if ml else None,
            "sparklr not measured",
            same_iterations if ml else no_ml,
        ),
        "tiny_over_empty_job": (
            ov.sparklr_sums_seconds,
            ov.empty_python_job_seconds,
            "tiny",
            "empty job",
        ),
        "load_sparklr_over_mllib": (load.sparklr_seconds, load.mllib_seconds, "load", no_ml),
        "memory_over_raw": (
            mem.held_bytes_max_executor,
            mem.raw_bytes_max_executor,
            "block files not found",
            "no raw bytes",
        ),
    }
    return {name: ratio(*t, target=TARGETS.get(name)) for name, t in terms.items()}


def to_json(r: BenchResult) -> dict[str, Any]:
    """The result as JSON-ready dicts: one key per measured section, then "ratios"."""
    sections = {k: v for k, v in asdict(r).items() if v is not None}
    sections["ratios"] = {name: asdict(value) for name, value in ratios(r).items()}
    return sections


# ----------------------------------------------------------------------------- the table

_WIDTH = 69


def _seconds(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f} s"


def _mebibytes(v: int | None) -> str:
    return "n/a" if v is None else f"{v / 2**20:,.1f} MiB"


def format_table(r: BenchResult) -> str:
    """The printed report: the setup, one row per measurement, then the ratios."""
    rows = [
        *_sparklr_rows(r),
        *_numpy_rows(r),
        *_other_dtype_rows(r),
        *_mllib_rows(r),
        *_sklearn_rows(r),
        *_load_rows(r),
        *_memory_rows(r),
        *_overhead_rows(r),
    ]
    lines = [*_header(r), f"{'measurement':<52} {'value':>16}", "-" * _WIDTH]
    lines += [f"{name:<52} {value:>16}" for name, value in rows]
    lines += ["", f"{'ratio':<40} {'value':>8} {'target':>8}  note", "-" * _WIDTH]
    lines += [_ratio_line(name, value) for name, value in ratios(r).items()]
    return "\n".join(lines)


def _header(r: BenchResult) -> list[str]:
    st = r.setup
    end = st.loadavg_end[0] if st.loadavg_end else float("nan")
    return [
        f"sparklr benchmark: {st.rows:,} rows x {st.features} features, "
        f"{st.partitions} partitions, {st.master}, dtype {st.dtype}, source {st.source}",
        f"  load average at start {st.loadavg_start[0]:.1f}, at end {end:.1f} on {st.cpus} "
        f"CPUs; medians of {st.iterations} iterations after {st.warmup} warm-up",
        "",
    ]


def _ratio_line(name: str, r: Ratio) -> str:
    value = "n/a" if r.value is None else f"{r.value:.2f}"
    target = "" if r.target is None else f"<= {r.target}"
    return f"{name:<40} {value:>8} {target:>8}  {r.verdict}"


Rows = list[tuple[str, str]]


def _sparklr_rows(r: BenchResult) -> Rows:
    sp = r.sparklr
    return [
        (f"sparklr GD iteration ({sp.dtype})", _seconds(sp.iteration_seconds)),
        ("  of which kernel, slowest task", _seconds(sp.task_kernel_seconds_max)),
        ("  task body, slowest task", _seconds(sp.task_body_seconds_max)),
        (
            "  Python workers / block mappings in all iterations",
            f"{sp.python_workers_seen} / {sp.block_mappings_total}",
        ),
    ]


def _numpy_rows(r: BenchResult) -> Rows:
    nm, ag = r.numpy, r.agreement_sparklr_vs_numpy
    return [
        ("NumPy GD iteration, one block (float64)", _seconds(nm.float64_iteration_seconds)),
        ("NumPy GD iteration, one block (float32)", _seconds(nm.float32_iteration_seconds)),
        ("NumPy naive step X@w, sigma, X'r (float64)", _seconds(nm.naive_step_seconds)),
        ("sparklr vs NumPy sums: rel. diff J / grad", f"{ag.loss_rel:.1e} / {ag.grad_rel:.1e}"),
    ]


def _other_dtype_rows(r: BenchResult) -> Rows:
    od = r.other_dtype
    if od is None:
        return [("sparklr other dtype", f"n/a ({r.skipped.get('float32', '')})")]
    e = od.error_at_theta_k
    return [
        (f"sparklr GD iteration ({od.dtype} blocks)", _seconds(od.iteration_seconds)),
        (
            f"  {od.dtype} vs {r.sparklr.dtype}: rel. err J / grad",
            f"{e.loss_rel:.1e} / {e.grad_rel:.1e}",
        ),
    ]


def _mllib_rows(r: BenchResult) -> Rows:
    ml = r.mllib
    if ml is None:
        return [("MLlib LogisticRegression", f"n/a ({r.skipped.get('mllib', '')})")]
    return [
        (
            f"MLlib LR per iteration (maxIter {ml.fixed_iterations}, fit/iters)",
            _seconds(ml.iteration_seconds),
        ),
        ("MLlib LR marginal iteration (two fits)", _seconds(ml.marginal_iteration_seconds)),
        (
            f"MLlib LR to convergence ({ml.converged_iterations} iterations)",
            _seconds(ml.converged_fit_seconds),
        ),
    ]


def _sklearn_rows(r: BenchResult) -> Rows:
    sl = r.sklearn
    if sl is None:
        return [("scikit-learn lbfgs", f"n/a ({r.skipped.get('sklearn', '')})")]
    return [
        (
            f"scikit-learn lbfgs to convergence ({sl.iterations} iterations)",
            _seconds(sl.fit_seconds),
        )
    ]


def _load_rows(r: BenchResult) -> Rows:
    ld = r.load
    rows = [
        (
            f"load to ready blocks: sparklr ({ld.sparklr_reader} read + build)",
            _seconds(ld.sparklr_seconds),
        )
    ]
    phases = ld.sparklr_build_phases_slowest_block
    if phases:
        rows.append(
            (
                "  slowest block: " + " / ".join(k.replace("_and_", "+") for k in phases),
                " / ".join(f"{v:.1f}" for v in phases.values()) + " s",
            )
        )
    rows.append(
        ("load: MLlib (read + VectorAssembler + cache + count)", _seconds(ld.mllib_seconds))
    )
    for tool, laps in (("sparklr", ld.sparklr_laps), ("mllib", ld.mllib_laps)):
        if laps:
            rows.append(
                (
                    f"  {tool} loads in run order (alternating)",
                    " / ".join(f"{v:.1f}" for v in laps) + " s",
                )
            )
    return rows


def _memory_rows(r: BenchResult) -> Rows:
    mem = r.memory
    rows = [
        ("memory: raw block bytes", _mebibytes(mem.raw_block_bytes)),
        ("memory: sparklr block files, largest executor", _mebibytes(mem.held_bytes_max_executor)),
        (
            f"memory: {len(mem.python_workers)} Python workers' private RSS, sum",
            _mebibytes(mem.python_workers_rss_anon_sum),
        ),
        (
            "Python workers' BLAS threads",
            ", ".join(map(str, mem.python_workers_blas_threads)) or "n/a",
        ),
    ]
    if r.mllib is not None:
        storage = r.mllib.storage
        rows.append(
            (
                "memory: MLlib cached storage (memory + disk)",
                _mebibytes(storage.memory + storage.disk),
            )
        )
    return rows


def _overhead_rows(r: BenchResult) -> Rows:
    ov = r.overhead
    return [
        (f"overhead: sparklr sums, {ov.tiny_rows} rows", _seconds(ov.sparklr_sums_seconds)),
        (
            f"overhead: empty Python job, {ov.partitions} partitions",
            _seconds(ov.empty_python_job_seconds),
        ),
        ("overhead: empty JVM count", _seconds(ov.empty_jvm_count_seconds)),
    ]


def publish(table: str, figures: dict[str, Any], json_path: str | None) -> None:
    """Print a benchmark's table, and write its figures to ``json_path`` (atomically) when
    given."""
    print(table)
    if json_path:
        write_json_atomic(Path(json_path), figures)
        print(f"\nJSON: {json_path}")
