"""Export a model with categorical columns as a Spark ML ``PipelineModel`` on the RAW columns
(stock stages only; needs a SparkSession).

Stages, for categorical columns c (numeric columns go straight to the assembler):

1. ``SQLTransformer``: ``c__level`` = CAST(c AS STRING) (booleans "true"/"false", integers in
   decimal: the text the levels are stored as), nulls as the label ``<null>`` when nulls
   are a level of their own;
2. one ``StringIndexerModel.from_labels`` per column: labels = the levels, then every pooled value,
   then ``<null>``; ``handleInvalid = "keep"`` puts a value unseen in training (and a null
   without a level) at index n = number of labels;
3. ``OneHotEncoderModel``: the indexer's metadata lists n + 1 values (the labels and
   ``__unknown``), so each column becomes n + 1 indicators (``dropLast`` drops only the
   encoder's own extra "invalid" category, which never occurs);
4. ``VectorAssembler`` of the input columns in the model's order;
5. the ``LogisticRegressionModel`` (:mod:`sparklr.mlexport`) over the n indicators of each
   column: coefficient w_j for a label of code j, the ``<other>`` coefficient for every pooled
   value, 0 for the reference level and 0 for ``__unknown``: an unseen value adds nothing,
   as in predict. So z = wᵀx + b as predict computes it.

One difference: with ``data.categorical_nulls = "error"`` predict scores a null categorical as
null; the pipeline scores it as the reference (StringIndexer keeps nulls at the unseen index).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from pyspark.ml import PipelineModel
from pyspark.ml.classification import LogisticRegressionModel
from pyspark.ml.feature import (
    OneHotEncoder,
    SQLTransformer,
    StringIndexerModel,
    VectorAssembler,
)
from pyspark.sql import SparkSession

from sparklr.encoding import NULL, CategoricalEncoding
from sparklr.mlexport import write_spark_ml
from sparklr.model import Model

#: The label StringIndexer gives the kept index of values it has not seen.
UNKNOWN = "__unknown"


def pipeline_labels(encoding: CategoricalEncoding) -> list[str]:
    """The StringIndexer labels of one column: levels, pooled values, then <null>."""
    return [*encoding.levels, *encoding.pooled, *([NULL] if encoding.null_level else [])]


def label_coefficients(encoding: CategoricalEncoding, w: np.ndarray) -> np.ndarray:
    """The coefficient of each of :func:`pipeline_labels` and of the indexer's ``__unknown``
    from ``w``, the column's indicator coefficients (in ``encoding.indicator_codes`` order);
    the reference and ``__unknown`` get 0."""
    by_code = np.zeros(len(encoding.labels))
    by_code[list(encoding.indicator_codes)] = w
    codes = np.concatenate(
        [
            np.arange(len(encoding.levels)),
            np.full(len(encoding.pooled), len(encoding.levels)),
            [len(encoding.labels) - 1] if encoding.null_level else [],
        ]
    ).astype(np.int64)
    return np.append(by_code[codes], 0.0)


def write_pipeline(
    spark: SparkSession,
    model: Model,
    path: str | Path,
    *,
    features_col: str = "features",
    threshold: float = 0.5,
) -> Path:
    """Write ``model`` (which has an encoding) as a PipelineModel to ``path``."""
    design = model.encoding
    columns = list(design.categorical)
    level = {c: f"{c}__level" for c in columns}
    index = {c: f"{c}__index" for c in columns}
    onehot = {c: f"{c}__onehot" for c in columns}
    expressions = []
    for c in columns:
        text = f"CAST(`{c}` AS STRING)"
        if design.categorical[c].null_level:
            text = f"COALESCE({text}, '{NULL}')"
        expressions.append(f"{text} AS `{level[c]}`")
    sql = SQLTransformer(statement=f"SELECT *, {', '.join(expressions)} FROM __THIS__")
    labels = [pipeline_labels(design.categorical[c]) for c in columns]
    # One indexer per column: a multi-column StringIndexerModel pads shorter label arrays
    # with nulls in its output metadata, which OneHotEncoder then fails on.
    indexers = [
        StringIndexerModel.from_labels(
            ls, inputCol=level[c], outputCol=index[c], handleInvalid="keep"
        )
        for c, ls in zip(columns, labels, strict=True)
    ]
    witness = spark.createDataFrame(  # every label once: the indexers' metadata has n values
        [tuple(ls[min(i, len(ls) - 1)] for ls in labels) for i in range(max(map(len, labels)))],
        [level[c] for c in columns],
    )
    witness = PipelineModel(indexers).transform(witness)
    encoder = OneHotEncoder(
        inputCols=[index[c] for c in columns],
        outputCols=[onehot[c] for c in columns],
        dropLast=True,
        handleInvalid="keep",
    ).fit(witness)
    inputs = [onehot.get(c, c) for c in design.columns]
    assembler = VectorAssembler(inputCols=inputs, outputCol=features_col, handleInvalid="keep")
    expanded = _expanded_model(model)
    with tempfile.TemporaryDirectory() as tmp:
        lr_dir = write_spark_ml(
            expanded, Path(tmp) / "lr", features_col=features_col, threshold=threshold
        )
        lr = LogisticRegressionModel.load(str(lr_dir))
        pipeline = PipelineModel([sql, *indexers, encoder, assembler, lr])
        pipeline.write().overwrite().save(str(path))
    return Path(path)


def _expanded_model(model: Model) -> Model:
    """The model over the pipeline's features: numeric columns, then per categorical column
    one coefficient per StringIndexer label (:func:`label_coefficients`)."""
    names, coefficients, start = [], [], 0
    for column in model.design.columns:
        encoding = model.design.categorical.get(column)
        width = 1 if encoding is None else len(encoding.indicator_codes)
        w = model.coefficients[start : start + width]
        start += width
        if encoding is None:
            names.append(column)
            coefficients.append(w)
        else:
            labels = pipeline_labels(encoding)
            names += [f"{column}={label}" for label in [*labels, UNKNOWN]]
            coefficients.append(label_coefficients(encoding, w))
    return Model(names, np.concatenate(coefficients), model.intercept, model.label)
