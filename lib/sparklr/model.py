"""The trained model: feature names, coefficients w and intercept b on the ORIGINAL feature
scale, and metadata; saved as ``model.json`` (no pickle, no code on load).

Scoring: p = σ(wᵀx + b), prediction = 1 if p ≥ threshold else 0. A model with categorical
columns records their encoding (``"encoding"``: :class:`~sparklr.encoding.Design`): x is then
built from the raw input columns by :meth:`Model.design`'s ``matrix``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sparklr.encoding import Design
from sparklr.errors import DataError
from sparklr.kernels import sigmoid

FORMAT = "sparklr-logistic-regression/1"


@dataclass
class Model:
    feature_names: list[str]
    coefficients: np.ndarray
    intercept: float
    label: str = "label"
    metadata: dict[str, Any] = field(default_factory=dict)
    #: The input columns and categorical encodings (None: the features are numeric columns).
    encoding: Design | None = None

    @property
    def design(self) -> Design:
        """How x is built from the input columns (all numeric without an encoding)."""
        return self.encoding if self.encoding is not None else Design.numeric(self.feature_names)

    @property
    def input_columns(self) -> list[str]:
        return list(self.design.columns)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """z = X w + b for rows of X in feature_names order."""
        return X @ self.coefficients + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(self.decision_function(X))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "feature_names": list(self.feature_names),
            "coefficients": np.asarray(self.coefficients, dtype=np.float64).tolist(),
            "intercept": float(self.intercept),
            "label": self.label,
            **({"encoding": self.encoding.to_json()} if self.encoding is not None else {}),
            **self.metadata,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "model") -> Model:
        try:
            names = [str(n) for n in data["feature_names"]]
            coef = np.asarray(data["coefficients"], dtype=np.float64)
            intercept = float(data["intercept"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{source}: not a sparklr model ({exc!r})") from exc
        if coef.shape != (len(names),):
            raise DataError(f"{source}: {len(names)} feature_names but {coef.size} coefficients")
        if not (np.all(np.isfinite(coef)) and math.isfinite(intercept)):
            raise DataError(f"{source}: coefficients are not finite")
        try:
            encoding = Design.from_json(data["encoding"]) if "encoding" in data else None
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{source}: bad categorical encoding ({exc!r})") from exc
        if encoding is not None and encoding.feature_names != names:
            raise DataError(f"{source}: the encoding's features differ from feature_names")
        known = {"format", "feature_names", "coefficients", "intercept", "label", "encoding"}
        meta = {k: v for k, v in data.items() if k not in known}
        return cls(names, coef, intercept, str(data.get("label", "label")), meta, encoding)

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """Load ``model.json`` from a model directory or the file itself."""
        p = Path(path)
        if p.is_dir():
            p = p / "model.json"
        try:
            data = json.loads(p.read_text())
        except OSError as exc:
            raise DataError(f"cannot read model {p}: {exc.strerror or exc}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"model {p} is not valid JSON: {exc}") from exc
        return cls.from_json(data, str(p))
