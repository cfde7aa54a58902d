"""sparklr's Python daemon: pyspark's own, with each worker acknowledging its input at once.

Why. An executor talks to each Python worker over loopback TCP (unless
``spark.python.unix.domain.socket.enabled``). It writes a task's input in more than one write,
and its socket keeps Nagle's algorithm on: a small write waits until the previous one is
acknowledged. The worker, blocked reading, acknowledges only when Linux's delayed-ACK timer
fires, 40 ms later. So every task, hence every training iteration, waited ~40 ms for its
input (measured with ``jobs/probe_iteration.py``: an empty 2-task job 74 → 27 ms, one GD
iteration over 1,000 rows 79 → 33 ms at local[2]). A worker that asks its kernel for immediate
ACKs (``TCP_QUICKACK``) removes the wait. Linux leaves quick-ACK mode again once the
connection looks interactive (the worker answers what it read), so the option is set anew
before each task the worker serves.

How. Spark starts ``python -m <spark.python.daemon.module> <worker module>`` once per
executor (per Python executable and worker environment); :func:`main` runs
:func:`pyspark.daemon.manager` unchanged, except that the per-task function each forked worker
runs, ``pyspark.daemon.worker``, is wrapped by :func:`serve_task`. Worker lifetime, reuse,
idle reaping (the executor closes workers idle for a minute) and the protocol are pyspark's.

The daemon starts before any task has put ``--py-files`` on ``sys.path``: Spark must find
this module through the executor Python's own path, and it imports only pyspark and the
standard library (see :mod:`sparklr.spark.session` for when sparklr's sessions use it).
"""

from __future__ import annotations

import socket

import pyspark.daemon

serve_pyspark_task = pyspark.daemon.worker


def acknowledge_at_once(sock: socket.socket) -> bool:
    """Put a TCP connection in quick-ACK mode; False if this is not TCP on Linux."""
    quickack = getattr(socket, "TCP_QUICKACK", None)  # Linux only
    if quickack is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    try:
        sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)
    except OSError:
        return False
    return True


def serve_task(sock: socket.socket, authenticated: bool) -> int:
    """One task on a forked worker's connection (pyspark's), in quick-ACK mode."""
    acknowledge_at_once(sock)
    return serve_pyspark_task(sock, authenticated)


def main() -> None:
    pyspark.daemon.worker = serve_task
    pyspark.daemon.manager()


if __name__ == "__main__":
    main()
