"""Entry point (plain python, no Spark needed); the job is sparklr.app.export_spark_ml."""

import sys

from sparklr.app.export_spark_ml import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
