"""sparklr: logistic regression trained by gradient descent on Apache Spark.

``from sparklr import LogisticRegression`` is the Python API (a ``pyspark.ml`` Estimator; see
:mod:`sparklr.estimator`); it is imported on first use, so ``import sparklr.config`` and the
jobs' other modules do not load ``pyspark.ml``.
"""

from typing import Any

__version__ = "0.1.0"

#: The Python API's names, loaded lazily from sparklr.estimator.
_API = ("LogisticRegression", "SparklrModel", "SparklrSummary")


def __getattr__(name: str) -> Any:
    if name in _API:
        from sparklr import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'sparklr' has no attribute {name!r}")


__all__ = ["__version__", *_API]
