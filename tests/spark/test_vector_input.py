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


def _footer_scan(files, column="v"):
    from sparklr.spark.parquet import plan_parquet_blocks
    from sparklr.spark.vector_input import FooterScan

    footers = FooterScan(column)
    plan = plan_parquet_blocks(files, ["label", column], 2, on_footer=footers)
    return footers.result(), plan


def test_the_footer_scan_of_sparse_vectors_is_the_data_scan(spark, tmp_path):
    """Sizes and rows exactly as the executors' scan; stored within [stored, stored + rows]
    (empty vectors count a level each), so the density is within 1/n_x — without reading data."""
    from sparklr.spark.vector_input import scan_planned_vectors

    rows = [(float(i % 2), Vectors.sparse(7, [j for j in range(i % 4)], [1.0] * (i % 4)))
            for i in range(60)]  # fmt: skip
    rows.append((1.0, Vectors.sparse(6, [0, 5], [2.0, 3.0])))  # one row of another size
    path = str(tmp_path / "sparse")
    spark.createDataFrame(rows, ["label", "v"]).repartition(3).write.parquet(path)
    files = spark.read.parquet(path).inputFiles()
    footer, plan = _footer_scan(files)
    data = scan_planned_vectors(spark, plan, "v")
    assert (footer.rows, footer.min_size, footer.max_size) == (data.rows, 6, 7) == (61, 6, 7)
    empty = sum(1 for i in range(60) if i % 4 == 0)
    assert data.stored <= footer.stored <= data.stored + data.rows
    assert footer.stored == data.stored + empty
    with pytest.raises(DataError, match="vectors of sizes 6 to 7"):
        vector_size(spark.read.parquet(path), "v", footer)


@pytest.mark.parametrize("kind", ["dense rows", "null vectors", "no statistics"])
def test_the_footer_scan_defers_to_the_data_when_the_footers_cannot_say(spark, tmp_path, kind):
    import pyarrow.parquet as pq
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import types as T

    path = tmp_path / kind.replace(" ", "_")
    if kind == "dense rows":  # a dense row's size is its values' length: not in the statistics
        rows = [(0.0, Vectors.sparse(3, [1], [1.0])), (1.0, Vectors.dense([1.0, 0.0, 2.0]))]
        spark.createDataFrame(rows, ["label", "v"]).coalesce(1).write.parquet(str(path))
    elif kind == "null vectors":
        rows = [(0.0, Vectors.sparse(3, [1], [1.0])), (1.0, None)]
        schema = T.StructType(
            [T.StructField("label", T.DoubleType()), T.StructField("v", VectorUDT())]
        )
        spark.createDataFrame(rows, schema).coalesce(1).write.parquet(str(path))
    else:
        source = tmp_path / "source"
        rows = [(0.0, Vectors.sparse(3, [1], [1.0]))] * 3
        spark.createDataFrame(rows, ["label", "v"]).coalesce(1).write.parquet(str(source))
        path.mkdir()
        table = pq.read_table(next(source.glob("*.parquet")))
        pq.write_table(table, path / "part-0.parquet", write_statistics=False)
    files = spark.read.parquet(str(path)).inputFiles()
    footer, plan = _footer_scan(files)
    assert footer is None and plan is not None
