"""Driver-side optimizers. Each sees only :class:`sparklr.objective.LogisticObjective`.

One iteration loop (:func:`sparklr.optimizers.driver.drive`) runs every method; a method is its
step (:class:`sparklr.optimizers.driver.Method`): gd (plain, Armijo line search, Nesterov),
lbfgs (OWL-QN with L1), newton. ``get(name)`` returns the optimizer ``train.optimizer`` names;
all share one signature (:class:`~sparklr.optimizers.base.Optimizer`)::

    state = get(name)(objective, state, options=OptimizerOptions(...), stop=StopRule(...),
                      callback=...)

The returned state carries the run's separation verdict (``state.separation``, see
:mod:`sparklr.optimizers.separation`).
"""

from sparklr.optimizers import gd, lbfgs, newton
from sparklr.optimizers.base import (
    LBFGS_MEMORY,
    IterationRecord,
    Optimizer,
    OptimizerOptions,
    OptimizerState,
    StopRule,
)
from sparklr.optimizers.driver import drive
from sparklr.optimizers.gd import MOMENTA, gradient_descent
from sparklr.optimizers.separation import SeparationVerdict, separation_detected

#: name → the method's step factory, (objective, options) → Method.
METHODS = {"gd": gd.method, "lbfgs": lbfgs.method, "newton": newton.method}


def _optimizer(make_method) -> Optimizer:
    """The :class:`Optimizer` that drives the step ``make_method`` builds."""

    def run(objective, state, *, options, stop, callback=None):
        return drive(objective, state, make_method(objective, options), stop, callback)

    return run


#: The optimizers that take a step size α (train.learning_rate); lbfgs and newton find their
#: steps by line search, so the job does not compute 1/L for them.
STEP_SIZE_OPTIMIZERS = ("gd",)

#: name → optimizer; config.OPTIMIZERS is derived from it.
REGISTRY: dict[str, Optimizer] = {name: _optimizer(make) for name, make in METHODS.items()}


def warm_start(state: OptimizerState, l2_change: float) -> OptimizerState:
    """The start for J at another λ from ``state``, the optimum at this one: its θ and the
    part of its memory still valid there — L-BFGS's (s, y) pairs, shifted to the new L2
    coefficient (:func:`~sparklr.optimizers.lbfgs.shift_pairs`), which spares the quasi-Newton
    method re-learning the curvature of the loss at every λ. A momentum or a step size
    belongs to its λ and is dropped."""
    return OptimizerState(0, state.theta.copy(), memory=lbfgs.shift_pairs(state.memory, l2_change))


def get(name: str) -> Optimizer:
    """The optimizer called ``name`` (one of :data:`REGISTRY`)."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        raise ValueError(f"unknown optimizer {name!r}; choose one of {known}") from None


__all__ = [
    "LBFGS_MEMORY",
    "MOMENTA",
    "REGISTRY",
    "STEP_SIZE_OPTIMIZERS",
    "IterationRecord",
    "Optimizer",
    "OptimizerOptions",
    "OptimizerState",
    "SeparationVerdict",
    "StopRule",
    "get",
    "gradient_descent",
    "separation_detected",
    "warm_start",
]
