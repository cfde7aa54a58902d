"""Driver-side optimizers. Each sees only :class:`sparklr.objective.LogisticObjective`.

``get(name)`` returns the optimizer ``train.optimizer`` names; all share one signature
(:class:`~sparklr.optimizers.base.Optimizer`)::

    state = get(name)(objective, state, options=OptimizerOptions(...), stop=StopRule(...),
                      callback=...)
"""

from sparklr.optimizers import gd, lbfgs, newton
from sparklr.optimizers.base import (
    IterationRecord,
    Optimizer,
    OptimizerOptions,
    OptimizerState,
    StopRule,
    separation_detected,
)
from sparklr.optimizers.gd import gradient_descent

#: name → optimizer; config.OPTIMIZERS lists the same names.
REGISTRY: dict[str, Optimizer] = {"gd": gd.run, "lbfgs": lbfgs.run, "newton": newton.run}


def get(name: str) -> Optimizer:
    """The optimizer called ``name`` (one of :data:`REGISTRY`)."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise ValueError(f"unknown optimizer {name!r}; choose one of {known}") from None


__all__ = [
    "REGISTRY",
    "IterationRecord",
    "Optimizer",
    "OptimizerOptions",
    "OptimizerState",
    "StopRule",
    "get",
    "gradient_descent",
    "separation_detected",
]
