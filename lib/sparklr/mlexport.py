"""Export a :class:`~sparklr.model.Model` as a Spark ML ``LogisticRegressionModel`` directory
(no Spark needed: JSON + one Parquet row written with pyarrow).

The layout is the one Spark ML's own ``model.write().save(path)`` produces and
``pyspark.ml.classification.LogisticRegressionModel.load(path)`` reads:

* ``metadata/part-00000`` — one JSON line: ``class``, ``timestamp``, ``sparkVersion``, ``uid``,
  ``paramMap`` (params set explicitly: featuresCol, labelCol, threshold, ...) and
  ``defaultParamMap`` (MLlib's defaults);
* ``data/part-00000.parquet`` — one row ``numClasses = 2``, ``numFeatures = n``,
  ``interceptVector`` = [b] and ``coefficientMatrix`` = the 1 × n matrix wᵀ, ``isMultinomial =
  false``. Vectors and matrices are stored in Spark's UDT struct encoding (VectorUDT: ``type``
  tinyint 1 = dense, ``size``, ``indices``, ``values``; MatrixUDT: ``type``, ``numRows``,
  ``numCols``, ``colPtrs``, ``rowIndices``, ``values``, ``isTransposed``), and the file's
  ``org.apache.spark.sql.parquet.row.metadata`` key carries the Spark SQL schema with the UDT
  classes, exactly as Spark writes it, so that Spark reads the columns back as ``Vector`` and
  ``Matrix``.

wᵀ is written as MLlib's ``Matrix.compressed`` would keep it: a row-major SparseMatrix (type 0:
colPtrs = [0, nnz], rowIndices = the indices of the non-zero w_j, values = those w_j) when
that is smaller than dense, i.e. when 12 nnz + 4 < 8 n (an L1 model, all-zero columns), else
dense (type 1). MLlib's ``coefficients`` is then a SparseVector or a DenseVector; it scores
the same either way.

The MLlib model scores one vector column (``featuresCol``) with z = wᵀx + b and
probability = [1 − σ(z), σ(z)]: assemble that column from the model's ``feature_names`` in that
order (``VectorAssembler(inputCols=model.feature_names, outputCol="features")``). The
coefficients are on the original feature scale, so the raw columns go in unscaled.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sparklr.errors import OutputError
from sparklr.model import Model

MODEL_CLASS = "org.apache.spark.ml.classification.LogisticRegressionModel"

#: MLlib's defaults for LogisticRegression(Model) params, as Spark 4 writes them.
DEFAULT_PARAMS = {
    "aggregationDepth": 2,
    "elasticNetParam": 0.0,
    "family": "auto",
    "featuresCol": "features",
    "fitIntercept": True,
    "labelCol": "label",
    "maxBlockSizeInMB": 0.0,
    "maxIter": 100,
    "predictionCol": "prediction",
    "probabilityCol": "probability",
    "rawPredictionCol": "rawPrediction",
    "regParam": 0.0,
    "standardization": True,
    "threshold": 0.5,
    "tol": 1e-6,
}

#: A version string Spark's reader accepts when pyspark is not importable (only major.minor
#: matters to it: models saved by Spark < 2.1 have another layout).
FALLBACK_SPARK_VERSION = "4.0.0"


def _spark_version() -> str:
    try:
        import pyspark  # importing pyspark does not start a JVM

        return str(pyspark.__version__)
    except ImportError:
        return FALLBACK_SPARK_VERSION


def _field(name: str, type_: object, nullable: bool) -> dict:
    return {"name": name, "type": type_, "nullable": nullable, "metadata": {}}


def _array(element: str) -> dict:
    return {"type": "array", "elementType": element, "containsNull": False}


VECTOR_SQL = {
    "type": "struct",
    "fields": [
        _field("type", "byte", False),
        _field("size", "integer", True),
        _field("indices", _array("integer"), True),
        _field("values", _array("double"), True),
    ],
}
MATRIX_SQL = {
    "type": "struct",
    "fields": [
        _field("type", "byte", False),
        _field("numRows", "integer", False),
        _field("numCols", "integer", False),
        _field("colPtrs", _array("integer"), True),
        _field("rowIndices", _array("integer"), True),
        _field("values", _array("double"), True),
        _field("isTransposed", "boolean", False),
    ],
}
#: The Spark SQL schema of the data row (stored in the Parquet footer, as Spark does).
SPARK_SCHEMA = {
    "type": "struct",
    "fields": [
        _field("numClasses", "integer", False),
        _field("numFeatures", "integer", False),
        _field(
            "interceptVector",
            {
                "type": "udt",
                "class": "org.apache.spark.ml.linalg.VectorUDT",
                "pyClass": "pyspark.ml.linalg.VectorUDT",
                "sqlType": VECTOR_SQL,
            },
            True,
        ),
        _field(
            "coefficientMatrix",
            {
                "type": "udt",
                "class": "org.apache.spark.ml.linalg.MatrixUDT",
                "pyClass": "pyspark.ml.linalg.MatrixUDT",
                "sqlType": MATRIX_SQL,
            },
            True,
        ),
        _field("isMultinomial", "boolean", False),
    ],
}


def _ints() -> pa.DataType:
    return pa.list_(pa.field("element", pa.int32(), nullable=False))


def _doubles() -> pa.DataType:
    return pa.list_(pa.field("element", pa.float64(), nullable=False))


def _arrow_schema(spark_version: str) -> pa.Schema:
    vector = pa.struct(
        [
            pa.field("type", pa.int8(), nullable=False),
            pa.field("size", pa.int32()),
            pa.field("indices", _ints()),
            pa.field("values", _doubles()),
        ]
    )
    matrix = pa.struct(
        [
            pa.field("type", pa.int8(), nullable=False),
            pa.field("numRows", pa.int32(), nullable=False),
            pa.field("numCols", pa.int32(), nullable=False),
            pa.field("colPtrs", _ints()),
            pa.field("rowIndices", _ints()),
            pa.field("values", _doubles()),
            pa.field("isTransposed", pa.bool_(), nullable=False),
        ]
    )
    return pa.schema(
        [
            pa.field("numClasses", pa.int32(), nullable=False),
            pa.field("numFeatures", pa.int32(), nullable=False),
            pa.field("interceptVector", vector),
            pa.field("coefficientMatrix", matrix),
            pa.field("isMultinomial", pa.bool_(), nullable=False),
        ],
        metadata={
            "org.apache.spark.version": spark_version,
            "org.apache.spark.sql.parquet.row.metadata": json.dumps(
                SPARK_SCHEMA, separators=(",", ":")
            ),
        },
    )


def spark_ml_metadata(
    model: Model,
    *,
    features_col: str = "features",
    threshold: float = 0.5,
    uid: str | None = None,
    spark_version: str | None = None,
    fit_intercept: bool = True,
) -> dict:
    """The ``metadata/part-00000`` record of the exported model."""
    return {
        "class": MODEL_CLASS,
        "timestamp": int(time.time() * 1000),
        "sparkVersion": spark_version or _spark_version(),
        "uid": uid or f"LogisticRegression_{uuid.uuid4().hex[:12]}",
        "paramMap": {
            "featuresCol": features_col,
            "labelCol": model.label,
            "threshold": float(threshold),
            "fitIntercept": bool(fit_intercept),
            "regParam": 0.0,
            "elasticNetParam": 0.0,
            "family": "binomial",
        },
        "defaultParamMap": DEFAULT_PARAMS,
    }


def coefficient_matrix(w: np.ndarray) -> dict:
    """The 1 × n matrix wᵀ in MatrixUDT's encoding, sparse or dense (see the module doc)."""
    nonzero = np.flatnonzero(w)
    if 12 * nonzero.size + 4 < 8 * w.size:
        return {
            "type": 0,
            "numRows": 1,
            "numCols": int(w.size),
            "colPtrs": [0, int(nonzero.size)],
            "rowIndices": nonzero.tolist(),
            "values": w[nonzero].tolist(),
            "isTransposed": True,
        }
    return {
        "type": 1,
        "numRows": 1,
        "numCols": int(w.size),
        "colPtrs": None,
        "rowIndices": None,
        "values": w.tolist(),
        "isTransposed": True,
    }


def write_spark_ml(
    model: Model,
    path: str | Path,
    *,
    features_col: str = "features",
    threshold: float = 0.5,
    overwrite: bool = False,
    fit_intercept: bool = True,
) -> Path:
    """Write ``model`` to ``path`` as a Spark ML LogisticRegressionModel; see the module doc.

    The directory is assembled next to ``path`` and renamed into place, so a reader sees no
    directory or a complete one.
    """
    target = Path(path)
    w = np.asarray(model.coefficients, dtype=np.float64)
    b = float(model.intercept)
    if not (np.all(np.isfinite(w)) and math.isfinite(b)):
        raise OutputError("cannot export a model whose coefficients are not finite")
    if not (0.0 <= threshold <= 1.0):
        raise OutputError(f"threshold must be in [0, 1], got {threshold}")
    if target.exists() or target.is_symlink():
        if not overwrite or target.is_symlink() or not target.is_dir():
            raise OutputError(f"{target} already exists; refusing to replace it")
    version = _spark_version()
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        (tmp / "metadata").mkdir(parents=True)
        (tmp / "data").mkdir()
        meta = spark_ml_metadata(
            model,
            features_col=features_col,
            threshold=threshold,
            spark_version=version,
            fit_intercept=fit_intercept,
        )
        (tmp / "metadata" / "part-00000").write_text(json.dumps(meta) + "\n")
        (tmp / "metadata" / "_SUCCESS").write_bytes(b"")
        row = {
            "numClasses": [2],
            "numFeatures": [int(w.size)],
            "interceptVector": [{"type": 1, "size": None, "indices": None, "values": [b]}],
            "coefficientMatrix": [coefficient_matrix(w)],
            "isMultinomial": [False],
        }
        table = pa.Table.from_pydict(row, schema=_arrow_schema(version))
        pq.write_table(table, tmp / "data" / "part-00000.parquet", compression="snappy")
        (tmp / "data" / "_SUCCESS").write_bytes(b"")
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.old"
            os.rename(target, old)
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise OutputError(f"cannot write Spark ML model {target}: {exc.strerror or exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
