"""Entry point of the sparse benchmark; see sparklr.bench.sparse."""

import sys

from sparklr.bench.sparse import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
