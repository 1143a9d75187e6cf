"""Partition stores: where a run's tables live, and the partitions a block gets.

Tables are stored in *partition order* (see
:class:`~vitegraph.partition.Partition`): partition p of a partitioned table is
the row slice ``offsets[p]:offsets[p+1]``.  A block (i, j) needs, for each of the
model's tables, partition i (HEAD role) or partition j (TAIL role) of its
storage (a tied table is its target seen from its own side), and the round
slot's private copies of the GLOBAL tables.  A store hands an executor exactly
that, as a mapping from table names to arrays, plus the block's slices of the
model's constant arrays (negative tables ...).

- :class:`HostStore`: numpy tables in host memory; blocks get views.
- :class:`DeviceStore`: torch tensors on one or more devices, each with a byte
  ``capacity``: partitions are loaded on first use, move between devices as
  blocks need them and, when a device's capacity is reached, the least
  recently used partition that the block does not need is written back to
  host memory and dropped.  Without a capacity everything stays resident.
  Loads, evictions and device-to-device transfers are counted.

GLOBAL tables (relations ...): at the start of an episode every *lane* (round
slot x thread of that slot's block) gets a private copy, and at its end the
table becomes ``g + sum_lanes (copy - g)`` in lane order (one lane: the copy
itself), or, for a table declared ``reduce="mean"`` (optimiser moments, which
the sum of changes could drive negative), the mean of the copies.  Lanes follow the schedule, not the executor, so any executor and any
number of workers reduce the same copies in the same order.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np

from ..errors import ParameterError
from ..models.spec import GLOBAL, HEAD, Table


@dataclass(frozen=True)
class Layout:
    """The tables of a run: which are stored, how each is seen by a block."""

    tables: tuple[Table, ...]
    offsets: np.ndarray                 # int64[P+1] partition offsets
    num_slots: int                      # blocks per round at most (round width)
    threads_per_block: int

    @property
    def storage(self) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.tied_to is None)

    @property
    def num_partitions(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def num_lanes(self) -> int:
        return self.num_slots * self.threads_per_block

    def reduce_mode(self, name: str) -> str:
        return next(t.reduce for t in self.tables if t.name == name)

    def source(self, table: Table) -> str:
        return table.tied_to or table.name

    def part_for(self, table: Table, i: int, j: int) -> int:
        return i if table.role == HEAD else j

    def rows(self, p: int) -> slice:
        return slice(int(self.offsets[p]), int(self.offsets[p + 1]))

    def resources(self, i: int, j: int, slot: int) -> set:
        """What block (i, j) in round slot ``slot`` writes: ``(table, partition)``
        of every stored partitioned table it sees, and its lane copies of the
        GLOBAL tables.  Two blocks that share none commute."""
        out = set()
        for t in self.tables:
            if t.role == GLOBAL:
                out.add(("lanes of slot", slot))
            else:
                out.add((self.source(t), self.part_for(t, i, j)))
        return out

    def block_views(self, i: int, j: int, slot: int, partition, copies: Mapping,
                    constants: Mapping) -> tuple[dict, dict]:
        """``(tables, constants)`` of block (i, j) in round slot ``slot``:
        ``partition(name, p)`` gives partition p of a stored table, ``copies``
        the lane copies of the GLOBAL tables, ``constants`` name -> (array, role)."""
        k = self.threads_per_block
        out = {}
        for t in self.tables:
            src = self.source(t)
            if t.role == GLOBAL:
                out[t.name] = copies[src][slot * k:(slot + 1) * k]
            else:
                out[t.name] = partition(src, self.part_for(t, i, j))
        consts = {name: arr[self.rows(i if role == HEAD else j)]
                  for name, (arr, role) in constants.items()}
        return out, consts


class HostStore:
    """Tables as numpy arrays in host memory (the numba executor's store)."""

    def __init__(self, layout: Layout, tables: Mapping[str, np.ndarray],
                 constants: Mapping[str, tuple] = ()):
        self.layout = layout
        self._tables = {t.name: tables[t.name] for t in layout.storage}
        self._constants = dict(constants)
        self._copies = {t.name: np.empty((layout.num_lanes,) + self._tables[t.name].shape,
                                         dtype=self._tables[t.name].dtype)
                        for t in layout.storage if t.role == GLOBAL}

    def begin_episode(self, lanes: Optional[Mapping] = None) -> None:
        """Fresh lane copies of the GLOBAL tables, or ``lanes`` (saved mid-episode)."""
        for name, copies in self._copies.items():
            copies[:] = self._tables[name] if lanes is None else lanes[name]

    def lanes(self) -> dict:
        return {name: copies.copy() for name, copies in self._copies.items()}

    def lane_copies(self) -> dict:
        """The live lane copies of the GLOBAL tables, by name (several processes
        share them before the reduction)."""
        return self._copies

    def end_episode(self) -> None:
        for name, copies in self._copies.items():
            _reduce_lanes(self._tables[name], copies, self.layout.reduce_mode(name))

    def block(self, i: int, j: int, slot: int) -> tuple[dict, dict]:
        """``(tables, constants)`` of block (i, j) trained in round slot ``slot``."""
        lay = self.layout
        return lay.block_views(i, j, slot, lambda name, p: self._tables[name][lay.rows(p)],
                               self._copies, self._constants)

    def tables(self) -> dict:
        """The stored tables (partition order), by name: the live arrays."""
        return dict(self._tables)

    def release(self, i: int, j: int, slot: int) -> None:
        """Block (i, j) is done with what :meth:`block` gave it (a paging
        store may now write those partitions back)."""

    def close(self) -> None:
        pass

    @property
    def counters(self) -> dict:
        return {}


def _reduce_lanes(table, copies, mode: str = "sum") -> None:
    """``"sum"``: ``table += sum_l (copies[l] - table)`` in lane order;
    ``"mean"``: ``table = mean_l copies[l]`` (numpy or torch)."""
    if copies.shape[0] == 1:
        table[...] = copies[0]
        return
    if mode == "mean":
        acc = copies[0].copy()
        for lane in range(1, copies.shape[0]):
            acc += copies[lane]
        table[...] = acc / copies.shape[0]
        return
    base = copies[0] - copies[0]   # zeros of the right kind
    base += table
    for lane in range(copies.shape[0]):
        table += copies[lane] - base


class DeviceStore:
    """Tables on one or more torch devices, host numpy arrays as the master copy.

    Every piece a block writes -- a partition ``(table, p)`` of a stored table,
    or the lane copies of one round slot's GLOBAL tables -- lives in exactly
    one place at a time: the host, or the cache of one device.  A block trained
    on device ``d`` gets its pieces moved there (from the host, or straight
    from the device that last wrote them); each device's cache holds at most
    ``capacity`` bytes of partitions (None: no limit) and, when full, writes
    the least recently used partition the block does not need back to the host.
    With one device and no capacity everything stays resident.  The executor
    must order blocks that share a piece (see :func:`~.executors.dependencies`)
    and finish a block's device work before another device takes its pieces.

    GLOBAL tables: the base table stays on the host; lane copies are made at
    the start of an episode and reduced on the host at its end, in lane order
    (as :class:`HostStore`, so the result is the same on every executor).
    Constants (negative tables ...) are copied to every device once."""

    def __init__(self, layout: Layout, tables: Mapping[str, np.ndarray],
                 constants: Mapping[str, tuple], devices, capacity: Optional[int] = None):
        import threading

        import torch
        self.torch = torch
        self.layout = layout
        if isinstance(devices, (str, torch.device)):
            devices = [devices]
        self.devices = [torch.device(d) for d in devices]
        self.device = self.devices[0]
        self.capacity = capacity
        self._host = {t.name: tables[t.name] for t in layout.storage}
        self._pinned: dict = {}
        if capacity is not None and any(d.type == "cuda" for d in self.devices):
            # partitions will swap: keep the master copy in pinned host memory,
            # so loads and write-backs are DMA transfers without staging
            for t in layout.storage:
                if t.role == GLOBAL:
                    continue
                a = self._host[t.name]
                pinned = torch.empty(a.shape, dtype=torch.float32, pin_memory=True)
                pinned.numpy()[...] = a
                self._pinned[t.name] = pinned
                self._host[t.name] = pinned.numpy()
        self._lanes = {t.name: np.empty((layout.num_lanes,) + self._host[t.name].shape,
                                        dtype=self._host[t.name].dtype)
                       for t in layout.storage if t.role == GLOBAL}
        self._where: dict = {}                   # piece -> device index (absent: host)
        self._cache = [OrderedDict() for _ in self.devices]   # piece -> tensor
        self._bytes = [0] * len(self.devices)
        self._lock = threading.Lock()
        self.loads = 0
        self.evictions = 0
        self.transfers = 0
        consts = {name: (np.ascontiguousarray(arr), role)
                  for name, (arr, role) in dict(constants).items()}
        self._constants = [{name: (self._to(torch.from_numpy(arr), d), role)
                            for name, (arr, role) in consts.items()} for d in self.devices]
        if capacity is not None:
            need = self._largest_block_bytes()
            if need > capacity:
                raise ParameterError("train", "device_memory", f"at least {need:,} bytes "
                                     "(the partitions one block needs); use more partitions "
                                     "or a larger budget", capacity)

    def _to(self, tensor, device):
        out = tensor.to(device)
        if out.device.type == "cpu" and out.data_ptr() == tensor.data_ptr():
            # a CPU stand-in "device" would share the host array: copy, so that
            # loads, transfers and write-backs are real (and tested) on any machine
            out = out.clone()
        return out

    # -- pieces ---------------------------------------------------------------------
    def _host_view(self, piece) -> np.ndarray:
        if piece[0] == "@lanes":
            k = self.layout.threads_per_block
            return self._lanes[piece[1]][piece[2] * k:(piece[2] + 1) * k]
        name, p = piece
        return self._host[name][self.layout.rows(p)]

    def _host_tensor(self, piece):
        """The host copy of ``piece`` as a tensor (a slice of the pinned table
        when there is one, so the transfer is recognised as pinned)."""
        if piece[0] != "@lanes" and piece[0] in self._pinned:
            return self._pinned[piece[0]][self.layout.rows(piece[1])]
        return self.torch.from_numpy(self._host_view(piece))

    def _bytes_of(self, piece) -> int:
        return int(self._host_view(piece).nbytes)

    def _needed(self, i: int, j: int, slot: int = 0) -> list:
        lay = self.layout
        need = []
        for t in lay.tables:
            if t.role == GLOBAL:
                key = ("@lanes", lay.source(t), slot)
            else:
                key = (lay.source(t), lay.part_for(t, i, j))
            if key not in need:
                need.append(key)
        return need

    def _largest_block_bytes(self) -> int:
        P = self.layout.num_partitions
        return max(sum(self._bytes_of(k) for k in self._needed(i, j) if k[0] != "@lanes")
                   for i in range(P) for j in range(P))

    def _write_back(self, piece) -> None:
        d = self._where.pop(piece)
        tensor = self._cache[d].pop(piece)
        if piece[0] != "@lanes" and piece[0] in self._pinned:
            self._host_tensor(piece).copy_(tensor)
        else:
            self._host_view(piece)[...] = tensor.cpu().numpy()
        self._bytes[d] -= self._bytes_of(piece)

    def _evict(self, piece) -> None:
        self._write_back(piece)
        self.evictions += 1

    def _fetch(self, piece, d: int):
        """Move ``piece`` to device ``d`` (from the host or another device)."""
        src = self._where.get(piece)
        if src == d:
            self._cache[d].move_to_end(piece)
            return self._cache[d][piece]
        if src is None:
            tensor = self._to(self._host_tensor(piece), self.devices[d])
            self.loads += 1
        else:
            old = self._cache[src].pop(piece)
            self._bytes[src] -= self._bytes_of(piece)
            tensor = self._to(old, self.devices[d])
            self.transfers += 1
        self._cache[d][piece] = tensor
        self._where[piece] = d
        self._bytes[d] += self._bytes_of(piece)
        return tensor

    # -- episodes ---------------------------------------------------------------------
    def begin_episode(self, lanes: Optional[Mapping] = None) -> None:
        with self._lock:
            for piece in [p for p in self._where if p[0] == "@lanes"]:
                d = self._where.pop(piece)
                self._bytes[d] -= self._bytes_of(piece)
                self._cache[d].pop(piece)
            for name, copies in self._lanes.items():
                copies[:] = self._host[name] if lanes is None else lanes[name]

    def _lanes_home(self) -> None:
        for piece in [p for p in self._where if p[0] == "@lanes"]:
            self._write_back(piece)

    def lanes(self) -> dict:
        with self._lock:
            self._lanes_home()
            return {name: copies.copy() for name, copies in self._lanes.items()}

    def end_episode(self) -> None:
        with self._lock:
            self._lanes_home()
            for name, copies in self._lanes.items():
                _reduce_lanes(self._host[name], copies, self.layout.reduce_mode(name))

    def block(self, i: int, j: int, slot: int, device: int = 0) -> tuple[dict, dict]:
        """``(tables, constants)`` of block (i, j) in round slot ``slot``, as
        tensors on device number ``device``."""
        lay = self.layout
        needed = self._needed(i, j, slot)
        with self._lock:
            cache = self._cache[device]
            for piece in needed:
                if self.capacity is not None and piece[0] != "@lanes" \
                        and self._where.get(piece) != device:
                    size = self._bytes_of(piece)
                    for old in list(cache):
                        if self._bytes[device] + size <= self.capacity:
                            break
                        if old not in needed and old[0] != "@lanes":
                            self._evict(old)
                self._fetch(piece, device)
            got = {piece: cache[piece] for piece in needed}
        copies = {name: got[("@lanes", name, slot)] for name in self._lanes}
        k = lay.threads_per_block
        # block_views slices lane copies by slot; ours hold only this slot's lanes
        shifted = {name: _SlotView(t, slot * k) for name, t in copies.items()}
        return lay.block_views(i, j, slot, lambda name, p: got[(name, p)], shifted,
                               self._constants[device])

    def tables(self) -> dict:
        """Host copies of every table (partition order); cached pieces stay."""
        with self._lock:
            for piece, d in self._where.items():
                if piece[0] != "@lanes":
                    self._host_view(piece)[...] = self._cache[d][piece].cpu().numpy()
        return dict(self._host)

    def sample_rows(self, k: int, seed: int) -> dict:
        """Up to ``k`` rows of every cached partition, and of the GLOBAL tables,
        on the host (a cheap check for NaNs)."""
        rng = np.random.default_rng(seed)
        out = {}
        with self._lock:
            items = [(f"{piece[0]}[{piece[1]}]", self._cache[d][piece])
                     for piece, d in self._where.items() if piece[0] != "@lanes"]
        for name, t in items:
            rows = t.shape[0]
            if rows > k:
                idx = self.torch.from_numpy(np.sort(rng.choice(rows, k, replace=False)))
                t = t.index_select(0, idx.to(t.device))
            out[name] = t.cpu().numpy()
        for name in self._lanes:
            out[name] = self._host[name]
        return out

    @property
    def counters(self) -> dict:
        return {"partition_loads": self.loads, "partition_evictions": self.evictions,
                "partition_transfers": self.transfers}


class _SlotView:
    """Lane copies of one slot standing where :meth:`Layout.block_views` expects
    every slot's copies: ``view[a:b]`` is ``tensor[a - base : b - base]``."""

    def __init__(self, tensor, base: int):
        self.tensor, self.base = tensor, base

    def __getitem__(self, s: slice):
        return self.tensor[s.start - self.base:s.stop - self.base]


def check_layout(tables: Sequence[Table]) -> None:
    """Table specs a store can hold: unique names, ties to stored tables."""
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate table names in {names}")
    stored = {t.name for t in tables if t.tied_to is None}
    for t in tables:
        if t.tied_to is not None and t.tied_to not in stored:
            raise ValueError(f"table {t.name!r} is tied to {t.tied_to!r}, which is not a "
                             "stored table")
