"""spark-submit entry point; the job itself is sparklr.app.benchmark (see its docstring)."""

import sys

from sparklr.app.benchmark import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
