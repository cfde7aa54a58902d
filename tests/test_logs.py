"""Progress reporting: a redrawn bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import io
import logging

from sparklr.logs import ProgressLog
from sparklr.optimizers.base import IterationRecord, OptimizerState


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(progress: ProgressLog, iterations: int, stop_at: int | None = None) -> None:
    state = OptimizerState(iteration=0, theta=None)
    for k in range(iterations + 1):
        state.iteration = k
        if k == (stop_at if stop_at is not None else iterations):
            state.stop_reason = "converged"
        progress(state, IterationRecord(k, 0.7 / (k + 1), 1.0 / (k + 1), 0.1, 0.01, 0.8))
        if state.stop_reason:
            return


def test_plain_stream_gets_periodic_log_lines(caplog):
    log = logging.getLogger("sparklr.test.progress")
    stream = io.StringIO()
    with caplog.at_level(logging.INFO, logger="sparklr.test.progress"):
        run(ProgressLog(log, max_iter=100, stream=stream), 100, stop_at=57)
    lines = [r.getMessage() for r in caplog.records]
    # every max_iter // 20 = 5 iterations (0, 5, ..., 55) and the last one
    assert [int(m.split()[1].split("/")[0]) for m in lines] == [*range(0, 56, 5), 57]
    assert "eta≤" in lines[0] and "J=0.7 " in lines[0]
    assert lines[-1].endswith("(converged)") and "eta" not in lines[-1]
    assert stream.getvalue() == ""  # no bar


def test_terminal_gets_a_bar_redrawn_in_place_and_one_final_log_line(caplog):
    log = logging.getLogger("sparklr.test.progress")
    stream = Terminal()
    progress = ProgressLog(log, max_iter=40, stream=stream)
    progress.BAR_REFRESH = 0.0  # draw every iteration
    with caplog.at_level(logging.INFO, logger="sparklr.test.progress"):
        run(progress, 40, stop_at=20)
    out = stream.getvalue()
    assert out.count("\r") == 21 and out.endswith("\n") and out.count("\n") == 1
    last = out.split("\r")[-1]
    assert last.startswith("[" + "#" * 24 + "] 20/40") and "done" in last
    assert "[" + "#" * 12 + "." * 12 + "] 20/40" not in out  # the final draw is full
    assert "] 10/40" in out and "eta≤" in out
    assert [r.getMessage().split()[1] for r in caplog.records] == ["20/40"]


def test_bar_redraws_are_throttled():
    stream = Terminal()
    progress = ProgressLog(logging.getLogger("sparklr.test.progress"), 1000, stream=stream)
    progress.BAR_REFRESH = 3600.0
    run(progress, 500)
    assert stream.getvalue().count("\r") == 2  # the first draw and the final one
