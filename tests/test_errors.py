"""sparklr.errors: recovering a DataError raised in a Spark task from the job's failure, and
the one-line message of a failure."""

from __future__ import annotations

from sparklr.errors import DataError, first_message, task_data_error

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


def test_the_message_of_a_python_worker_failure_names_what_the_worker_raised():
    text = (  # str() of the PythonException pyspark 4.3 raises on the driver
        "An exception was thrown from the Python worker:\nTraceback (most recent call last):\n"
        '  File ".../pyspark/worker.py", line 4220, in process\n'
        "    out_iter = func(init_info.split_index, iterator)\n"
        "               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        '  File "<stdin>", line 5, in f\n'
        "RuntimeError: injected fault at pass 7, partition 0"
    )
    assert first_message(RuntimeError(text)) == (
        "An exception was thrown from the Python worker: RuntimeError: injected fault at pass 7,"
        " partition 0"
    )
    assert first_message(RuntimeError(WORKER_TRACEBACK)) == (
        "An exception was thrown from the Python worker: sparklr.errors.DataError: vector"
        " column 'features', partition 1 row 7: vector size 2, but n_x = 3"
    )
    assert first_message(RuntimeError("Job aborted: ExecutorLostFailure (executor 1)")) == (
        "Job aborted: ExecutorLostFailure (executor 1)"
    )
