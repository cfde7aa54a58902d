"""Run several training jobs in ONE Python process (one JVM), as ``jobs/train.py`` would.

    python tests/app/batch_jobs.py < cases.json > results.json

``cases.json`` is a list of argv lists. Each case goes through ``sparklr.app.train.main`` — the
function ``jobs/train.py`` hands to ``sys.exit`` — so the exit code, the one-line error on
stderr and the files left behind are the real job's. Sharing the process saves a JVM start
(10-40 s here) per case; the Spark session itself is still created and stopped by each case.
Prints a JSON list of {"rc", "stderr", "stdout"} to the real stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys


def main() -> None:
    from sparklr.app.train import main as train_main

    cases = json.load(sys.stdin)
    real_stdout = sys.stdout
    results = []
    for argv in cases:
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = train_main(list(argv))
        results.append({"rc": rc, "stderr": err.getvalue(), "stdout": out.getvalue()})
    json.dump(results, real_stdout)


if __name__ == "__main__":
    main()
