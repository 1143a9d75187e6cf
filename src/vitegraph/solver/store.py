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
- :class:`DeviceStore`: torch tensors on one device with a byte ``capacity``:
  partitions are loaded on first use and, when the capacity is reached, the
  least recently used partition that the block does not need is written back
  to host memory and dropped.  Without a capacity everything stays resident.
  Loads and evictions are counted.

GLOBAL tables (relations ...): at the start of an episode every *lane* (round
slot x thread of that slot's block) gets a private copy, and at its end the
table becomes ``g + sum_lanes (copy - g)`` in lane order (one lane: the copy
itself).  Lanes follow the schedule, not the executor, so any executor and any
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

    def end_episode(self) -> None:
        for name, copies in self._copies.items():
            _reduce_lanes(self._tables[name], copies)

    def block(self, i: int, j: int, slot: int) -> tuple[dict, dict]:
        """``(tables, constants)`` of block (i, j) trained in round slot ``slot``."""
        lay = self.layout
        return lay.block_views(i, j, slot, lambda name, p: self._tables[name][lay.rows(p)],
                               self._copies, self._constants)

    def tables(self) -> dict:
        """The stored tables (partition order), by name: the live arrays."""
        return dict(self._tables)

    @property
    def counters(self) -> dict:
        return {}


def _reduce_lanes(table, copies) -> None:
    """``table += sum_l (copies[l] - table)`` in lane order (numpy or torch)."""
    if copies.shape[0] == 1:
        table[...] = copies[0]
        return
    base = copies[0] - copies[0]   # zeros of the right kind
    base += table
    for lane in range(copies.shape[0]):
        table += copies[lane] - base


class DeviceStore:
    """Tables as torch tensors on ``device``, partitions cached up to
    ``capacity`` bytes (None: no limit), host numpy arrays as the master copy."""

    def __init__(self, layout: Layout, tables: Mapping[str, np.ndarray],
                 constants: Mapping[str, tuple], device, capacity: Optional[int] = None):
        import torch
        self.torch = torch
        self.layout = layout
        self.device = torch.device(device)
        self.capacity = capacity
        self._host = {t.name: tables[t.name] for t in layout.storage}
        self._cache: "OrderedDict[tuple[str, int], object]" = OrderedDict()
        self._bytes = 0
        self.loads = 0
        self.evictions = 0
        self._global = {t.name: torch.from_numpy(self._host[t.name]).to(self.device)
                        for t in layout.storage if t.role == GLOBAL}
        self._copies = {name: g.new_empty((layout.num_lanes,) + tuple(g.shape))
                        for name, g in self._global.items()}
        self._constants = {name: (torch.from_numpy(np.ascontiguousarray(arr)).to(self.device),
                                  role) for name, (arr, role) in dict(constants).items()}
        self._partitioned = [t for t in layout.storage if t.role != GLOBAL]
        if capacity is not None:
            need = self._largest_block_bytes()
            if need > capacity:
                raise ParameterError("train", "device_memory", f"at least {need:,} bytes "
                                     "(the partitions one block needs); use more partitions "
                                     "or a larger budget", capacity)

    def _part_bytes(self, name: str, p: int) -> int:
        a = self._host[name]
        rows = self.layout.rows(p)
        return (rows.stop - rows.start) * a.shape[1] * a.itemsize

    def _needed(self, i: int, j: int) -> list[tuple[str, int]]:
        lay = self.layout
        need = []
        for t in lay.tables:
            if t.role == GLOBAL:
                continue
            key = (lay.source(t), lay.part_for(t, i, j))
            if key not in need:
                need.append(key)
        return need

    def _largest_block_bytes(self) -> int:
        P = self.layout.num_partitions
        return max(sum(self._part_bytes(n, p) for n, p in self._needed(i, j))
                   for i in range(P) for j in range(P))

    def _evict(self, key) -> None:
        name, p = key
        tensor = self._cache.pop(key)
        self._host[name][self.layout.rows(p)] = tensor.cpu().numpy()
        self._bytes -= self._part_bytes(name, p)
        self.evictions += 1

    def _load(self, key):
        name, p = key
        host = self._host[name][self.layout.rows(p)]
        tensor = self.torch.from_numpy(np.ascontiguousarray(host)).to(self.device)
        if tensor.device.type == "cpu":
            # a CPU "device" would share the host array: copy, so that the
            # device copy and the write-back are real (and tested) on any machine
            tensor = tensor.clone()
        self._cache[key] = tensor
        self._bytes += self._part_bytes(name, p)
        self.loads += 1
        return tensor

    def begin_episode(self, lanes: Optional[Mapping] = None) -> None:
        for name, copies in self._copies.items():
            if lanes is None:
                copies.copy_(self._global[name].expand_as(copies))
            else:
                copies.copy_(self.torch.from_numpy(np.ascontiguousarray(lanes[name])))

    def lanes(self) -> dict:
        return {name: copies.cpu().numpy().copy() for name, copies in self._copies.items()}

    def end_episode(self) -> None:
        for name, copies in self._copies.items():
            _reduce_lanes(self._global[name], copies)

    def block(self, i: int, j: int, slot: int) -> tuple[dict, dict]:
        lay = self.layout
        needed = self._needed(i, j)
        for key in needed:
            if key in self._cache:
                self._cache.move_to_end(key)
                continue
            if self.capacity is not None:
                size = self._part_bytes(*key)
                for old in list(self._cache):
                    if self._bytes + size <= self.capacity:
                        break
                    if old not in needed:
                        self._evict(old)
            self._load(key)
        return lay.block_views(i, j, slot, lambda name, p: self._cache[(name, p)],
                               self._copies, self._constants)

    def tables(self) -> dict:
        """Host copies of every table (partition order); resident partitions stay."""
        for (name, p), tensor in self._cache.items():
            self._host[name][self.layout.rows(p)] = tensor.cpu().numpy()
        for name, g in self._global.items():
            self._host[name][...] = g.cpu().numpy()
        return dict(self._host)

    def sample_rows(self, k: int, seed: int) -> dict:
        """Up to ``k`` rows of every resident partition and global table, on
        the host (a cheap check for NaNs)."""
        rng = np.random.default_rng(seed)
        out = {}
        items = [(f"{n}[{p}]", t) for (n, p), t in self._cache.items()]
        items += list(self._global.items())
        for name, t in items:
            rows = t.shape[0]
            if rows > k:
                idx = self.torch.from_numpy(np.sort(rng.choice(rows, k, replace=False)))
                t = t.index_select(0, idx.to(t.device))
            out[name] = t.cpu().numpy()
        return out

    @property
    def counters(self) -> dict:
        return {"partition_loads": self.loads, "partition_evictions": self.evictions}


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
