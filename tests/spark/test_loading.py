"""From a data description to the training and validation frames (sparklr.spark.loading)."""

from __future__ import annotations

import pytest
from sparklr.errors import DataError
from sparklr.spark.loading import split_validation


def test_validation_split_is_a_deterministic_partition_of_the_rows(spark):
    frame = spark.range(0, 2000, numPartitions=4).selectExpr("double(id) as id", "rand(1) as x")
    train, valid = split_validation(frame, 0.25, seed=11)
    ids_train = {r.id for r in train.select("id").collect()}
    ids_valid = {r.id for r in valid.select("id").collect()}
    assert not ids_train & ids_valid and len(ids_train | ids_valid) == 2000
    assert 400 < len(ids_valid) < 600
    again, _ = split_validation(frame, 0.25, seed=11)
    assert {r.id for r in again.select("id").collect()} == ids_train
    other, _ = split_validation(frame, 0.25, seed=12)
    assert {r.id for r in other.select("id").collect()} != ids_train
    with pytest.raises(DataError, match="fraction"):
        split_validation(frame, 1.0, seed=1)
