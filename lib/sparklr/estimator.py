"""The Python API: :class:`LogisticRegression`, a ``pyspark.ml`` Estimator, and the
:class:`SparklrModel` it fits — usable alone, in a ``Pipeline`` and in
``CrossValidator``/``TrainValidationSplit``.

``fit(df)`` is the training job's fit on a DataFrame the caller holds: the params become the
job's config (:meth:`~sparklr.estimator_params.SparklrParams.config`, validated by config.py
before any Spark job), the DataFrame becomes resident blocks (Arrow, no Row objects, no
collect; :mod:`sparklr.spark.dataframe`), and the shared core :mod:`sparklr.app.fit` runs the
objective J(θ) = (1/m) Σ v_i L(z_i, y_i) + λ (½ (1 − ρ) ‖w̃‖² + ρ ‖w̃‖₁), z = wᵀx + b, with
the same optimizers; :mod:`sparklr.app.measure` adds the metrics and the inference table.
The blocks are deleted when ``fit`` returns or fails.

The model scores like MLlib's: rawPrediction = [−z, z], probability = [1 − σ(z), σ(z)] (Spark ML
vectors), prediction = 1.0 if σ(z) > threshold else 0.0.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.functions import array_to_vector
from pyspark.ml.linalg import DenseVector
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparklr.estimator_params import SparklrParams
from sparklr.inference import InferenceResult
from sparklr.model import Model as FittedModel
from sparklr.optimizers import IterationRecord


@dataclass
class SparklrSummary:
    """What the fit records: the history (J, ‖∇J‖ per iteration), the final J and ‖∇J‖, the
    iterations, why it stopped, the training metrics and the inference table when computed."""

    history: list[IterationRecord]
    loss: float
    grad_norm: float
    iterations: int
    stop_reason: str
    metrics: dict[str, Any] = field(default_factory=dict)
    inference: InferenceResult | dict | None = None

    @property
    def objectiveHistory(self) -> list[float]:
        """J at θ_0, θ_1, … (MLlib's name)."""
        return [r.loss for r in self.history]

    @property
    def totalIterations(self) -> int:
        return self.iterations

    @classmethod
    def of(cls, model: FittedModel, history: list[IterationRecord], inference=None):
        """From a model's metadata (model.json) and its history."""
        meta = model.metadata
        return cls(
            history=history,
            loss=meta.get("final_loss", float("nan")),
            grad_norm=meta.get("final_grad_norm", float("nan")),
            iterations=meta.get("iterations", len(history)),
            stop_reason=meta.get("stop_reason", ""),
            metrics=meta.get("metrics", {}).get("train", {}),
            inference=inference if inference is not None else meta.get("inference"),
        )


class LogisticRegression(Estimator, SparklrParams):
    """Binary logistic regression on resident blocks: ``LogisticRegression(regParam=0.01)
    .fit(df)`` → :class:`SparklrModel`. Input: a vector column ``featuresCol`` (dense or
    sparse) or numeric columns ``inputCols``; label 0/1 in ``labelCol``."""

    @keyword_only
    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(self, **kwargs: Any) -> LogisticRegression:
        return self._set(**self._input_kwargs)

    def _fit(self, dataset: DataFrame) -> SparklrModel:
        from sparklr.app.fit import (
            check_width,
            fitted_model,
            make_problem,
            run_optimizer,
            start_state,
        )
        from sparklr.app.measure import measure_inference, measure_metrics
        from sparklr.spark.blockset import BlockSet
        from sparklr.spark.dataframe import training_frame

        config = self.config()  # before any Spark job: errors name the param
        self.check_columns(dataset)
        d, t = config.data, config.train
        frame, names, block_type = training_frame(
            dataset,
            d.label,
            input_cols=d.features,
            features_col=self.getFeaturesCol(),
            weight=d.weight,
            partitions=d.partitions,
            dtype=d.dtype,
        )
        blocks = BlockSet(
            dataset.sparkSession,
            frame,
            d.label,
            names,
            dtype=d.dtype,
            drop_invalid=d.drop_invalid,
            weight=d.weight,
            block_type=block_type,
            aggregation_depth=t.aggregation_depth,
        )
        try:
            check_width(t, len(names))
            blocks.build()
            problem = make_problem(blocks, names, t)
            fit = run_optimizer(t, problem, start_state(t, problem))
            model = fitted_model(config, blocks, names, problem, fit)
            measure_metrics(config, blocks, None, model)
            inference = measure_inference(
                config, problem.objective, fit.state, problem.moments, model
            )
        finally:
            blocks.unpersist()
        summary = SparklrSummary.of(model, fit.state.history, inference)
        return self._copyValues(SparklrModel(model, summary))


#: The margin column a vector input is scored through (dropped from transform's output).
_MARGIN = "_sparklr_margin"


class SparklrModel(Model, SparklrParams):
    """A fitted :class:`LogisticRegression`: w (:attr:`coefficients`) and b (:attr:`intercept`)
    on the original feature scale, :attr:`summary`, :meth:`transform`, :meth:`save` /
    :meth:`load` (model.json, the job's model directory), :meth:`to_spark_ml`."""

    def __init__(self, model: FittedModel | None = None, summary: SparklrSummary | None = None):
        super().__init__()
        self.model = model
        self.summary = summary

    @property
    def coefficients(self) -> DenseVector:
        return DenseVector(self.model.coefficients)

    @property
    def intercept(self) -> float:
        return float(self.model.intercept)

    @property
    def numFeatures(self) -> int:
        return len(self.model.feature_names)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        from sparklr.spark.dataframe import margin
        from sparklr.spark.scoring import vector_margins

        w, b = self.model.coefficients, self.model.intercept
        input_cols = list(self.getOrDefault("inputCols"))
        if input_cols:
            z = margin(w, b, input_cols=input_cols)
        else:  # z per Arrow batch from the vector's stored entries (never densified)
            dataset = vector_margins(dataset, self.getFeaturesCol(), w, b, _MARGIN)
            z = F.col(_MARGIN)
        p = F.lit(1.0) / (F.lit(1.0) + F.exp(-z))
        return (
            dataset.withColumn(self.getRawPredictionCol(), array_to_vector(F.array(-z, z)))
            .withColumn(self.getProbabilityCol(), array_to_vector(F.array(1.0 - p, p)))
            .withColumn(
                self.getPredictionCol(),
                F.when(p > F.lit(self.getThreshold()), 1.0).otherwise(0.0),
            )
            .drop(_MARGIN)
        )

    def save(self, path: str | Path, overwrite: bool = False) -> None:
        """Write ``path``/model.json (with these params) and history.json, atomically."""
        from sparklr.output import check_output_target, open_staging, publish, write_json_atomic

        target = Path(path)
        check_output_target(target, overwrite)
        staging = open_staging(target, resume=False)
        data = {**self.model.to_json(), "estimator_params": self.param_values()}
        write_json_atomic(staging / "model.json", data)
        history = [] if self.summary is None else self.summary.history
        write_json_atomic(staging / "history.json", [dataclasses.asdict(r) for r in history])
        publish(staging, target, overwrite)

    @classmethod
    def load(cls, path: str | Path) -> SparklrModel:
        """A model saved by :meth:`save`, or the model directory the training job writes
        (scored on its feature columns: inputCols = its feature names)."""
        model = FittedModel.load(path)
        params = model.metadata.pop("estimator_params", None) or {
            "inputCols": model.feature_names,
            "labelCol": model.label,
        }
        history_file = Path(path) / "history.json"
        records = json.loads(history_file.read_text()) if history_file.is_file() else []
        history = [IterationRecord(**r) for r in records]
        loaded = cls(model, SparklrSummary.of(model, history))
        return loaded._set(**{k: v for k, v in params.items() if loaded.hasParam(k)})

    def to_spark_ml(self, path: str | Path | None = None):
        """This model as a real ``pyspark.ml.classification.LogisticRegressionModel`` (the
        :mod:`sparklr.mlexport` directory, loaded back): it scores the vector column
        featuresCol. ``path``: where to write the export (on a cluster, a path the executors
        can read); default a local temporary directory (local mode)."""
        from pyspark.ml.classification import LogisticRegressionModel

        from sparklr.mlexport import write_spark_ml

        with tempfile.TemporaryDirectory(prefix="sparklr-ml-") as tmp:
            target = Path(path) if path is not None else Path(tmp) / "spark-ml"
            write_spark_ml(
                self.model,
                target,
                features_col=self.getFeaturesCol(),
                threshold=self.getThreshold(),
                fit_intercept=self.getFitIntercept(),
            )
            exported = LogisticRegressionModel.load(str(target))
        return (
            exported.setProbabilityCol(self.getProbabilityCol())
            .setRawPredictionCol(self.getRawPredictionCol())
            .setPredictionCol(self.getPredictionCol())
        )
