"""spark-submit entry point; the job itself is sparklr.app.make_data (see its docstring)."""

import sys

from sparklr.app.make_data import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
