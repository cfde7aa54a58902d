"""stop_session (sparklr.spark.session), without a JVM: pyspark's real accumulator server with
a connected client (as the JVM's), behind a stand-in session."""

from __future__ import annotations

import socket
import threading
import time

from pyspark import accumulators
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
