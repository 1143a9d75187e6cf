"""Executors: run the blocks of an episode on some hardware.

The coordinator gives an executor a filled sample pool and the episode's
rounds as :class:`BlockTask` lists (which block, which round slot, its lr ramp,
its random seed).  Everything that decides the result is in the task, so an
executor only decides *where and when* a block runs; with one thread per block,
any executor and any number of workers give bitwise the tables of the serial
run of the same schedule (the blocks of a round touch disjoint rows, and each
block's random stream is its own).

- :class:`NumbaExecutor` (CPU): the blocks of a round are taken by
  ``num_workers // threads_per_block`` Python threads, each calling the
  model's numba kernel (GIL released) with ``threads_per_block`` Hogwild threads.
- :class:`TorchExecutor` (one torch device): blocks run one after another
  through the model's torch kernel; a :class:`DeviceStore` keeps the partitions
  on the device (all of them, or as many as ``device_memory`` allows).

Several devices in one process and several processes (torch.distributed) are
further executors of the same interface: ``train_episode(pool, rounds)``,
``tables()``, ``counters``, ``close()``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from .._threads import ThreadRunner
from ..sampling import SamplePool
from ..sampling.rng import make_states


@dataclass(frozen=True)
class BlockTask:
    """One block of one round: partitions (i, j), round slot, lr ramp, seed."""

    i: int
    j: int
    slot: int
    lr_start: float
    lr_end: float
    seed: int


@dataclass
class EpisodeResult:
    loss: float
    count: int


class Executor:
    """Interface (see the module docstring)."""

    num_workers = 1

    def train_episode(self, pool: SamplePool, rounds: Sequence[Sequence[BlockTask]]
                      ) -> EpisodeResult:
        raise NotImplementedError

    def tables(self) -> dict:
        """The tables in partition order, as host numpy arrays."""
        raise NotImplementedError

    @property
    def counters(self) -> dict:
        """Executor statistics: busy seconds per worker, partition swaps ..."""
        return {}

    def close(self) -> None:
        pass


class NumbaExecutor(Executor):
    def __init__(self, store, kernel: Callable, *, num_workers: int, threads_per_block: int):
        self.store = store
        self.kernel = kernel
        self.threads_per_block = int(threads_per_block)
        self.num_workers = max(1, int(num_workers) // self.threads_per_block)
        self._runner = ThreadRunner(self.num_workers, "vitegraph-worker")
        self._busy: dict[int, float] = {}
        self._lock = threading.Lock()

    def _train_block(self, pool: SamplePool, task: BlockTask):
        t0 = time.perf_counter()
        tables, consts = self.store.block(task.i, task.j, task.slot)
        columns = pool.block(task.i, task.j)
        states = make_states(task.seed, self.threads_per_block)
        st = self.kernel(tables, columns, consts, task.lr_start, task.lr_end, states,
                         self.threads_per_block)
        dt = time.perf_counter() - t0
        key = threading.get_ident()
        with self._lock:
            self._busy[key] = self._busy.get(key, 0.0) + dt
        return st

    def train_episode(self, pool, rounds):
        loss, count = 0.0, 0
        self.store.begin_episode()
        for tasks in rounds:
            for st in self._runner.map_dynamic(self._train_block,
                                               [(pool, t) for t in tasks]):
                loss += st.loss
                count += st.num_samples
        self.store.end_episode()
        return EpisodeResult(loss, count)

    def tables(self):
        return self.store.tables()

    @property
    def counters(self):
        busy = sorted(self._busy.values(), reverse=True)
        busy += [0.0] * (self.num_workers - len(busy))
        return {"worker_busy_seconds": busy, **self.store.counters}

    def close(self):
        self._runner.close()


class TorchExecutor(Executor):
    def __init__(self, store, kernel: Callable, *, device):
        import torch
        self.torch = torch
        self.store = store
        self.kernel = kernel
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device)
        self._busy = 0.0

    def _columns(self, pool: SamplePool, task: BlockTask):
        torch = self.torch
        pin = self.device.type == "cuda"
        out = []
        for col in pool.block(task.i, task.j):
            t = torch.from_numpy(col)
            if pin:
                t = t.pin_memory()
            out.append(t.to(self.device, non_blocking=True))
        return out

    def train_episode(self, pool, rounds):
        loss, count = 0.0, 0
        t0 = time.perf_counter()
        self.store.begin_episode()
        for tasks in rounds:
            for task in tasks:
                tables, consts = self.store.block(task.i, task.j, task.slot)
                self.generator.manual_seed(int(task.seed) & ((1 << 63) - 1))
                st = self.kernel(tables, self._columns(pool, task), consts, task.lr_start,
                                 task.lr_end, self.generator, 1)
                loss += st.loss
                count += st.num_samples
        self.store.end_episode()
        self._busy += time.perf_counter() - t0
        return EpisodeResult(loss, count)

    def tables(self):
        return self.store.tables()

    @property
    def counters(self):
        return {"worker_busy_seconds": [self._busy], **self.store.counters}


def make_executor(rc, model, layout, tables: dict, constants: dict) -> Executor:
    """The executor for the resolved config's backend."""
    from .store import DeviceStore, HostStore
    kernel = model.kernel(rc.backend, rc)
    if rc.backend == "torch":
        capacity = None if rc.device_memory == "auto" else int(rc.device_memory)
        store = DeviceStore(layout, tables, constants, rc.device, capacity)
        return TorchExecutor(store, kernel, device=rc.device)
    store = HostStore(layout, tables, constants)
    return NumbaExecutor(store, kernel, num_workers=rc.num_workers,
                         threads_per_block=rc.threads_per_block)

