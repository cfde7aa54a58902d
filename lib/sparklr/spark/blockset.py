"""The resident blocks of one dataset (driver side), and the distributed sums over them.

Build (one pass over the source, :meth:`BlockSet.build`): one task per partition builds its
block on its executor (:mod:`sparklr.spark.build`) and returns one meta row
(:class:`~sparklr.spark.build.BlockMeta`). The RDD of those rows is cached. Its partitions live
in the block manager of the executor that wrote the files, so Spark schedules later tasks on
partition p there (PROCESS_LOCAL). The driver checks what the build found and raises a
:class:`~sparklr.errors.DataError` naming the column and an example row.

Iteration (:meth:`BlockSet.sums`, and :meth:`BlockSet.score_summary` for the metrics: one
Spark job each): (w, b) travel in the task closure, or from 10⁵ features in an explicit
broadcast destroyed after the pass (:meth:`BlockSet._shipped`); each task returns its block's
sums or scores (:mod:`sparklr.spark.iteration`), combined in the fixed tree of
:mod:`sparklr.spark.treereduce` (on the executors for wide results, else on the driver), so the
result depends on P and ``aggregation_depth`` only, not on timing.

Misses. A lost executor loses its cached metas too: Spark recomputes them from lineage, which
rebuilds the files on the new executor within the same task. If the files vanish while the
meta survives (local directory cleaned, task run elsewhere), the task reports a miss and the
driver rebuilds every block from the source once, then repeats the pass. Either way the
block's bytes are the same, so the result is too.

Instrumentation (public, for benchmarks and diagnostics): :meth:`add_listener`,
:attr:`last_reports`, :attr:`last_received`, and the probes of
:class:`~sparklr.spark.inspection.Inspection` (file and worker usage, cached bytes, reading a
block back, locations, the empty job). What the build must find is checked in
:mod:`sparklr.spark.block_checks`.
"""

from __future__ import annotations

import hashlib
import logging
import operator
import uuid
from collections.abc import Callable
from functools import partial

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from sparklr.encoding import Design
from sparklr.errors import DataError
from sparklr.kernels import (
    AUC_BINS,
    FISHER,
    HISTOGRAM_BINS,
    BlockSums,
    ScoreSummary,
    add_scores,
)
from sparklr.kernels.tree import fan_in
from sparklr.spark import blockfiles, multisums
from sparklr.spark.block_checks import check_blocks
from sparklr.spark.blocktype import BlockType
from sparklr.spark.build import (
    META_SPARK_SCHEMA,
    BlockMeta,
    BuildSpec,
    build_from_arrow,
    build_from_parquet,
    build_from_synthetic,
)
from sparklr.spark.dense import DenseBlock
from sparklr.spark.inspection import Inspection
from sparklr.spark.iteration import (
    GramParams,
    ScoreParams,
    SumsParams,
    TaskReport,
    partition_gram,
    partition_scores,
    partition_sums,
    shipped_weights,
)
from sparklr.spark.parquet import ParquetPlan
from sparklr.spark.synthetic import SyntheticPlan
from sparklr.spark.treereduce import Received, reduce_pass
from sparklr.stats import FeatureMoments, merge_all

log = logging.getLogger(__name__)

#: BlockSet.tree_min_bytes. Measured on local[2] (loaded machine; 8 rows per block): a tree
#: level is one more stage with a shuffle through local disk, +170 ms at n_x = 10 (P = 8), and
#: slower than the flat collect while the driver is on the same host (P = 8, n_x = 10⁶: 4.4 s
#: vs 1.5 s per pass). It bounds what the driver receives (P = 32, n_x = 10⁶: 48 MB instead of
#: 256 MB), so it runs only when the P results pass 128 MB, where driver memory matters.
TREE_MIN_BYTES = 128 << 20
#: BlockSet.broadcast_min_features (numbers shipped: n_x, or n_x × K' for the lockstep's W).
#: Per pass, 2 blocks, closure vs explicit broadcast (median ms, local[2]): n_x = 10⁴: 134 vs
#: 237; 10⁵: 196 vs 176; 10⁶: 740 vs 292. 2¹⁶ (inside that crossover) also keeps a closure's
#: task binary under the 1,000 KiB at which Spark logs a warning every pass (the lockstep's
#: W of 16,384 × 6 in a closure did: 1,054 KiB).
BROADCAST_MIN_FEATURES = 1 << 16


class BlockSet(Inspection):
    """The resident blocks of one dataset, and the :class:`SumsSource` over them.

    ``frame`` has the columns [label, *feature_names], all double, followed by the sample
    weight column when ``weight`` names one; with a ``design`` that has categorical columns,
    [label, *design.columns, (weight)] with the categorical columns raw (the build encodes
    them) and ``feature_names`` = ``design.feature_names``.
    """

    def __init__(
        self,
        spark: SparkSession,
        frame: DataFrame | None,
        label: str,
        feature_names: list[str],
        *,
        dtype: str = "float64",
        drop_invalid: bool = False,
        weight: str = "",
        parquet: ParquetPlan | None = None,
        synthetic: SyntheticPlan | None = None,
        fit: bool = True,
        design: Design | None = None,
        block_type: BlockType | None = None,
        aggregation_depth: int = 2,
        folds: int = 0,
        fold_seed: int = 0,
    ):
        self.spark = spark
        #: The encoding of the categorical columns (None: the frame's features are numeric).
        self.design = design if design is not None and design.categorical else None
        #: When given, blocks are read from these Parquet files with pyarrow in the executors
        #: (``frame`` is then only the schema's witness); see :mod:`sparklr.spark.parquet`.
        self.parquet = parquet
        #: When given, each build task generates its block's rows (``frame`` may be None).
        self.synthetic = synthetic
        self.weight = weight
        self.frame = frame
        self.label = label
        self.feature_names = list(feature_names)
        self.n_features = len(feature_names)
        self.dtype = dtype
        #: How the blocks store X_p: dense rows from double columns by default; for a vector
        #: column a CsrBlock or DenseVectorBlock (sparklr.spark.vector_input.choose_block_type).
        self.block_type = block_type or DenseBlock(dtype)
        self.drop_invalid = drop_invalid
        #: False for a set that is only scored (validation data): one class is then allowed.
        self.fit = fit
        #: Cross-validation folds K (0 = none) fixed in the blocks, and their seed (issue 14).
        self.folds = folds
        self.fold_seed = fold_seed
        #: Sets of at most this many rows get their AUC tallied exactly (score_summary).
        self.exact_auc_rows = AUC_BINS
        #: d of the reduce tree (MLlib's aggregationDepth): the driver receives ⌈P^(1/d)⌉
        #: partial sums per pass, not P (see :mod:`sparklr.spark.treereduce`).
        self.aggregation_depth = aggregation_depth
        #: The tree's levels run on the executors only when the P per-block results would
        #: exceed this many bytes (smaller ones the driver combines in the same tree itself).
        self.tree_min_bytes = TREE_MIN_BYTES
        #: (w, b) go in an explicit broadcast from this many features on (else in the closure).
        self.broadcast_min_features = BROADCAST_MIN_FEATURES
        self.evaluations = 0
        self.rebuilds = 0
        #: One :class:`TaskReport` per block from the latest :meth:`sums`.
        self.last_reports: list[TaskReport] = []
        #: What the driver received in the latest pass: partials and their pickled bytes.
        self.last_received = Received(0, 0)
        self._listeners: list[Callable[[list[TaskReport]], None]] = []
        self._meta_rdd = None
        self.metas: list[BlockMeta] = []

    # ----------------------------------------------------------------- build
    def build(self) -> BlockSet:
        """Run the build pass (see module docstring) and check what it found."""
        spec = BuildSpec(
            dataset_id=uuid.uuid4().hex,
            feature_names=tuple(self.feature_names),
            block_type=self.block_type,
            drop_invalid=self.drop_invalid,
            weight=self.weight,
            design=self.design,
            folds=self.folds,
            fold_seed=self.fold_seed,
        )
        if self.parquet is not None:
            plan, columns = self.parquet, self.parquet.columns
            rdd = self.spark.sparkContext.parallelize(
                list(enumerate(plan.blocks)), plan.partitions
            ).mapPartitions(lambda items: build_from_parquet(items, spec, columns))
        elif self.synthetic is not None:
            synthetic = self.synthetic
            rdd = self.spark.sparkContext.parallelize(
                list(enumerate(synthetic.blocks)), synthetic.partitions
            ).mapPartitions(lambda items: build_from_synthetic(items, spec, synthetic))
        else:
            rdd = self.frame.mapInArrow(
                lambda batches: build_from_arrow(batches, spec), META_SPARK_SCHEMA
            ).rdd
        self._meta_rdd = rdd.cache()  # of Rows: see BlockMeta
        metas = [BlockMeta.of_row(row) for row in self._meta_rdd.collect()]
        unreadable = sorted((m.partition, m.read_error) for m in metas if m.read_error)
        if unreadable:
            self.unpersist()
            raise DataError(f"cannot read the input: {unreadable[0][1]}")
        bad_features = sorted((m.partition, m.feature_error) for m in metas if m.feature_error)
        if bad_features:
            self.unpersist()
            raise DataError(f"bad feature vector at {bad_features[0][1]}")
        self.metas = sorted(metas, key=lambda m: m.partition)
        check_blocks(self)
        return self

    # ----------------------------------------------------------------- facts
    @property
    def rows(self) -> int:
        return sum(m.rows for m in self.metas)

    @property
    def dropped(self) -> int:
        return sum(m.dropped for m in self.metas)

    @property
    def partitions(self) -> int:
        return len(self.metas)

    @property
    def moments(self) -> FeatureMoments:
        return merge_all([m.moments for m in self.metas], self.n_features)

    @property
    def block_bytes(self) -> int:
        """Raw bytes of the blocks' features (as stored: dense X, or CSR's three arrays) and
        labels, without file headers, weights and fold ids."""
        return sum(m.feature_bytes + 8 * m.rows for m in self.metas)

    def fingerprint(self) -> str:
        """SHA-256 over rows and moments per partition: same data, same partitioning."""
        h = hashlib.sha256()
        h.update(repr((self.feature_names, self.dtype)).encode())
        for m in self.metas:
            h.update(np.int64(m.rows).tobytes())
            h.update(m.moments.mean.tobytes())
            h.update(m.moments.scatter.tobytes())
            h.update(np.float64(m.moments.positives).tobytes())
            if m.moments.weighted:
                h.update(np.float64(m.moments.weight_sum).tobytes())
        return h.hexdigest()

    # ----------------------------------------------------------------- sums
    def sums(
        self,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool = False,
        class_weight: tuple[float, float] | None = None,
        curvature: str = FISHER,
        fold: int | None = None,
    ) -> BlockSums:
        """Σ of the blocks' :class:`~sparklr.kernels.BlockSums` at (w, b), in the reduce tree:
        one Spark job (two and a rebuild after a miss). Then every listener gets the task
        reports. With ``fold`` = k, only over the rows of fold k's training part (f ≠ k)."""
        self._require_folds(fold)
        with self._shipped(w) as weights:

            def task(evaluation: int):
                params = SumsParams(
                    w=weights,
                    b=float(b),
                    hessian=hessian,
                    evaluation=evaluation,
                    class_weight=class_weight,
                    block_type=self.block_type,
                    n_features=self.n_features,
                    curvature=curvature,
                    fold=fold,
                )
                return partial(partition_sums, params=params)

            n = self.n_features
            return self._pass(task, operator.add, 8 * (n + hessian * (n + 1) ** 2))

    def score_summary(
        self, w: np.ndarray, b: float, *, fold: int | None = None, held_out: bool = True
    ) -> ScoreSummary:
        """The blocks' merged :class:`~sparklr.kernels.ScoreSummary` at raw (w, b), unweighted
        (the model's metrics and histograms): one Spark job, as :meth:`sums`. The AUC is tallied
        exactly (by probability) when the set has at most ``AUC_BINS`` rows, else by bin:
        either way the driver holds O(AUC_BINS) numbers. With ``fold`` = k, only over fold k's
        held-out rows (f = k; f ≠ k when not ``held_out``)."""
        self._require_folds(fold)
        exact = self.rows <= self.exact_auc_rows
        with self._shipped(w) as weights:

            def task(evaluation: int):
                params = ScoreParams(
                    w=weights,
                    b=float(b),
                    evaluation=evaluation,
                    block_type=self.block_type,
                    exact_auc=exact,
                    fold=fold,
                    exclude=not held_out,
                )
                return partial(partition_scores, params=params)

            keys = min(AUC_BINS, max(m.rows for m in self.metas))
            return self._pass(task, add_scores, 8 * 3 * (HISTOGRAM_BINS + keys))

    def gram_matvec(self, w: np.ndarray, b: float) -> tuple[np.ndarray, float, float]:
        """(Σ v z x, Σ v z, Σ v) over all blocks with z = Xw + b: the product of the uncentred
        Gram matrix Σ v [x; 1][x; 1]ᵀ with (w, b), one Spark job (as :meth:`sums`); the power
        iteration of :func:`sparklr.objective.gram_power_bound` calls it."""
        with self._shipped(w) as weights:

            def task(evaluation: int):
                params = GramParams(
                    w=weights,
                    b=float(b),
                    evaluation=evaluation,
                    block_type=self.block_type,
                    n_features=self.n_features,
                )
                return partial(partition_gram, params=params)

            return self._pass(task, _add_gram, 8 * (self.n_features + 2))

    def multi_sums(self, W, B, folds, *, class_weight=None, hessian=False):
        """The sums of K' models (columns of W, entries of B, a fold each; -1 = all rows),
        with their Hessian pieces when asked, in one pass:
        :func:`sparklr.spark.multisums.multi_sums`."""
        return multisums.multi_sums(self, W, B, folds, class_weight, hessian)

    def held_out_scores(self, W, B, folds) -> list[ScoreSummary]:
        """Fold k_j's held-out summary at (w_j, b_j) for every j, in one pass:
        :func:`sparklr.spark.multisums.held_out_scores`."""
        return multisums.held_out_scores(self, W, B, folds)

    def _require_folds(self, fold: int | None) -> None:
        if fold is not None and not 0 <= fold < self.folds:
            raise ValueError(f"fold {fold} is not one of the {self.folds} folds of the blocks")

    def _shipped(self, w: np.ndarray):
        """w as the tasks get it (:func:`~sparklr.spark.iteration.shipped_weights`)."""
        return shipped_weights(self.spark.sparkContext, w, self.broadcast_min_features)

    def _pass(self, task_of: Callable[[int], Callable], add: Callable, part_bytes: int):
        """The combined result of one pass: ``task_of(evaluation)`` is the task body (index,
        meta rows) → (result or None on a miss, report); ``add`` combines two results, each
        about ``part_bytes`` pickled."""
        self.evaluations += 1
        value, reports = self._run(task_of(self.evaluations), add, part_bytes)
        missing = [r.partition for r in reports if r.missed]
        if missing:
            log.warning(
                "resident blocks missing for partitions %s; rebuilding from source", missing
            )
            self.rebuild()
            value, reports = self._run(task_of(self.evaluations), add, part_bytes)
            if any(r.missed for r in reports):
                raise RuntimeError("resident blocks still missing after a rebuild")
        self.last_reports = reports
        for listener in self._listeners:
            listener(list(reports))
        return value

    def _run(self, task: Callable, add: Callable, part_bytes: int) -> tuple[object, list]:
        """One Spark job: the tasks, then the reduce tree (on the executors when the P results
        exceed ``tree_min_bytes``; see :mod:`sparklr.spark.treereduce`)."""
        P = self.partitions
        k = fan_in(P, self.aggregation_depth)
        tree = P > k and P * part_bytes >= self.tree_min_bytes
        results = self._meta_rdd.mapPartitionsWithIndex(task)
        value, reports, self.last_received = reduce_pass(results, P, k, add, tree=tree)
        return value, reports

    def rebuild(self) -> None:
        before = self.fingerprint()
        self.unpersist()
        self.build()
        self.rebuilds += 1
        if self.fingerprint() != before:
            raise DataError("the input data changed while training (rebuilt blocks differ)")

    # ----------------------------------------------------------------- instrumentation
    def add_listener(self, listener: Callable[[list[TaskReport]], None]) -> None:
        """Call ``listener(reports)`` after every :meth:`sums` with that evaluation's
        :class:`TaskReport`\\ s, one per block, in partition order (as :attr:`last_reports`)."""
        self._listeners.append(listener)

    # ----------------------------------------------------------------- cleanup
    def unpersist(self) -> None:
        """Delete the block files on the executors and drop the cached metas."""
        if self._meta_rdd is not None:
            try:
                self._meta_rdd.mapPartitions(_delete_blocks).collect()
            except Exception as exc:  # best effort: Spark removes its local dirs at exit
                log.debug("could not delete resident blocks: %s", exc)
            self._meta_rdd.unpersist()
            self._meta_rdd = None


def _add_gram(a: tuple, b: tuple) -> tuple:
    """Two blocks' (Σ v z x, Σ v z, Σ v) added."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _delete_blocks(rows) -> list[int]:
    return [sum(blockfiles.delete_block(row.path) for row in rows)]
