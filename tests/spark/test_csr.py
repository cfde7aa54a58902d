"""CSR blocks (sparklr.spark.csr) and vector input (sparklr.spark.vector_input) through Spark:
the same data as plain columns, a sparse or a dense vector column, or a LIBSVM file give the
same sums and the same model; a sparse L2 fit equals scikit-learn and MLlib; bad vectors and
LIBSVM lines are DataErrors naming where."""

from __future__ import annotations

import glob

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import Vectors
from sparklr.errors import DataError
from sparklr.kernels.dense import block_sums
from sparklr.objective import FeatureMap, LogisticObjective, gram_power_bound
from sparklr.optimizers import OptimizerOptions, OptimizerState, StopRule, get
from sparklr.spark.blockset import BlockSet
from sparklr.spark.csr import CsrBlock
from sparklr.spark.loading import load_frames
from sparklr.spark.vectors import DenseVectorBlock

M, N = 900, 30


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = (rng.random((M, N)) < 0.1) * np.round(rng.normal(2.0, 1.0, (M, N)), 3)
    X[5] = 0.0  # an empty row
    X[:, 4] = 0.0  # an all-zero column
    w = rng.normal(size=N)
    y = (rng.random(M) < 1 / (1 + np.exp(-(X @ w - 0.5)))).astype(float)
    return X, y


def vector_rows(X, y, dense: bool):
    for row, label in zip(X, y, strict=True):
        if dense:
            yield float(label), Vectors.dense(row.tolist())
        else:
            nz = np.flatnonzero(row)
            yield float(label), Vectors.sparse(X.shape[1], nz.tolist(), row[nz].tolist())


def write_libsvm(path, X, y, labels=None):
    with open(path, "w") as out:
        for row, label in zip(X, labels if labels is not None else y, strict=True):
            pairs = " ".join(f"{j + 1}:{float(row[j])!r}" for j in np.flatnonzero(row))
            out.write(f"{label:g} {pairs}\n")


@pytest.fixture(scope="module")
def inputs(spark, data, tmp_path_factory):
    """The same data as: plain columns, a sparse and a dense vector column (Parquet), LIBSVM."""
    X, y = data
    root = tmp_path_factory.mktemp("csr")
    pd.DataFrame(X, columns=[f"f{j}" for j in range(N)]).assign(label=y).to_parquet(
        root / "plain.parquet", index=False
    )
    for kind in ("sparse", "dense"):
        frame = spark.createDataFrame(list(vector_rows(X, y, kind == "dense")), ["label", "v"])
        frame.repartition(3).write.parquet(str(root / f"{kind}.parquet"))
    write_libsvm(root / "data.svm", X, y)
    return root


def blocks_of(spark, root, name, **kwargs) -> BlockSet:
    fmt = "libsvm" if name.endswith(".svm") else "parquet"
    features_col = "" if name == "plain.parquet" or fmt == "libsvm" else "v"
    frames = load_frames(
        spark,
        fmt=fmt,
        path=str(root / name),
        label="label",
        features=[],
        features_col=features_col,
        num_features=N if fmt == "libsvm" else 0,
        **kwargs,
    )
    return BlockSet(
        spark,
        frames.train,
        "label",
        frames.names,
        parquet=frames.parquet,
        block_type=frames.block_type,
    ).build()


def fit(blocks: BlockSet, standardize: bool, reg: float = 1e-3, optimizer: str = "newton"):
    feature_map = FeatureMap.from_moments(blocks.moments, standardize)
    objective = LogisticObjective(blocks, feature_map, reg_param=reg)
    state = get(optimizer)(
        objective,
        OptimizerState(0, np.zeros(N + 1)),
        options=OptimizerOptions(),
        stop=StopRule(500, 1e-11),
    )
    assert state.stop_reason == "converged"
    w, b = feature_map.to_raw(state.theta)
    return np.append(w, b)


SOURCES = [
    ("plain.parquet", {}),
    ("sparse.parquet", {}),
    ("sparse.parquet", {"reader": "spark"}),
    ("sparse.parquet", {"block_type": "dense"}),
    ("dense.parquet", {}),
    ("dense.parquet", {"block_type": "sparse"}),
    ("data.svm", {}),
]


@pytest.fixture(scope="module")
def built(spark, inputs):
    sets = [blocks_of(spark, inputs, name, **kwargs) for name, kwargs in SOURCES]
    yield sets
    for blocks in sets:
        blocks.unpersist()


def test_block_types_follow_the_density_rule(built):
    kinds = [type(blocks.block_type) for blocks in built]
    assert kinds[1:] == [CsrBlock, CsrBlock, DenseVectorBlock, DenseVectorBlock, CsrBlock, CsrBlock]
    assert built[1].parquet is not None  # the sparse column read by pyarrow from the files
    assert built[6].feature_names[:2] == ["features[0]", "features[1]"]


def test_every_representation_gives_the_same_sums(built, data):
    X, y = data
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=N), -0.3
    want = block_sums(X, y, w, b)
    for (name, kwargs), blocks in zip(SOURCES, built, strict=True):
        got = blocks.sums(w, b)
        assert got.rows == M and got.weight_sum == M, name
        assert got.loss == pytest.approx(want.loss, rel=1e-12), (name, kwargs)
        np.testing.assert_allclose(got.grad_w, want.grad_w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(blocks.moments.mean, X.mean(axis=0), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(blocks.moments.std, X.std(axis=0, ddof=1), rtol=1e-12)


@pytest.mark.parametrize("standardize", [False, True])
def test_every_representation_gives_the_same_model(built, standardize):
    """Plain columns, sparse column (CSR), dense column (dense), LIBSVM (CSR)."""
    chosen = [0, 1, 4, 6]
    models = [fit(built[i], standardize) for i in chosen]
    for i, theta in zip(chosen, models, strict=True):
        np.testing.assert_allclose(theta, models[0], rtol=1e-12, atol=1e-14, err_msg=SOURCES[i][0])
        assert theta[4] == 0.0  # the all-zero column


def test_sparse_l2_equals_scikit_learn_and_mllib(spark, built, inputs, data):
    from pyspark.ml.classification import LogisticRegression as MllibLR
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    X, y = data
    reg = 1e-2
    theta = fit(built[1], standardize=False, reg=reg, optimizer="lbfgs")
    keep = np.ones(N, dtype=bool)
    keep[4] = False  # sklearn would fit the all-zero column's coefficient to 0 too
    sk = LogisticRegression(C=1 / (reg * M), tol=1e-12, max_iter=10_000).fit(csr_matrix(X), y)
    np.testing.assert_allclose(theta[:-1][keep], sk.coef_[0][keep], rtol=1e-6)
    assert theta[-1] == pytest.approx(sk.intercept_[0], rel=1e-6)
    frame = spark.read.parquet(str(inputs / "sparse.parquet"))
    mllib = MllibLR(
        featuresCol="v", regParam=reg, standardization=False, maxIter=500, tol=1e-12
    ).fit(frame)
    np.testing.assert_allclose(theta[:-1], mllib.coefficients.toArray(), rtol=1e-5, atol=1e-9)
    assert theta[-1] == pytest.approx(mllib.intercept, rel=1e-5)


def test_binary_blocks_store_no_values(spark, tmp_path):
    X = np.zeros((40, 8))
    X[np.arange(40), np.arange(40) % 8] = 1.0
    y = (np.arange(40) % 3 == 0).astype(float)
    path = tmp_path / "binary.parquet"
    spark.createDataFrame(list(vector_rows(X, y, False)), ["label", "v"]).coalesce(1).write.parquet(
        str(path)
    )
    blocks = blocks_of(spark, tmp_path, "binary.parquet", block_type="sparse")
    try:
        assert all(meta.absent == ("values",) for meta in blocks.metas if meta.rows)
        files = [f for meta in blocks.metas for f in glob.glob(f"{meta.path}.*.npy")]
        assert files and not any(f.endswith(".values.npy") for f in files)
        # block bytes = indptr + int32 indices (40 stored entries) + the float64 labels
        indptr_bytes = sum(np.load(f).nbytes for f in files if f.endswith(".indptr.npy"))
        assert blocks.block_bytes == indptr_bytes + 40 * 4 + 40 * 8
        got = blocks.sums(np.arange(8.0), 0.5)
        assert got.loss == pytest.approx(block_sums(X, y, np.arange(8.0), 0.5).loss, rel=1e-12)
    finally:
        blocks.unpersist()


def test_power_bound_comes_close_to_the_exact_gram_eigenvalue(built):
    dense, sparse = built[0], built[1]
    for standardize in (False, True):
        feature_map = FeatureMap.from_moments(dense.moments, standardize)
        exact = feature_map.gram_bound(dense.moments)  # the full Gram of the dense build
        power = gram_power_bound(sparse.gram_matvec, feature_map)
        assert exact <= power <= 1.15 * exact


def write_vectors(spark, path, rows, size=None):
    frame = spark.createDataFrame(rows, ["label", "v"])
    if size is not None:  # what VectorAssembler writes: the size without the names
        frame = frame.select("label", frame.v.alias("v", metadata={"ml_attr": {"num_attrs": size}}))
    frame.coalesce(1).write.parquet(str(path))


@pytest.mark.parametrize("reader", ["auto", "spark"])
def test_bad_vectors_are_data_errors_naming_the_row(spark, tmp_path, reader):
    good = [(0.0, Vectors.sparse(3, [0], [1.0])), (1.0, Vectors.sparse(3, [2], [2.0]))]
    cases = {
        "size": ([*good, (1.0, Vectors.sparse(4, [1], [1.0]))], 3, "row 2: vector size 4"),
        "nan": ([*good, (1.0, Vectors.sparse(3, [1], [float("nan")]))], None, "row 2"),
        "sizes": ([*good, (1.0, Vectors.dense([1.0, 2.0]))], None, "sizes 2 to 3"),
    }
    for name, (rows, size, message) in cases.items():
        write_vectors(spark, tmp_path / name, rows, size)
        with pytest.raises(DataError, match=message) as info:
            blocks_of(spark, tmp_path, name, reader=reader, block_type="sparse", partitions=1)
        if name == "nan":
            assert "'v[1]' = nan" in str(info.value)


def test_libsvm_labels_and_bad_lines_are_data_errors(spark, data, tmp_path):
    X, y = data
    write_libsvm(tmp_path / "pm.svm", X[:50], y[:50], labels=2 * y[:50] - 1)
    with pytest.raises(DataError, match=r"−1/\+1.*\(y \+ 1\) / 2"):
        blocks_of(spark, tmp_path, "pm.svm")
    lines = (tmp_path / "pm.svm").read_text().splitlines()
    lines[36] = "1 3:0.5 7:x"
    (tmp_path / "bad.svm").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"bad.svm line 37 does not parse as LIBSVM: '1 3:0.5 7:x'"):
        blocks_of(spark, tmp_path, "bad.svm")


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_csr_moments_are_the_dense_weighted_moments(binary, weighted):
    """μ_j = Σ v x_j / W and S_jj = Σ v (x_j − μ_j)², over every row (the unstored zeros too),
    on binary and valued blocks, weighted or not."""
    from sparklr.kernels.csr import CsrMatrix
    from sparklr.spark.csr import csr_moments

    rng = np.random.default_rng(3)
    X = (rng.random((300, 12)) < 0.2) * (1.0 if binary else rng.normal(size=(300, 12)))
    X[:, 4] = 0.0  # a column with nothing stored
    y = (rng.random(300) < 0.4).astype(float)
    v = rng.random(300) * 2 if weighted else None
    block = CsrMatrix.of_dense(X)
    assert block.binary == binary
    got = csr_moments(block, y, v)
    weights = np.ones(300) if v is None else v
    mean = weights @ X / weights.sum()
    np.testing.assert_allclose(got.mean, mean, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(got.scatter, weights @ (X - mean) ** 2, rtol=1e-12, atol=1e-14)
    assert got.positives == pytest.approx(weights @ y, rel=1e-14)
    assert got.weighted == weighted
