"""The checks of the data.* keys (part of :mod:`sparklr.config`, the one place that validates
config): where the rows come from (:func:`check_source`, also used by predict's flags), the
validation data, the categorical keys and the vector-column keys. :func:`require` is the
checks' one way to raise a :class:`~sparklr.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING

from sparklr.encoding import CODINGS, NULL_RULES
from sparklr.errors import ConfigError

if TYPE_CHECKING:
    from sparklr.config import DataSection


def require(ok: bool, key: str, message: str) -> None:
    """Raise ``config key KEY MESSAGE`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"config key {key} {message}")


#: data.format values besides a data source class name (which has a "."): Spark's sources,
#: those of common packages (avro, delta), a catalog table, generated data.
FORMATS = ("parquet", "csv", "libsvm", "orc", "json", "avro", "delta", "table", "synthetic")


def config_key(name: str) -> str:
    return f"config key data.{name}"


def check_source(
    fmt: str,
    path: str,
    table: str,
    options: dict[str, str],
    row_filter: str,
    key: typing.Callable[[str], str],
) -> None:
    """One data description (data.* of the config, or predict's flags: ``key`` names them):
    a known format (or a class name), a path for a file source, a table for "table"."""
    if fmt not in FORMATS and "." not in fmt:
        raise ConfigError(
            f"{key('format')} must be one of {', '.join(FORMATS)} (or a Spark data source "
            f"class name); got {fmt!r}"
        )
    if fmt == "table":
        if not table:
            raise ConfigError(f'{key("table")} must name the table when format = "table"')
        if path:
            raise ConfigError(f'{key("path")} is not read when format = "table"; unset it')
    elif table:
        raise ConfigError(f'{key("table")} is read only when format = "table", not {fmt!r}')
    elif fmt == "synthetic":
        if options or row_filter:
            which = key("options" if options else "filter")
            raise ConfigError(f'{which} does not apply to format = "synthetic"')
    elif not path:
        raise ConfigError(f'{key("path")} must be set (or use format = "synthetic")')
    if any(not k.strip() for k in options):
        raise ConfigError(f"{key('options')} has an empty option name")
    if row_filter and not row_filter.strip():
        raise ConfigError(f"{key('filter')} is blank; remove it to read every row")


def validate_validation_data(d: DataSection) -> None:
    """data.validation_*: a path (file formats), a table (format "table") or a fraction, at
    most one; validation_filter alone selects validation rows of the training path/table."""
    require(
        0.0 <= d.validation_fraction < 1.0,
        "data.validation_fraction",
        f"must be in [0, 1), got {d.validation_fraction}",
    )
    given = [k for k in ("path", "table", "fraction") if getattr(d, f"validation_{k}")]
    if len(given) > 1:
        require(
            False,
            f"data.validation_{given[0]}",
            f"and data.validation_{given[1]} cannot both be set",
        )
    require(
        not (d.validation_filter and d.validation_fraction),
        "data.validation_filter",
        "selects the validation rows itself: unset data.validation_fraction",
    )
    require(
        not (d.validation_filter and not d.validation_filter.strip()),
        "data.validation_filter",
        "is blank; remove it",
    )
    if d.validation_path or d.validation_filter:
        require(
            d.format != "synthetic",
            f"data.{'validation_path' if d.validation_path else 'validation_filter'}",
            'needs a file format or a table (use data.validation_fraction with "synthetic")',
        )
    require(
        not (d.validation_path and d.format == "table"),
        "data.validation_path",
        'is for files; with data.format = "table" use data.validation_table',
    )
    require(
        not (d.validation_table and d.format != "table"),
        "data.validation_table",
        'needs data.format = "table" (use data.validation_path for files)',
    )


def validate_categorical(d: DataSection) -> None:
    require(
        d.categorical_nulls in NULL_RULES,
        "data.categorical_nulls",
        f"must be one of {', '.join(NULL_RULES)}; got {d.categorical_nulls!r}",
    )
    require(
        d.categorical_coding in CODINGS,
        "data.categorical_coding",
        f"must be one of {', '.join(CODINGS)}; got {d.categorical_coding!r}",
    )
    require(d.max_levels >= 2, "data.max_levels", f"must be ≥ 2, got {d.max_levels}")
    dupes = sorted({c for c in d.categorical if d.categorical.count(c) > 1})
    require(not dupes, "data.categorical", f"lists {', '.join(dupes)} more than once")
    require(
        d.label not in d.categorical, "data.categorical", f"contains the label column {d.label!r}"
    )
    require(
        not (d.weight and d.weight in d.categorical),
        "data.categorical",
        f"contains the weight column {d.weight!r}",
    )
    unknown = sorted(set(d.categorical_reference) - set(d.categorical))
    require(
        not unknown or not d.categorical,
        "data.categorical_reference",
        f"names column(s) not in data.categorical: {', '.join(unknown)}",
    )


def validate_vector_input(d: DataSection) -> None:
    """data.features_col / block_type / num_features and format libsvm."""
    require(
        not (d.features_col and d.features),
        "data.features_col",
        "and data.features cannot both be set (one vector column, or plain columns)",
    )
    require(
        not ((d.features_col or d.format == "libsvm") and d.categorical),
        "data.categorical",
        "cannot be used with a vector column (data.features_col or libsvm): encode the "
        "categorical columns as plain columns instead",
    )
    require(
        d.block_type in ("auto", "dense", "sparse"),
        "data.block_type",
        f"must be auto, dense or sparse, got {d.block_type!r}",
    )
    require(d.num_features >= 0, "data.num_features", f"must be ≥ 0, got {d.num_features}")
    require(
        d.format == "libsvm" or not d.num_features,
        "data.num_features",
        'is for data.format = "libsvm" (a vector column has its size)',
    )
    require(
        d.format != "synthetic" or not d.features_col,
        "data.features_col",
        'cannot be used with data.format = "synthetic"',
    )
    if d.format == "libsvm":
        require(not d.features, "data.features", 'cannot be used with data.format = "libsvm"')
        require(
            d.features_col in ("", "features"),
            "data.features_col",
            'must be "features" (or empty) with data.format = "libsvm"',
        )
        require(d.label == "label", "data.label", 'must be "label" with data.format = "libsvm"')
    if d.features_col:
        require(
            d.features_col != d.label,
            "data.features_col",
            f"is the label column {d.label!r}",
        )
        require(
            d.features_col != d.weight,
            "data.features_col",
            f"is the weight column {d.weight!r}",
        )
