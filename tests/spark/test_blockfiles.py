"""The block files (sparklr.spark.blockfiles), in this process: layout, the atomic write, the
one worker cache and its invalidation rule, deletion."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sparklr.spark import blockfiles
from sparklr.spark.blockfiles import BlockWriter

NAMES = ("X", "y", "v")


@pytest.fixture(autouse=True)
def local_dir(tmp_path, monkeypatch):
    """A fresh executor local dir and an empty worker cache for every test."""
    monkeypatch.setenv("SPARK_LOCAL_DIRS", f"{tmp_path}/local,{tmp_path}/other")
    monkeypatch.setattr(blockfiles, "_OPEN", {})
    return tmp_path / "local"


def write_block(partition: int = 3, k: float = 1.0) -> str:
    X = k * np.arange(12.0).reshape(4, 3)
    with BlockWriter("dataset", partition) as writer:
        writer.save("X", X)
        writer.save("y", np.array([0.0, 1.0, 1.0, 0.0]))
        writer.save("v", np.full(4, k))
        writer.commit()
    return writer.path


def replace_array(path: str, name: str, array: np.ndarray) -> None:
    """What a rebuild does to one file: a new file renamed over the old one (a new inode)."""
    with BlockWriter("dataset", int(path[-5:])) as writer:
        writer.save(name, array)
        writer.commit()


def test_layout_and_location(local_dir):
    path = write_block(partition=3)
    assert path == f"{local_dir}/sparklr-blocks/dataset/part-00003"
    assert blockfiles.local_root() == str(local_dir)  # the first of SPARK_LOCAL_DIRS
    assert blockfiles.local_dir_of(path) == str(local_dir)
    assert blockfiles.location("node1", path) == f"node1:{local_dir}"
    assert blockfiles.block_files(path) == [f"{path}.{name}.npy" for name in ("X", "v", "y")]
    sizes = [os.path.getsize(f) for f in blockfiles.block_files(path)]
    assert blockfiles.file_bytes(path) == sum(sizes)
    assert blockfiles.file_bytes(path) > 12 * 8 + 4 * 8 + 4 * 8  # the arrays and their headers


def test_nothing_is_in_place_before_commit_and_pending_files_are_removed():
    with BlockWriter("dataset", 0) as writer:
        out = writer.stream("X", "float32", (2, 3))
        out.write(np.arange(6, dtype=np.float32).data)
        np.testing.assert_array_equal(writer.map("X"), np.arange(6.0).reshape(2, 3))
        writer.save("y", np.zeros(2))
        pending = blockfiles.block_files(writer.path)
        assert len(pending) == 2 and all(f.endswith(".tmp.npy") for f in pending)
    assert blockfiles.block_files(writer.path) == []  # never committed: removed on exit


def test_a_failed_write_leaves_no_files():
    with pytest.raises(RuntimeError, match="boom"), BlockWriter("dataset", 1) as writer:
        writer.save("y", np.zeros(2))
        writer.stream("X", "float64", (2, 1))
        raise RuntimeError("boom")
    assert blockfiles.block_files(writer.path) == []


def test_streamed_array_is_committed_in_place_with_its_dtype():
    with BlockWriter("dataset", 2) as writer:
        out = writer.stream("X", "float32", (2, 2))
        out.write(np.array([[1, 2], [3, 4]], dtype=np.float32).data)
        writer.save("X", np.ones((1, 2)))  # a rewrite replaces the pending array
        writer.commit()
    X = blockfiles.read_block(writer.path, ["X"])["X"]
    assert X.dtype == np.float64 and X.tolist() == [[1.0, 1.0]]
    assert blockfiles.block_files(writer.path) == [f"{writer.path}.X.npy"]


def test_a_block_is_mapped_once_per_worker():
    path = write_block()
    arrays, opened = blockfiles.open_block(path, NAMES)
    assert opened and blockfiles.open_block_count() == 1
    assert not arrays["X"].flags.writeable and not isinstance(arrays["X"], np.memmap)
    again, opened = blockfiles.open_block(path, NAMES)
    assert not opened and again["X"] is arrays["X"]


@pytest.mark.parametrize("name", NAMES)
def test_a_replaced_file_is_a_cache_miss(name):
    path = write_block()
    old, _ = blockfiles.open_block(path, NAMES)
    before = old[name].copy()
    replace_array(path, name, np.full_like(old[name], 9.0))
    new, opened = blockfiles.open_block(path, NAMES)
    assert opened  # remapped, not served from the stale mapping of the old inode
    assert (new[name] == 9.0).all()
    np.testing.assert_array_equal(old[name], before)  # the old mapping was not altered


@pytest.mark.parametrize("name", NAMES)
def test_a_deleted_file_is_a_miss(name):
    path = write_block()
    assert blockfiles.open_block(path, NAMES) is not None
    os.remove(f"{path}.{name}.npy")
    assert blockfiles.open_block(path, NAMES) is None
    assert blockfiles.open_block_count() == 0  # its mapping was dropped


@pytest.mark.parametrize("name", NAMES)
def test_mappings_of_other_blocks_with_vanished_files_are_dropped(name):
    stale, kept = write_block(partition=0), write_block(partition=1)
    blockfiles.open_block(stale, NAMES)
    blockfiles.open_block(kept, NAMES)
    os.remove(f"{stale}.{name}.npy")
    assert blockfiles.open_block_count() == 2
    assert blockfiles.open_block(kept, NAMES)[1] is False  # the other block is still a hit
    assert blockfiles.open_block_count() == 1


def test_delete_block_removes_files_directory_and_mapping(local_dir):
    path = write_block()
    blockfiles.open_block(path, NAMES)
    assert blockfiles.delete_block(path) == 3
    assert blockfiles.open_block_count() == 0
    assert not os.path.exists(os.path.dirname(path))
    assert blockfiles.delete_block(path) == 0  # already gone
    assert blockfiles.delete_block("") == 0  # the meta of an unreadable block has no path


def test_read_block_returns_copies():
    path = write_block(k=2.0)
    arrays = blockfiles.read_block(path, ["X", "y"])
    assert sorted(arrays) == ["X", "y"]
    np.testing.assert_array_equal(arrays["X"], 2.0 * np.arange(12.0).reshape(4, 3))
    arrays["X"][0, 0] = -1.0  # a private copy: writable, and the file keeps its value
    assert blockfiles.read_block(path, ["X"])["X"][0, 0] == 0.0
    with pytest.raises(FileNotFoundError):
        blockfiles.read_block(path, ["X", "w"])
