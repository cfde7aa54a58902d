"""K-fold cross-validation over a regularization path, on the objective's interface (NumPy
only; the data stay where they are).

The folds are fixed in the data (:mod:`sparklr.tuning.folds`): row i belongs to fold f_i. For
fold k, J_k is J over the training part f ≠ k — the same J of :mod:`sparklr.objective` with
the sample weights v ⊙ [f ≠ k], so m_k = Σ_{f_i ≠ k} v_i — and its path (each λ warm-started
from the previous optimum, :func:`sparklr.tuning.path.fit_path`) is scored on the held-out
part f = k: per (λ, fold) the metric M_{λk} ("log_loss" = Σ L / rows or "auc", unweighted per
row, as the model's metrics).

Standardization and class weights are the full data's for every fold (glmnet's convention):
the build gathers the moments per block, not per fold, so per-fold moments would cost another
pass; with the full data's x̃ the folds' penalties act on the same scale, and λ means the same
thing in every fold and in the final refit.

Choice of λ (lower is better: log-loss, or −AUC), with the mean M̄_λ over the folds and its
standard error se_λ = sd_λ / √K (sd with ddof = 1):

* ``"min"``: λ̂ = argmin M̄_λ (the largest such λ on ties);
* ``"1se"``: the largest λ with M̄_λ ≤ M̄_λ̂ + se_λ̂ (glmnet's lambda.1se: the simplest model
  within one standard error of the best).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sparklr.kernels import FISHER, BlockSums, ScoreSummary
from sparklr.objective import LogisticObjective
from sparklr.tuning.path import Fit, fit_path

#: tune.metric → +1 when lower is better, −1 when higher is.
METRIC_SIGN = {"log_loss": 1.0, "auc": -1.0}
RULES = ("min", "1se")


class FoldedSource(Protocol):
    """Data whose rows carry fold ids: sums over a fold's training part, scores over its
    held-out part (:class:`sparklr.spark.blockset.BlockSet` built with ``folds``)."""

    n_features: int
    folds: int

    def sums(
        self,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool = False,
        class_weight: tuple[float, float] | None = None,
        curvature: str = FISHER,
        fold: int | None = None,
    ) -> BlockSums: ...

    def score_summary(
        self, w: np.ndarray, b: float, *, fold: int | None = None, held_out: bool = True
    ) -> ScoreSummary: ...


class FoldSource:
    """The :class:`~sparklr.objective.SumsSource` of fold ``fold``'s training part (f ≠ k)."""

    def __init__(self, source: FoldedSource, fold: int):
        self.source = source
        self.fold = fold
        self.n_features = source.n_features

    def sums(
        self,
        w: np.ndarray,
        b: float,
        *,
        hessian: bool = False,
        class_weight: tuple[float, float] | None = None,
        curvature: str = FISHER,
    ) -> BlockSums:
        return self.source.sums(
            w, b, hessian=hessian, class_weight=class_weight, curvature=curvature, fold=self.fold
        )


@dataclass(frozen=True)
class CvResult:
    """The held-out metric per (λ, fold), and the λ chosen from it."""

    #: The λ values, decreasing.
    reg_params: np.ndarray
    #: M_{λk}: one row per λ, one column per fold (NaN where undefined: AUC of one class).
    values: np.ndarray
    metric: str
    rule: str
    #: Index of the chosen λ.
    chosen: int

    @property
    def mean(self) -> np.ndarray:
        return np.nanmean(self.values, axis=1)

    @property
    def sd(self) -> np.ndarray:
        return np.nanstd(self.values, axis=1, ddof=1)

    @property
    def se(self) -> np.ndarray:
        return self.sd / np.sqrt(np.sum(np.isfinite(self.values), axis=1))

    @property
    def chosen_reg_param(self) -> float:
        return float(self.reg_params[self.chosen])


def choose(reg_params: np.ndarray, values: np.ndarray, metric: str, rule: str) -> int:
    """Index of the λ the rule picks (module docstring) from M (one row per λ)."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    lam = np.asarray(reg_params, dtype=np.float64)
    loss = METRIC_SIGN[metric] * np.asarray(values, dtype=np.float64)
    mean = np.nanmean(loss, axis=1)
    best_mean = np.min(mean)
    ties = np.flatnonzero(mean == best_mean)
    best = int(ties[np.argmax(lam[ties])])
    if rule == "min":
        return best
    k = np.sum(np.isfinite(loss[best]))
    se = float(np.nanstd(loss[best], ddof=1)) / np.sqrt(k)
    within = np.flatnonzero(mean <= best_mean + se)
    return int(within[np.argmax(lam[within])])


def fold_objective(objective: LogisticObjective, source: FoldedSource, fold: int):
    """J over fold ``fold``'s training rows, with ``objective``'s feature map (the full data's
    standardization), class weight, mix and λ."""
    return LogisticObjective(
        FoldSource(source, fold),
        objective.feature_map,
        reg_param=objective.reg_param,
        elastic_net=objective.elastic_net,
        class_weight=objective.class_weight,
    )


def held_out_metric(summary: ScoreSummary, metric: str) -> float:
    """The metric of a held-out :class:`~sparklr.kernels.ScoreSummary` (NaN when undefined)."""
    value = summary.metrics()[metric]
    return float("nan") if value is None else float(value)


def cross_validate(
    objective: LogisticObjective,
    source: FoldedSource,
    reg_params: Sequence[float],
    fit: Fit,
    theta0: np.ndarray,
    *,
    metric: str = "log_loss",
    rule: str = "min",
) -> CvResult:
    """For each fold k: the warm-started path of J_k from ``theta0`` over ``reg_params``,
    each point scored on fold k's held-out rows; then the rule's choice of λ."""
    lambdas = np.array(sorted(reg_params, reverse=True), dtype=np.float64)
    values = np.full((len(lambdas), source.folds), np.nan)
    for k in range(source.folds):
        points = fit_path(fold_objective(objective, source, k), lambdas, fit, theta0)
        for i, point in enumerate(points):
            w, b = objective.feature_map.to_raw(point.theta)
            values[i, k] = held_out_metric(source.score_summary(w, b, fold=k), metric)
    return CvResult(lambdas, values, metric, rule, choose(lambdas, values, metric, rule))
