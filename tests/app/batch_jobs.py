"""Run several training jobs in ONE Python process (one JVM), as ``jobs/train.py`` would.

    python tests/app/batch_jobs.py [--session local[2]] < cases.json > results.json

``cases.json`` is a list of cases: an argv list, or {"argv": [...], "copy": [[src, dst], ...]}
(files copied before the case runs). Each case goes through ``sparklr.app.train.main`` — the
function ``jobs/train.py`` hands to ``sys.exit`` — so the exit code, the one-line error on
stderr and the files left behind are the real job's. Sharing the process saves a JVM start
(10-40 s here) per case. Without ``--session`` each case creates and stops its own Spark
session; with ``--session MASTER`` one session is created first and shared (the job then uses
the active session, as it does inside a notebook). Prints a JSON list of
{"rc", "stderr", "stdout"} to the real stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys


def main() -> None:
    from sparklr.app.train import main as train_main

    session = None
    if len(sys.argv) == 3 and sys.argv[1] == "--session":
        from sparklr.spark.session import build_session

        session = build_session(sys.argv[2], "sparklr-batch", "ERROR")
    cases = json.load(sys.stdin)
    real_stdout = sys.stdout
    results = []
    for case in cases:
        if isinstance(case, dict):
            for src, dst in case.get("copy", []):
                shutil.copyfile(src, dst)
            argv = case["argv"]
        else:
            argv = case
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = train_main(list(argv))
        results.append({"rc": rc, "stderr": err.getvalue(), "stdout": out.getvalue()})
    json.dump(results, real_stdout)
    if session is not None:
        session.stop()


if __name__ == "__main__":
    main()
