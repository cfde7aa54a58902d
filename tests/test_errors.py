"""sparklr.errors: recovering a DataError raised in a Spark task from the job's failure."""

from __future__ import annotations

from sparklr.errors import DataError, task_data_error

WORKER_TRACEBACK = """An exception was thrown from the Python worker.
Traceback (most recent call last):
  File "/x/scoring.py", line 258, in margins
    raise DataError(f"vector column {column!r}, partition {partition} {exc}") from None
sparklr.errors.DataError: vector column 'features', partition 1 row 7: vector size 2, but n_x = 3
"""


def test_a_data_error_raised_in_a_task_comes_back_with_its_message_and_exit_code():
    found = task_data_error(RuntimeError(WORKER_TRACEBACK))
    assert isinstance(found, DataError) and found.exit_code == 3
    assert str(found) == "vector column 'features', partition 1 row 7: vector size 2, but n_x = 3"


def test_other_failures_are_not_data_errors():
    assert task_data_error(RuntimeError("Job aborted: ExecutorLostFailure (executor 1)")) is None
    assert task_data_error(RuntimeError("raise DataError(...) in a line of code")) is None
