"""The block files: where a block's arrays live on its executor, and how they are written,
memory-mapped and deleted. No other module knows their names.

Layout. A block is a few named NumPy arrays (a dense block: X, y and, with weights, v), each
in its own ``.npy`` file::

    <local dir>/sparklr-blocks/<dataset>/part-NNNNN.<array>.npy

``<local dir>`` is the executor's first SPARK_LOCAL_DIRS entry (Spark's block manager
directory of the application, which Spark removes at exit; /tmp without it), ``<dataset>``
is unique per build and NNNNN is the partition. The common prefix
``<local dir>/sparklr-blocks/<dataset>/part-NNNNN`` is the block's *path*: it names the block
everywhere else (``BlockMeta.path``), and :func:`location` turns it into "host:local dir".

Writing (:class:`BlockWriter`). Each array goes to a temporary file first (streamed row by row,
or saved whole) and is renamed into place by :meth:`BlockWriter.commit`, so a block file is
either complete or absent; whatever was not committed is removed.

Mapping (:func:`open_block`). Each Python worker keeps ONE cache of the blocks it has mapped,
read-only (the pages are the executor's page cache, shared by all its workers: a mapping costs
address space, not memory). One rule decides whether a cached block is still good: every one
of its files (X, y and v alike) still exists with the inode it was mapped from. Otherwise the
cache misses even while this worker still maps the old inode: a replaced file is mapped anew,
a deleted one makes the block a miss (None: the driver rebuilds); and the mappings of the
other cached blocks that fail the rule are dropped, so that they do not keep the space of
vanished files alive.
"""

from __future__ import annotations

import glob
import mmap as mmap_module
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

#: The directory under the executor's local dir that holds all datasets' blocks.
BLOCKS_DIR = "sparklr-blocks"


def local_root() -> str:
    """This executor's local directory (the first of SPARK_LOCAL_DIRS; /tmp without it)."""
    return os.environ.get("SPARK_LOCAL_DIRS", "/tmp").split(",")[0]


def local_dir_of(path: str) -> str:
    """The executor local directory that holds the block ``path``."""
    return os.path.dirname(os.path.dirname(os.path.dirname(path)))


def location(host: str, path: str) -> str:
    """ "host:local dir" of the block ``path`` built on ``host``: one key per executor."""
    return f"{host}:{local_dir_of(path)}"


def _array_file(path: str, name: str) -> str:
    return f"{path}.{name}.npy"


def block_files(path: str) -> list[str]:
    """The files of the block ``path`` that exist on this machine (temporary ones included)."""
    if not path:  # the meta of a block that could not be read
        return []
    return sorted(glob.glob(f"{glob.escape(path)}.*.npy"))


def file_bytes(path: str) -> int:
    """Bytes on disk of the block ``path`` (its files' sizes; 0 when they are gone)."""
    total = 0
    for file in block_files(path):
        try:
            total += os.path.getsize(file)
        except OSError:  # removed meanwhile
            pass
    return total


def delete_block(path: str) -> int:
    """Remove the block's files (and its dataset directory once empty), forget its mapping in
    this worker; returns the number of files removed."""
    removed = 0
    for file in block_files(path):
        try:
            os.remove(file)
            removed += 1
        except FileNotFoundError:
            pass
    _OPEN.pop(path, None)
    try:
        os.rmdir(os.path.dirname(path))
    except OSError:  # not empty (other blocks of the dataset), or gone
        pass
    return removed


def read_block(path: str, names: Sequence[str]) -> dict[str, np.ndarray]:
    """In-memory copies of the block's arrays ``names`` (FileNotFoundError when one is gone)."""
    return {name: np.load(_array_file(path, name), allow_pickle=False) for name in names}


class BlockWriter:
    """The files of one block being written (see module docstring). As a context manager,
    removes on exit every file that :meth:`commit` did not rename into place."""

    def __init__(self, dataset_id: str, partition: int):
        directory = os.path.join(local_root(), BLOCKS_DIR, dataset_id)
        os.makedirs(directory, exist_ok=True)
        #: The block's path (see module docstring).
        self.path = os.path.join(directory, f"part-{partition:05d}")
        self._pending: dict[str, str] = {}  # array name → its temporary file
        self._streams: dict[str, BinaryIO | GrowingArray] = {}

    def __enter__(self) -> BlockWriter:
        return self

    def __exit__(self, *exc) -> None:
        for name in list(self._pending):
            self.discard(name)

    def stream(self, name: str, dtype: str, shape: tuple[int, ...]) -> BinaryIO:
        """A file to append the C-order bytes of array ``name`` to, its ``.npy`` header written.

        (Plain writes: filling a fresh file through a shared memory map costs a page fault and
        a filesystem callback per page, measured 3-10x slower.)"""
        out = open(self._new_file(name), "wb")  # closed by map, commit or discard
        self._streams[name] = out
        header = {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(out, header)
        return out

    def stream_growing(self, name: str, dtype: str) -> GrowingArray:
        """A file for the 1-d array ``name`` whose length is known only at the end (a CSR
        block's indices and values): appended to, its header written when it is closed."""
        out = GrowingArray(self._new_file(name), dtype)
        self._streams[name] = out
        return out

    def map(self, name: str) -> np.ndarray:
        """The pending array ``name``, complete, memory-mapped read-only."""
        self._close(name)
        return np.load(self._pending[name], mmap_mode="r").view(np.ndarray)

    def save(self, name: str, array: np.ndarray) -> None:
        """Write ``array`` as the pending array ``name`` (replacing a pending one)."""
        np.save(self._new_file(name), array, allow_pickle=False)

    def discard(self, name: str) -> None:
        """Forget the pending array ``name`` and remove its file."""
        self._close(name)
        file = self._pending.pop(name, None)
        if file is not None and os.path.exists(file):
            os.remove(file)

    def commit(self) -> None:
        """Rename every pending array into place."""
        for name, file in self._pending.items():
            self._close(name)
            os.replace(file, _array_file(self.path, name))
        self._pending.clear()

    def _new_file(self, name: str) -> str:
        # a fresh name: a mapping of the previous file stays valid after it is removed
        self.discard(name)
        file = self._pending[name] = f"{self.path}.{name}.{uuid.uuid4().hex}.tmp.npy"
        return file

    def _close(self, name: str) -> None:
        out = self._streams.pop(name, None)
        if out is not None:
            out.close()


class GrowingArray:
    """An ``.npy`` file of a 1-d array appended to in pieces: a fixed-size header slot is
    reserved first and filled with the final length on :meth:`close` (the ``.npy`` format
    allows a header padded with spaces; 128 bytes keeps the data 64-byte aligned)."""

    HEADER_BYTES = 128

    def __init__(self, file: str, dtype: str):
        self._out = open(file, "wb")  # closed by close
        self._out.write(b"\0" * self.HEADER_BYTES)
        self.dtype = np.dtype(dtype)
        self.length = 0

    def write(self, array: np.ndarray) -> None:
        data = np.ascontiguousarray(array, dtype=self.dtype)
        self._out.write(data.data)
        self.length += len(data)

    def close(self) -> None:
        if self._out.closed:
            return
        text = repr({"descr": self.dtype.str, "fortran_order": False, "shape": (self.length,)})
        prefix = b"\x93NUMPY\x01\x00"
        size = self.HEADER_BYTES - len(prefix) - 2
        header = text.encode("latin1").ljust(size - 1) + b"\n"
        self._out.seek(0)
        self._out.write(prefix + size.to_bytes(2, "little") + header)
        self._out.close()


@dataclass(frozen=True)
class _Mapped:
    """A cached block: its arrays by name, and the inodes of their files when mapped."""

    arrays: dict[str, np.ndarray]
    inodes: tuple[int, ...]


# The worker's cache of mapped blocks: path → _Mapped (see module docstring). Any idle worker
# may get any partition, so a worker ends up mapping each block of its executor once.
_OPEN: dict[str, _Mapped] = {}


def _inodes(path: str, names: Sequence[str]) -> tuple[int, ...] | None:
    """The inodes of the block's files ``names``; None when one of them is gone."""
    try:
        return tuple(os.stat(_array_file(path, name)).st_ino for name in names)
    except FileNotFoundError:
        return None


def _map(file: str) -> np.ndarray:
    """Memory-map a .npy file read-only, as a plain ndarray (not np.memmap: slicing and ufuncs
    on a memmap go through Python-level hooks on every chunk), and ask the kernel to read ahead."""
    mm = np.load(file, mmap_mode="r")
    base = getattr(mm, "_mmap", None)
    if base is not None and hasattr(base, "madvise") and hasattr(mmap_module, "MADV_WILLNEED"):
        try:
            base.madvise(mmap_module.MADV_WILLNEED)
        except OSError:
            pass
    return mm.view(np.ndarray)


def open_block(path: str, names: Sequence[str]) -> tuple[dict[str, np.ndarray], bool] | None:
    """(arrays by name, newly mapped) of the block ``path``, mapped once per worker; None when
    one of its files ``names`` is gone. Applies the cache rule of the module docstring."""
    for other, mapped in list(_OPEN.items()):
        if other != path and _inodes(other, tuple(mapped.arrays)) != mapped.inodes:
            del _OPEN[other]
    inodes = _inodes(path, names)
    if inodes is None:
        _OPEN.pop(path, None)
        return None
    cached = _OPEN.get(path)
    if cached is not None and cached.inodes == inodes and tuple(cached.arrays) == tuple(names):
        return cached.arrays, False
    arrays = {name: _map(_array_file(path, name)) for name in names}
    _OPEN[path] = _Mapped(arrays, inodes)
    return arrays, True


def open_block_count() -> int:
    """How many blocks this worker holds mapped."""
    return len(_OPEN)
