"""spark-submit entry point; see sparklr.bench.optimizers."""

import sys

from sparklr.bench.optimizers import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
