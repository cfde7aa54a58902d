"""Logging that reads well in a Spark driver log and in Airflow: one line per event,
timestamped like Spark's own log4j lines, on stderr; and the progress reporter."""

from __future__ import annotations

import logging
import sys
import time

from sparklr.optimizers.base import IterationRecord, OptimizerState

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATEFMT = "%y/%m/%d %H:%M:%S"


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, DATEFMT))
    root = logging.getLogger("sparklr")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # py4j logs every gateway call at INFO/DEBUG otherwise.
    logging.getLogger("py4j").setLevel(logging.WARNING)


class ProgressLog:
    """Optimizer callback: one INFO line every ``every`` iterations with J, ‖∇J‖, elapsed, ETA.

    ETA assumes the run goes to ``max_iter``; a converging run ends sooner.
    """

    def __init__(self, logger: logging.Logger, max_iter: int, every: int = 0):
        self.log = logger
        self.max_iter = max_iter
        self.every = every or max(1, max_iter // 20)
        self.started = time.perf_counter()
        self.first_iteration: int | None = None

    def __call__(self, state: OptimizerState, record: IterationRecord) -> None:
        if self.first_iteration is None:
            self.first_iteration = record.iteration
        done = state.stop_reason is not None
        if not done and record.iteration % self.every:
            return
        elapsed = time.perf_counter() - self.started
        ran = record.iteration - self.first_iteration + 1
        per_iteration = elapsed / ran
        eta = "" if done else f" eta≤{per_iteration * (self.max_iter - record.iteration):.1f}s"
        self.log.info(
            "iter %d/%d  J=%.10g  |grad|=%.3e  acc=%.4f  %.2fs/it  elapsed %.1fs%s",
            record.iteration,
            self.max_iter,
            record.loss,
            record.grad_norm,
            record.accuracy,
            per_iteration,
            elapsed,
            eta,
        )
