"""The pyarrow read path (sparklr.spark.parquet) and the blocks built from it.

The Parquet files are written here with pyarrow, in several files of several row groups of
uneven sizes, so that block boundaries fall inside row groups and across files.
"""

from __future__ import annotations

import os
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sparklr.errors import DataError
from sparklr.kernels.dense import block_sums
from sparklr.spark import blockfiles
from sparklr.spark.blockset import BlockSet
from sparklr.spark.loading import Categorical, load_frames
from sparklr.spark.parquet import ParquetPlan, list_local_parquet, plan_parquet_blocks, read_slices

from tests.conftest import make_logistic_data

NAMES = ["a", "b", "c"]
#: rows per file, and the row-group size each file is written with
FILES = [(700, 300), (50, 50), (1250, 400)]


def write_dataset(directory, X, y, *, extra: dict | None = None) -> list[str]:
    """Write [id, label, a, b, c, extra...] as len(FILES) Parquet files; return their URIs."""
    os.makedirs(directory, exist_ok=True)
    uris, start = [], 0
    for k, (rows, group) in enumerate(FILES):
        rows_k = slice(start, start + rows)
        columns = {
            "id": pa.array(np.arange(start, start + rows)),
            "label": pa.array(y[rows_k].astype(np.int32)),  # an integer label column
            **{name: pa.array(X[rows_k, j]) for j, name in enumerate(NAMES)},
        }
        for name, values in (extra or {}).items():
            columns[name] = values[rows_k] if isinstance(values, pa.Array) else values
        path = os.path.join(directory, f"part-{k:05d}.parquet")
        pq.write_table(pa.table(columns), path, row_group_size=group)
        uris.append("file:" + path)
        start += rows
    return uris


@pytest.fixture(scope="module")
def data():
    m = sum(rows for rows, _ in FILES)
    X, y, _, _ = make_logistic_data(m, len(NAMES), seed=23, offset=1.0, scale=2.0)
    return X, y


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, data):
    X, y = data
    directory = tmp_path_factory.mktemp("pq") / "data"
    return str(directory), write_dataset(directory, X, y)


def covered_rows(plan: ParquetPlan, uris: list[str]) -> list[list[int]]:
    """Global row numbers of each block, from its slices."""
    first_of_file, start = {}, 0
    for uri, (rows, _) in zip(uris, FILES, strict=True):
        first_of_file[uri] = start
        start += rows
    out = []
    for block in plan.blocks:
        rows = []
        for s in block:
            group_rows = FILES[uris.index(s.file)][1]
            first = first_of_file[s.file] + s.row_group * group_rows
            rows += list(range(first + s.start, first + s.stop))
        out.append(rows)
    return out


@pytest.mark.parametrize("partitions", [1, 2, 3, 5, 8])
def test_plan_covers_every_row_once_in_order_and_balanced(dataset, partitions):
    _, uris = dataset
    plan = plan_parquet_blocks(uris, ["label", *NAMES], partitions)
    assert isinstance(plan, ParquetPlan), plan
    m = sum(rows for rows, _ in FILES)
    assert plan.partitions == partitions and plan.rows == m
    blocks = covered_rows(plan, uris)
    assert [r for block in blocks for r in block] == list(range(m))
    sizes = [len(b) for b in blocks]
    assert max(sizes) - min(sizes) <= 1
    assert all(s.rows > 0 for block in plan.blocks for s in block)


def test_plan_with_more_blocks_than_rows(tmp_path):
    path = tmp_path / "tiny.parquet"
    pq.write_table(pa.table({"label": [0.0, 1.0, 1.0], "a": [1.0, 2.0, 3.0]}), path)
    plan = plan_parquet_blocks([f"file:{path}"], ["label", "a"], 5)
    assert [plan.block_rows(p) for p in range(5)] == [0, 1, 0, 1, 1]


def test_plan_is_refused_with_a_reason(tmp_path, dataset):
    _, uris = dataset
    reason = plan_parquet_blocks(uris, ["label", "a", "nope"], 2)
    assert isinstance(reason, str) and "'nope'" in reason and "part-00000" in reason
    reason = plan_parquet_blocks(["nosuchscheme://bucket/x.parquet"], ["label"], 2)
    assert isinstance(reason, str) and "pyarrow cannot open nosuchscheme://" in reason
    path = tmp_path / "dec.parquet"
    pq.write_table(
        pa.table({"label": [0, 1], "d": pa.array([Decimal("1.5"), Decimal("2.5")])}), path
    )
    reason = plan_parquet_blocks([f"file:{path}"], ["label", "d"], 1)
    assert isinstance(reason, str) and "'d'" in reason and "decimal" in reason


def test_read_slices_gives_float64_rows_with_nulls_as_nan(tmp_path):
    path = tmp_path / "t.parquet"
    table = pa.table(
        {
            "label": pa.array([True, False, True, None, False]),
            "i": pa.array([1, None, 3, 4, 5], type=pa.int16()),
            "f": pa.array([0.5, 1.5, None, 3.5, 4.5], type=pa.float32()),
        }
    )
    pq.write_table(table, path, row_group_size=2)
    plan = plan_parquet_blocks([f"file:{path}"], ["label", "i", "f"], 2)
    got = [
        pa.Table.from_batches(list(read_slices(block, plan.columns, batch_rows=1)))
        for block in plan.blocks
    ]
    assert [t.num_rows for t in got] == [2, 3]
    assert all(t.schema.types == [pa.float64()] * 3 for t in got)
    rows = np.vstack([np.column_stack([c.to_numpy() for c in t.columns]) for t in got])
    expected = np.array(
        [[1, 1, 0.5], [0, np.nan, 1.5], [1, 3, np.nan], [np.nan, 4, 3.5], [0, 5, 4.5]]
    )
    np.testing.assert_array_equal(rows, expected)


def test_blocks_from_parquet_equal_the_spark_path_and_numpy(spark, data, dataset):
    X, y = data
    directory, _ = dataset
    w, b = np.array([0.3, -0.2, 0.1]), 0.25
    built = {}
    try:
        for reader in ("auto", "spark"):
            frames = load_frames(
                spark, fmt="parquet", path=directory, label="label", features=NAMES,
                partitions=3, reader=reader,
            )  # fmt: skip
            assert (frames.parquet is not None) == (reader == "auto")
            built[reader] = BlockSet(
                spark, frames.train, "label", NAMES, parquet=frames.parquet
            ).build()
        direct = built["auto"]
        assert direct.partitions == 3
        assert [m.rows for m in direct.metas] == [666, 667, 667]
        ref = block_sums(X, y, w, b)
        for blocks in built.values():
            got = blocks.sums(w, b)
            assert got.rows == ref.rows and got.weight_sum == ref.weight_sum
            assert abs(got.loss - ref.loss) <= 1e-12 * abs(ref.loss)
            np.testing.assert_allclose(got.grad_w, ref.grad_w, rtol=1e-12)
        np.testing.assert_allclose(
            direct.moments.scatter, built["spark"].moments.scatter, rtol=1e-10
        )
        # the blocks hold the rows of their ranges, in file order
        first, _ = direct.read_block(0)
        np.testing.assert_array_equal(first, X[:666])
    finally:
        for blocks in built.values():
            blocks.unpersist()


def test_missing_block_files_are_rebuilt_from_the_parquet_files(spark, data, dataset):
    X, y = data
    directory, _ = dataset
    frames = load_frames(
        spark, fmt="parquet", path=directory, label="label", features=NAMES, partitions=2
    )
    blocks = BlockSet(spark, frames.train, "label", NAMES, parquet=frames.parquet).build()
    try:
        w, b = np.array([0.1, 0.2, -0.3]), 0.0
        before = blocks.sums(w, b)
        for f in blockfiles.block_files(blocks.metas[1].path):
            os.remove(f)
        after = blocks.sums(w, b)
        assert blocks.rebuilds == 1
        assert after.loss == before.loss
        np.testing.assert_array_equal(after.grad_w, before.grad_w)
        np.testing.assert_allclose(after.grad_w, block_sums(X, y, w, b).grad_w, rtol=1e-12)
    finally:
        blocks.unpersist()


def test_bad_values_are_named_as_on_the_spark_path(spark, tmp_path, data):
    X, y = data
    X = X.copy()
    X[1000, 1] = np.nan  # file 2 (rows 750..), block 1 of 2
    directory = tmp_path / "bad"
    write_dataset(directory, X, y)
    frames = load_frames(
        spark, fmt="parquet", path=str(directory), label="label", features=NAMES, partitions=2
    )
    assert frames.parquet is not None
    with pytest.raises(DataError, match=r"partition 1 row 0: feature 'b' = nan"):
        BlockSet(spark, frames.train, "label", NAMES, parquet=frames.parquet).build()


def test_weights_read_by_pyarrow(spark, tmp_path, data):
    X, y = data
    v = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    directory = tmp_path / "weighted"
    write_dataset(directory, X, y, extra={"wt": pa.array(v)})
    frames = load_frames(
        spark, fmt="parquet", path=str(directory), label="label", features=NAMES,
        weight="wt", partitions=2,
    )  # fmt: skip
    assert frames.parquet is not None and frames.parquet.columns[-1] == "wt"
    blocks = BlockSet(
        spark, frames.train, "label", NAMES, weight="wt", parquet=frames.parquet
    ).build()
    try:
        w, b = np.array([0.2, 0.0, -0.1]), 0.1
        got, ref = blocks.sums(w, b), block_sums(X, y, w, b, v)
        assert abs(got.weight_sum - ref.weight_sum) <= 1e-12 * ref.weight_sum
        np.testing.assert_allclose(got.grad_w, ref.grad_w, rtol=1e-12)
    finally:
        blocks.unpersist()


def test_reader_choice(spark, tmp_path, dataset):
    directory, _ = dataset
    common = dict(fmt="parquet", path=directory, label="label", features=NAMES)
    split = load_frames(spark, **common, validation_fraction=0.2)
    assert split.parquet is None  # the split is Spark's
    # partition directories hold a column pyarrow does not find in the files
    part = tmp_path / "parted" / "day=1"
    part.mkdir(parents=True)
    pq.write_table(pa.table({"label": [0.0, 1.0], "a": [1.0, 2.0]}), part / "x.parquet")
    auto = load_frames(
        spark, fmt="parquet", path=str(tmp_path / "parted"), label="label", features=["day"]
    )
    assert auto.parquet is None
    with pytest.raises(DataError, match=r"reader = \"pyarrow\" cannot read .*'day'"):
        load_frames(
            spark, fmt="parquet", path=str(tmp_path / "parted"), label="label",
            features=["day"], reader="pyarrow",
        )  # fmt: skip


def test_corrupt_pages_are_bad_data_naming_the_file(spark, tmp_path, data):
    """Footers intact (so the plan is made), data pages of one file overwritten: the build
    fails with a DataError naming that file and row group, not a retried task."""
    X, y = data
    directory = tmp_path / "corrupt"
    uris = write_dataset(directory, X, y)
    victim = uris[2][len("file:") :]
    raw = bytearray(open(victim, "rb").read())
    raw[4:4004] = b"\xff" * 4000  # just after the leading magic: the first page headers
    open(victim, "wb").write(bytes(raw))
    frames = load_frames(
        spark, fmt="parquet", path=str(directory), label="label", features=NAMES, partitions=2
    )
    assert frames.parquet is not None
    with pytest.raises(DataError, match=r"cannot read the input: file:.*part-00002\.parquet"):
        BlockSet(spark, frames.train, "label", NAMES, parquet=frames.parquet).build()


def test_a_local_listing_gives_the_files_and_schema_of_spark_s_reader(spark, tmp_path):
    import datetime

    directory = tmp_path / "typed"
    directory.mkdir()
    for k in range(3):
        table = pa.table(
            {
                "label": pa.array([0, 1], pa.int32()),
                "i64": pa.array([1, 2], pa.int64()),
                "f32": pa.array([0.5, 1.5], pa.float32()),
                "f64": [0.25, None],
                "flag": [True, False],
                "name": ["a", "b"],
                "day": pa.array([datetime.date(2026, 12, 1)] * 2),
                "at": pa.array([datetime.datetime(2026, 12, 1, 8)] * 2, pa.timestamp("us")),
                "amount": pa.array([Decimal("1.25"), Decimal("2.50")], pa.decimal128(6, 2)),
            }
        )
        pq.write_table(table, directory / f"part-{k:05d}.parquet")
    (directory / "_SUCCESS").write_text("")
    (directory / ".part-00000.parquet.crc").write_bytes(b"\0")
    listing = list_local_parquet(str(directory))
    frame = spark.read.parquet(str(directory))
    assert sorted(listing.files) == sorted(frame.inputFiles())
    assert listing.schema == frame.schema  # names, types and nullability
    single = directory / "part-00001.parquet"
    assert list_local_parquet(f"file:{single}").files == tuple(
        spark.read.parquet(str(single)).inputFiles()
    )
    # what only Spark's listing reads is left to it, with the reason
    (tmp_path / "parted" / "day=1").mkdir(parents=True)
    assert "subdirectories" in list_local_parquet(str(tmp_path / "parted"))
    assert "URI scheme" in list_local_parquet("hdfs://namenode/data")
    assert "no data files" in list_local_parquet(str(tmp_path / "missing"))
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"label": [0.0], "v": [{"values": [1.0]}]}), nested)
    assert "nested" in list_local_parquet(str(nested))


def test_local_parquet_is_planned_without_spark_sql_unless_a_column_needs_spark(
    spark, tmp_path, dataset
):
    directory, uris = dataset
    frames = load_frames(spark, fmt="parquet", path=directory, label="label", features=NAMES)
    assert frames.train is None and frames.names == NAMES  # no DataFrame at all
    files = {s.file for block in frames.parquet.blocks for s in block}
    assert files == set(spark.read.parquet(directory).inputFiles())
    assert {f.removeprefix("file://") for f in files} == {u.removeprefix("file:") for u in uris}
    # a categorical column needs the level pass, which is Spark's
    pq.write_table(
        pa.table({"label": [0, 1, 1, 0], "a": [1.0, 2.0, 0.5, 3.0], "color": list("rgbr")}),
        tmp_path / "colored.parquet",
    )
    colored = load_frames(
        spark,
        fmt="parquet",
        path=str(tmp_path / "colored.parquet"),
        label="label",
        features=[],
        categorical=Categorical(("color",)),
    )
    assert colored.train is not None and colored.parquet is not None
