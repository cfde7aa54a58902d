"""sparklr.spark.session without a JVM: stop_session with pyspark's real accumulator server and
a connected client (as the JVM's) behind a stand-in session; the lazy session and the warm-up
while the context starts, with stand-ins for pyspark's classes; the JIT compilers' priority,
with a stand-in /proc."""

from __future__ import annotations

import copy
import socket
import threading
import time

import pytest
from pyspark import accumulators
from sparklr.spark import session as S
from sparklr.spark.session import stop_session


class _Context:
    def __init__(self, server):
        self._accumulatorServer = server


class _Session:
    """What stop_session touches: sparkContext and stop(), which pyspark's stop() would be:
    it shuts the context's accumulator server down (and waits) when it still has one."""

    def __init__(self, server):
        self.sparkContext = _Context(server)
        self.stopped = False

    def stop(self):
        server = self.sparkContext._accumulatorServer
        if server is not None:
            server.shutdown()
        self.stopped = True


def _serving():
    server = accumulators._start_update_server("token", is_unix_domain_sock=False)
    client = socket.create_connection(server.server_address)  # the handler now polls it
    time.sleep(0.05)
    return server, client


def test_a_session_stops_without_waiting_for_the_accumulator_servers_poll():
    server, client = _serving()
    slow = _Session(server)
    started = time.perf_counter()
    slow.stop()  # pyspark's way: waits for the handler's 1 s poll
    waited = time.perf_counter() - started
    client.close()
    assert waited > 0.2

    server, client = _serving()
    threads = set(threading.enumerate())
    session = _Session(server)
    started = time.perf_counter()
    stop_session(session)
    assert time.perf_counter() - started < 0.1 < waited
    assert session.stopped and session.sparkContext._accumulatorServer is None
    (stopper,) = set(threading.enumerate()) - threads
    stopper.join(timeout=3)
    assert not stopper.is_alive()  # the server was shut down after all
    assert server.socket.fileno() == -1  # and closed
    client.close()


class _Recorder:
    """A stand-in SparkContext (or session) that records its stop()."""

    def __init__(self, **attributes):
        self.__dict__.update(attributes)
        self.stopped = 0

    def stop(self):
        self.stopped += 1

    def setLogLevel(self, level):
        self.level = level


def _fake_builder(monkeypatch, made: list):
    class Builder:
        def getOrCreate(self):
            made.append(_Recorder(read="the session's reader"))
            return made[-1]

    class FakeSparkSession:
        builder = Builder()

        @staticmethod
        def getActiveSession():
            return None

    monkeypatch.setattr(S, "SparkSession", FakeSparkSession)


def test_a_lazy_session_is_made_on_first_use_and_only_once(monkeypatch):
    made = []
    _fake_builder(monkeypatch, made)
    sc = _Recorder()
    spark = S.LazySession(sc)
    assert spark.sparkContext is sc and not spark.started and made == []
    assert spark.read == "the session's reader"
    assert spark.started and len(made) == 1
    assert spark.read == "the session's reader" and len(made) == 1
    spark.stop()
    assert made[0].stopped == 1 and sc.stopped == 0  # the session stops its context


def test_a_lazy_session_never_used_stops_its_context(monkeypatch):
    made = []
    _fake_builder(monkeypatch, made)
    sc = _Recorder()
    S.LazySession(sc).stop()
    assert sc.stopped == 1 and made == []
    copied = copy.copy(S.LazySession(sc))  # copy's lookups are not the session's
    assert copied.sparkContext is sc and not copied.started
    with pytest.raises(AttributeError):
        S.LazySession(sc).__no_such_hook__  # noqa: B018
    assert made == []


def test_the_warm_up_runs_while_the_context_starts_and_its_errors_are_ignored(monkeypatch):
    made = []
    _fake_builder(monkeypatch, made)
    warmed = threading.Event()
    started = []

    class FakeSparkContext:
        _active_spark_context = None

        @staticmethod
        def getOrCreate(conf):
            # the JVM's start: the warm-up runs meanwhile, on another thread
            started.append(warmed.wait(timeout=10))
            return _Recorder()

    def failing():
        raise RuntimeError("not installed")

    monkeypatch.setattr(S, "SparkContext", FakeSparkContext)
    monkeypatch.setattr(S, "_import_py4j_converter", lambda: None)
    spark = S.start_spark("local[1]", "t", "ERROR", while_starting=[failing, warmed.set])
    assert started == [True] and spark.sparkContext.level == "ERROR"
    assert not spark.started and made == []


class _Master:
    def __init__(self, master):
        self.master = master


def _fake_proc(root, pid: int, comm: str, threads: dict[int, str]):
    (root / str(pid)).mkdir(parents=True)
    (root / str(pid) / "comm").write_text(comm + "\n")
    for tid, name in threads.items():
        (root / str(pid) / "task" / str(tid)).mkdir(parents=True)
        (root / str(pid) / "task" / str(tid) / "comm").write_text(name + "\n")


def test_the_local_jvms_jit_compiler_threads_and_only_they_are_reniced(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(S.os, "setpriority", lambda which, who, nice: calls.append((who, nice)))
    monkeypatch.setattr(S.os, "getppid", lambda: 4242)  # no gateway: as under spark-submit
    monkeypatch.setattr(S.SparkContext, "_gateway", None, raising=False)
    threads = {10: "java", 11: "C2 CompilerThre", 12: "C1 CompilerThre", 13: "Executor task l"}
    _fake_proc(tmp_path, 4242, "java", threads)
    assert S.yield_jit_to_workers(_Master("local[2]"), str(tmp_path)) == 2
    assert sorted(calls) == [(11, S.JIT_NICE), (12, S.JIT_NICE)]

    calls.clear()  # a cluster's executors do not share the driver's cores: nothing changes
    assert S.yield_jit_to_workers(_Master("spark://127.0.0.1:7077"), str(tmp_path)) == 0
    assert calls == []


def test_no_jit_threads_are_reniced_when_the_driver_is_not_a_jvm(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(S.os, "setpriority", lambda which, who, nice: calls.append(who))
    monkeypatch.setattr(S.os, "getppid", lambda: 4242)
    monkeypatch.setattr(S.SparkContext, "_gateway", None, raising=False)
    _fake_proc(tmp_path, 4242, "bash", {11: "C2 CompilerThre"})
    assert S.yield_jit_to_workers(_Master("local[2]"), str(tmp_path)) == 0
    assert S.yield_jit_to_workers(_Master("local[2]"), str(tmp_path / "absent")) == 0
    assert calls == []
