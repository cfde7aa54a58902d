"""The driver side of vector input (sparklr.spark.vector_input): names, sizes, block types."""

import pytest
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.linalg import Vectors
from sparklr.errors import DataError
from sparklr.spark.csr import CsrBlock
from sparklr.spark.vector_input import (
    DENSE_MAX_FEATURES,
    SPARSE_DENSITY,
    choose_block_type,
    metadata_size_and_names,
    vector_size,
)
from sparklr.spark.vectors import DenseVectorBlock


def test_names_come_from_the_assembler_metadata(spark):
    frame = spark.createDataFrame([(1.0, 2.0, 0.0)], ["age", "income", "label"])
    assembled = VectorAssembler(inputCols=["age", "income"], outputCol="v").transform(frame)
    assert metadata_size_and_names(assembled, "v") == (2, ["age", "income"])
    assert vector_size(assembled, "v")[:2] == (2, ["age", "income"])


def test_without_metadata_one_scan_finds_the_size_and_default_names(spark):
    rows = [(0.0, Vectors.sparse(3, [1], [1.0])), (1.0, Vectors.dense([1.0, 0.0, 2.0]))]
    frame = spark.createDataFrame(rows, ["label", "v"])
    assert metadata_size_and_names(frame, "v") == (None, None)
    size, names, scan = vector_size(frame, "v")
    assert (size, names) == (3, ["v[0]", "v[1]", "v[2]"])
    assert (scan.rows, scan.stored) == (2, 4)
    assert scan.density(3) == pytest.approx(4 / 6)
    with pytest.raises(DataError, match="features column 'w' not found"):
        vector_size(frame, "w")


def test_the_block_type_rule():
    sparse = SPARSE_DENSITY / 2
    assert choose_block_type("auto", 100, sparse) == CsrBlock(100)
    assert choose_block_type("auto", 100, 1.0) == DenseVectorBlock()
    assert choose_block_type("auto", DENSE_MAX_FEATURES + 1, 1.0) == CsrBlock(
        DENSE_MAX_FEATURES + 1
    )
    assert choose_block_type("dense", 100, sparse, "float32") == DenseVectorBlock("float32")
    assert choose_block_type("sparse", 100, 1.0) == CsrBlock(100)
    with pytest.raises(DataError, match="unknown block type 'csr'"):
        choose_block_type("csr", 100, 1.0)


def test_the_executors_pyarrow_scan_of_parquet_equals_the_spark_scan(spark, tmp_path):
    from sparklr.spark.parquet import plan_parquet_blocks
    from sparklr.spark.vector_input import scan_planned_vectors, scan_vectors

    rows = [
        (float(i % 2), Vectors.sparse(5, [i % 5], [1.0]) if i % 3 else Vectors.dense([1.0] * 5))
        for i in range(40)
    ]
    rows.append((1.0, Vectors.sparse(4, [0], [2.0])))  # one row of another size
    path = str(tmp_path / "vectors")
    spark.createDataFrame(rows, ["label", "v"]).repartition(3).write.parquet(path)
    frame = spark.read.parquet(path)
    plan = plan_parquet_blocks(frame.inputFiles(), ["label", "v"], 2)
    assert scan_planned_vectors(spark, plan, "v") == scan_vectors(frame, "v")
    found = scan_planned_vectors(spark, plan, "v")
    assert (found.rows, found.min_size, found.max_size) == (41, 4, 5)
    with pytest.raises(DataError, match="cannot read features column 'w'"):
        scan_planned_vectors(spark, plan, "w")
