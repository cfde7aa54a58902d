"""Building the SparkSession with the settings sparklr relies on.

* Under ``spark-submit`` the master and all ``--conf`` values given there are kept; under plain
  ``python`` the master defaults to ``local[*]``.
* Local masters (``local``, ``local[N]``, ``local-cluster[...]``) bind the driver to 127.0.0.1,
  keep the Spark UI off unless ``spark.ui.enabled`` is set, and run the Python workers with
  this interpreter (``PYSPARK_PYTHON``) unless one is set already.
* BLAS in each Python worker uses ``spark.task.cpus`` threads (default 1) so that tasks do not
  oversubscribe the executor's cores.
* Spark's own log level is set to ``log_level`` (WARN by default).
* Python workers run under :mod:`sparklr.spark.daemon` (they acknowledge their input at once:
  ~40 ms less per job; and keep their heap frozen between tasks, so pyspark's collection after
  each task does not delay the next iteration), except when the code is shipped with
  ``--py-files``: executors start the daemon before any task has put those files on
  ``sys.path``, so they could not import it.

:func:`start_spark` gives a :class:`LazySession`: the SparkContext at once, the SparkSession on
first use. Creating a SparkSession costs ~2.2–2.4 s of JVM time here (Spark SQL's function
registry, and MLlib's session extension, which builds Scala's reflection universe), which a
job reading listed Parquet or synthetic rows never needs: all it runs is RDD jobs.
:func:`build_session` is the same with the session made at once.

:func:`yield_jit_to_workers` lowers the CPU priority of a local driver JVM's JIT compilers once
a job's data are loaded; :func:`stop_session` stops either kind of session without pyspark's
wait for its accumulator server.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence

from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession

log = logging.getLogger("sparklr.spark")

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def is_local_master(master: str) -> bool:
    return master.startswith("local")


def spark_running() -> bool:
    """True when this process has an active SparkContext (a job then leaves it running)."""
    return SparkContext._active_spark_context is not None


class LazySession:
    """A SparkSession made on first use (module docstring): ``sparkContext`` is there from the
    start; any other attribute (``read``, ``createDataFrame``, ``conf``, …) is the session's,
    which the first such access creates over the running context (with the context's
    settings: the SQL ones among them are the session's defaults)."""

    def __init__(self, sc: SparkContext, session: SparkSession | None = None):
        self.sparkContext = sc
        self._session = session

    @property
    def session(self) -> SparkSession:
        if self._session is None:
            self._session = SparkSession.builder.getOrCreate()
        return self._session

    @property
    def started(self) -> bool:
        """Whether the SparkSession has been made."""
        return self._session is not None

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "_session":  # copy, pickle: not the session's
            raise AttributeError(name)
        return getattr(self.session, name)

    def stop(self) -> None:
        """Stop the session when it was made, else the context."""
        if self._session is not None:
            self._session.stop()
        else:
            self.sparkContext.stop()


def build_session(
    master: str = "",
    app_name: str = "sparklr",
    log_level: str = "WARN",
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """Create (or return the active) SparkSession; see the module docstring."""
    return start_spark(master, app_name, log_level, conf).session


def start_spark(
    master: str = "",
    app_name: str = "sparklr",
    log_level: str = "WARN",
    conf: dict[str, str] | None = None,
    *,
    while_starting: Sequence[Callable[[], object]] = (),
) -> LazySession:
    """Start (or take the running) SparkContext with the settings of the module docstring;
    its SparkSession is made on first use (:class:`LazySession`), or is the active one.

    Starting the JVM takes seconds in which this process only waits: ``while_starting`` (each
    called once, its errors ignored: whoever needs the work does it again and sees them) and
    :func:`_import_py4j_converter` run then, on a daemon thread."""
    settings = _settings(master, app_name, dict(conf or {}))
    if SparkSession.getActiveSession() is not None:  # its runtime SQL settings are applied
        builder = SparkSession.builder
        for key, value in settings.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel(log_level)
        return LazySession(session.sparkContext, session)
    spark_conf = SparkConf()
    for key, value in settings.items():
        spark_conf.set(key, value)
    if not spark_running():
        warm_up = (_import_py4j_converter, *while_starting)
        warmer = threading.Thread(target=_call_all, args=(warm_up,), name="sparklr-warm-up")
        warmer.daemon = True
        warmer.start()
    sc = SparkContext.getOrCreate(spark_conf)
    sc.setLogLevel(log_level)
    return LazySession(sc)


def _import_py4j_converter() -> None:
    """What the context's first JVM call imports: pyspark's numpy converter for py4j asks
    ``pyspark.testing.utils`` whether numpy is there, and that module imports pandas to check
    its version (~0.5 s here)."""
    import pyspark.testing.utils  # noqa: F401


def _call_all(calls: Sequence[Callable[[], object]]) -> None:
    for call in calls:
        try:
            call()
        except Exception as exc:  # the caller's own later use raises it where it matters
            log.debug("warm-up %r failed: %s", call, exc)


def _settings(master: str, app_name: str, conf: dict[str, str]) -> dict[str, str]:
    """The context's settings over spark-submit's: sparklr's defaults where neither
    spark-submit nor ``conf`` sets them, then ``conf``."""
    launched_by_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    submitted_task_cpus = None
    py_files = conf.get("spark.submit.pyFiles", "")
    if launched_by_submit:
        SparkContext._ensure_initialized()
        submitted = SparkConf()
        effective_master = master or submitted.get("spark.master", "local[*]")
        has = submitted.contains
        submitted_task_cpus = submitted.get("spark.task.cpus", None)
        py_files = py_files or submitted.get("spark.submit.pyFiles", "")
    else:
        effective_master = master or "local[*]"

        def has(key: str) -> bool:
            return False

    settings: dict[str, str] = {"spark.app.name": app_name}
    if master or not launched_by_submit:
        settings["spark.master"] = effective_master
    defaults: dict[str, str] = {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.python.worker.reuse": "true",
    }
    if not py_files:
        defaults["spark.python.daemon.module"] = "sparklr.spark.daemon"
    # spark.task.cpus may come from the config or from spark-submit (--conf, properties file).
    task_cpus = conf.get("spark.task.cpus") or submitted_task_cpus or "1"
    for var in BLAS_THREAD_VARIABLES:
        defaults[f"spark.executorEnv.{var}"] = task_cpus
    if is_local_master(effective_master):
        defaults.update(
            {
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
            }
        )
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    settings.update({k: v for k, v in defaults.items() if k not in conf and not has(k)})
    settings.update(conf)
    return settings


#: The nice value of the local driver JVM's JIT compiler threads while a job iterates.
JIT_NICE = 19
#: How HotSpot names its JIT compiler threads (Linux truncates a thread's name to 15 bytes).
JIT_THREAD_PREFIXES = ("C1 CompilerThre", "C2 CompilerThre")


def yield_jit_to_workers(sc: SparkContext, proc_root: str = "/proc") -> int:
    """With a local master, put the driver JVM's JIT compiler threads at nice
    :data:`JIT_NICE` (Linux; elsewhere nothing): the number of threads changed.

    Why. In local mode the Python workers share the driver host's cores with the JVM, and its
    JIT keeps compiling long after start-up: over a 28 s cross-validation at 1M rows on 2 cores
    its C1 and C2 threads used 4.7 s of CPU that the workers' kernels waited for. At nice 19
    they compile on idle CPU (a thread made by one of them inherits its nice value). Called
    once the JVM reads no more data: a load through Spark SQL runs the JVM's own code hot, and
    there C2 is worth its CPU (C1 alone made a CSV load 45 % slower). The JVM is the one this
    process launched, or, under spark-submit, its parent; errors change nothing."""
    if not is_local_master(sc.master) or not os.path.isdir(proc_root):
        return 0
    pid = _driver_jvm_pid(proc_root)
    if pid is None:
        return 0
    changed = 0
    for tid, name in _thread_names(pid, proc_root):
        if name.startswith(JIT_THREAD_PREFIXES):
            try:
                os.setpriority(os.PRIO_PROCESS, tid, JIT_NICE)
            except OSError as exc:
                log.debug("cannot lower the priority of JVM thread %d: %s", tid, exc)
                continue
            changed += 1
    log.debug("JVM %d: %d JIT compiler thread(s) at nice %d", pid, changed, JIT_NICE)
    return changed


def _driver_jvm_pid(proc_root: str) -> int | None:
    """The driver JVM's pid: the gateway process pyspark launched, or the parent process under
    spark-submit; None when that is not a java process."""
    gateway = getattr(SparkContext, "_gateway", None)
    proc = getattr(gateway, "proc", None)
    pid = proc.pid if proc is not None else os.getppid()
    try:
        with open(f"{proc_root}/{pid}/comm") as comm:
            return pid if comm.read().strip() == "java" else None
    except OSError:
        return None


def _thread_names(pid: int, proc_root: str) -> list[tuple[int, str]]:
    """(thread id, name) of each thread of ``pid``."""
    out = []
    try:
        tids = os.listdir(f"{proc_root}/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"{proc_root}/{pid}/task/{tid}/comm") as comm:
                out.append((int(tid), comm.read().strip()))
        except (OSError, ValueError):
            continue
    return out


def stop_session(spark: SparkSession | LazySession) -> None:
    """``spark.stop()``, without waiting for pyspark's accumulator server to wind down.

    pyspark's ``SparkContext.stop()`` stops the JVM's context, then shuts down the driver's
    accumulator update server and waits for it: the server's one handler polls the JVM's
    connection with a 1 s timeout and sees the shutdown only after it (0.83 s of a 0.97 s stop
    here, at the end of every job). Here the server is detached before ``spark.stop()`` and
    shut down on a daemon thread after it: the context is stopped when this returns, the
    server's thread ends within ~1 s (or with the process). No accumulator update can arrive
    once the JVM's context has stopped. When pyspark has no such server (another version),
    this is ``spark.stop()``."""
    sc = spark.sparkContext
    server = getattr(sc, "_accumulatorServer", None)
    if server is not None:
        sc._accumulatorServer = None
    try:
        spark.stop()
    finally:
        if server is not None:
            threading.Thread(
                target=server.shutdown, name="sparklr-accumulator-stop", daemon=True
            ).start()
