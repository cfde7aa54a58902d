"""Errors a run can end with, each mapped to the exit code a scheduler acts on.

| code | class              | meaning                                   | retry? |
|------|--------------------|-------------------------------------------|--------|
| 0    |                    | success                                   |        |
| 1    | (anything else)    | a bug in sparklr                          | no     |
| 2    | ConfigError        | bad configuration or command line         | no     |
| 3    | DataError          | bad input data                            | no     |
| 4    | DivergenceError    | training diverged or cannot converge      | no     |
| 5    | OutputError        | output exists / not writable              | no     |
| 6    | InfrastructureError| Spark/cluster failure (lost executors...) | yes    |
"""

from __future__ import annotations

import re


class SparklrError(Exception):
    """Base class: an expected failure with a one-line message and an exit code."""

    exit_code = 1


class ConfigError(SparklrError):
    exit_code = 2


class DataError(SparklrError):
    exit_code = 3


class DivergenceError(SparklrError):
    exit_code = 4


class OutputError(SparklrError):
    exit_code = 5


class InfrastructureError(SparklrError):
    exit_code = 6


#: Markers of a failure to read an input file, in the text of a Spark/Py4J exception.
READ_FAILURE_MARKERS = (
    "FAILED_READ_FILE",
    "CANNOT_READ_FILE_FOOTER",
    "MALFORMED_RECORD",
    "is not a Parquet file",
    "java.io.FileNotFoundException",
    "PATH_NOT_FOUND",
)


def first_message(exc: BaseException, limit: int = 400) -> str:
    """The first informative line of an exception's text (Py4J's "An error occurred while
    calling oNN.method." preamble, Java class prefixes and stack frames are skipped)."""
    text = str(exc)
    for raw in text.splitlines():
        line = raw.strip().lstrip(":").strip()
        if not line or line.startswith(("An error occurred while calling", "at ")):
            continue
        for prefix in ("org.apache.spark.SparkException: ", "org.apache.spark.SparkException:"):
            if line.startswith(prefix):
                line = line[len(prefix) :].strip()
        if line.startswith("Job aborted due to stage failure:") and "Exception:" in line:
            line = line.split("Exception:", 1)[1].strip() or line
        line = re.sub(r"\s*SQLSTATE: \w+\s*$", "", line).strip()
        cause = re.search(r"^Caused by: [\w.$]+: (.+)$", text, re.MULTILINE)
        if cause and "NO_HINT" in line:
            line = f"{line} ({cause.group(1).strip()})"
        raised = _python_worker_exception(text)
        if raised and "Python worker" in line:
            line = f"{line.rstrip(':. ')}: {raised}"
        return line[:limit]
    return type(exc).__name__


def _python_worker_exception(text: str) -> str | None:
    """The last ``Name: message`` line of the first Python traceback in ``text`` (what a
    Python worker raised), or None."""
    start = text.find("Traceback (most recent call last):")
    if start < 0:
        return None
    found = re.findall(r"^([A-Za-z_][\w.]*: .+)$", text[start:], re.MULTILINE)
    return found[-1].strip() if found else None


def is_read_failure(exc: BaseException) -> bool:
    """True when a Spark/Py4J exception says an input file could not be read or parsed."""
    text = str(exc)
    return any(marker in text for marker in READ_FAILURE_MARKERS)


def task_data_error(exc: BaseException) -> DataError | None:
    """The :class:`DataError` that sparklr code raised in a Spark task, recovered from the text
    of the exception that failed the job on the driver (the Python worker's traceback ends
    with ``sparklr.errors.DataError: <message>``); None when the job failed otherwise."""
    marker = re.escape(f"{DataError.__module__}.{DataError.__qualname__}: ")
    found = re.search(f"^{marker}(.+)$", str(exc), re.MULTILINE)
    return DataError(found.group(1).strip()) if found else None
