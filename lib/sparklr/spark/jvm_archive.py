"""A class-data archive for the driver JVM that this Python process launches (AppCDS).

Starting Spark from Python spends most of its seconds loading classes: on the 2-core test
machine the gateway, the SparkContext and the SparkSession took ~6.3 s, ~3.6 s when the
classes come mapped from an archive (Java's dynamic class-data sharing, JDK 13+). So a
driver JVM launched by :func:`sparklr.spark.session.build_session` (plain ``python``, local
masters: laptops, tests, Airflow's local tasks; under ``spark-submit`` the JVM is running
before any of our code) gets

* ``-XX:SharedArchiveFile=<archive>`` when the archive exists: classes mapped, not parsed;
* else ``-XX:ArchiveClassesAtExit=<archive>.<pid>.tmp`` for one launch at a time (an
  exclusive lock file): that JVM writes the archive when it exits, and this process, at its
  own exit, ends the JVM, waits for it and moves the finished file into place (an atomic
  rename, :func:`finish_archive`); a launch never maps a file still being written.

The archive lives in ``$SPARKLR_JVM_ARCHIVE_DIR`` (default ``$XDG_CACHE_HOME/sparklr`` or
``~/.cache/sparklr``; "off" disables it), under a key that changes with the java binary and
Spark's jars, so an upgrade makes a new one. ``-Xshare:auto`` (Java's default) makes a JVM
that cannot map an archive run without it; ``-Xlog:cds*=off`` keeps Java's notes about it off
the job's output. When the directory cannot be written, nothing is added.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ENV = "SPARKLR_JVM_ARCHIVE_DIR"
#: Seconds after which a writer's lock is treated as abandoned (its JVM died before writing).
STALE_LOCK_SECONDS = 600
_QUIET = "-Xlog:cds*=off"


def archive_dir() -> Path | None:
    """Where archives are kept (module docstring); None when disabled."""
    configured = os.environ.get(ENV, "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "sparklr"


def archive_key(java: str | None, jars: Path | None) -> str:
    """A name that changes with the java binary (path, size, time) and Spark's jars."""
    digest = hashlib.sha256()
    for path in [Path(java)] if java else []:
        real = path.resolve()
        stat = real.stat()
        digest.update(f"{real}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    if jars is not None and jars.is_dir():
        for jar in sorted(jars.glob("*.jar")):
            digest.update(f"{jar.name}:{jar.stat().st_size}".encode())
    return f"jvm-{digest.hexdigest()[:16]}"


def java_options(directory: Path | None = None) -> tuple[str, Path | None]:
    """(the JVM options of the module docstring, the archive this launch writes or None);
    ("", None) when disabled or not writable."""
    directory = directory if directory is not None else archive_dir()
    java = _java()
    if directory is None or java is None:
        return "", None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        base = directory / archive_key(java, _spark_jars())
        archive = base.with_suffix(".jsa")
        if archive.is_file():
            return f"-XX:SharedArchiveFile={archive} {_QUIET}", None
        if _take_lock(base.with_suffix(".lock")):
            tmp = Path(f"{base}.{os.getpid()}.tmp")
            return f"-XX:ArchiveClassesAtExit={tmp} {_QUIET}", tmp
    except OSError:
        pass
    return "", None


def finish_archive(tmp: Path, jvm, timeout: float = 120.0) -> None:
    """At this process's exit: end the driver JVM ``jvm`` (a Popen whose stdin is its
    lifeline, as pyspark launches it), wait for it to write ``tmp``, then move ``tmp`` into
    place and drop the lock. Best effort: on any failure the next launch runs without."""
    base = tmp.with_name(tmp.name.split(".")[0])
    try:
        if jvm is not None and jvm.poll() is None:
            if jvm.stdin is not None:
                jvm.stdin.close()
            jvm.wait(timeout=timeout)
        if tmp.is_file() and tmp.stat().st_size > 0:
            os.replace(tmp, base.with_suffix(".jsa"))
    except Exception:  # an optimization: never fail the job's exit
        pass
    finally:
        tmp.unlink(missing_ok=True)
        base.with_suffix(".lock").unlink(missing_ok=True)


def ensure_archive() -> Path | None:
    """The archive, made first by one child process's launch (and stop) of a driver JVM when
    there is none yet: for benchmarks, whose every leg then starts as a user's second run
    does. None when disabled or when it could not be made."""
    directory, java = archive_dir(), _java()
    if directory is None or java is None:
        return None
    archive = (directory / archive_key(java, _spark_jars())).with_suffix(".jsa")
    if not archive.is_file():
        lib = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([lib, os.environ.get("PYTHONPATH", "")]))
        launch = "from sparklr.spark.session import build_session as b; b('local[1]').stop()"
        subprocess.run([sys.executable, "-c", launch], env=env, capture_output=True, check=False)
    return archive if archive.is_file() else None


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    return shutil.which("java")


def _spark_jars() -> Path | None:
    try:
        import pyspark
    except ImportError:
        return None
    return Path(pyspark.__file__).parent / "jars"


def _take_lock(lock: Path) -> bool:
    """True when this process may write the archive (one writer at a time)."""
    try:
        if time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
            lock.unlink(missing_ok=True)
    except FileNotFoundError:
        pass
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    return True
