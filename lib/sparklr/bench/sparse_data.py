"""The sparse benchmark's data: wide, sparse, binary rows generated on the executors, written
once to Parquet as ``label`` + a Spark ML vector column ``features`` (sparse vectors), and the
same rows read back on the driver as one ``scipy.sparse`` CSR matrix for the baselines.

Shape (:class:`SparseShape`): m rows × n_x columns; row i has k_i ~ Poisson(λ) draws of
column ids from a Zipf-like law over the frequency rank r = 1 … n_x,

    P(rank r) = p_r ∝ r^(−s)        (s = ``zipf``; truncated, so s ≤ 1 is allowed),

mapped to column ids by a seeded permutation (the frequent columns are spread over the id
range, as hashed features are). Duplicate draws in a row collapse to one; with Poisson draws
rank r is drawn Poisson(λ p_r) times, independently, so a row holds Σ_r (1 − e^(−λ p_r))
distinct non-zeros on average, and λ is solved from that to give ``nnz_per_row``
(:func:`draws_per_row`). Every stored value is 1.0 (one-hot data).
Labels come from a sparse true (w, b): w_j ~ N(0, σ²) on a seeded ``true_density`` fraction of
the columns (0 elsewhere), σ = 1.5 / √(nnz_per_row · true_density) so that z = wᵀx + b has a
standard deviation of about 1.5 (a learnable, non-separable problem), b = −0.5, and
y ~ Bernoulli(σ(z)). Each Arrow batch is seeded by (seed, its first row id, its length): the
same shape always gives the same rows. No array of the data is ever built on the driver.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from sparklr.errors import DataError
from sparklr.kernels import sigmoid

#: The Arrow layout of a Spark ML vector (VectorUDT's sqlType): type 0 = sparse, 1 = dense.
VECTOR_FIELDS = ("type", "size", "indices", "values")
SPARSE = 0


@dataclass(frozen=True)
class SparseShape:
    """What the generator makes; :meth:`key` names its cache directory."""

    rows: int = 2_000_000
    features: int = 1 << 20
    nnz_per_row: float = 30.0
    zipf: float = 1.1
    true_density: float = 0.1
    #: Partitions of the generating job = Parquet files written.
    partitions: int = 8
    seed: int = 7

    def key(self) -> str:
        return (
            f"sparse-{self.rows}x{self.features}-nnz{self.nnz_per_row:g}-zipf{self.zipf:g}"
            f"-true{self.true_density:g}-p{self.partitions}-seed{self.seed}"
        )


def rank_cdf(features: int, zipf: float) -> np.ndarray:
    """Cumulative P(rank ≤ r) of the truncated power law P(r) ∝ r^(−zipf), r = 1 … n_x."""
    p = np.arange(1, features + 1, dtype=np.float64) ** -zipf
    cdf = np.cumsum(p)
    return cdf / cdf[-1]


def draws_per_row(cdf: np.ndarray, nnz_per_row: float) -> float:
    """λ with Σ_r (1 − e^(−λ p_r)) = ``nnz_per_row`` (bisection; the sum grows with λ)."""
    p = np.diff(cdf, prepend=0.0)
    if nnz_per_row >= len(p):
        raise ValueError(f"nnz_per_row {nnz_per_row} must be below the {len(p)} columns")
    lo, hi = nnz_per_row, 2.0 * nnz_per_row
    while -np.expm1(-hi * p).sum() < nnz_per_row:
        lo, hi = hi, 2.0 * hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if -np.expm1(-mid * p).sum() < nnz_per_row else (lo, mid)
    return 0.5 * (lo + hi)


def rank_to_column(shape: SparseShape) -> np.ndarray:
    """The seeded permutation: column id of frequency rank r (0-based) is ``[r]``."""
    return np.random.default_rng([shape.seed, 1]).permutation(shape.features).astype(np.int32)


def true_model(shape: SparseShape) -> tuple[np.ndarray, float]:
    """The sparse true (w, b) the labels are drawn from (see the module docstring)."""
    rng = np.random.default_rng([shape.seed, 2])
    sigma = 1.5 / np.sqrt(shape.nnz_per_row * shape.true_density)
    support = rng.random(shape.features) < shape.true_density
    return np.where(support, sigma * rng.standard_normal(shape.features), 0.0), -0.5


@dataclass(frozen=True)
class SparseRows:
    """Rows in CSR form: row i's sorted distinct column ids are indices[indptr[i]:indptr[i+1]]."""

    indptr: np.ndarray  # int64, length k + 1
    indices: np.ndarray  # int32
    y: np.ndarray  # float64 0/1


class RowGenerator:
    """The per-partition state (the rank law, its permutation, the true model) and the rows of
    one batch; built once per partition on the executor."""

    def __init__(self, shape: SparseShape):
        self.shape = shape
        self.cdf = rank_cdf(shape.features, shape.zipf)
        self.draws = draws_per_row(self.cdf, shape.nnz_per_row)
        self.p = np.diff(self.cdf, prepend=0.0)
        self.columns = rank_to_column(shape)
        self.w, self.b = true_model(shape)

    def rows(self, first_row: int, k: int) -> SparseRows:
        """Rows first_row … first_row + k − 1, vectorized over the batch: rank r is drawn
        Poisson(k λ p_r) times and each draw lands in a uniformly random row (the same law as
        Poisson(λ) draws per row, without a per-row loop or a search per draw)."""
        s = self.shape
        rng = np.random.default_rng([s.seed, first_row, k])
        per_rank = rng.poisson(k * self.draws * self.p)
        cols = np.repeat(self.columns, per_rank).astype(np.int64)
        keys = rng.integers(0, k, len(cols), dtype=np.int64) * s.features + cols
        keys.sort()
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
        row_of, indices = np.divmod(keys, s.features)
        indptr = np.zeros(k + 1, dtype=np.int64)
        np.cumsum(np.bincount(row_of, minlength=k), out=indptr[1:])
        z = np.bincount(row_of, weights=self.w[indices], minlength=k) + self.b
        y = (rng.random(k) < sigmoid(z)).astype(np.float64)
        return SparseRows(indptr, indices.astype(np.int32), y)


def vector_batch(rows: SparseRows, size: int) -> pa.RecordBatch:
    """[label double, features VectorUDT] as Arrow: sparse vectors with all values 1.0."""
    k = len(rows.y)
    offsets = pa.array(rows.indptr.astype(np.int32))
    nnz = len(rows.indices)
    features = pa.StructArray.from_arrays(
        [
            pa.array(np.full(k, SPARSE, dtype=np.int8)),
            pa.array(np.full(k, size, dtype=np.int32)),
            pa.ListArray.from_arrays(offsets, pa.array(rows.indices)),
            pa.ListArray.from_arrays(offsets, pa.array(np.ones(nnz))),
        ],
        names=list(VECTOR_FIELDS),
    )
    return pa.RecordBatch.from_arrays([pa.array(rows.y), features], names=["label", "features"])


def sparse_frame(spark: SparkSession, shape: SparseShape) -> DataFrame:
    """DataFrame [label, features] of the shape's rows, generated in ``shape.partitions``
    tasks (mapInArrow: Arrow batches built with NumPy, no Python rows)."""
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql.types import DoubleType, StructField, StructType

    schema = StructType(
        [StructField("label", DoubleType(), False), StructField("features", VectorUDT(), False)]
    )

    def generate(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = RowGenerator(shape)
        for batch in batches:
            ids = batch.column(0).to_numpy()
            if len(ids):
                yield vector_batch(rows.rows(int(ids[0]), len(ids)), shape.features)

    return spark.range(0, shape.rows, numPartitions=shape.partitions).mapInArrow(generate, schema)


def ensure_parquet(spark: SparkSession, shape: SparseShape, cache_dir: Path) -> tuple[Path, bool]:
    """The Parquet dataset of ``shape`` under ``cache_dir`` (written once, atomically: a
    temporary directory renamed when complete); and whether this call wrote it."""
    path = cache_dir / shape.key()
    if (path / "_SUCCESS").exists():
        return path, False
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{shape.key()}.{uuid.uuid4().hex[:8]}"
    sparse_frame(spark, shape).write.parquet(str(tmp))
    (tmp / "_shape.json").write_text(json.dumps(asdict(shape), indent=1))
    tmp.rename(path)
    return path, True


def dense_twin(spark: SparkSession, path: Path, features: int, limit: int = 1000) -> Path:
    """The same rows as plain double columns x0 … x{n−1} + label, beside ``path`` (written
    once): the input of the training job before it reads vector columns, and a check that the
    sparse and dense representations give the same model. Refused above ``limit`` columns."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    if features > limit:
        raise DataError(f"a dense twin of {features} columns is too wide (at most {limit})")
    twin = path.with_name(path.name + "-dense")
    if (twin / "_SUCCESS").exists():
        return twin
    arr = vector_to_array(F.col("features"))
    frame = spark.read.parquet(str(path)).select(
        "label", *(arr[j].alias(f"x{j}") for j in range(features))
    )
    tmp = twin.with_name(f".{twin.name}.{uuid.uuid4().hex[:8]}")
    frame.write.parquet(str(tmp))
    tmp.rename(twin)
    return twin


def read_csr(path: Path):
    """The dataset at ``path`` as (X, y) on the driver: X a ``scipy.sparse.csr_array`` (int32
    indices, float64 values), y float64; row order = pyarrow's file order. Benchmark only: at
    2M rows × 30 non-zeros X holds ~0.7 GB."""
    import pyarrow.parquet as pq
    import scipy.sparse as sp

    table = pq.read_table(path, columns=["label", "features"])
    size = 0
    parts = []
    for chunk in table.column("features").chunks:
        kind, sizes, indices, values = chunk.flatten()
        if len(kind) and (kind.to_numpy() != SPARSE).any():
            raise DataError(f"{path}: read_csr takes sparse vectors only")
        size = max(size, int(sizes.to_numpy().max(initial=0)))
        offsets = indices.offsets.to_numpy().astype(np.int64)
        parts.append((offsets - offsets[0], indices.flatten().to_numpy(), values.flatten()))
    indptr = np.concatenate(
        [[0], *(off[1:] + base for off, base in _bases([p[0] for p in parts]))]
    ).astype(np.int64)
    indices = np.concatenate([p[1] for p in parts]).astype(np.int32)
    values = np.concatenate([p[2].to_numpy() for p in parts]).astype(np.float64)
    X = sp.csr_array((values, indices, indptr), shape=(table.num_rows, size))
    return X, table.column("label").to_numpy().astype(np.float64)


def _bases(offsets: list[np.ndarray]) -> Iterator[tuple[np.ndarray, int]]:
    """Each chunk's offsets with the number of values before that chunk."""
    base = 0
    for off in offsets:
        yield off, base
        base += int(off[-1])


def csr_bytes(X) -> int:
    """Bytes of a CSR matrix's three arrays (values, indices, indptr)."""
    return int(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes)
