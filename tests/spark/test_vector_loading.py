"""Loading a vector column (sparklr.spark.vector_loading): local Parquet that Spark wrote is
listed, sized and typed without Spark SQL, with the same outcome as through Spark's reader."""

import pytest
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.linalg import Vectors
from sparklr.errors import DataError
from sparklr.spark import vector_loading
from sparklr.spark.csr import CsrBlock
from sparklr.spark.loading import load_frames
from sparklr.spark.parquet import list_local_parquet
from sparklr.spark.vectors import DenseVectorBlock


@pytest.fixture(scope="module")
def sparse_parquet(spark, tmp_path_factory):
    """[label, w, tag, v]: v sparse vectors of size 40 (some empty), w a weight, tag a string."""
    rows = [
        (
            float(i % 2),
            1.0 + i % 3,
            f"t{i}",
            Vectors.sparse(40, list(range(i % 3)), [1.0] * (i % 3)),
        )
        for i in range(90)
    ]
    path = str(tmp_path_factory.mktemp("vectors") / "sparse")
    spark.createDataFrame(rows, ["label", "w", "tag", "v"]).repartition(3).write.parquet(path)
    return path


def test_spark_written_vectors_are_listed_with_the_schema_spark_reads(spark, tmp_path):
    frame = spark.createDataFrame(
        [(1.0, 2.0, [1.0, None], 0.0), (0.5, 1.0, [], 1.0)],
        "age double, income double, tags array<double>, label double",
    )
    assembled = VectorAssembler(inputCols=["age", "income"], outputCol="v").transform(frame)
    path = str(tmp_path / "assembled")
    assembled.write.parquet(path)
    listing = list_local_parquet(path)
    read = spark.read.parquet(path)
    assert listing.schema == read.schema  # the vector UDT, nested nullability
    assert listing.schema["v"].metadata == read.schema["v"].metadata  # ml_attr: the names
    assert sorted(listing.files) == sorted(read.inputFiles())


def test_a_vector_column_loads_without_spark_sql_as_through_spark(spark, sparse_parquet):
    common = dict(fmt="parquet", path=sparse_parquet, label="label", features=[], features_col="v",
                  weight="w", partitions=2)  # fmt: skip
    through_spark = load_frames(spark, dataframe=True, **common)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(vector_loading, "read_source", _no_spark_read)
        listed = load_frames(spark, **common)
    assert listed.train is None and through_spark.train is not None
    assert listed.parquet == through_spark.parquet  # the same files, rows and blocks
    assert listed.names == through_spark.names == [f"v[{i}]" for i in range(40)]
    assert listed.block_type == through_spark.block_type == CsrBlock(40)
    assert listed.roles == through_spark.roles
    assert listed.roles["tag"].startswith("ignored") and listed.roles["w"] == "weight"
    dense = load_frames(spark, block_type="dense", **common)
    assert dense.train is None and dense.block_type == DenseVectorBlock()


@pytest.mark.parametrize(
    "sets, message",
    [
        (dict(features_col="tag"), "features column 'tag' has type string, not a Spark ML vector"),
        (dict(features_col="v", weight="tag"), "weight column 'tag' must be numeric"),
        (dict(features_col="v", label="y"), "label column 'y' not found"),
    ],
)
def test_bad_columns_are_named_on_the_listed_path(
    spark, sparse_parquet, sets, message, monkeypatch
):
    monkeypatch.setattr(vector_loading, "read_source", _no_spark_read)
    args = dict(fmt="parquet", path=sparse_parquet, label="label", features=[]) | sets
    with pytest.raises(DataError, match=message):
        load_frames(spark, **args)


def _no_spark_read(*args, **kwargs):
    raise AssertionError("read through Spark SQL")


def test_footers_that_cannot_say_the_size_get_an_executor_scan_not_spark_sql(
    spark, tmp_path, monkeypatch
):
    """Dense rows (their size is not in the statistics), no metadata: listed, the column
    scanned in the executors; with the size in the metadata but the density unknown, "auto"
    takes Spark's LIMIT sample (a cheaper read than a full pass)."""
    rows = [(float(i % 2), Vectors.dense([1.0, 0.0, float(i)])) for i in range(30)]
    path = str(tmp_path / "dense")
    spark.createDataFrame(rows, ["label", "v"]).coalesce(2).write.parquet(path)
    common = dict(fmt="parquet", path=path, label="label", features=[], features_col="v")
    through_spark = load_frames(spark, dataframe=True, **common)
    with monkeypatch.context() as patched:
        patched.setattr(vector_loading, "read_source", _no_spark_read)
        listed = load_frames(spark, **common)
    assert listed.train is None and listed.parquet == through_spark.parquet
    assert listed.names == through_spark.names == ["v[0]", "v[1]", "v[2]"]
    assert listed.block_type == through_spark.block_type == DenseVectorBlock()
    assembled = str(tmp_path / "assembled")
    frame = spark.createDataFrame([(1.0, 2.0, 0.0), (0.0, 3.0, 1.0)], ["a", "b", "label"])
    VectorAssembler(inputCols=["a", "b"], outputCol="v").transform(frame).write.parquet(assembled)
    sampled = load_frames(spark, **(common | dict(path=assembled)))
    assert sampled.train is not None and sampled.names == ["a", "b"]
    typed = load_frames(spark, block_type="dense", **(common | dict(path=assembled)))
    assert typed.train is None and typed.names == ["a", "b"]
