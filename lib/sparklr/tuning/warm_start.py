"""Warm start (``train.init_model``): θ⁰ from a saved model's coefficients, matched by name.

A saved model holds (w, b) on the original feature scale (:mod:`sparklr.model`). The optimizer
starts from the same decision function z = wᵀx + b in training coordinates,
θ⁰ = (w̃, b̃) = :meth:`FeatureMap.from_raw <sparklr.objective.FeatureMap.from_raw>` (w, b), so a
model trained with or without standardization, or on data with other moments, is the same
starting point. Coefficients are matched by feature name (the saved order may differ); a model
whose feature set differs from the run's is a :class:`~sparklr.errors.ConfigError` naming the
features only one side has.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sparklr.errors import ConfigError, DataError
from sparklr.model import Model
from sparklr.objective import FeatureMap

KEY = "train.init_model"


def load_init_model(path: str | Path) -> Model:
    """The model at ``path`` (a model directory or its model.json); ConfigError naming the key
    when it cannot be read."""
    try:
        return Model.load(path)
    except DataError as exc:
        raise ConfigError(f"config key {KEY}: {exc}") from exc


def coefficients_by_name(model: Model, feature_names: list[str]) -> np.ndarray:
    """The model's w in ``feature_names`` order; ConfigError when the feature sets differ."""
    saved = list(model.feature_names)
    missing = [n for n in feature_names if n not in saved]
    extra = [n for n in saved if n not in feature_names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"it lacks {', '.join(missing)}")
        if extra:
            parts.append(f"it has {', '.join(extra)} that the data lack")
        raise ConfigError(
            f"config key {KEY}: the model's features differ from the run's ({'; '.join(parts)})"
        )
    index = {name: i for i, name in enumerate(saved)}
    return model.coefficients[[index[n] for n in feature_names]]


def initial_theta(
    path: str | Path, feature_names: list[str], feature_map: FeatureMap
) -> np.ndarray:
    """θ⁰ = (w̃, b̃) in training coordinates from the model at ``path`` (see the module doc)."""
    model = load_init_model(path)
    w = coefficients_by_name(model, feature_names)
    return feature_map.from_raw(w, model.intercept)
