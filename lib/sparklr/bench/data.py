"""The benchmark's data: generated on the executors and written once to Parquet (default), an
existing Parquet dataset (``--data``), or the generator itself (``--source generator``); and
the same rows as one in-memory matrix on the driver for the NumPy and scikit-learn baselines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from sparklr.bench.cli import Settings
from sparklr.errors import DataError
from sparklr.spark.blockset import BlockSet
from sparklr.spark.data import read_table, select_columns
from sparklr.spark.session import is_local_master
from sparklr.spark.synthetic import feature_names, synthetic_frame


@dataclass(frozen=True)
class Dataset:
    """Where the rows come from, and their columns."""

    spark: SparkSession
    settings: Settings
    names: list[str]
    #: The Parquet files sparklr and MLlib load; None: the generator (``--source generator``).
    parquet_path: str | None
    generate_seconds: float | None = None

    @property
    def label(self) -> str:
        return self.settings.label

    def frame(self) -> DataFrame:
        """[label, *names] as Spark reads it (each call a fresh read, or a fresh generation)."""
        if self.parquet_path is not None:
            df = read_table(self.spark, self.parquet_path, "parquet")
        else:
            s = self.settings
            df, _ = synthetic_frame(self.spark, s.rows, s.features, s.partitions, s.seed)
        frame, _ = select_columns(df, self.label, self.names)
        return frame


def prepare_data(spark: SparkSession, settings: Settings, workdir: Path) -> Dataset:
    """Find the columns of ``--data``, or generate the data (and write it to Parquet in
    ``workdir`` unless ``--source generator``)."""
    if settings.data:
        probe = read_table(spark, settings.data, "parquet")
        _, names = select_columns(probe, settings.label, [], exclude=("id",))
        return Dataset(spark, settings, names, settings.data)
    names = feature_names(settings.features)
    if settings.source == "generator":
        return Dataset(spark, settings, names, None)
    s = settings
    raw, _ = synthetic_frame(spark, s.rows, s.features, s.partitions, s.seed)
    path = str(workdir / "data.parquet")
    t0 = time.perf_counter()
    raw.write.mode("overwrite").parquet(path)
    return Dataset(spark, settings, names, path, time.perf_counter() - t0)


def driver_matrix(dataset: Dataset, blocks: BlockSet) -> tuple[np.ndarray, np.ndarray]:
    """The whole dataset as one in-memory (X, y) on the driver (benchmark baselines only):
    read from the Parquet files; or, for generated data under a local master, concatenated
    from the blocks themselves (same machine; float64 blocks only); else a driver-side
    ``toArrow()`` (which needs the driver heap to hold the whole dataset)."""
    local = is_local_master(dataset.settings.master)
    if dataset.parquet_path is None and local and blocks.dtype == "float64":
        return _matrix_of_blocks(blocks)
    if dataset.parquet_path is not None:
        import pyarrow.parquet as pq

        table = pq.read_table(dataset.parquet_path, columns=[dataset.label, *dataset.names])
    else:
        table = dataset.frame().toArrow()
    X = np.empty((table.num_rows, len(dataset.names)), dtype=np.float64)
    for j, name in enumerate(dataset.names):
        X[:, j] = table.column(name).to_numpy()
    y = table.column(dataset.label).to_numpy().astype(np.float64)
    if not (np.isfinite(X).all() and np.isin(y, (0.0, 1.0)).all()):
        raise DataError("benchmark data must be finite with 0/1 labels")
    return X, y


def _matrix_of_blocks(blocks: BlockSet) -> tuple[np.ndarray, np.ndarray]:
    X = np.empty((blocks.rows, blocks.n_features), dtype=np.float64)
    y = np.empty(blocks.rows, dtype=np.float64)
    offset = 0
    for meta in (m for m in blocks.metas if m.rows):
        X_p, y_p = blocks.read_block(meta.partition)
        X[offset : offset + meta.rows] = X_p
        y[offset : offset + meta.rows] = y_p
        offset += meta.rows
    return X, y
