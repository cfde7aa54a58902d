"""Driver-side optimizers. Each sees only :class:`sparklr.objective.LogisticObjective`."""

from sparklr.optimizers.base import IterationRecord, OptimizerState, StopRule
from sparklr.optimizers.gd import gradient_descent

__all__ = ["IterationRecord", "OptimizerState", "StopRule", "gradient_descent"]
