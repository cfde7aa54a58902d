"""sparklr's Python daemon: pyspark's own, with each worker acknowledging its input at once
and collecting its garbage without re-scanning its whole heap after every task.

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

Why, the garbage. After every task a reused pyspark worker calls ``gc.collect()``, a full
collection that walks every object the worker holds: ~50,000 (pyspark, NumPy, sparklr's
modules) to ~80,000 (pyarrow and pandas, imported by a build task), 10-40 ms on a quiet core and
over 100 ms on a loaded one. It runs after the result is sent, so a lone job does not see it,
but the next iteration's task, submitted a few ms later, waits for it: measured in the training
job's session (make run's 200,000 × 10, load ≈ 25-45 on 2 cores), back-to-back passes took
234-307 ms, 92-150 ms with a pause before each, and 100-166 ms once the collection was cheap
(docs/performance.md).
:class:`Collector` keeps it cheap: after each task it collects the objects that are not
frozen, then freezes the survivors (``gc.freeze``: moved to a generation that collections skip),
so pyspark's collection that follows, and the next task's, walk only what a task created. A
frozen object that later becomes cyclic garbage waits for the full collection (unfreeze,
collect, freeze) every :data:`FULL_COLLECTION_EVERY` tasks; objects freed by their reference
count (a task's data) are freed at once either way.

How. Spark starts ``python -m <spark.python.daemon.module> <worker module>`` once per
executor (per Python executable and worker environment); :func:`main` runs
:func:`pyspark.daemon.manager` unchanged, except that the per-task function each forked worker
runs, ``pyspark.daemon.worker``, is wrapped by :func:`serve_task` (quick-ACK mode before the
task, :meth:`Collector.after_task` after it). Worker lifetime, reuse, idle reaping (the
executor closes workers idle for a minute) and the protocol are pyspark's.

The daemon starts before any task has put ``--py-files`` on ``sys.path``: Spark must find
this module through the executor Python's own path, and it imports only pyspark and the
standard library (see :mod:`sparklr.spark.session` for when sparklr's sessions use it).
"""

from __future__ import annotations

import gc
import socket

import pyspark.daemon

serve_pyspark_task = pyspark.daemon.worker

#: Tasks between the full collections of a worker (frozen objects included): at ~0.1 s per
#: iteration, one 10-40 ms collection every ~10 s.
FULL_COLLECTION_EVERY = 100


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


class Collector:
    """A worker's garbage collection between tasks (module docstring): every task's garbage is
    collected after it; the heap that survives is frozen and walked again only every
    ``full_every`` tasks."""

    def __init__(self, full_every: int = FULL_COLLECTION_EVERY):
        self.full_every = full_every
        self.tasks = 0

    def after_task(self) -> None:
        self.tasks += 1
        if self.tasks % self.full_every == 0:
            gc.unfreeze()
        gc.collect()
        gc.freeze()


#: The collector of this process (each forked worker has its own copy).
collector = Collector()


def serve_task(sock: socket.socket, authenticated: bool) -> int:
    """One task on a forked worker's connection (pyspark's), in quick-ACK mode; then the
    collection of what it left (:class:`Collector`)."""
    acknowledge_at_once(sock)
    code = serve_pyspark_task(sock, authenticated)
    collector.after_task()
    return code


def main() -> None:
    pyspark.daemon.worker = serve_task
    pyspark.daemon.manager()


if __name__ == "__main__":
    main()
