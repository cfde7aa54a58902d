"""Data descriptions → raw DataFrames (sparklr.spark.sources): catalog tables, any Spark source
by name, reader options, filters, and CSV numbers spelled inf/nan."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from sparklr.errors import ConfigError, DataError
from sparklr.spark.blockset import BlockSet
from sparklr.spark.loading import load_frames
from sparklr.spark.sources import Source, csv_numbers, pyarrow_reason, read_source

from tests.conftest import make_logistic_data

DAYS = ("2026-11-30", "2026-12-01", "2026-12-02")


@pytest.fixture(scope="module")
def events(spark):
    """A catalog table sparklr_test.events partitioned by ds: 3 days × 200 rows of (x, label)."""
    X, y, _, _ = make_logistic_data(600, 1, seed=5)
    rows = [(float(X[i, 0]), int(y[i]), DAYS[i % 3]) for i in range(600)]
    frame = spark.createDataFrame(rows, "x double, label int, ds string")
    spark.sql("CREATE DATABASE IF NOT EXISTS sparklr_test")
    frame.write.mode("overwrite").partitionBy("ds").saveAsTable("sparklr_test.events")
    yield rows
    spark.sql("DROP DATABASE sparklr_test CASCADE")


def sorted_rows(frame, *columns):
    return sorted(tuple(r) for r in frame.select(*columns).collect())


def test_a_catalog_table_is_read_and_its_filter_prunes_partitions(spark, events):
    table = Source("table", table="sparklr_test.events")
    assert sorted_rows(read_source(spark, table), "x", "label", "ds") == sorted(events)
    day = Source("table", table="sparklr_test.events", filter=f"ds = '{DAYS[1]}'")
    frame = read_source(spark, day)
    assert sorted_rows(frame, "x", "label", "ds") == sorted(r for r in events if r[2] == DAYS[1])
    # partition pruning: only the selected day's files are listed, so only they are read
    files = frame.inputFiles()
    assert files and all(f"ds={DAYS[1]}" in f for f in files)
    assert len(read_source(spark, table).inputFiles()) > len(files)


def test_a_missing_table_is_a_data_error_naming_it(spark):
    with pytest.raises(DataError, match=r"table sparklr_test\.nope not found"):
        read_source(spark, Source("table", table="sparklr_test.nope"))


@pytest.mark.parametrize("fmt", ["orc", "json"])
def test_orc_and_json_sources_by_name(spark, tmp_path, fmt):
    rows = [(0.5, 0), (-1.25, 1), (2.0, 1)]
    path = str(tmp_path / fmt)
    spark.createDataFrame(rows, "x double, label int").write.format(fmt).save(path)
    frame = read_source(spark, Source(fmt, path))
    assert sorted_rows(frame, "x", "label") == sorted(rows)
    kept = read_source(spark, Source(fmt, path, filter="x > 0"))
    assert sorted_rows(kept, "x", "label") == [(0.5, 0), (2.0, 1)]


def test_csv_options_reach_the_reader_over_the_defaults(spark, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("label;x;z\n1;0.5;NA\n0;-2;3\n")
    frame = read_source(spark, Source("csv", str(path), options={"sep": ";", "nullValue": "NA"}))
    assert dict(frame.dtypes) == {"label": "int", "x": "double", "z": "int"}
    assert sorted_rows(frame, "label", "x", "z") == [(0, -2.0, 3), (1, 0.5, None)]
    # header = false overrides the default (columns _c0...; every value a string)
    raw = read_source(spark, Source("csv", str(path), options={"sep": ";", "HEADER": "false"}))
    assert raw.columns == ["_c0", "_c1", "_c2"] and raw.count() == 3


def test_filters_that_fail_say_why_and_name_the_key(spark, events):
    def read(predicate: str, key: str = "data.filter"):
        source = Source("table", table="sparklr_test.events", filter=predicate, filter_key=key)
        return read_source(spark, source)

    with pytest.raises(DataError, match=r"data.filter = \"ds = '1999-01-01'\" selects 0 rows"):
        read("ds = '1999-01-01'")
    with pytest.raises(ConfigError, match=r"data.validation_filter = 'x >' is not a SQL"):
        read("x >", "data.validation_filter")
    with pytest.raises(ConfigError, match=r"data.filter = .* is not a SQL predicate"):
        read("x > 0; DROP TABLE sparklr_test.events")
    with pytest.raises(DataError, match=r"data.filter = 'nope = 1' does not fit .*nope"):
        read("nope = 1")
    with pytest.raises(DataError, match=r"data.filter = 'x' does not fit .*boolean"):
        read("x")
    assert spark.table("sparklr_test.events").count() == 600  # nothing was dropped


def test_a_source_whose_package_is_missing_names_it(spark, tmp_path):
    with pytest.raises(ConfigError, match=r"no data source 'avro'.*spark-avro"):
        read_source(spark, Source("avro", str(tmp_path)))
    with pytest.raises(ConfigError, match=r"no data source 'org\.example\.Nope'"):
        read_source(spark, Source("org.example.Nope", str(tmp_path)))


SPELLINGS = ["inf", "-inf", "+inf", "INF", "Inf", "-Infinity", "infinity", "+INFINITY"]
NANS = ["nan", "NaN", "NAN", "-nan"]


def test_csv_numbers_spelled_inf_or_nan_are_doubles(spark, tmp_path):
    values = [*SPELLINGS, *NANS, "1.5", ""]
    path = tmp_path / "inf.csv"
    lines = [f"{v},{i},{'abc' if i == 3 else i}" for i, v in enumerate(values)]
    path.write_text("x,n,s\n" + "\n".join(lines) + "\n")
    frame = read_source(spark, Source("csv", str(path)))
    assert dict(frame.dtypes) == {"x": "double", "n": "int", "s": "string"}
    got = [r.x for r in frame.orderBy("n").collect()]
    assert got[: len(SPELLINGS)] == [math.inf if "-" not in v else -math.inf for v in SPELLINGS]
    assert all(math.isnan(v) for v in got[len(SPELLINGS) : -2])
    assert got[-2:] == [1.5, None]
    # a column with a real non-number, or only nulls, stays a string
    nulls = spark.createDataFrame([(None,), (None,)], "e string")
    assert dict(csv_numbers(nulls).dtypes) == {"e": "string"}


def test_csv_inf_is_caught_by_the_row_check_and_trains_once_dropped(spark, tmp_path):
    X, y, _, _ = make_logistic_data(300, 2, seed=8)
    cells = [[f"{v:.17g}" for v in row] for row in X]
    cells[7][1], cells[100][0], cells[201][1] = "inf", "-Infinity", "nan"
    path = tmp_path / "train.csv"
    lines = [f"{a},{b},{int(c)}" for (a, b), c in zip(cells, y, strict=True)]
    path.write_text("a,b,label\n" + "\n".join(lines) + "\n")
    frames = load_frames(spark, fmt="csv", path=str(path), label="label", features=[])
    assert frames.names == ["a", "b"]  # b is not dropped as a string column
    with pytest.raises(DataError, match=r"3 row\(s\) have NaN.*feature 'b' = inf"):
        BlockSet(spark, frames.train, "label", frames.names).build()
    blocks = BlockSet(spark, frames.train, "label", frames.names, drop_invalid=True).build()
    try:
        assert (blocks.rows, blocks.dropped) == (297, 3)
        keep = np.ones(300, bool)
        keep[[7, 100, 201]] = False
        np.testing.assert_allclose(blocks.moments.mean, X[keep].mean(axis=0), rtol=1e-12)
    finally:
        blocks.unpersist()


def test_parquet_takes_pyarrow_unless_a_filter_or_foreign_option_needs_spark(
    spark, tmp_path, caplog
):
    path = str(tmp_path / "p.parquet")
    spark.range(0, 100).selectExpr("double(id) as x", "id % 2 as label").write.parquet(path)
    common = dict(label="label", features=["x"], partitions=2)
    assert pyarrow_reason(Source("parquet", path, options={"mergeSchema": "true"})) == ""
    plain = load_frames(spark, source=Source("parquet", path), **common)
    assert plain.parquet is not None and plain.parquet.rows == 100
    with caplog.at_level(logging.INFO, logger="sparklr.data"):
        filtered = load_frames(spark, source=Source("parquet", path, filter="x < 10"), **common)
    assert filtered.parquet is None and filtered.train.count() == 10
    assert "through Spark: data.filter is applied by Spark's reader" in caplog.text
    ignoring = Source("parquet", path, options={"ignoreCorruptFiles": "true"})
    assert "ignoreCorruptFiles" in pyarrow_reason(ignoring)
    assert load_frames(spark, source=ignoring, **common).parquet is None
    with pytest.raises(DataError, match=r'reader = "pyarrow" cannot read .*data.filter'):
        load_frames(
            spark, source=Source("parquet", path, filter="x < 10"), reader="pyarrow", **common
        )


def test_validation_rows_of_the_same_table_by_another_filter(spark, events):
    train = Source("table", table="sparklr_test.events", filter=f"ds < '{DAYS[2]}'")
    holdout = Source(
        "table", table="sparklr_test.events", filter=f"ds = '{DAYS[2]}'", filter_key="v"
    )
    frames = load_frames(
        spark, source=train, validation_source=holdout, label="label", features=["x"]
    )
    assert frames.names == ["x"] and frames.parquet is None
    assert (frames.train.count(), frames.validation.count()) == (400, 200)
    assert sorted_rows(frames.validation, "x") == sorted((r[0],) for r in events if r[2] == DAYS[2])
