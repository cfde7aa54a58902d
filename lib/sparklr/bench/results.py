"""What one benchmark run measured, section by section (the JSON has the same shape).

Seconds are wall seconds; per-iteration figures are medians over the timed iterations, with
the laps themselves alongside. Bytes are bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sparklr.spark.usage import WorkerUsage


@dataclass
class Setup:
    """The run's settings and machine; rows … rows_per_block as the blocks turned out."""

    rows: int
    features: int
    partitions_requested: int
    iterations: int
    warmup: int
    master: str
    dtype: str
    source: str
    python: str
    pyspark: str
    numpy: str
    cpus: int | None
    loadavg_start: list[float]
    started: str
    generate_parquet_seconds: float | None = None
    partitions: int = 0
    rows_per_block: list[int] = field(default_factory=list)
    loadavg_end: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class LoadResult:
    """Load to ready blocks: sparklr (read + build) vs MLlib (read + assemble + cache + count),
    ``repeats`` loads of each, alternating; medians and laps in run order."""

    repeats: int
    sparklr_seconds: float | None
    sparklr_laps: list[float]
    mllib_seconds: float | None
    mllib_laps: list[float]
    sparklr_reader: str
    #: Build seconds of the slowest block per phase (BUILD_PHASES of the block layer).
    sparklr_build_phases_slowest_block: dict[str, float]


@dataclass(frozen=True)
class SparklrResult:
    """sparklr's GD iteration θ ← θ − α∇J(θ) over the resident blocks."""

    dtype: str
    iteration_seconds: float | None
    iteration_seconds_min: float
    iteration_laps: list[float]
    #: Per iteration the slowest task's kernel seconds / task body seconds (median).
    task_kernel_seconds_max: float | None
    task_body_seconds_max: float | None
    python_workers_seen: int
    blocks_remapped_after_warmup: int
    #: Each worker maps each block once (its own page tables, shared page-cache pages): at
    #: most workers × blocks mappings over the whole run, however many iterations.
    block_mappings_total: int
    learning_rate: float
    final_loss: float


@dataclass(frozen=True)
class NumpyResult:
    """The same GD iteration over one in-memory block, and the naive X@w, σ, Xᵀr step."""

    blas: dict
    float64_iteration_seconds: float | None
    float64_iteration_seconds_min: float
    float64_iteration_laps: list[float]
    float32_iteration_seconds: float | None
    float32_iteration_seconds_min: float
    float32_iteration_laps: list[float]
    naive_step_seconds: float | None


@dataclass(frozen=True)
class RelativeError:
    """|J₁ − J₂| / |J₁| and ‖∇J₁ − ∇J₂‖ / ‖∇J₁‖."""

    loss_rel: float
    grad_rel: float


@dataclass(frozen=True)
class Agreement:
    """sparklr's distributed sums against NumPy's over the same rows, at GD's final θ."""

    loss_rel: float
    grad_rel: float
    rows_equal: bool


@dataclass(frozen=True)
class OtherDtype:
    """The same data stored in the other dtype: GD iteration time and J, ∇J against the main
    run at θ⁰ = 0 and at GD's final θ."""

    dtype: str
    load_seconds: float
    iteration_seconds: float | None
    error_at_theta0: RelativeError
    error_at_theta_k: RelativeError
    block_bytes: int


@dataclass(frozen=True)
class MemoryResult:
    """sparklr's memory: block files per executor ("host:local_dir") and Python workers,
    against the raw block bytes (m × (n_x · itemsize + 8))."""

    raw_block_bytes: int
    block_file_bytes_per_executor: dict[str, int]
    held_bytes_max_executor: int | None
    #: Local mode: one executor holds every block.
    raw_bytes_max_executor: int
    python_workers: list[WorkerUsage]
    python_workers_rss_anon_sum: int | None
    python_workers_blas_threads: list[int]
    jvm_meta_rdd_bytes: int


@dataclass(frozen=True)
class OverheadResult:
    """Fixed per-iteration cost: sparklr's sums on a tiny dataset vs an empty Python job and a
    JVM count, on the same number of partitions (medians, interleaved)."""

    tiny_rows: int
    partitions: int
    sparklr_sums_seconds: float | None
    sparklr_sums_seconds_min: float
    empty_python_job_seconds: float | None
    empty_python_job_seconds_min: float
    empty_jvm_count_seconds: float | None


@dataclass(frozen=True)
class SklearnResult:
    """scikit-learn lbfgs, unpenalized, on standardized X, to convergence."""

    fit_seconds: float
    iterations: int
    tol: float


@dataclass(frozen=True)
class StorageBytes:
    """Spark's cached storage (all cached RDDs and frames)."""

    memory: int
    disk: int
    found: bool


@dataclass(frozen=True)
class MllibResult:
    """MLlib ``LogisticRegression`` (regParam 0, standardization on) on the assembled frame."""

    load_seconds_for_fits: float
    storage: StorageBytes
    fixed_iterations: int
    fixed_fit_seconds: float
    fixed_fit_iterations: int
    iteration_seconds: float
    #: (t(k) − t(k/2)) / (iterations(k) − iterations(k/2)): MLlib's set-up pass removed.
    marginal_iteration_seconds: float | None
    converged_fit_seconds: float
    converged_iterations: int
    converged_loss: float


@dataclass(kw_only=True)
class BenchResult:
    """Everything one run measured; a section is None when it was skipped (``skipped`` says
    why, by section name)."""

    setup: Setup
    skipped: dict[str, str] = field(default_factory=dict)
    load: LoadResult
    sparklr: SparklrResult
    numpy: NumpyResult
    agreement_sparklr_vs_numpy: Agreement
    other_dtype: OtherDtype | None = None
    memory: MemoryResult
    sklearn: SklearnResult | None = None
    overhead: OverheadResult
    mllib: MllibResult | None = None
