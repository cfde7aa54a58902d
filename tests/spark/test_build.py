"""Building one block (sparklr.spark.build), in this process: the files, the checks and their
examples, the moments, and the one schema of BlockMeta."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pyarrow as pa
import pytest
from sparklr.spark import blockfiles
from sparklr.spark.build import (
    BUILD_PHASES,
    META_ARROW_SCHEMA,
    META_SPARK_SCHEMA,
    BlockMeta,
    BuildSpec,
    build_block,
)
from sparklr.spark.dense import DenseBlock
from sparklr.stats import FeatureMoments

NAMES = ("a", "b", "c")


@pytest.fixture(autouse=True)
def local_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARK_LOCAL_DIRS", str(tmp_path))
    return tmp_path


def batches(X, y, v=None, size: int = 4) -> list[pa.RecordBatch]:
    """[label, a, b, c, (wt)] in batches of ``size`` rows (and an empty one)."""
    columns = {"label": y, **{n: X[:, j] for j, n in enumerate(NAMES)}}
    if v is not None:
        columns["wt"] = v
    table = pa.table({k: pa.array(c, type=pa.float64()) for k, c in columns.items()})
    empty = pa.RecordBatch.from_pylist([], schema=table.schema)
    return [empty, *table.to_batches(max_chunksize=size)]


def spec(**options) -> BuildSpec:
    return BuildSpec("ds", NAMES, DenseBlock(options.pop("dtype", "float64")), **options)


def data(m: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, 3)), (rng.random(m) < 0.5).astype(float), rng.random(m) + 0.5


def test_a_block_is_built_into_its_files_with_its_moments():
    X, y, v = data()
    meta = build_block(2, batches(X, y, v), len(y), spec(weight="wt"))
    assert meta.partition == 2 and meta.rows == 10 and meta.weighted and not meta.read_error
    assert meta.path.endswith("/sparklr-blocks/ds/part-00002")
    arrays = blockfiles.read_block(meta.path, ["X", "y", "v"])
    np.testing.assert_array_equal(arrays["X"], X)
    np.testing.assert_array_equal(arrays["y"], y)
    np.testing.assert_array_equal(arrays["v"], v)
    assert not any(f.endswith(".tmp.npy") for f in blockfiles.block_files(meta.path))
    ref = FeatureMoments.of_block(X, y, v)
    np.testing.assert_array_equal(meta.moments.mean, ref.mean)
    np.testing.assert_array_equal(meta.moments.scatter, ref.scatter)
    assert (meta.moments.positives, meta.moments.weight_sum) == (ref.positives, ref.weight_sum)
    assert meta.moments.count == 10
    assert len(meta.seconds) == len(BUILD_PHASES) and min(meta.seconds) >= 0


def test_float32_blocks_store_rounded_features():
    X, y, _ = data()
    meta = build_block(0, batches(X, y), len(y), spec(dtype="float32"))
    stored = blockfiles.read_block(meta.path, ["X"])["X"]
    assert stored.dtype == np.float32
    np.testing.assert_array_equal(stored, X.astype(np.float32))
    assert not meta.weighted and blockfiles.block_files(meta.path)[-1].endswith(".y.npy")


def test_an_empty_block_has_no_files():
    meta = build_block(1, batches(np.empty((0, 3)), np.empty(0)), 0, spec())
    assert meta.rows == 0 and blockfiles.block_files(meta.path) == []
    assert meta.moments.count == 0 and meta.moments.mean.shape == (3,)


def test_row_count_mismatch_raises_and_leaves_no_files():
    X, y, _ = data()
    with pytest.raises(RuntimeError, match="partition 4: 10 rows read, 12 expected"):
        build_block(4, batches(X, y), 12, spec())
    with pytest.raises(RuntimeError, match="more rows than the 8 expected"):
        build_block(4, batches(X, y), 8, spec())
    assert blockfiles.block_files(f"{blockfiles.local_root()}/sparklr-blocks/ds/part-00004") == []


@pytest.mark.parametrize(
    ("where", "example"),
    [
        ("feature", "partition 5 row 6: feature 'b' = nan"),
        ("label", "partition 5 row 6: label = inf"),
        ("weight", "partition 5 row 6: weight 'wt' = nan"),
    ],
)
def test_nonfinite_rows_are_counted_and_named(where, example):
    X, y, v = data()
    X[6, 1] = X[8, 0] = np.nan
    if where == "label":
        y[6] = np.inf
    if where == "weight":
        v[6] = np.nan
    meta = build_block(5, batches(X, y, v), len(y), spec(weight="wt"))
    assert (meta.nonfinite, meta.nonfinite_example, meta.dropped) == (2, example, 0)
    assert meta.rows == 10  # kept: the driver refuses the data


def test_drop_invalid_rewrites_the_block_without_them():
    X, y, v = data()
    X[6, 1] = y[2] = np.nan
    meta = build_block(0, batches(X, y, v), len(y), spec(weight="wt", drop_invalid=True))
    keep = np.ones(10, dtype=bool)
    keep[[2, 6]] = False
    assert (meta.rows, meta.dropped, meta.nonfinite) == (8, 2, 2)
    arrays = blockfiles.read_block(meta.path, ["X", "y", "v"])
    np.testing.assert_array_equal(arrays["X"], X[keep])
    np.testing.assert_array_equal(arrays["y"], y[keep])
    np.testing.assert_array_equal(arrays["v"], v[keep])
    ref = FeatureMoments.of_block(X[keep], y[keep], v[keep])
    np.testing.assert_array_equal(meta.moments.mean, ref.mean)
    assert len(blockfiles.block_files(meta.path)) == 3


def test_drop_invalid_of_every_row_leaves_an_empty_block():
    X, y, _ = data(m=3)
    X[:, 0] = np.nan
    meta = build_block(0, batches(X, y), 3, spec(drop_invalid=True))
    assert (meta.rows, meta.dropped) == (0, 3) and blockfiles.block_files(meta.path) == []


def test_bad_labels_and_negative_weights_are_counted_with_an_example():
    X, y, v = data()
    y[3], y[7] = 2.0, -1.0
    v[4], v[9] = -0.5, -2.0
    meta = build_block(1, batches(X, y, v), len(y), spec(weight="wt"))
    assert (meta.bad_labels, meta.bad_label_example) == (2, "2.0")
    assert meta.bad_weights == 2
    assert meta.bad_weight_example == f"partition 1 row 4: {np.float64(-0.5)!r}"


def test_block_meta_is_defined_once():
    X, y, v = data()
    meta = build_block(0, batches(X, y, v), len(y), spec(weight="wt"))
    names = list(BlockMeta.__dataclass_fields__)
    assert META_ARROW_SCHEMA.names == names == [f.name for f in META_SPARK_SCHEMA.fields]
    assert META_SPARK_SCHEMA["seconds"].dataType.simpleString() == "array<double>"
    # through a Spark Row (what the meta RDD caches) and back, unchanged
    back = BlockMeta.of_row(meta.to_row())
    assert back == meta
    np.testing.assert_array_equal(back.moments.scatter, meta.moments.scatter)
    # the mapInArrow path's batch holds the same values
    row = {**asdict(meta), "seconds": list(meta.seconds), "absent": list(meta.absent)}
    assert meta.to_batch().to_pylist() == [row]
    unreadable = BlockMeta(partition=3, read_error="bad file")
    assert unreadable.rows == 0 and unreadable.path == "" and unreadable.to_batch().num_rows == 1
