"""Tables larger than memory: partitions kept in files, paged through a budget.

With ``table_storage`` set to a folder, every partitioned table is a ``.npy``
file there, in partition order (partition p is the row slice
``offsets[p]:offsets[p+1]``, contiguous on disk).  :class:`PagedStore` holds
at most ``budget`` bytes of partitions in memory, in buffers of its own: a
block gets its partitions read in (``pread``) before it trains, and when the
next block needs room the least recently used partition that no running
block needs is written back (``pwrite``) and dropped.  The budget is a hard
limit, unlike a memory map's resident pages, which the kernel keeps or drops
as it likes and which make RSS meaningless; loads, write-backs and bytes
moved are counted.  The schedule decides the order, so a paged run trains
bitwise the tables of the same run in memory (same P, same schedule).

GLOBAL tables (relations ...) are small and stay in memory, with lane copies
as in :class:`~.store.HostStore`.

:func:`~.trainer.init_tables` writes the initial tables into the folder (the
same values as in memory), and :func:`row_order_file` writes a finished table
back in row-id order through a bounded window.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from typing import Mapping

import numpy as np

from ..errors import ParameterError
from ..models.spec import GLOBAL
from .store import HostStore, Layout


def table_path(folder: str, name: str, suffix: str = "") -> str:
    return os.path.join(folder, f"{name}{suffix}.npy")


def transfer(fd: int, buf: np.ndarray, offset: int, write: bool) -> None:
    """Read the file's bytes at ``offset`` into ``buf`` (or write ``buf`` there),
    looping over short reads and writes."""
    view = memoryview(buf if not write else np.ascontiguousarray(buf)).cast("B")
    call, what = (os.pwritev, "write") if write else (os.preadv, "read")
    done = 0
    while done < len(view):
        n = call(fd, [view[done:]], offset + done)
        if n <= 0:
            raise OSError(f"short {what} at byte {offset + done}")
        done += n


class PagedStore(HostStore):
    """Partitioned tables in files, at most ``budget`` bytes of them in memory.

    ``tables``: the in-memory GLOBAL tables; ``files``: name -> ``.npy`` path
    of every partitioned stored table (partition order).  A block's
    partitions stay pinned from :meth:`block` until :meth:`release`; a block
    that cannot get room waits for running blocks to release theirs."""

    def __init__(self, layout: Layout, tables: Mapping[str, np.ndarray],
                 constants: Mapping[str, tuple], files: Mapping[str, str], budget: int):
        self.layout = layout
        self._constants = dict(constants)
        self._tables = {t.name: tables[t.name] for t in layout.storage if t.role == GLOBAL}
        self._copies = {name: np.empty((layout.num_lanes,) + a.shape, dtype=a.dtype)
                        for name, a in self._tables.items()}
        self._files = {}
        for name, path in files.items():
            mm = np.load(path, mmap_mode="r")
            self._files[name] = (path, os.open(path, os.O_RDWR), int(mm.offset),
                                 int(mm.shape[1]))
            del mm
        self.budget = int(budget)
        self._cache: OrderedDict = OrderedDict()     # piece -> buffer
        self._pins: dict = {}
        self._dirty: set = set()                     # handed to a block since written
        self._bytes = 0
        self._cond = threading.Condition()
        self.loads = self.writebacks = self.evictions = 0
        self.bytes_read = self.bytes_written = 0
        self.io_seconds = 0.0
        self._future: list = []     # the episode's blocks still to come, in order
        need = max(self._block_bytes(i, j) for i in range(layout.num_partitions)
                   for j in range(layout.num_partitions))
        if need > self.budget:
            raise ParameterError("train", "table_memory",
                                 f"at least {need:,} bytes (the partitions one block needs); "
                                 "use more partitions or a larger table_memory", self.budget)

    # -- pieces -------------------------------------------------------------------
    def _pieces(self, i: int, j: int) -> list:
        lay = self.layout
        out = []
        for t in lay.tables:
            if t.role == GLOBAL:
                continue
            key = (lay.source(t), lay.part_for(t, i, j))
            if key not in out:
                out.append(key)
        return out

    def _nbytes(self, piece) -> int:
        rows = self.layout.rows(piece[1])
        return (rows.stop - rows.start) * self._files[piece[0]][3] * 4

    def _block_bytes(self, i: int, j: int) -> int:
        return sum(self._nbytes(p) for p in self._pieces(i, j))

    def _offset(self, piece) -> int:
        _, _, base, width = self._files[piece[0]]
        return base + self.layout.rows(piece[1]).start * width * 4

    def _load(self, piece) -> np.ndarray:
        rows = self.layout.rows(piece[1])
        width = self._files[piece[0]][3]
        buf = np.empty((rows.stop - rows.start, width), dtype=np.float32)
        t0 = time.perf_counter()
        transfer(self._files[piece[0]][1], buf, self._offset(piece), write=False)
        self.io_seconds += time.perf_counter() - t0
        self.loads += 1
        self.bytes_read += buf.nbytes
        return buf

    def _write_back(self, piece, buf) -> None:
        t0 = time.perf_counter()
        transfer(self._files[piece[0]][1], buf, self._offset(piece), write=True)
        self.io_seconds += time.perf_counter() - t0
        self.writebacks += 1
        self.bytes_written += buf.nbytes

    def _evict(self, piece) -> None:
        buf = self._cache.pop(piece)
        if piece in self._dirty:
            self._write_back(piece, buf)
            self._dirty.discard(piece)
        self.evictions += 1
        self._bytes -= buf.nbytes

    # -- blocks ---------------------------------------------------------------------
    def expect(self, blocks) -> None:
        """The blocks of the episode in the order they will (about) be asked
        for: eviction then drops the partition needed furthest in the future
        (Belady's rule; never again first), not the least recently used."""
        with self._cond:
            self._future = [(int(i), int(j)) for i, j in blocks]

    def _victim(self, candidates: list):
        """The candidate partition whose next use is furthest away."""
        if not self._future:
            return candidates[0]                   # least recently used
        left = set(candidates)
        for i, j in self._future:
            for p in self._pieces(i, j):
                left.discard(p)
            if len(left) <= 1:
                break
        return next(p for p in candidates if p in left) if left else candidates[-1]

    def block(self, i: int, j: int, slot: int) -> tuple[dict, dict]:
        """``(tables, constants)`` of block (i, j): its partitions read in (and
        pinned until :meth:`release`), the GLOBAL tables' lane copies."""
        need = self._pieces(i, j)
        with self._cond:
            while True:
                missing = sum(self._nbytes(p) for p in need if p not in self._cache)
                free = self.budget - self._bytes
                spare = sum(b.nbytes for p, b in self._cache.items()
                            if p not in need and not self._pins.get(p))
                if missing <= free + spare:
                    break
                self._cond.wait()      # running blocks hold the rest: wait for one
            if (i, j) in self._future:
                del self._future[:self._future.index((i, j)) + 1]
            for p in need:
                self._pins[p] = self._pins.get(p, 0) + 1
                self._dirty.add(p)
            for p in need:
                if p in self._cache:
                    self._cache.move_to_end(p)
                    continue
                size = self._nbytes(p)
                while self._bytes + size > self.budget:
                    self._evict(self._victim([q for q in self._cache if q not in need
                                              and not self._pins.get(q)]))
                self._cache[p] = self._load(p)
                self._bytes += size
            got = {p: self._cache[p] for p in need}
        lay = self.layout
        return lay.block_views(i, j, slot, lambda name, p: got[(name, p)], self._copies,
                               self._constants)

    def release(self, i: int, j: int, slot: int) -> None:
        with self._cond:
            for p in self._pieces(i, j):
                self._pins[p] -= 1
            self._cond.notify_all()

    # -- results --------------------------------------------------------------------
    def flush(self) -> None:
        """Write every cached partition back (they stay cached)."""
        with self._cond:
            for piece, buf in self._cache.items():
                if piece in self._dirty:
                    self._write_back(piece, buf)
            self._dirty.clear()

    def tables(self) -> dict:
        """The stored tables by name (partition order): read-only memory maps
        of the files, after a flush, and the in-memory GLOBAL tables."""
        self.flush()
        out = {name: np.load(path, mmap_mode="r") for name, (path, *_) in self._files.items()}
        out.update(self._tables)
        return out

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._cache.clear()
            self._bytes = 0
            for name, (path, fd, *_rest) in list(self._files.items()):
                if fd >= 0:
                    os.close(fd)
                self._files[name] = (path, -1, *_rest)

    def sample_rows(self, k: int, seed: int) -> dict:
        """Up to ``k`` rows of every cached partition, and the GLOBAL tables (a
        cheap check for NaNs that reads nothing from disk)."""
        rng = np.random.default_rng(seed)
        out = {}
        with self._cond:
            items = [(f"{piece[0]}[{piece[1]}]", buf) for piece, buf in self._cache.items()]
        for name, buf in items:
            if buf.shape[0] > k:
                buf = buf[np.sort(rng.choice(buf.shape[0], k, replace=False))]
            out[name] = buf
        out.update(self._tables)
        return out

    @property
    def counters(self) -> dict:
        return {"partition_loads": self.loads, "partition_evictions": self.evictions,
                "bytes_paged_in": self.bytes_read, "bytes_paged_out": self.bytes_written,
                "paging_seconds": self.io_seconds}


def row_order_file(src: np.ndarray, order: np.ndarray, path: str,
                   window_bytes: int = 1 << 28) -> np.ndarray:
    """Write ``src`` (storage order: ``src[k]`` is row ``order[k]``) to the
    ``.npy`` file ``path`` in row order, a window of rows at a time (each
    window gathers its rows from ``src`` in file order); returns the new file
    as a read-only memory map."""
    n, d = src.shape
    where = np.empty(n, dtype=np.int64)
    where[order] = np.arange(n, dtype=np.int64)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=src.dtype, shape=(n, d))
    step = max(1, window_bytes // max(1, d * src.dtype.itemsize))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        pos = where[lo:hi]
        by_file = np.argsort(pos, kind="stable")
        buf = np.empty((hi - lo, d), dtype=src.dtype)
        buf[by_file] = src[pos[by_file]]
        out[lo:hi] = buf
    out.flush()
    del out
    return np.load(path, mmap_mode="r")
