"""Reading a table and checking its label and feature columns (sparklr.spark.data)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from sparklr.errors import ConfigError, DataError
from sparklr.spark.data import read_table, select_columns


@pytest.fixture(scope="module")
def table(spark):
    pdf = pd.DataFrame(
        {"y": [0, 1, 1], "a": [1.5, 2.0, -1.0], "n": [1, 2, 3], "flag": [True, False, True]}
    )
    return spark.createDataFrame(pdf.assign(s=["u", "v", "w"]))


def test_read_table_reads_parquet_and_csv_with_inferred_types(spark, tmp_path):
    pdf = pd.DataFrame({"label": [0, 1], "x": [0.5, -2.25]})
    pdf.to_parquet(tmp_path / "t.parquet", index=False)
    pdf.to_csv(tmp_path / "t.csv", index=False)
    for fmt, label_type in [("parquet", "bigint"), ("csv", "int")]:
        frame = read_table(spark, str(tmp_path / f"t.{fmt}"), fmt)
        assert dict(frame.dtypes) == {"label": label_type, "x": "double"}
        assert [tuple(r) for r in frame.orderBy("label").collect()] == [(0, 0.5), (1, -2.25)]


def test_read_table_errors_name_the_path_or_format(spark, tmp_path):
    with pytest.raises(DataError, match=r"input path .*nope does not exist"):
        read_table(spark, str(tmp_path / "nope"), "parquet")
    with pytest.raises(ConfigError, match="no data source 'jsn'"):
        read_table(spark, str(tmp_path), "jsn")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"junk\.parquet"):
        read_table(spark, str(tmp_path / "junk.parquet"), "parquet")


def test_select_columns_gives_label_then_features_as_doubles(table):
    frame, names = select_columns(table, "y", ["n", "a"])
    assert names == ["n", "a"] and frame.columns == ["y", "n", "a"]
    assert {t for _, t in frame.dtypes} == {"double"}
    assert [tuple(r) for r in frame.collect()] == [
        (0.0, 1.0, 1.5),
        (1.0, 2.0, 2.0),
        (1.0, 3.0, -1.0),
    ]


def test_select_columns_without_features_takes_the_numeric_ones(table, caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("sparklr"), "propagate", True)  # see logs.setup_logging
    _, names = select_columns(table, "y", [], exclude=("n",))
    assert names == ["a", "flag"]  # booleans count as numeric; "s" is skipped with a warning
    assert "ignoring s (string)" in caplog.text


@pytest.mark.parametrize(
    "label, features, message",
    [
        ("z", ["a"], "label column 'z' not found; columns are: y, a, n, flag, s"),
        ("s", ["a"], "label column 's' has type string"),
        ("y", ["a", "q"], "feature column(s) not found: q"),
        ("y", ["y", "a"], "label column 'y' is also listed as a feature"),
        ("y", ["a", "a"], "feature column(s) listed twice: a"),
        ("y", ["a", "s"], "feature column(s) not numeric: s (string)"),
    ],
)
def test_select_columns_errors_name_the_column(table, label, features, message):
    with pytest.raises(DataError) as info:
        select_columns(table, label, features)
    assert message in str(info.value)


def test_no_numeric_feature_or_duplicate_names_are_errors(spark):
    only_text = spark.createDataFrame([(0, "u")], "y int, s string")
    with pytest.raises(DataError, match="no numeric feature columns besides the label 'y'"):
        select_columns(only_text, "y", [])
    twice = spark.createDataFrame([(0, 1.0, 2.0)], "y int, a double, b double").toDF("y", "a", "a")
    with pytest.raises(DataError, match="duplicate column names: a"):
        select_columns(twice, "y", [])
