"""Executors: run the blocks of an episode on some hardware.

The coordinator gives an executor a filled sample pool and the episode's
rounds as :class:`BlockTask` lists (which block, which round slot, its lr ramp,
its random seed).  Everything that decides the result is in the task, so an
executor only decides *where and when* a block runs; with one thread per block,
any executor and any number of workers give bitwise the tables of the serial
run of the same schedule (the blocks of a round touch disjoint rows, and each
block's random stream is its own).

- :class:`NumbaExecutor` (CPU): ``num_workers // threads_per_block`` Python
  threads take blocks in the schedule's order, each as soon as the earlier
  blocks it shares a partition with are done (no barrier between rounds), and
  call the model's numba kernel (GIL released) with ``threads_per_block``
  Hogwild threads.
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
from typing import Callable, Optional, Sequence

import numpy as np

from .._threads import ThreadRunner
from ..sampling import SamplePool
from ..sampling.rng import make_states


@dataclass(frozen=True)
class BlockTask:
    """Samples ``[lo, hi)`` of block (i, j) in a round: round slot, lr ramp, seed."""

    i: int
    j: int
    slot: int
    lr_start: float
    lr_end: float
    seed: int
    lo: int
    hi: int

    def columns(self, pool: SamplePool) -> tuple:
        return tuple(col[self.lo:self.hi] for col in pool.block(self.i, self.j))


@dataclass
class EpisodeResult:
    """Loss and samples of the tasks trained; ``done`` is None when the episode
    finished, else which tasks (flattened, in serial order) were trained before
    a stop request (the GLOBAL tables' lane copies are then left unreduced)."""

    loss: float
    count: int
    done: Optional[list] = None


class Executor:
    """Interface (see the module docstring).

    ``train_episode(pool, rounds, *, skip, lanes, should_stop, on_task)``: train
    the tasks of ``rounds`` except those whose flattened index is in ``skip``
    (trained before an interruption; ``lanes`` restores the GLOBAL tables' lane
    copies of that moment); stop taking tasks once ``should_stop()`` is true;
    call ``on_task(samples)`` after each task (from any thread).
    """

    num_workers = 1

    def train_episode(self, pool: SamplePool, rounds: Sequence[Sequence[BlockTask]], *,
                      skip=frozenset(), lanes=None, should_stop=None, on_task=None
                      ) -> EpisodeResult:
        raise NotImplementedError

    def lanes(self) -> dict:
        """The GLOBAL tables' lane copies (host arrays), for a mid-episode checkpoint."""
        return self.store.lanes()

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
        columns = task.columns(pool)
        states = make_states(task.seed, self.threads_per_block)
        st = self.kernel(tables, columns, consts, task.lr_start, task.lr_end, states,
                         self.threads_per_block)
        dt = time.perf_counter() - t0
        key = threading.get_ident()
        with self._lock:
            self._busy[key] = self._busy.get(key, 0.0) + dt
        return st

    def train_episode(self, pool, rounds, *, skip=frozenset(), lanes=None, should_stop=None,
                      on_task=None):
        tasks = [t for r in rounds for t in r]
        self.store.begin_episode(lanes)

        def train(t):
            st = self._train_block(pool, t)
            if on_task is not None:
                on_task(st.num_samples)
            return st

        if self.num_workers == 1:
            results = _run_in_order(tasks, skip, should_stop, train)
        else:
            results = _run_in_order_of_conflicts(self._runner, self.num_workers, tasks, skip,
                                                 should_stop, self.store.layout, train)
        return _finish(self.store, tasks, skip, results)

    def tables(self):
        return self.store.tables()

    def sample_rows(self, k: int, seed: int) -> dict:
        """Up to ``k`` rows of each stored table (a cheap check for NaNs)."""
        rng = np.random.default_rng(seed)
        out = {}
        for name, a in self.store.tables().items():
            rows = a if a.shape[0] <= k else a[np.sort(rng.choice(a.shape[0], k, replace=False))]
            out[name] = rows
        return out

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
        for col in task.columns(pool):
            t = torch.from_numpy(col)
            if pin:
                t = t.pin_memory()
            out.append(t.to(self.device, non_blocking=True))
        return out

    def train_episode(self, pool, rounds, *, skip=frozenset(), lanes=None, should_stop=None,
                      on_task=None):
        tasks = [t for r in rounds for t in r]
        t0 = time.perf_counter()
        self.store.begin_episode(lanes)

        def train(task):
            tables, consts = self.store.block(task.i, task.j, task.slot)
            self.generator.manual_seed(int(task.seed) & ((1 << 63) - 1))
            st = self.kernel(tables, self._columns(pool, task), consts, task.lr_start,
                             task.lr_end, self.generator, 1)
            if on_task is not None:
                on_task(st.num_samples)
            return st

        results = _run_in_order(tasks, skip, should_stop, train)
        self._busy += time.perf_counter() - t0
        return _finish(self.store, tasks, skip, results)

    def tables(self):
        return self.store.tables()

    def sample_rows(self, k: int, seed: int) -> dict:
        return self.store.sample_rows(k, seed)

    @property
    def counters(self):
        return {"worker_busy_seconds": [self._busy], **self.store.counters}


def dependencies(tasks: Sequence[BlockTask], layout) -> list[set]:
    """For each task (in the schedule's serial order), the earlier tasks it must
    wait for: the last earlier writer of each resource it writes."""
    last: dict = {}
    out = []
    for k, t in enumerate(tasks):
        deps = set()
        for r in layout.resources(t.i, t.j, t.slot):
            if r in last:
                deps.add(last[r])
            last[r] = k
        out.append(deps)
    return out


def _run_in_order(tasks, skip, should_stop, train) -> list:
    """Train the tasks one after another, skipping ``skip``, until a stop is
    requested; None for a task not trained."""
    results: list = [None] * len(tasks)
    for k, t in enumerate(tasks):
        if k in skip:
            continue
        if should_stop is not None and should_stop():
            break
        results[k] = train(t)
    return results


def _finish(store, tasks, skip, results) -> EpisodeResult:
    """The episode's result; the GLOBAL tables are reduced only when every task
    was trained."""
    done = [k in skip or results[k] is not None for k in range(len(tasks))]
    trained = [r for r in results if r is not None]
    loss = float(sum(st.loss for st in trained))
    count = int(sum(st.num_samples for st in trained))
    if all(done):
        store.end_episode()
        return EpisodeResult(loss, count)
    return EpisodeResult(loss, count, [k for k in range(len(tasks)) if done[k]])


def _run_in_order_of_conflicts(runner: ThreadRunner, num_workers: int,
                               tasks: Sequence[BlockTask], skip, should_stop, layout,
                               train: Callable) -> list:
    """Train ``tasks`` on ``num_workers`` threads, each taking the first task (in
    serial order) whose conflicting predecessors are done.  No round barrier:
    a worker moves on to the next round's block as soon as the blocks it
    conflicts with are finished, and the result is bitwise that of the serial
    order (blocks that share no resource commute).  Tasks in ``skip`` count as
    done; once ``should_stop()`` is true no task is started (those running
    finish).  An exception in one worker (Ctrl-C included) stops the others
    after their current task."""
    deps = dependencies(tasks, layout)
    n = len(tasks)
    done = [k in skip for k in range(n)]
    started = list(done)
    results: list = [None] * n
    cond = threading.Condition()
    state = {"first": 0, "failed": False}
    lookahead = 4 * num_workers + 8   # how far past the first unstarted task to look

    def pick():
        first = state["first"]
        while first < n and started[first]:
            first += 1
        state["first"] = first
        for k in range(first, min(n, first + lookahead)):
            if not started[k] and all(done[d] for d in deps[k]):
                return k
        return None

    def work(_):
        try:
            while True:
                with cond:
                    while True:
                        if state["failed"] or state["first"] >= n:
                            return
                        if should_stop is not None and should_stop():
                            return
                        k = pick()
                        if k is not None:
                            started[k] = True
                            break
                        if state["first"] >= n:
                            return
                        cond.wait(0.1)   # wakes for a stop request too
                results[k] = train(tasks[k])
                with cond:
                    done[k] = True
                    cond.notify_all()
        except BaseException:
            with cond:
                state["failed"] = True
                cond.notify_all()
            raise

    runner.run(work, [(w,) for w in range(num_workers)])
    return results


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

