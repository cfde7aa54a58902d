"""spark-submit entry point; see sparklr.app.benchmark_optimizers."""

import sys

from sparklr.app.benchmark_optimizers import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
