"""What each input column becomes: label, weight, numeric feature, categorical feature, or
ignored with a reason (from the schema alone; no data are read).

Explicit ``data.features``: the listed columns in order, then the ``data.categorical`` ones
not listed; a listed column that is neither numeric nor categorical is an error naming it.
Every other column is "ignored: not in data.features".

Empty ``data.features`` (every usable column), column by column in the input's order:

* named in ``data.categorical`` → categorical;
* named ``id`` or ending in ``_id`` (any case) → "ignored: identifier" (a row key carries no
  signal and as a categorical would be one level per row);
* numeric (integer, floating, decimal) → numeric;
* boolean, or string → categorical (strings are first checked not to be mostly numbers:
  :mod:`sparklr.spark.levels`);
* any other type (date, timestamp, binary, array, map, struct, vector) → "ignored:
  unsupported type …", logged like every role.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pyspark.sql import types as T

from sparklr.errors import DataError

log = logging.getLogger("sparklr.data")

NUMERIC = "numeric"
CATEGORICAL = "categorical"


def categorical_kind(dtype: T.DataType) -> str | None:
    """ "string", "boolean" or "integer" for a type a categorical column may have, else None."""
    if isinstance(dtype, T.StringType | T.VarcharType | T.CharType):
        return "string"
    if isinstance(dtype, T.BooleanType):
        return "boolean"
    if isinstance(dtype, T.ByteType | T.ShortType | T.IntegerType | T.LongType):
        return "integer"
    return None


def _numeric(dtype: T.DataType) -> bool:
    return isinstance(dtype, T.NumericType | T.BooleanType)


def is_identifier(name: str) -> bool:
    lower = name.lower()
    return lower == "id" or lower.endswith("_id")


@dataclass(frozen=True)
class ColumnRoles:
    """Every input column's role (in input order), and the feature columns in model order."""

    roles: dict[str, str]
    features: tuple[str, ...]
    #: categorical column → "string", "boolean" or "integer".
    kinds: dict[str, str] = field(default_factory=dict)
    #: String columns made categorical by default: checked not to be mostly numbers.
    probe: tuple[str, ...] = ()

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(c for c in self.features if c in self.kinds)

    def log(self) -> None:
        """One log line per role: the columns that have it."""
        by_role: dict[str, list[str]] = {}
        for column, role in self.roles.items():
            by_role.setdefault(role, []).append(column)
        for role, columns in by_role.items():
            log.info("columns %s: %s", role, ", ".join(columns))


def resolve_roles(
    schema: T.StructType,
    label: str,
    features: list[str],
    categorical: list[str] = (),
    weight: str = "",
) -> ColumnRoles:
    """The :class:`ColumnRoles` of ``schema`` (module docstring); DataError naming the column
    when the label, weight or a named feature is missing or of the wrong type."""
    fields = {f.name: f.dataType for f in schema.fields}
    if len(fields) != len(schema.fields):
        dupes = sorted({f.name for f in schema.fields if list(schema.names).count(f.name) > 1})
        raise DataError(f"input has duplicate column names: {', '.join(dupes)}")
    _check_special(fields, label, "label", "it must be 0/1 as int, float or boolean")
    if weight:
        _check_special(fields, weight, "weight", "it must be numeric")
    missing = [c for c in [*features, *categorical] if c not in fields]
    if missing:
        raise DataError(
            f"feature column(s) not found: {', '.join(missing)}; columns are: {', '.join(fields)}"
        )
    for special, what in ((label, "label"), (weight, "weight")):
        if special and special in [*features, *categorical]:
            raise DataError(f"{what} column {special!r} is also listed as a feature")
    kinds = {}
    for column in categorical:
        kind = categorical_kind(fields[column])
        if kind is None:
            raise DataError(
                f"categorical column {column!r} has type {fields[column].simpleString()}; "
                "it must be string, boolean or integer codes"
            )
        kinds[column] = kind
    roles = {label: "label", **({weight: "weight"} if weight else {})}
    if features:
        return _explicit(fields, roles, list(features), kinds)
    return _default(fields, roles, kinds)


def _check_special(fields: dict, name: str, what: str, rule: str) -> None:
    if name not in fields:
        raise DataError(f"{what} column {name!r} not found; columns are: {', '.join(fields)}")
    if not _numeric(fields[name]):
        raise DataError(f"{what} column {name!r} has type {fields[name].simpleString()}; {rule}")


def _explicit(fields: dict, roles: dict, features: list[str], kinds: dict) -> ColumnRoles:
    bad = [
        f"{c} ({fields[c].simpleString()})"
        for c in features
        if c not in kinds and not _numeric(fields[c])
    ]
    if bad:
        raise DataError(
            f"feature column(s) not numeric: {', '.join(bad)}; "
            "list string, boolean or integer-code columns in data.categorical to encode them"
        )
    ordered = features + [c for c in kinds if c not in features]
    for column in fields:
        if column not in roles:
            roles[column] = (
                (CATEGORICAL if column in kinds else NUMERIC)
                if column in ordered
                else "ignored: not in data.features"
            )
    return ColumnRoles(_in_order(fields, roles), tuple(ordered), kinds)


def _default(fields: dict, roles: dict, kinds: dict) -> ColumnRoles:
    features, probe = [], []
    for column, dtype in fields.items():
        if column in roles:
            continue
        kind = categorical_kind(dtype)
        if column in kinds:
            role = CATEGORICAL
        elif is_identifier(column):
            role = "ignored: identifier"
        elif isinstance(dtype, T.NumericType):
            role = NUMERIC
        elif kind in ("string", "boolean"):
            role = CATEGORICAL
            kinds[column] = kind
            if kind == "string":
                probe.append(column)
        else:
            role = f"ignored: unsupported type {dtype.simpleString()}"
        roles[column] = role
        if role in (NUMERIC, CATEGORICAL):
            features.append(column)
    if not features:
        raise DataError("no usable feature columns besides the label")
    return ColumnRoles(_in_order(fields, roles), tuple(features), kinds, tuple(probe))


def _in_order(fields: dict, roles: dict) -> dict[str, str]:
    return {column: roles[column] for column in fields}
