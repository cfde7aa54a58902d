"""The level pass on Spark: counts, pooling by data.max_levels, the mostly-numeric check, and
the roles of the columns."""

from __future__ import annotations

import datetime

import pytest
from sparklr.encoding import CategoricalRules
from sparklr.errors import DataError
from sparklr.spark.columns import resolve_roles
from sparklr.spark.levels import count_levels, discover_design


@pytest.fixture(scope="module")
def frame(spark):
    rows = [
        (
            i % 2,
            float(i),
            ["a", "b", "c", "d"][min(i % 10, 3)],
            str(i) if i != 7 else "x7",
            i,
            datetime.date(2026, 1, 1),
            i % 3 == 0,
        )
        for i in range(40)
    ]
    columns = ["label", "num", "city", "code", "user_id", "day", "flag"]
    return spark.createDataFrame(rows, columns).repartition(3)


def test_roles_account_for_every_column(frame):
    roles = resolve_roles(frame.schema, "label", [])
    assert roles.roles == {
        "label": "label",
        "num": "numeric",
        "city": "categorical",
        "code": "categorical",
        "user_id": "ignored: identifier",
        "day": "ignored: unsupported type date",
        "flag": "categorical",
    }
    assert roles.probe == ("city", "code")


def test_counts_per_level_in_one_pass(frame):
    counts = count_levels(frame, ("city", "flag"))
    assert counts["city"].counts == {"a": 4, "b": 4, "c": 4, "d": 28}
    assert counts["flag"].counts == {"true": 14, "false": 26}


def test_a_mostly_numeric_string_column_is_an_error_naming_its_value(frame):
    roles = resolve_roles(frame.schema, "label", [])
    with pytest.raises(DataError, match=r"column 'code'.* 39 of its 40 .*'x7' at input partition"):
        discover_design(frame, roles, CategoricalRules())


def test_listing_it_as_categorical_and_max_levels_pool_the_rarest(frame):
    roles = resolve_roles(frame.schema, "label", ["num", "code", "city"], ["code", "city"])
    design = discover_design(frame, roles, CategoricalRules(max_levels=3))
    city = design.categorical["city"]
    assert city.levels == ("a", "d") and city.pooled == ("b", "c")  # ties: first in order
    assert design.categorical["code"].levels == ("0", "1")  # strings sort as text
    assert design.feature_names[:4] == ["num", "code=1", "code=<other>", "city=d"]
