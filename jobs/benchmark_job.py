"""Entry point of the job-level benchmark; see sparklr.bench.job."""

import sys

from sparklr.bench.job import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
