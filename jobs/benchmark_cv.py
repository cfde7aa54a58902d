"""Entry point of the cross-validation benchmark; see sparklr.bench.cv."""

import sys

from sparklr.bench.cv import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
