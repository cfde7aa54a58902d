"""Reading the training data and checking its schema (Spark; knows nothing of config files).

``read_table`` opens Parquet or CSV; ``select_columns`` resolves and checks the label and
feature columns and returns a DataFrame of exactly [label, features...] cast to double, ready
for :meth:`sparklr.spark.blockset.BlockSet.build`. Errors name the path or column.
"""

from __future__ import annotations

import logging

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparklr.errors import DataError, first_message

NUMERIC_TYPES = (T.NumericType, T.BooleanType)

log = logging.getLogger("sparklr.data")


def read_table(spark: SparkSession, path: str, fmt: str) -> DataFrame:
    """Parquet file/directory, or CSV with a header row (column types inferred)."""
    try:
        if fmt == "parquet":
            df = spark.read.parquet(path)
        elif fmt == "csv":
            df = spark.read.option("header", True).option("inferSchema", True).csv(path)
        else:
            raise DataError(f"unknown data format {fmt!r}")
    except AnalysisException as exc:
        message = str(exc).splitlines()[0]
        if "PATH_NOT_FOUND" in message or "does not exist" in message:
            raise DataError(f"input path {path} does not exist") from exc
        raise DataError(f"cannot read {path} as {fmt}: {message}") from exc
    except Exception as exc:  # Spark wraps format errors in Py4J/other errors
        raise DataError(f"cannot read {path} as {fmt}: {first_message(exc, 300)}") from exc
    if not df.columns:
        raise DataError(f"input {path} has no columns (is it really {fmt}?)")
    return df


def select_columns(
    df: DataFrame, label: str, features: list[str], *, exclude: tuple[str, ...] = ()
) -> tuple[DataFrame, list[str]]:
    """Check the label and features exist and are numeric; return ([label, *features], names).

    With an empty ``features`` every numeric column except the label (and ``exclude``) is used.
    """
    fields = {f.name: f.dataType for f in df.schema.fields}
    if label not in fields:
        raise DataError(f"label column {label!r} not found; columns are: {', '.join(df.columns)}")
    if not isinstance(fields[label], NUMERIC_TYPES):
        raise DataError(
            f"label column {label!r} has type {fields[label].simpleString()}; "
            "it must be 0/1 as int, float or boolean"
        )
    if features:
        missing = [f for f in features if f not in fields]
        if missing:
            raise DataError(
                f"feature column(s) not found: {', '.join(missing)}; "
                f"columns are: {', '.join(df.columns)}"
            )
        if label in features:
            raise DataError(f"label column {label!r} is also listed as a feature")
        dupes = sorted({f for f in features if features.count(f) > 1})
        if dupes:
            raise DataError(f"feature column(s) listed twice: {', '.join(dupes)}")
    else:
        features = [
            name
            for name, dtype in fields.items()
            if name != label and name not in exclude and isinstance(dtype, NUMERIC_TYPES)
        ]
        if not features:
            raise DataError(f"no numeric feature columns besides the label {label!r}")
        skipped = [
            f"{name} ({dtype.simpleString()})"
            for name, dtype in fields.items()
            if name != label and name not in exclude and not isinstance(dtype, NUMERIC_TYPES)
        ]
        if skipped:
            log.warning(
                "data.features is empty: using the numeric columns and ignoring %s",
                ", ".join(skipped),
            )
    bad = [
        f"{f} ({fields[f].simpleString()})"
        for f in features
        if not isinstance(fields[f], NUMERIC_TYPES)
    ]
    if bad:
        raise DataError(f"feature column(s) not numeric: {', '.join(bad)}")
    if len(set(df.columns)) != len(df.columns):
        dupes = sorted({c for c in df.columns if df.columns.count(c) > 1})
        raise DataError(f"input has duplicate column names: {', '.join(dupes)}")
    selected = df.select(*[F.col(f"`{c}`").cast("double").alias(c) for c in [label, *features]])
    return selected, list(features)
