"""sparklr.spark.daemon under the test session: it runs the workers, their connections are in
quick-ACK mode for every task, their heaps stay frozen between tasks (and the collector still
frees cycles), and they keep working across Spark's idle-worker reaping.

Each task inspects its own worker process: its parent (the daemon) and the TCP_QUICKACK state
of its loopback connection to the executor, read back with getsockopt (Linux only).
"""

from __future__ import annotations

import gc
import os
import socket
import sys
import time
import weakref

import pytest
from sparklr.spark.daemon import Collector, acknowledge_at_once

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="TCP_QUICKACK and /proc are Linux-only"
)

#: PythonWorkerFactory closes the workers once the factory has been idle for
#: IDLE_WORKER_TIMEOUT_NS (1 minute: a constant, no setting shortens it), checked by its monitor
#: thread every 10 s. The reaping test moves the factory's idle clock back past that timeout
#: instead of sleeping it out, then waits for the monitor's next round (bound, with margin):
REAPED_WITHIN = 30.0
_FACTORY = "org.apache.spark.api.python.PythonWorkerFactory"


def _worker_report(rows):
    """(worker pid, its parent's pid and command line, TCP_QUICKACK of each of its TCP sockets
    as the task starts, rows read)."""
    quickack = {}  # socket inode -> TCP_QUICKACK (the worker holds dups of its connection)
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
            if not target.startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(int(name)))
        except OSError:  # the fd of the listing itself is gone by now
            continue
        with sock:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                quickack[target] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK)
    count = sum(1 for _ in rows)  # consume the input, so the worker is reused
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
        parent = f.read().replace(b"\0", b" ").decode()
    return [(os.getpid(), os.getppid(), parent, tuple(quickack.values()), count)]


@pytest.fixture(scope="module")
def rows(spark):
    rdd = spark.sparkContext.parallelize(range(2), 2).cache()
    rdd.count()
    yield rdd
    rdd.unpersist()


def _reports(rows, jobs: int = 4) -> list[tuple]:
    return [r for _ in range(jobs) for r in rows.mapPartitions(_worker_report).collect()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_acknowledge_at_once_sets_quick_ack_on_tcp_and_leaves_unix_sockets_alone():
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname()):
            accepted, _ = server.accept()
            with accepted:
                accepted.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)  # delayed ACKs
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 0
                assert acknowledge_at_once(accepted)
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 1
    unix, other = socket.socketpair(socket.AF_UNIX)
    with unix, other:
        assert not acknowledge_at_once(unix)


def test_session_runs_workers_under_the_sparklr_daemon(spark, rows):
    assert spark.sparkContext.getConf().get("spark.python.daemon.module") == (
        "sparklr.spark.daemon"
    )
    parents = {parent for _, _, parent, _, _ in _reports(rows, jobs=1)}
    assert len(parents) == 1 and "-m sparklr.spark.daemon" in parents.pop(), parents


def test_every_task_finds_its_connection_in_quick_ack_mode(rows):
    reports = _reports(rows)
    assert len({pid for pid, *_ in reports}) < len(reports), "workers serve several tasks"
    for pid, _, _, quickack, count in reports:
        assert count == 1
        # one TCP connection (to the executor), in quick-ACK mode as every task starts: with
        # pyspark's own daemon it reads 0 (delayed ACKs: the input waits ~40 ms)
        assert quickack == (1,), f"worker {pid}: TCP_QUICKACK {quickack}"


def _age_idle_clocks_past_the_reaping_timeout(spark) -> None:
    """Set each worker factory's last activity IDLE_WORKER_TIMEOUT_NS + 1 s into the past: to
    its monitor thread the idle workers have now sat idle longer than the timeout (Spark 4.x's
    PythonWorkerFactory: each factory's monitor thread holds it; ``lastActivityNs`` is private
    in Scala, public in the bytecode under its expanded name)."""
    jvm = spark.sparkContext._jvm
    monitors = [
        thread
        for thread in jvm.java.lang.Thread.getAllStackTraces().keySet()
        if thread.getClass().getName() == f"{_FACTORY}$MonitorThread"
    ]
    assert monitors, "no PythonWorkerFactory monitor thread: Spark's idle reaping has moved"
    timeout_ns = jvm.org.apache.spark.api.python.PythonWorkerFactory.IDLE_WORKER_TIMEOUT_NS()
    expanded = _FACTORY.replace(".", "$")
    for monitor in monitors:
        factory = getattr(monitor, f"{expanded}$MonitorThread$$$outer")()
        set_last_activity = getattr(factory, f"{expanded}$$lastActivityNs_$eq")
        set_last_activity(jvm.java.lang.System.nanoTime() - timeout_ns - 10**9)


def test_workers_come_back_tuned_after_sparks_idle_reaping(spark, rows):
    """Jobs before and after an idle gap that outlasts the only idle timeout on this path
    (Spark's idle-worker reaping, see REAPED_WITHIN; ``spark.python.worker.idleTimeoutSeconds``
    is off by default and watches running tasks only; the daemon has none). The gap is
    Spark's own view of it: the factory's idle clock, aged past the timeout; the reaping is
    Spark's (its monitor thread). An hour-long run repeats this cycle."""
    before = _reports(rows)
    workers = {pid for pid, *_ in before}
    daemons = {ppid for _, ppid, *_ in before}
    _age_idle_clocks_past_the_reaping_timeout(spark)
    deadline = time.monotonic() + REAPED_WITHIN
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"idle workers {workers} not reaped"
        time.sleep(0.2)
    after = _reports(rows)
    assert {pid for pid, *_ in after}.isdisjoint(workers), "new workers after the gap"
    assert {ppid for _, ppid, *_ in after} == daemons, "the same daemon forked them"
    assert [(q, c) for *_, q, c in after] == [((1,), 1)] * len(after)


def _freeze_count(rows):
    count = sum(1 for _ in rows)  # consume the input, so the worker is reused
    return [(os.getpid(), gc.get_freeze_count(), count)]


def test_reused_workers_keep_their_heap_frozen_between_tasks(rows):
    """After its first task a worker's surviving heap is frozen (Collector), so pyspark's
    collection after each task walks only what that task created."""
    reports = [r for _ in range(4) for r in rows.mapPartitions(_freeze_count).collect()]
    seen: set[int] = set()
    for pid, frozen, _ in reports:
        if pid in seen:
            assert frozen > 10_000, f"worker {pid}: only {frozen} objects frozen"
        seen.add(pid)
    assert len(seen) < len(reports), "workers serve several tasks"


class _Node:
    """A self-referencing object: only the cycle collector can free it."""

    def __init__(self):
        self.me = self


@pytest.fixture
def manual_gc():
    """Automatic collections off and nothing frozen, restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    gc.unfreeze()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


def test_collector_frees_each_tasks_cycles_and_frozen_ones_at_the_full_collection(manual_gc):
    collector = Collector(full_every=3)
    kept = _Node()
    kept_ref = weakref.ref(kept)
    collector.after_task()  # task 1: `kept` survives it, so it is frozen
    assert gc.get_freeze_count() > 0
    garbage = _Node()
    garbage_ref = weakref.ref(garbage)
    del garbage, kept  # a young cycle, and a frozen one, both unreachable now
    collector.after_task()  # task 2: its own garbage goes, the frozen cycle waits
    assert garbage_ref() is None
    assert kept_ref() is not None
    collector.after_task()  # task 3: the full collection
    assert kept_ref() is None
    assert gc.get_freeze_count() > 0
