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
