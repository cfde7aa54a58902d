"""Categorical columns → level codes → indicator columns (NumPy and Arrow only; no Spark).

A :class:`CategoricalEncoding` says what one categorical column becomes: its ``levels`` (the
distinct values kept, in sorted order: strings lexicographically, integer codes numerically,
booleans false < true; all stored as the strings Arrow's and Spark's casts print), the
``pooled`` values (rarer levels merged into the one level ``<other>`` when the column has more
than ``data.max_levels``), whether nulls are a level (``<null>``) or invalid, and the
``reference`` level (coded all-zero, no indicator) or none (full one-hot).

Codes (:meth:`CategoricalEncoding.codes`): 0 … len(levels)−1 for the levels, then ``<other>``,
then ``<null>``; :data:`UNSEEN` (−1) for a value not seen in training (and a null when nulls
were not seen), :data:`INVALID` (−2) for a null when nulls are an error. Indicators
(:meth:`CategoricalEncoding.indicators`): one column per code except the reference,
x_j = 1(code = c_j); an unseen value has all indicators 0, i.e. it scores as the reference
(in full one-hot: as no level at all); an invalid row has NaN, which the block build rejects
(or drops, with ``data.drop_invalid``) and predict scores as null, as for a null number.

A :class:`Design` is the whole feature part of a row: the input feature columns in order,
numeric ones as one feature each, categorical ones as their indicators; its feature names read
``age``, ``city=paris``, ``city=<other>``. The dense blocks take :meth:`Design.encode`'s
batches; a sparse block type can take :meth:`CategoricalEncoding.codes` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sparklr.errors import DataError

OTHER = "<other>"
NULL = "<null>"
UNSEEN = -1
INVALID = -2
#: data.categorical_nulls: a level of their own, or invalid (an error in training).
NULL_RULES = ("level", "error")
#: data.categorical_coding: "auto" = "reference" without a penalty, "full" with one.
CODINGS = ("auto", "reference", "full")


def as_strings(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The values as Arrow strings: strings as they are, booleans "true"/"false", integers
    in decimal (the same text as Spark's CAST(... AS STRING)); nulls stay null."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_string(array.type):
        return array
    if pa.types.is_large_string(array.type):
        return pc.cast(array, pa.string())
    if pa.types.is_boolean(array.type) or pa.types.is_integer(array.type):
        return pc.cast(array, pa.string())
    raise DataError(f"a categorical column must be string, boolean or integer, not {array.type}")


def level_order(values: Sequence[str], kind: str) -> list[str]:
    """``values`` in the levels' order: integer codes numerically, others as text (false <
    true for booleans)."""
    if kind == "integer":
        return sorted(values, key=int)
    return sorted(values)


@dataclass(frozen=True)
class CategoricalEncoding:
    """What one categorical column becomes; see the module docstring."""

    column: str
    levels: tuple[str, ...]
    reference: str | None = None
    pooled: tuple[str, ...] = ()
    #: Nulls were seen in training with data.categorical_nulls = "level": they have a level.
    null_level: bool = False
    nulls: str = "level"

    def __post_init__(self):
        if self.reference is not None and self.reference not in self.levels:
            raise DataError(f"reference {self.reference!r} is not a level of {self.column!r}")

    @property
    def labels(self) -> tuple[str, ...]:
        """The level of each code: levels, then <other>, then <null>."""
        return (
            *self.levels,
            *([OTHER] if self.pooled else []),
            *([NULL] if self.null_level else []),
        )

    @property
    def indicator_codes(self) -> tuple[int, ...]:
        """The codes that have an indicator column: all but the reference's."""
        ref = -1 if self.reference is None else self.levels.index(self.reference)
        return tuple(c for c in range(len(self.labels)) if c != ref)

    @property
    def feature_names(self) -> list[str]:
        return [f"{self.column}={self.labels[c]}" for c in self.indicator_codes]

    def codes(self, array: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """int32 level code per row (module docstring), by one ``index_in`` over the values."""
        strings = as_strings(array)
        known = pa.array([*self.levels, *self.pooled], type=pa.string())
        index = pc.index_in(strings, value_set=known)
        found = index.is_valid().to_numpy(zero_copy_only=False)
        position = index.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        lookup = np.concatenate(
            [np.arange(len(self.levels)), np.full(len(self.pooled), len(self.levels))]
        ).astype(np.int32)
        codes = np.where(found, lookup[position] if len(lookup) else 0, UNSEEN).astype(np.int32)
        null = strings.is_null().to_numpy(zero_copy_only=False)
        if self.nulls == "error":
            codes[null] = INVALID
        elif self.null_level:
            codes[null] = len(self.labels) - 1
        return codes

    def indicators(self, codes: np.ndarray) -> np.ndarray:
        """(k × m) float64 indicators of ``codes`` (one row per indicator column, so each is
        contiguous); all zero for UNSEEN, NaN for INVALID."""
        columns = np.full(len(self.labels) + 1, -1, dtype=np.int64)  # code → row; last: UNSEEN
        for row, code in enumerate(self.indicator_codes):
            columns[code] = row
        out = np.zeros((len(self.indicator_codes), len(codes)), dtype=np.float64)
        hit = columns[np.where(codes >= 0, codes, len(self.labels))]
        rows = np.flatnonzero(hit >= 0)
        out[hit[rows], rows] = 1.0
        out[:, codes == INVALID] = np.nan
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "levels": list(self.levels),
            "reference": self.reference,
            "pooled": list(self.pooled),
            "null_level": self.null_level,
            "nulls": self.nulls,
        }

    @classmethod
    def from_json(cls, column: str, data: Mapping[str, Any]) -> CategoricalEncoding:
        return cls(
            column=column,
            levels=tuple(str(v) for v in data["levels"]),
            reference=None if data.get("reference") is None else str(data["reference"]),
            pooled=tuple(str(v) for v in data.get("pooled", ())),
            null_level=bool(data.get("null_level", False)),
            nulls=str(data.get("nulls", "level")),
        )


@dataclass(frozen=True)
class Design:
    """The input feature columns in order and the encodings of the categorical ones."""

    columns: tuple[str, ...]
    categorical: Mapping[str, CategoricalEncoding] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for column in self.columns:
            encoding = self.categorical.get(column)
            names += [column] if encoding is None else encoding.feature_names
        return names

    def feature_columns(self, batch: pa.RecordBatch) -> list[np.ndarray]:
        """The feature vectors of ``batch`` (which has the input columns by name), float64, in
        feature_names order; numeric nulls become NaN."""
        out: list[np.ndarray] = []
        for column in self.columns:
            values = batch.column(column)
            encoding = self.categorical.get(column)
            if encoding is None:
                floats = pc.cast(values, pa.float64()).fill_null(np.nan)
                out.append(floats.to_numpy(zero_copy_only=False))
            else:
                out.extend(encoding.indicators(encoding.codes(values)))
        return out

    def matrix(self, batch: pa.RecordBatch) -> np.ndarray:
        """X (m × n_x, float64) of ``batch``."""
        columns = self.feature_columns(batch)
        if not columns:
            return np.empty((batch.num_rows, 0))
        return np.column_stack(columns)

    def encode(self, batch: pa.RecordBatch, label: str, weight: str = "") -> pa.RecordBatch:
        """[label, *feature_names, (weight)] as float64 columns: the batch the block build
        takes (label and weight cast; nulls → NaN for the build's checks)."""
        names = [label, *self.feature_names, *([weight] if weight else [])]

        def floats(name: str) -> pa.Array:
            return pc.cast(batch.column(name), pa.float64()).fill_null(np.nan)

        arrays = [
            floats(label),
            *(pa.array(v) for v in self.feature_columns(batch)),
            *([floats(weight)] if weight else []),
        ]
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "categorical": {c: e.to_json() for c, e in self.categorical.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Design:
        categorical = {
            str(c): CategoricalEncoding.from_json(str(c), e)
            for c, e in data.get("categorical", {}).items()
        }
        return cls(tuple(str(c) for c in data["columns"]), categorical)

    @classmethod
    def numeric(cls, names: Sequence[str]) -> Design:
        return cls(tuple(names))


@dataclass(frozen=True)
class CategoricalRules:
    """How levels become an encoding (the data.categorical_* keys, as plain values)."""

    nulls: str = "level"
    max_levels: int = 1000
    #: "auto", "reference" or "full" (see :func:`choose_encoding`).
    coding: str = "auto"
    #: column → the level to use as its reference (it then has reference coding).
    references: Mapping[str, str] = field(default_factory=dict)
    #: A penalty is on (train.reg_param > 0): "auto" coding is then full one-hot.
    penalized: bool = False


def choose_encoding(
    column: str, kind: str, counts: Mapping[str, int], nulls: int, rules: CategoricalRules
) -> CategoricalEncoding:
    """The encoding of ``column`` from its level ``counts`` (non-null value → rows) and its
    number of null rows.

    Levels: when there are more than ``max_levels`` (``<null>`` included), the
    ``max_levels − 1`` most frequent stay (ties: the first in level order), the others are
    pooled into ``<other>``. Reference (coding "reference", or "auto" without a penalty, or a
    level named in ``references``): the first level in sorted order, as R's and
    statsmodels' treatment coding; with a penalty ("auto") or "full", every level has an
    indicator (the penalty makes the optimum unique, and it does not depend on which level
    would have been dropped).
    """
    null_level = rules.nulls == "level" and nulls > 0
    ordered = level_order(list(counts), kind)
    room = rules.max_levels - int(null_level)
    pooled: list[str] = []
    if len(ordered) > room:
        rank = sorted(ordered, key=lambda v: -counts[v])  # stable: ties stay in level order
        kept = set(rank[: room - 1])
        pooled = [v for v in ordered if v not in kept]
        ordered = [v for v in ordered if v in kept]
    reference = rules.references.get(column)
    if reference is not None and reference not in ordered:
        raise DataError(
            f"data.categorical_reference: {reference!r} is not a level of {column!r} "
            f"(levels: {', '.join(ordered[:10])}{' …' if len(ordered) > 10 else ''})"
        )
    coding = rules.coding
    if coding == "auto":
        coding = "full" if rules.penalized else "reference"
    if reference is None and coding == "reference" and ordered:
        reference = ordered[0]
    return CategoricalEncoding(
        column, tuple(ordered), reference, tuple(pooled), null_level, rules.nulls
    )
