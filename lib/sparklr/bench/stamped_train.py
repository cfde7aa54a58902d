"""Run a checkout's ``jobs/train.py`` with a time stamp on every log line: seconds since this
process started (``python stamped_train.py TREE [train.py args]``). The phases of a run
(Python start, JVM start, load, training, metrics, publishing, stop) are then read off the
job's own log lines; the SparkContext's and the SparkSession's start (sparklr makes the session
on first use, so a job may have none) and their stop get a line each. Standard library and pyspark
only, so it runs against any checkout (``sparklr.bench.job --make-run``)."""

import logging
import runpy
import sys
import time

STARTED = time.perf_counter()


class _Stamped(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"@{record.created - _WALL0:8.3f} {record.levelname} {record.name}: " + (
            record.getMessage()
        )


_WALL0 = time.time() - (time.perf_counter() - STARTED)


def _stamp(event: str) -> None:
    print(f"@{time.time() - _WALL0:8.3f} STAMP {event}", file=sys.stderr, flush=True)


def _patch() -> None:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    context_init = SparkContext.__init__
    context_stop = SparkContext.stop

    def stamped_context_init(self, *args, **kwargs):
        _stamp("context start")
        context_init(self, *args, **kwargs)
        _stamp("context ready")

    def stamped_context_stop(self):
        _stamp("context stop")
        context_stop(self)
        _stamp("context stopped")

    SparkContext.__init__ = stamped_context_init
    SparkContext.stop = stamped_context_stop

    get_or_create = SparkSession.Builder.getOrCreate
    stop = SparkSession.stop

    def stamped_get_or_create(self):
        _stamp("session start")
        session = get_or_create(self)
        _stamp("session ready")
        return session

    def stamped_stop(self):
        _stamp("session stop")
        stop(self)
        _stamp("session stopped")

    SparkSession.Builder.getOrCreate = stamped_get_or_create
    SparkSession.stop = stamped_stop
    format_ = logging.Formatter.format
    logging.Formatter.format = lambda self, record: (
        _Stamped.format(self, record)
        if record.name.startswith("sparklr")
        else format_(self, record)
    )


if __name__ == "__main__":
    tree = sys.argv[1]
    sys.path.insert(0, f"{tree}/lib")
    _stamp("python up")
    _patch()
    sys.argv = [f"{tree}/jobs/train.py", *sys.argv[2:]]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        _stamp("exit")
