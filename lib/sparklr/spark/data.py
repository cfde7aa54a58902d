"""Reading the training data and checking its schema (Spark; knows nothing of config files).

``read_table`` opens a file (any Spark format; tables, options and filters are
:mod:`sparklr.spark.sources`); ``select_columns`` resolves and checks the label and
feature columns and returns a DataFrame of exactly [label, features...] cast to double, ready
for :meth:`sparklr.spark.blockset.BlockSet.build`. Errors name the path or column.
"""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparklr.errors import DataError
from sparklr.spark.sources import Source, read_source

NUMERIC_TYPES = (T.NumericType, T.BooleanType)

log = logging.getLogger("sparklr.data")


def read_table(spark: SparkSession, path: str, fmt: str) -> DataFrame:
    """``path`` read as ``fmt`` without options or filter (:mod:`sparklr.spark.sources`)."""
    return read_source(spark, Source(fmt, path))


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
