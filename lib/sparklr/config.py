"""Run configuration: a TOML file plus ``--set KEY=VALUE`` overrides → frozen dataclasses.

Every key is validated: an unknown key, a wrong type or a value out of range is a
:class:`ConfigError` that names the dotted key. Values given with ``--set`` are parsed as TOML
literals (``--set train.max_iter=50``, ``--set data.features='["a","b"]'``); a value that is
not a TOML literal is taken as a plain string where the key is a string
(``--set data.path=/data/x.csv``). Nothing is ever evaluated as code.

The checks of the data.* keys live in :mod:`sparklr.config_data`, those of the objective's
train.* keys and of tune.* in :mod:`sparklr.config_train` (called from here).

The keys, their defaults and meaning are listed in README.md (section "Configuration") and in
the dataclasses below; ``spark.conf`` is a free table of Spark properties.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparklr.config_data import (
    check_source,
    config_key,
    validate_categorical,
    validate_validation_data,
    validate_vector_input,
)
from sparklr.config_data import require as _require
from sparklr.config_train import validate_objective, validate_tune
from sparklr.errors import ConfigError
from sparklr.optimizers import LBFGS_MEMORY, REGISTRY


@dataclass(frozen=True)
class SparkSection:
    #: Spark master URL; "" keeps what spark-submit was given, or local[*] under plain python.
    master: str = ""
    app_name: str = "sparklr"
    #: Log level of Spark's own loggers.
    log_level: str = "WARN"
    #: Extra Spark properties, e.g. {"spark.executor.memory" = "2g"}.
    conf: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SyntheticSection:
    """A dataset generated on the executors when ``data.format = "synthetic"``."""

    rows: int = 100_000
    features: int = 10
    partitions: int = 4
    seed: int = 42


@dataclass(frozen=True)
class DataSection:
    #: File or directory to read; unused for formats "table" and "synthetic".
    path: str = ""
    #: A Spark source (config_data.FORMATS, or a data source class name), "table", "libsvm"
    #: or "synthetic".
    format: str = "parquet"
    #: The catalog table to read when format = "table", e.g. "db.events".
    table: str = ""
    #: Reader options, e.g. {sep = ";", nullValue = "NA"} (CSV: header/inferSchema default true).
    options: dict[str, str] = field(default_factory=dict)
    #: SQL predicate selecting the training rows before the blocks are built; "" = all.
    filter: str = ""
    label: str = "label"
    #: Feature columns in order; empty = every usable column except the label (and weight):
    #: numeric ones, string and boolean ones as categorical, not `id`/`*_id` (README).
    features: list[str] = field(default_factory=list)
    #: Categorical columns (string, boolean or integer codes), encoded as indicator columns.
    categorical: list[str] = field(default_factory=list)
    #: Null in a categorical column: "level" (a level of its own) or "error" (invalid row).
    categorical_nulls: str = "level"
    #: "auto" (drop a reference level without a penalty, full one-hot with one), "reference"
    #: or "full".
    categorical_coding: str = "auto"
    #: column = level: the reference level of that column (default: the first in sort order).
    categorical_reference: dict[str, str] = field(default_factory=dict)
    #: Levels kept per categorical column; the rarer ones are pooled into "<other>".
    max_levels: int = 1000
    #: One Spark ML vector column holding the features (MLlib's featuresCol) instead of
    #: data.features; "" = plain columns (libsvm: its "features").
    features_col: str = ""
    #: Blocks of a vector column: "auto" (CSR when sparse, see README), "dense" or "sparse".
    block_type: str = "auto"
    #: libsvm only: the number of features (Spark's numFeatures); 0 = the largest index.
    num_features: int = 0
    #: Number of partitions (blocks) to train on; 0 = one per executor core (Spark's default
    #: parallelism; see sparklr.spark.loading.default_block_count).
    partitions: int = 0
    #: Storage dtype of the feature blocks: "float64" or "float32" (sums are float64 always).
    dtype: str = "float64"
    #: Parquet reader of the training blocks: "auto" (pyarrow in the executors when it can
    #: open the files, else Spark), "pyarrow" (fail if it cannot) or "spark".
    reader: str = "auto"
    #: Drop rows with NaN/±Inf/null in features or label (and report how many) instead of failing.
    drop_invalid: bool = False
    #: Column of non-negative sample weights v_i (J becomes a weighted mean); "" = none.
    weight: str = ""
    #: A validation dataset (same format, label and features) to measure the model on.
    validation_path: str = ""
    #: Or a validation catalog table (format = "table").
    validation_table: str = ""
    #: SQL predicate selecting the validation rows (of validation_path/_table, or else of the
    #: training path/table: e.g. filter = "ds < '2026-12-01'", validation_filter = "ds = ...").
    validation_filter: str = ""
    #: Or hold out this fraction of the input (seeded split before the blocks are built).
    validation_fraction: float = 0.0
    #: Seed of the validation_fraction split.
    validation_seed: int = 0
    synthetic: SyntheticSection = field(default_factory=SyntheticSection)


@dataclass(frozen=True)
class TrainSection:
    optimizer: str = "gd"
    #: A positive number, or "auto" (1/L from the curvature bound; see README).
    learning_rate: float | str = "auto"
    max_iter: int = 1000
    #: Stop when ‖∇J‖₂ (training coordinates) ≤ tol.
    tol: float = 1e-6
    standardize: bool = True
    #: Fit the intercept b (MLlib's fitIntercept); false: z = wᵀx, b = 0 and the features are
    #: scaled but never centred.
    fit_intercept: bool = True
    #: Seed of w⁰ ~ init_scale · N(0, 1).
    seed: int = 0
    init_scale: float = 0.01
    #: Write a checkpoint every this many iterations (0 = only at the end).
    checkpoint_every: int = 0
    #: Log one progress line every this many iterations (0 = about 20 lines per run).
    log_every: int = 0
    #: gd: Armijo backtracking line search (each trial step one extra pass).
    line_search: bool = False
    #: gd: "none" or "nesterov" (accelerated GD with adaptive restart).
    momentum: str = "none"
    #: λ ≥ 0 of the elastic-net penalty λ (½ (1 − ρ) ‖w̃‖² + ρ ‖w̃‖₁) (MLlib's regParam).
    reg_param: float = 0.0
    #: ρ ∈ [0, 1]: 0 = L2, 1 = L1 (MLlib's elasticNetParam).
    elastic_net: float = 0.0
    #: "none", or "balanced": class k weighted by W / (2 W_k).
    class_weight: str = "none"
    #: "seed" (b⁰ = 0) or "log_odds" (b⁰ = log(m₁/m₀); b⁰ = 0 without fit_intercept); w⁰ from
    #: train.seed in both.
    init: str = "seed"
    #: Warm start: a model directory or model.json whose coefficients (matched by feature name)
    #: are θ⁰, overriding init and seed; "" = none (sparklr.tuning.warm_start).
    init_model: str = ""
    #: lbfgs: number of (s, y) correction pairs kept (the optimizers' default).
    lbfgs_memory: int = LBFGS_MEMORY
    #: Standard errors at the optimum: "auto" (Fisher for an unpenalized fit without class
    #: weights and ≤ 4,096 features), "none", "fisher" or "robust" (HC0 sandwich).
    inference: str = "auto"
    #: Confidence level of the intervals in the inference table.
    ci_level: float = 0.95
    #: Depth d of the reduce tree (MLlib's aggregationDepth, ≥ 1; 1 = no tree): the driver
    #: receives ⌈P^(1/d)⌉ partial sums per iteration instead of one per block.
    aggregation_depth: int = 2


@dataclass(frozen=True)
class OutputSection:
    path: str = "out/model"
    overwrite: bool = False
    #: Also write the model as a Spark ML LogisticRegressionModel in <output>/spark-ml/.
    spark_ml: bool = True
    #: Write <output>/report.md and its plots (PNG plots need the `plot` extra: matplotlib).
    report: bool = True


@dataclass(frozen=True)
class TuneSection:
    """The regularization path (sparklr.tuning.path), written beside the model."""

    #: Explicit λ values of the path (fitted in decreasing order); [] = none or tune.path.
    reg_params: list[float] = field(default_factory=list)
    #: Or N ≥ 2 values geometric from λ_max down to path_ratio · λ_max; 0 = no path.
    path: int = 0
    path_ratio: float = 1e-4
    #: K-fold cross-validation over the path's λ (0 = off; 2 ≤ K ≤ 100); fold ids from
    #: each row's content and ``seed`` (sparklr.tuning.folds), fixed when the blocks are built.
    folds: int = 0
    seed: int = 0
    #: The held-out metric ("log_loss" or "auc") and the choice of λ ("min" or "1se").
    metric: str = "log_loss"
    rule: str = "min"


@dataclass(frozen=True)
class Config:
    spark: SparkSection = field(default_factory=SparkSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainSection = field(default_factory=TrainSection)
    output: OutputSection = field(default_factory=OutputSection)
    tune: TuneSection = field(default_factory=TuneSection)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self, *sections: str) -> str:
        """SHA-256 of the named sections (all when none), to refuse mismatched resumes."""
        data = self.to_dict()
        if sections:
            data = {name: data[name] for name in sections}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path | None, overrides: list[str] = ()) -> Config:
    """Read ``path`` (TOML; None = defaults only), apply ``KEY=VALUE`` overrides, validate."""
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read config file {p}: {exc.strerror or exc}") from exc
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"malformed TOML in {p}: {exc}") from exc
    for item in overrides:
        key, value = _parse_override(item)
        _assign(raw, key, value)
    config = _build(Config, raw, "")
    validate(config)
    return config


def _parse_override(item: str) -> tuple[str, Any]:
    if "=" not in item:
        raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
    key, text = item.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = _RawString(text)
    return key, value


class _RawString(str):
    """A --set value that is not a TOML literal: accepted only where a string is expected."""


def _assign(raw: dict[str, Any], key: str, value: Any) -> None:
    if key.startswith("spark.conf."):
        parts = ["spark", "conf", key[len("spark.conf.") :]]
    else:
        parts = key.split(".")
    node = raw
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"config key {'.'.join(parts[: i + 1])} is not a table")
        node = child
    node[parts[-1]] = value


def _build(cls: type, raw: Any, prefix: str) -> Any:
    where = prefix.rstrip(".") or "config"
    if not isinstance(raw, dict):
        raise ConfigError(f"config key {where} must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in names:
            raise ConfigError(f"unknown config key {prefix}{key}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in raw:
            kwargs[f.name] = _coerce(hints[f.name], raw[f.name], f"{prefix}{f.name}")
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key + ".")
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        errors = []
        for option in typing.get_args(tp):
            try:
                return _coerce(option, value, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0])
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"config key {key} must be a list, got {_show(value)}")
        return [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"config key {key} must be a table, got {_show(value)}")
        out = {}
        for k, v in value.items():
            if isinstance(v, dict | list):
                raise ConfigError(f"config key {key}.{k} must be a string, number or boolean")
            out[str(k)] = str(v).lower() if isinstance(v, bool) else str(v)
        return out
    if tp is bool:
        if isinstance(value, bool) and not isinstance(value, _RawString):
            return value
        raise ConfigError(f"config key {key} must be true or false, got {_show(value)}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"config key {key} must be an integer, got {_show(value)}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"config key {key} must be a number, got {_show(value)}")
    if tp is str:
        if isinstance(value, str):
            return str(value)
        raise ConfigError(f"config key {key} must be a string, got {_show(value)}")
    raise TypeError(f"unsupported config type {tp!r} for {key}")


def _show(value: Any) -> str:
    return repr(str(value)) if isinstance(value, _RawString) else repr(value)


# --------------------------------------------------------------------------- validation


def validate(config: Config) -> None:
    """Range and choice checks that types alone do not express."""
    _validate_source(config)
    validate_fit(config)
    _require(bool(config.output.path), "output.path", "must be set")


def build_fit_config(raw: dict[str, Any]) -> Config:
    """A Config from a ``{section: {key: value}}`` table (the Python API's params), typed and
    checked by :func:`validate_fit` only: the data come as a DataFrame, nothing is written."""
    config = _build(Config, raw, "")
    validate_fit(config)
    return config


def _validate_source(config: Config) -> None:
    """Where the data come from: data.format, data.path, the validation set, synthetic.*."""
    d, s = config.data, config.data.synthetic
    check_source(d.format, d.path, d.table, d.options, d.filter, config_key)
    validate_validation_data(d)
    validate_vector_input(d)
    _require(s.rows > 0, "data.synthetic.rows", f"must be > 0, got {s.rows}")
    _require(s.features > 0, "data.synthetic.features", f"must be > 0, got {s.features}")
    _require(s.partitions > 0, "data.synthetic.partitions", f"must be > 0, got {s.partitions}")


def validate_fit(config: Config) -> None:
    """What a fit needs whatever the source: the columns, the blocks and every train.* key."""
    d, t = config.data, config.train
    _require(bool(d.label), "data.label", "must name the label column")
    _require(d.partitions >= 0, "data.partitions", f"must be ≥ 0, got {d.partitions}")
    _require(
        d.dtype in ("float64", "float32"),
        "data.dtype",
        f"must be float64 or float32, got {d.dtype!r}",
    )
    _require(
        d.reader in ("auto", "pyarrow", "spark"),
        "data.reader",
        f"must be auto, pyarrow or spark, got {d.reader!r}",
    )
    dupes = sorted({f for f in d.features if d.features.count(f) > 1})
    _require(not dupes, "data.features", f"lists {', '.join(dupes)} more than once")
    _require(d.label not in d.features, "data.features", f"contains the label column {d.label!r}")
    validate_categorical(d)
    _require(
        t.optimizer in OPTIMIZERS,
        "train.optimizer",
        f"must be one of {', '.join(OPTIMIZERS)}; got {t.optimizer!r}",
    )
    if isinstance(t.learning_rate, str):
        _require(
            t.learning_rate == "auto",
            "train.learning_rate",
            f'must be a positive number or "auto", got {t.learning_rate!r}',
        )
    else:
        _require(
            t.learning_rate > 0 and t.learning_rate < float("inf"),
            "train.learning_rate",
            f'must be a positive number or "auto", got {t.learning_rate!r}',
        )
    _require(t.max_iter > 0, "train.max_iter", f"must be > 0, got {t.max_iter}")
    _require(t.tol >= 0, "train.tol", f"must be ≥ 0, got {t.tol}")
    _require(t.init_scale >= 0, "train.init_scale", f"must be ≥ 0, got {t.init_scale}")
    _require(
        t.checkpoint_every >= 0, "train.checkpoint_every", f"must be ≥ 0, got {t.checkpoint_every}"
    )
    _require(t.log_every >= 0, "train.log_every", f"must be ≥ 0, got {t.log_every}")
    validate_objective(config)
    validate_tune(config.tune)


#: Optimizers train.optimizer accepts: the names of sparklr.optimizers.REGISTRY.
OPTIMIZERS = tuple(REGISTRY)
