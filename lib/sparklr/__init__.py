"""sparklr: logistic regression trained by gradient descent on Apache Spark."""

__version__ = "0.1.0"
