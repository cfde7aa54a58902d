"""The Params of :class:`sparklr.LogisticRegression` / :class:`sparklr.SparklrModel`, and their
one mapping onto the config keys of the training job.

MLlib's names where the concept is MLlib's (featuresCol, labelCol, weightCol, predictionCol,
probabilityCol, rawPredictionCol, maxIter, tol, regParam, elasticNetParam, standardization,
fitIntercept, threshold), sparklr's own for the rest. Every param but the column names of the
output and ``threshold`` is a config key (:data:`CONFIG_KEYS`); its default is that key's
default, and it is validated by :func:`sparklr.config.build_fit_config` — the job's own checks,
one place — with the error naming the param instead of the key (:func:`fit_config`). Nothing
here starts a Spark job: the column checks read the DataFrame's schema only.
"""

from __future__ import annotations

from typing import Any

from pyspark.ml.linalg import VectorUDT
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (
    HasElasticNetParam,
    HasFeaturesCol,
    HasFitIntercept,
    HasInputCols,
    HasLabelCol,
    HasMaxIter,
    HasPredictionCol,
    HasProbabilityCol,
    HasRawPredictionCol,
    HasRegParam,
    HasSeed,
    HasStandardization,
    HasThreshold,
    HasTol,
    HasWeightCol,
)
from pyspark.sql import DataFrame

from sparklr.config import Config, DataSection, TrainSection, build_fit_config
from sparklr.errors import ConfigError

#: param → config key ("section.field"); the param's default is the key's default.
CONFIG_KEYS = {
    "labelCol": "data.label",
    "inputCols": "data.features",
    "weightCol": "data.weight",
    "dtype": "data.dtype",
    "dropInvalid": "data.drop_invalid",
    "partitions": "data.partitions",
    "optimizer": "train.optimizer",
    "learningRate": "train.learning_rate",
    "maxIter": "train.max_iter",
    "tol": "train.tol",
    "standardization": "train.standardize",
    "fitIntercept": "train.fit_intercept",
    "seed": "train.seed",
    "initScale": "train.init_scale",
    "init": "train.init",
    "lineSearch": "train.line_search",
    "momentum": "train.momentum",
    "regParam": "train.reg_param",
    "elasticNetParam": "train.elastic_net",
    "classWeight": "train.class_weight",
    "lbfgsMemory": "train.lbfgs_memory",
    "inference": "train.inference",
    "ciLevel": "train.ci_level",
}


def _param(name: str, doc: str, converter=None) -> Param:
    return Param(Params._dummy(), name, doc, typeConverter=converter or TypeConverters.identity)


class SparklrParams(
    HasFeaturesCol,
    HasInputCols,
    HasLabelCol,
    HasWeightCol,
    HasPredictionCol,
    HasProbabilityCol,
    HasRawPredictionCol,
    HasMaxIter,
    HasTol,
    HasRegParam,
    HasElasticNetParam,
    HasStandardization,
    HasFitIntercept,
    HasThreshold,
    HasSeed,
):
    """The params shared by the estimator and its model (see README, "Python API")."""

    optimizer = _param("optimizer", "gd, lbfgs or newton", TypeConverters.toString)
    learningRate = _param("learningRate", 'step α of gd: a positive number or "auto" (1/L)')
    momentum = _param("momentum", 'gd: "none" or "nesterov"', TypeConverters.toString)
    lineSearch = _param("lineSearch", "gd: Armijo backtracking", TypeConverters.toBoolean)
    classWeight = _param("classWeight", '"none" or "balanced"', TypeConverters.toString)
    dtype = _param(
        "dtype", "storage dtype of the blocks: float64 or float32", TypeConverters.toString
    )
    inference = _param("inference", "auto, none, fisher or robust", TypeConverters.toString)
    ciLevel = _param("ciLevel", "confidence level of the inference table", TypeConverters.toFloat)
    init = _param("init", '"seed" (b⁰ = 0) or "log_odds"', TypeConverters.toString)
    initScale = _param("initScale", "w⁰ ~ initScale · N(0, 1)", TypeConverters.toFloat)
    lbfgsMemory = _param("lbfgsMemory", "lbfgs: (s, y) pairs kept", TypeConverters.toInt)
    dropInvalid = _param("dropInvalid", "drop rows with NaN/±Inf/null", TypeConverters.toBoolean)
    partitions = _param("partitions", "blocks to train on; 0 = one per core", TypeConverters.toInt)

    def __init__(self) -> None:
        super().__init__()
        defaults = {"data": DataSection(), "train": TrainSection()}
        values = {}
        for param, key in CONFIG_KEYS.items():
            section, field = key.split(".")
            values[param] = getattr(defaults[section], field)
        values["inputCols"] = values["inputCols"] or []
        values["weightCol"] = ""
        self._setDefault(**values)

    def config(self) -> Config:
        """These params as the job's config (validated there; errors name the param)."""
        raw: dict[str, dict[str, Any]] = {"data": {}, "train": {}}
        for param, key in CONFIG_KEYS.items():
            section, field = key.split(".")
            value = self.getOrDefault(param)
            raw[section][field] = list(value) if isinstance(value, list | tuple) else value
        threshold = self.getOrDefault("threshold")
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"param threshold must be in [0, 1], got {threshold!r}")
        try:
            return build_fit_config(raw)
        except ConfigError as exc:
            raise ConfigError(_param_names(str(exc))) from None

    def check_columns(self, df: DataFrame) -> None:
        """The input columns exist (and featuresCol is a vector): from the schema, no job."""
        fields = {f.name: f.dataType for f in df.schema.fields}
        columns = ", ".join(df.columns)
        wanted = [("labelCol", self.getLabelCol()), ("weightCol", self.getOrDefault("weightCol"))]
        wanted += [("inputCols", c) for c in self.getOrDefault("inputCols")]
        if not self.getOrDefault("inputCols"):
            wanted.append(("featuresCol", self.getFeaturesCol()))
        for param, column in wanted:
            if column and column not in fields:
                raise ConfigError(
                    f"param {param}: column {column!r} not found; columns are: {columns}"
                )
        if not self.getOrDefault("inputCols"):
            kind = fields[self.getFeaturesCol()]
            if not isinstance(kind, VectorUDT):
                raise ConfigError(
                    f"param featuresCol: column {self.getFeaturesCol()!r} has type "
                    f"{kind.simpleString()}, not a vector; set inputCols for numeric columns"
                )

    def param_values(self) -> dict[str, Any]:
        """{name: value} of every param with a value (set or default), JSON-ready."""
        return {p.name: v for p, v in self.extractParamMap().items()}


def _param_names(message: str) -> str:
    """A config error's message with the keys replaced by the params they come from."""
    for param, key in sorted(CONFIG_KEYS.items(), key=lambda kv: -len(kv[1])):
        message = message.replace(key, param)
    return message.replace("config key ", "param ")
