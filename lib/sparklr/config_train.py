"""The checks of the objective's and optimizer's train.* keys and of the tune.* keys (called
from :func:`sparklr.config.validate_fit`); each failure is a ConfigError naming the key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sparklr.config_data import require as _require
from sparklr.inference import choose_method as choose_inference
from sparklr.optimizers import MOMENTA
from sparklr.tuning.cv import METRIC_SIGN, RULES

if TYPE_CHECKING:
    from sparklr.config import Config, TuneSection

#: tune.metric and tune.rule values: those sparklr.tuning.cv knows.
CV_METRICS = tuple(METRIC_SIGN)
CV_RULES = RULES


def validate_tune(u: TuneSection) -> None:
    """The tune.* keys: the path's λ values, the folds, the metric and the rule."""
    bad = [v for v in u.reg_params if not 0 <= v < float("inf")]
    _require(not bad, "tune.reg_params", f"must be finite numbers ≥ 0, got {bad}")
    _require(u.path == 0 or u.path >= 2, "tune.path", f"must be 0 or ≥ 2, got {u.path}")
    _require(not (u.path and u.reg_params), "tune.path", "and tune.reg_params cannot both be set")
    _require(0 < u.path_ratio < 1, "tune.path_ratio", f"must be in (0, 1), got {u.path_ratio}")
    _require(
        u.folds == 0 or 2 <= u.folds <= 100,
        "tune.folds",
        f"must be 0 or in [2, 100], got {u.folds}",
    )
    _require(
        not u.folds or u.path or u.reg_params,
        "tune.folds",
        "needs the λ values to cross-validate: set tune.path or tune.reg_params",
    )
    _require(u.seed >= 0, "tune.seed", f"must be ≥ 0, got {u.seed}")
    _require(
        u.metric in CV_METRICS,
        "tune.metric",
        f"must be one of {', '.join(CV_METRICS)}; got {u.metric!r}",
    )
    _require(
        u.rule in CV_RULES, "tune.rule", f"must be one of {', '.join(CV_RULES)}; got {u.rule!r}"
    )


def validate_objective(config: Config) -> None:
    """The optimizer and objective keys: what the optimizers need, checked before they run
    (they take plain arguments and know no keys)."""
    d, t = config.data, config.train
    _require(
        t.momentum in MOMENTA,
        "train.momentum",
        f"must be one of {', '.join(MOMENTA)}; got {t.momentum!r}",
    )
    _require(
        not (t.line_search and t.momentum == "nesterov"),
        "train.line_search",
        'cannot be combined with train.momentum = "nesterov" (which uses the fixed step)',
    )
    _require(
        0 <= t.reg_param < float("inf"),
        "train.reg_param",
        f"must be a finite number ≥ 0, got {t.reg_param!r}",
    )
    _require(
        0 <= t.elastic_net <= 1, "train.elastic_net", f"must be in [0, 1], got {t.elastic_net!r}"
    )
    _require(
        t.class_weight in ("none", "balanced"),
        "train.class_weight",
        f'must be "none" or "balanced", got {t.class_weight!r}',
    )
    _require(
        t.init in ("seed", "log_odds"),
        "train.init",
        f'must be "seed" or "log_odds", got {t.init!r}',
    )
    _require(t.lbfgs_memory > 0, "train.lbfgs_memory", f"must be > 0, got {t.lbfgs_memory}")
    _require(
        t.aggregation_depth >= 1,
        "train.aggregation_depth",
        f"must be ≥ 1, got {t.aggregation_depth}",
    )
    _require(0 < t.ci_level < 1, "train.ci_level", f"must be in (0, 1), got {t.ci_level!r}")
    # fisher/robust with a penalty or class weights: a ConfigError naming the reason.
    choose_inference(t.inference, reg_param=t.reg_param, class_weighted=t.class_weight != "none")
    _require(
        not (t.optimizer == "newton" and t.reg_param > 0 and t.elastic_net > 0),
        "train.optimizer",
        "= newton does not support an L1 penalty (train.elastic_net > 0 with "
        "train.reg_param > 0); use lbfgs (OWL-QN) or gd (proximal step)",
    )
    if d.weight:
        _require(d.weight != d.label, "data.weight", f"is the label column {d.label!r}")
        _require(
            d.weight not in d.features, "data.weight", f"column {d.weight!r} is also a feature"
        )
