"""The levels of the categorical columns, found in ONE distributed pass, and the
:class:`~sparklr.encoding.Design` they make.

The pass (:func:`count_levels`): every row becomes one (column, value) entry per categorical
column (``explode`` of an array of structs; values as Spark's CAST(... AS STRING), which prints
booleans and integers as Arrow does), grouped by (column, value) with the number of rows and the
smallest row id (``monotonically_increasing_id``: input partition p, row r within it, as
p·2³³ + r). Partial aggregation on the executors: the driver receives one row per distinct
level, never a column.

The same rows decide the mostly-numeric check (:func:`check_not_numbers`): a string column
made categorical by default (``data.features = []``) whose non-null values parse as numbers
for at least :data:`NUMERIC_SHARE` of its rows is a number column that a few bad cells turned
into strings (CSV inference): a :class:`~sparklr.errors.DataError` naming the column and its
first non-numeric value and row, not a categorical with hundreds of levels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparklr.encoding import CategoricalRules, Design, choose_encoding
from sparklr.errors import DataError
from sparklr.spark.columns import ColumnRoles

log = logging.getLogger("sparklr.data")

#: A default-categorical string column whose non-null values are at least this share numbers
#: is an error (see the module docstring).
NUMERIC_SHARE = 0.9
_ROW_BITS = 33  # monotonically_increasing_id = partition << 33 | row within the partition


@dataclass
class LevelCounts:
    """One column's rows per non-null value, its null rows, and for the numeric check the
    rows whose value parses as a number and the first value that does not (with its row id)."""

    counts: dict[str, int] = field(default_factory=dict)
    nulls: int = 0
    numeric_rows: int = 0
    first_text: tuple[int, str] | None = None

    def add(self, value: str | None, rows: int, first_row: int, numeric: bool) -> None:
        if value is None:
            self.nulls += rows
            return
        self.counts[value] = rows
        if numeric:
            self.numeric_rows += rows
        elif self.first_text is None or first_row < self.first_text[0]:
            self.first_text = (first_row, value)


def count_levels(frame: DataFrame, columns: tuple[str, ...]) -> dict[str, LevelCounts]:
    """:class:`LevelCounts` of each of ``columns``: one Spark job (module docstring)."""
    entries = [
        F.struct(F.lit(c).alias("column"), F.col(f"`{c}`").cast("string").alias("value"))
        for c in columns
    ]
    exploded = frame.select(
        F.monotonically_increasing_id().alias("row"), F.explode(F.array(*entries)).alias("e")
    ).select("row", "e.column", "e.value")
    grouped = exploded.groupBy("column", "value").agg(
        F.count(F.lit(1)).alias("rows"), F.min("row").alias("first_row")
    )
    grouped = grouped.withColumn("numeric", F.col("value").try_cast("double").isNotNull())
    out = {c: LevelCounts() for c in columns}
    for row in grouped.collect():
        out[row["column"]].add(row["value"], row["rows"], row["first_row"], row["numeric"])
    return out


def describe_row(row_id: int) -> str:
    return f"input partition {row_id >> _ROW_BITS} row {row_id & ((1 << _ROW_BITS) - 1)}"


def check_not_numbers(column: str, levels: LevelCounts) -> None:
    """DataError when ``column`` is mostly numbers (module docstring)."""
    values = sum(levels.counts.values())
    if not values or levels.numeric_rows < NUMERIC_SHARE * values:
        return
    hint = (
        "fix the data (or read it with a schema), or list it in data.categorical if it "
        "really is a categorical column"
    )
    if levels.first_text is None:
        raise DataError(
            f"column {column!r} is a string column whose {values} non-null values all parse "
            f"as numbers; cast it to a number, or {hint}"
        )
    row, value = levels.first_text
    raise DataError(
        f"column {column!r} is a string column but {levels.numeric_rows} of its {values} "
        f"non-null values are numbers: {value!r} at {describe_row(row)} is not; {hint}"
    )


def discover_design(frame: DataFrame, roles: ColumnRoles, rules: CategoricalRules) -> Design:
    """The Design of ``roles.features``: the level pass (when there are categorical columns),
    the numeric check of ``roles.probe``, then each column's encoding by ``rules``."""
    categorical = roles.categorical
    if not categorical:
        return Design(roles.features)
    counts = count_levels(frame, categorical)
    for column in roles.probe:
        check_not_numbers(column, counts[column])
    encodings = {}
    for column in categorical:
        levels = counts[column]
        if levels.nulls and rules.nulls == "error":
            log.info(
                "%s: %d null row(s) are invalid (data.categorical_nulls)", column, levels.nulls
            )
        encoding = choose_encoding(column, roles.kinds[column], levels.counts, levels.nulls, rules)
        if encoding.pooled:
            log.warning(
                "%s: %d levels; the %d rarest (%d rows) pooled into <other> (data.max_levels = %d)",
                column,
                len(levels.counts),
                len(encoding.pooled),
                sum(levels.counts[v] for v in encoding.pooled),
                rules.max_levels,
            )
        log.info(
            "%s: %d level(s), reference %s",
            column,
            len(encoding.labels),
            "none (full one-hot)" if encoding.reference is None else repr(encoding.reference),
        )
        encodings[column] = encoding
    return Design(roles.features, encodings)
