"""The data description of a training config (data.*) as the Sources sparklr.spark reads."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sparklr.config import DataSection

if TYPE_CHECKING:
    from sparklr.spark.sources import Source


def training_source(d: DataSection) -> Source:
    """data.format/path/table/options/filter."""
    from sparklr.spark.sources import Source

    return Source(d.format, d.path, d.table, d.options, d.filter)


def validation_source(d: DataSection) -> Source | None:
    """data.validation_path or data.validation_table (else the training path/table) with the
    training format and options, filtered by data.validation_filter; None without either."""
    if not (d.validation_path or d.validation_table or d.validation_filter):
        return None
    train = training_source(d)
    return dataclasses.replace(
        train,
        path=d.validation_path or train.path,
        table=d.validation_table or train.table,
        filter=d.validation_filter,
        filter_key="data.validation_filter",
    )


def describe_sources(d: DataSection) -> dict[str, object]:
    """What model.json records of where the rows came from (``data``; the validation data
    under ``validation`` when there is one)."""
    if d.format == "synthetic":
        return {"format": "synthetic"}
    described = training_source(d).describe()
    validation = validation_source(d)
    if validation is not None:
        described["validation"] = validation.describe()
    return described
