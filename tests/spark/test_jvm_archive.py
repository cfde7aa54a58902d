"""The driver JVM's class-data archive (sparklr.spark.jvm_archive): one writer, an atomic
move into place after the JVM has exited, then every launch maps it."""

import subprocess
import sys

import pytest
from sparklr.spark import jvm_archive


def test_one_launch_writes_the_archive_and_the_next_ones_map_it(tmp_path):
    options, writing = jvm_archive.java_options(tmp_path)
    assert options.startswith(f"-XX:ArchiveClassesAtExit={writing} ")
    assert writing.parent == tmp_path and "-Xlog:cds*=off" in options
    assert jvm_archive.java_options(tmp_path) == ("", None)  # a second writer waits its turn
    # a stand-in JVM that writes the file when its stdin (its lifeline) closes
    script = f"import sys; sys.stdin.read(); open({str(writing)!r}, 'wb').write(b'archive')"
    jvm = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
    assert not list(tmp_path.glob("*.jsa"))  # nothing is mapped while it is being written
    jvm_archive.finish_archive(writing, jvm)
    assert jvm.returncode == 0
    (archive,) = tmp_path.glob("*.jsa")
    assert archive.read_bytes() == b"archive" and not list(tmp_path.glob("*.lock"))
    options, writing = jvm_archive.java_options(tmp_path)
    assert options == f"-XX:SharedArchiveFile={archive} -Xlog:cds*=off" and writing is None


def test_a_jvm_that_wrote_nothing_leaves_no_archive_and_frees_the_lock(tmp_path):
    _, writing = jvm_archive.java_options(tmp_path)
    jvm = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    jvm_archive.finish_archive(writing, jvm)
    assert not list(tmp_path.iterdir())
    assert jvm_archive.java_options(tmp_path)[1] is not None  # the next launch may write


def test_an_abandoned_lock_expires(tmp_path, monkeypatch):
    assert jvm_archive.java_options(tmp_path)[1] is not None  # a writer killed before its exit
    assert jvm_archive.java_options(tmp_path) == ("", None)
    monkeypatch.setattr(jvm_archive, "STALE_LOCK_SECONDS", -1)
    assert jvm_archive.java_options(tmp_path)[1] is not None


def test_the_key_follows_the_jars(tmp_path):
    jars = tmp_path / "jars"
    jars.mkdir()
    (jars / "spark-core.jar").write_bytes(b"1")
    before = jvm_archive.archive_key(sys.executable, jars)
    assert jvm_archive.archive_key(sys.executable, jars) == before
    (jars / "spark-core.jar").write_bytes(b"22")  # an upgrade
    assert jvm_archive.archive_key(sys.executable, jars) != before


@pytest.mark.parametrize("setting", ["off", "OFF"])
def test_it_can_be_switched_off(monkeypatch, setting):
    monkeypatch.setenv(jvm_archive.ENV, setting)
    assert jvm_archive.archive_dir() is None
    assert jvm_archive.java_options() == ("", None)


def test_an_unwritable_directory_adds_nothing(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    assert jvm_archive.java_options(blocked / "sub") == ("", None)
