"""Logging that reads well in a Spark driver log and in Airflow: one line per event,
timestamped like Spark's own log4j lines, on stderr; and the progress reporter."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

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
    """Optimizer callback reporting progress: J, ‖∇J‖, time per iteration, elapsed, ETA.

    * ``stream`` (default stderr) is a terminal: a one-line progress bar redrawn in place
      (``\r``, at most ``BAR_REFRESH`` times a second), ended with a newline and one INFO line
      when the run stops.
    * Otherwise (Airflow logs, spark-submit on a cluster, a pipe): one INFO line every
      ``every`` iterations (0 = about 20 lines per run) and one at the end.

    ETA assumes the run goes to ``max_iter``; a converging run ends sooner.
    """

    BAR_WIDTH = 24
    BAR_REFRESH = 0.2  # seconds between redraws

    def __init__(
        self,
        logger: logging.Logger,
        max_iter: int,
        every: int = 0,
        stream: TextIO | None = None,
        bar: bool | None = None,
    ):
        self.log = logger
        self.max_iter = max_iter
        self.every = every or max(1, max_iter // 20)
        self.stream = stream if stream is not None else sys.stderr
        self.bar = _is_terminal(self.stream) if bar is None else bar
        self.started = time.perf_counter()
        self.first_iteration: int | None = None
        self._last_draw = -float("inf")
        self._width = 0

    def __call__(self, state: OptimizerState, record: IterationRecord) -> None:
        if self.first_iteration is None:
            self.first_iteration = record.iteration
        done = state.stop_reason is not None
        now = time.perf_counter()
        elapsed = now - self.started
        per_iteration = elapsed / (record.iteration - self.first_iteration + 1)
        remaining = max(0, self.max_iter - record.iteration)
        if self.bar:
            if done or now - self._last_draw >= self.BAR_REFRESH:
                self._draw(record, per_iteration, elapsed, remaining, done)
                self._last_draw = now
            if not done:
                return
        elif not done and record.iteration % self.every:
            return
        eta = "" if done else f" eta≤{per_iteration * remaining:.1f}s"
        self.log.info(
            "iter %d/%d  J=%.10g  |grad|=%.3e  acc=%.4f  %.2fs/it  elapsed %.1fs%s%s",
            record.iteration,
            self.max_iter,
            record.loss,
            record.grad_norm,
            record.accuracy,
            per_iteration,
            elapsed,
            eta,
            f"  ({state.stop_reason})" if done else "",
        )

    def _draw(self, record, per_iteration, elapsed, remaining, done) -> None:
        fraction = 1.0 if done else min(1.0, record.iteration / max(1, self.max_iter))
        filled = round(fraction * self.BAR_WIDTH)
        bar = "#" * filled + "." * (self.BAR_WIDTH - filled)
        eta = "done" if done else f"eta≤{per_iteration * remaining:.0f}s"
        line = (
            f"\r[{bar}] {record.iteration}/{self.max_iter}  J={record.loss:.8g}  "
            f"|grad|={record.grad_norm:.2e}  {per_iteration:.2f}s/it  {elapsed:.0f}s  {eta}"
        )
        self.stream.write(line.ljust(self._width) + ("\n" if done else ""))
        self._width = len(line)
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False
