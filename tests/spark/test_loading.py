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


@pytest.mark.parametrize("reader", ["pyarrow", "spark"])
def test_default_partitioning_is_one_block_per_core(spark, tmp_path, reader):
    """data.partitions = 0: as many blocks as Spark's default parallelism (local[2] → 2), from
    files Spark reads as more partitions than that; an explicit count wins."""
    path = str(tmp_path / "six.parquet")
    frame = spark.range(0, 600, numPartitions=6).selectExpr("double(id) as x", "id % 2 as label")
    frame.write.parquet(path)
    spark.conf.set("spark.sql.files.openCostInBytes", "1")  # no merging of the small files
    spark.conf.set("spark.sql.files.maxPartitionBytes", "1024")
    try:
        assert spark.read.parquet(path).rdd.getNumPartitions() > 2
        _check_blocks(spark, path, reader)
    finally:
        spark.conf.unset("spark.sql.files.openCostInBytes")
        spark.conf.unset("spark.sql.files.maxPartitionBytes")


def _check_blocks(spark, path, reader):
    from sparklr.spark.loading import default_block_count, load_frames

    assert default_block_count(spark) == spark.sparkContext.defaultParallelism == 2

    def blocks(partitions):
        frames = load_frames(
            spark,
            fmt="parquet",
            path=path,
            label="label",
            features=[],
            partitions=partitions,
            reader=reader,
        )
        if reader == "pyarrow":
            return frames.parquet.partitions
        assert frames.parquet is None
        return frames.train.rdd.getNumPartitions()

    assert blocks(0) == 2
    assert blocks(5) == 5


def test_default_partitioning_keeps_fewer_partitions_without_a_shuffle(spark):
    from sparklr.spark.loading import to_blocks

    one = spark.range(0, 10, numPartitions=1)
    assert to_blocks(one, 0, 2).rdd.getNumPartitions() == 1
    assert to_blocks(one, 3, 2).rdd.getNumPartitions() == 3


def test_design_frame_casts_the_numeric_columns_and_keeps_the_categorical_raw_by_any_name(spark):
    """Names with a dot, a space and a backtick select the right columns; the weight too."""
    from sparklr.encoding import Design
    from sparklr.spark.loading import design_frame

    raw = spark.createDataFrame([(1, 2, "u", 3, 0.5, 9)], ["y", "a.b", "c d", "e`f", "w", "unused"])
    design = Design(("a.b", "c d", "e`f"), {"c d": None})
    frame = design_frame(raw, "y", design, weight="w")
    assert frame.columns == ["y", "a.b", "c d", "e`f", "w"]
    types = dict(frame.dtypes)
    assert types == {
        "y": "double",
        "a.b": "double",
        "c d": "string",
        "e`f": "double",
        "w": "double",
    }
    assert tuple(frame.first()) == (1.0, 2.0, "u", 3.0, 0.5)
    with pytest.raises(DataError, match="column"):
        design_frame(raw, "y", Design(("a.b", "zz")))
