"""spark-submit entry point; the benchmark itself is sparklr.bench (see its docstring)."""

import sys

from sparklr.bench.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
