"""spark-submit entry point; the job itself is sparklr.app.train (see its docstring)."""

import sys

from sparklr.app.train import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
