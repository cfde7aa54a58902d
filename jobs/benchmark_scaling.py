"""Entry point of the scaling series; see sparklr.bench.scaling."""

import sys

from sparklr.bench.scaling import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
