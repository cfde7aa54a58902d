"""The categorical encoding without Spark: codes, indicators, rules, JSON round trip."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sparklr.encoding import (
    INVALID,
    UNSEEN,
    CategoricalEncoding,
    CategoricalRules,
    Design,
    choose_encoding,
)
from sparklr.errors import DataError

CITY = CategoricalEncoding("city", ("lyon", "nice", "paris"), reference="lyon", null_level=True)


def test_codes_map_levels_unseen_and_nulls():
    codes = CITY.codes(pa.array(["paris", "lyon", "rome", None, "nice"]))
    assert codes.tolist() == [2, 0, UNSEEN, 3, 1]
    assert CITY.labels == ("lyon", "nice", "paris", "<null>")


def test_indicators_drop_the_reference_and_zero_unseen():
    X = CITY.indicators(CITY.codes(pa.array(["paris", "lyon", "rome", None])))
    assert CITY.feature_names == ["city=nice", "city=paris", "city=<null>"]
    np.testing.assert_array_equal(X.T, [[0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1]])


def test_nulls_as_error_are_nan_rows_and_pooled_values_share_other():
    e = CategoricalEncoding("c", ("a", "b"), None, pooled=("x", "y"), nulls="error")
    codes = e.codes(pa.array(["y", None, "b", "x"]))
    assert codes.tolist() == [2, INVALID, 1, 2]
    X = e.indicators(codes).T
    assert e.feature_names == ["c=a", "c=b", "c=<other>"]
    np.testing.assert_array_equal(X[[0, 2, 3]], [[0, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert np.isnan(X[1]).all()


def test_booleans_and_integer_codes_become_their_text():
    flags = CategoricalEncoding("f", ("false", "true"), "false")
    assert flags.codes(pa.array([True, False, None])).tolist() == [1, 0, UNSEEN]
    ints = CategoricalEncoding("k", ("2", "10"), "2")
    assert ints.codes(pa.array([10, 2, 7], type=pa.int64())).tolist() == [1, 0, UNSEEN]


def test_choose_encoding_pools_the_rarest_and_takes_the_first_level_as_reference():
    counts = {"d": 5, "a": 1, "c": 9, "b": 1, "e": 2}
    rules = CategoricalRules(max_levels=4)
    e = choose_encoding("x", "string", counts, nulls=3, rules=rules)
    # null is a level; room for 3 more: 2 kept by frequency (c, d) + <other>.
    assert e.levels == ("c", "d") and e.pooled == ("a", "b", "e") and e.null_level
    assert e.reference == "c"
    ints = choose_encoding("k", "integer", {"10": 1, "9": 1, "2": 1}, 0, CategoricalRules())
    assert ints.levels == ("2", "9", "10") and ints.reference == "2"


def test_coding_rules_full_with_a_penalty_and_explicit_reference():
    counts = {"a": 3, "b": 2}
    penalized = CategoricalRules(penalized=True)
    assert choose_encoding("x", "string", counts, 0, penalized).reference is None
    chosen = CategoricalRules(penalized=True, references={"x": "b"})
    assert choose_encoding("x", "string", counts, 0, chosen).reference == "b"
    with pytest.raises(DataError, match="'z' is not a level of 'x'"):
        choose_encoding("x", "string", counts, 0, CategoricalRules(references={"x": "z"}))


def test_design_encodes_a_batch_and_round_trips_through_json():
    design = Design(("age", "city"), {"city": CITY})
    batch = pa.RecordBatch.from_pydict(
        {"y": [1, 0], "age": [30, None], "city": ["nice", "oslo"], "w": [2.0, 1.0]}
    )
    encoded = design.encode(batch, "y", "w")
    assert encoded.schema.names == ["y", "age", "city=nice", "city=paris", "city=<null>", "w"]
    X = encoded.to_pandas().to_numpy()
    np.testing.assert_array_equal(X[0], [1, 30, 1, 0, 0, 2])
    assert np.isnan(X[1, 1]) and X[1, 2:5].tolist() == [0, 0, 0]
    again = Design.from_json(design.to_json())
    assert again == design
    np.testing.assert_array_equal(again.matrix(batch), design.matrix(batch))
