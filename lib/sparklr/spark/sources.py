"""Where the rows come from: a data description → the raw DataFrame (Spark; no config files).

A :class:`Source` is either a file or directory read with one of Spark's data sources by name
(``parquet``, ``csv``, ``orc``, ``json``, ``avro``, ``delta``, or a data source class
name) or a catalog table (format ``table``: ``spark.table(name)`` through the session's
catalog; under spark-submit with Hive support that is the cluster's metastore). ``options`` go
to the reader as they are; CSV gets ``header`` and ``inferSchema`` true unless they say
otherwise. ``filter`` is a SQL predicate applied to the raw rows before anything else
(``DataFrame.filter``): on a partitioned table, a predicate on the partition columns
(``ds = '2026-12-01'``) prunes the partitions, so only the selected ones are listed and read.

CSV numbers spelled ``inf``, ``-Infinity``, ``nan``, ``+INF``… Spark's CSV reader parses only
``Inf``, ``-Inf``, ``NaN`` and Java's ``[+-]Infinity`` as doubles; any other spelling makes
type inference give up on the column and call it a string. :func:`csv_numbers` turns such a
column back into doubles when every value in it is a number in some spelling, so the NaN/±Inf
check of the block build names the row instead of the column vanishing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from pyspark.errors import AnalysisException, ParseException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparklr.errors import ConfigError, DataError, first_message

log = logging.getLogger("sparklr.data")

#: Reader options CSV gets unless ``options`` sets them (Spark's option names are
#: case-insensitive).
CSV_DEFAULTS = {"header": "true", "inferSchema": "true"}

#: Sources that are not in Spark's distribution: what to add to the job to get them.
PACKAGES = {
    "avro": "org.apache.spark:spark-avro_2.13:<your Spark version>",
    "delta": "io.delta:delta-spark_2.13:<the Delta release for your Spark>",
}

#: Parquet options the pyarrow read of :mod:`sparklr.spark.parquet` honours exactly: those
#: that choose the files (it reads the files Spark lists), the schema merge (a file that lacks
#: a column makes the plan fall back to Spark), and date/time rebasing (the plan reads plain
#: numeric columns only). Lower case.
PYARROW_OPTIONS = frozenset(
    {
        "pathglobfilter",
        "recursivefilelookup",
        "modifiedbefore",
        "modifiedafter",
        "mergeschema",
        "datetimerebasemode",
        "int96rebasemode",
    }
)


@dataclass(frozen=True)
class Source:
    """One data description: ``path`` read as ``format``, or the catalog ``table`` when
    ``format == "table"``; ``options`` for the reader; ``filter`` a SQL predicate (or "")."""

    format: str
    path: str = ""
    table: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    filter: str = ""
    #: How errors name the filter: the config key or command-line flag it came from.
    filter_key: str = "data.filter"

    @property
    def name(self) -> str:
        """The table's name or the path, for messages."""
        return f"table {self.table}" if self.format == "table" else self.path

    def describe(self) -> dict[str, object]:
        """What model.json records of the source."""
        where = {"table": self.table} if self.format == "table" else {"path": self.path}
        return {
            "format": self.format,
            **where,
            "options": dict(self.options),
            "filter": self.filter,
        }


def read_source(spark: SparkSession, source: Source) -> DataFrame:
    """The rows of ``source``, filtered (see the module docstring). Errors name the path or
    table, the format, or the filter's key."""
    frame = _open(spark, source)
    if not frame.columns:
        raise DataError(f"input {source.name} has no columns (is it really {source.format}?)")
    if source.format == "csv" and _option(source.options, "inferSchema", "true") == "true":
        frame = csv_numbers(frame)
    if source.filter:
        frame = apply_filter(frame, source)
    return frame


def _option(options: Mapping[str, str], name: str, default: str) -> str:
    """An option's value, matched case-insensitively as Spark does."""
    values = {k.lower(): v for k, v in options.items()}
    return values.get(name.lower(), default).strip().lower()


def _open(spark: SparkSession, source: Source) -> DataFrame:
    """The unfiltered DataFrame of ``source``; unknown sources and paths as clear errors."""
    options = dict(source.options)
    if source.format == "csv":
        given = {k.lower() for k in options}
        options = {k: v for k, v in CSV_DEFAULTS.items() if k.lower() not in given} | options
    try:
        if source.format == "table":
            return spark.table(source.table)
        return spark.read.format(source.format).options(**options).load(source.path)
    except AnalysisException as exc:
        raise _open_error(source, exc) from exc
    except Exception as exc:  # Spark wraps some failures in Py4J/other errors
        if "DATA_SOURCE_NOT_FOUND" in str(exc) or "ClassNotFoundException" in str(exc):
            raise _open_error(source, exc) from exc
        raise DataError(
            f"cannot read {source.name} as {source.format}: {first_message(exc, 300)}"
        ) from exc


def _open_error(source: Source, exc: Exception) -> Exception:
    message = first_message(exc, 300)
    if "DATA_SOURCE_NOT_FOUND" in message or "DATA_SOURCE_NOT_ENABLED" in message:
        package = PACKAGES.get(source.format.lower())
        hint = f"add the package {package}" if package else "add the package that provides it"
        return ConfigError(
            f"Spark has no data source {source.format!r} (data.format): {hint} to the job "
            "(spark-submit --packages ..., or spark.jars.packages)"
        )
    if "TABLE_OR_VIEW_NOT_FOUND" in message:
        return DataError(f"table {source.table} not found in the session catalog: {message}")
    if "PATH_NOT_FOUND" in message or "does not exist" in message:
        return DataError(f"input path {source.path} does not exist")
    return DataError(f"cannot read {source.name} as {source.format}: {message}")


def apply_filter(frame: DataFrame, source: Source) -> DataFrame:
    """``frame`` filtered by ``source.filter``: a ConfigError when it is not a SQL predicate,
    a DataError when it does not fit the data (unknown column, not boolean) or selects no
    row (one ``limit 1`` job; with partition pruning it reads at most the selected files)."""
    key = f"{source.filter_key} = {source.filter!r}"
    try:
        filtered = frame.filter(source.filter)
    except ParseException as exc:
        raise ConfigError(f"{key} is not a SQL predicate: {_parse_error(exc)}") from exc
    except AnalysisException as exc:
        raise DataError(f"{key} does not fit {source.name}: {first_message(exc, 300)}") from exc
    if filtered.isEmpty():
        raise DataError(f"{key} selects 0 rows of {source.name}")
    return filtered


def _parse_error(exc: ParseException) -> str:
    """Spark's parse error without the echo of the text and its caret line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return next((line for line in lines if "PARSE" in line or "Syntax" in line), lines[0])[:300]


def pyarrow_reason(source: Source) -> str:
    """Why the pyarrow Parquet read cannot give exactly the rows Spark's reader would ("" =
    it can): a filter (pyarrow would need it translated, which SQL in general is not), or an
    option outside :data:`PYARROW_OPTIONS`."""
    if source.filter:
        return f"{source.filter_key} is applied by Spark's reader"
    foreign = sorted(k for k in source.options if k.lower() not in PYARROW_OPTIONS)
    if foreign:
        return f"Spark's reader honours the option(s) {', '.join(foreign)}"
    return ""


# --------------------------------------------------------------------------- CSV numbers


def csv_numbers(frame: DataFrame) -> DataFrame:
    """``frame`` with each string column whose values are all numbers in some spelling (at
    least one non-null; ``inf``, ``+INF``, ``-infinity``, ``nan``, ``-nan``… and the ones Spark
    parses) cast to double. One aggregation pass over the string columns, none without them.
    A column with any other value stays a string (what becomes of it is the column checks'
    business)."""
    strings = [f.name for f in frame.schema.fields if isinstance(f.dataType, T.StringType)]
    if not strings:
        return frame
    counts = frame.agg(
        *[F.count(F.col(f"`{c}`")).alias(f"n{i}") for i, c in enumerate(strings)],
        *[F.count(_as_double(c)).alias(f"d{i}") for i, c in enumerate(strings)],
    ).first()
    numeric = [
        c for i, c in enumerate(strings) if counts[f"n{i}"] and counts[f"n{i}"] == counts[f"d{i}"]
    ]
    if not numeric:
        return frame
    log.info("CSV column(s) of numbers with inf/nan spellings read as double: %s", numeric)
    return frame.select(
        *[_as_double(c).alias(c) if c in numeric else F.col(f"`{c}`") for c in frame.columns]
    )


def _as_double(column: str):
    """The string column as double, null where it is not a number. Spark's cast reads
    ``[+-]inf``, ``[+-]infinity`` and ``nan`` in any case; ``+nan``/``-nan`` (C's printf)
    are NaN too."""
    text = F.col(f"`{column}`")
    signed_nan = F.lower(F.trim(text)).isin("+nan", "-nan")
    return F.when(signed_nan, F.lit(float("nan"))).otherwise(text.try_cast("double"))
