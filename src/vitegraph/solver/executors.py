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
- :class:`TorchExecutor` (torch devices, the torch or Triton kernels): on one
  device blocks run in order while the next block's samples upload on a copy
  stream; on several, one thread per device takes blocks as the numba workers
  do; a :class:`DeviceStore` keeps the partitions on the devices (all of them,
  or as many as ``device_memory`` allows) and moves them between devices.

Several processes (torch.distributed): :class:`~vitegraph.solver.distributed.DistributedExecutor`,
the same interface: ``train_episode(pool, rounds)``, ``tables()``, ``counters``, ``close()``.
"""

from __future__ import annotations

import contextlib
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

    def checkpoint_tables(self):
        """The tables for a checkpoint (several processes: this process's
        :class:`~vitegraph.solver.checkpoint.TableShard`)."""
        return self.tables()

    def any_rank(self, *flags: bool) -> tuple:
        """``flags`` true where any process of the run has them true (one
        process: ``flags``); decisions every rank must take alike, such as
        saving a checkpoint (a collective) or stopping."""
        return tuple(bool(f) for f in flags)

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
        try:
            columns = task.columns(pool)
            states = make_states(task.seed, self.threads_per_block)
            st = self.kernel(tables, columns, consts, task.lr_start, task.lr_end, states,
                             self.threads_per_block)
        finally:
            del tables
            self.store.release(task.i, task.j, task.slot)
        dt = time.perf_counter() - t0
        key = threading.get_ident()
        with self._lock:
            self._busy[key] = self._busy.get(key, 0.0) + dt
        return st

    def train_episode(self, pool, rounds, *, skip=frozenset(), lanes=None, should_stop=None,
                      on_task=None):
        tasks = [t for r in rounds for t in r]
        self.store.begin_episode(lanes)
        if hasattr(self.store, "expect"):     # a paging store plans its evictions
            self.store.expect([(t.i, t.j) for k, t in enumerate(tasks) if k not in skip])

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
        if hasattr(self.store, "sample_rows"):
            return self.store.sample_rows(k, seed)
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
        self.store.close()


class _Uploader:
    """Double-buffered upload of a task's sample columns to one device.

    On CUDA, ``submit`` copies the columns into one of two pinned host buffers
    and starts their transfer into a device buffer on a side stream; ``wait``
    makes the training stream wait for that transfer and hands out the device
    columns; ``release`` marks when the training stream is done with them.  So
    the next task's samples cross the bus while the current one trains.  Off
    CUDA the columns are wrapped without copies (torch on the CPU reads the
    pool in place)."""

    def __init__(self, torch, device, columns: int, capacity: int):
        self.torch = torch
        self.device = device
        self.cuda = device.type == "cuda"
        self.columns = columns
        self.capacity = 0
        self._turn = 0
        if self.cuda:
            self.stream = torch.cuda.Stream(device=device)
            self._slots = [None, None]
            self._copied = [torch.cuda.Event() for _ in range(2)]
            self._used = [torch.cuda.Event() for _ in range(2)]
            self._reserve(capacity)

    def _reserve(self, capacity: int) -> None:
        torch = self.torch
        self.capacity = capacity
        for k in range(2):
            host = torch.empty((self.columns, capacity), dtype=torch.int32, pin_memory=True)
            dev = torch.empty((self.columns, capacity), dtype=torch.int32, device=self.device)
            self._slots[k] = (host, dev)

    def submit(self, arrays):
        torch = self.torch
        if isinstance(arrays[0], torch.Tensor):   # a pool on the device already
            return [a.to(self.device) for a in arrays]
        if not self.cuda:
            return [torch.from_numpy(a) for a in arrays]
        n = len(arrays[0])
        if n > self.capacity or any(a.dtype != np.int32 for a in arrays):
            # an odd task: synchronous plain upload
            return [torch.from_numpy(np.ascontiguousarray(a)).to(self.device) for a in arrays]
        k = self._turn
        self._turn ^= 1
        host, dev = self._slots[k]
        self._copied[k].synchronize()     # the host buffer's last transfer is done
        for c, a in enumerate(arrays):
            host[c, :n].numpy()[...] = a
        with torch.cuda.stream(self.stream):
            self.stream.wait_event(self._used[k])   # the device buffer is free
            for c in range(len(arrays)):   # contiguous rows: plain async copies
                dev[c, :n].copy_(host[c, :n], non_blocking=True)
            self._copied[k].record(self.stream)
        return (k, n)

    def wait(self, handle):
        if not self.cuda or isinstance(handle, list):
            return handle
        k, n = handle
        self.torch.cuda.current_stream(self.device).wait_event(self._copied[k])
        dev = self._slots[k][1]
        return [dev[c, :n] for c in range(self.columns)]

    def release(self, handle) -> None:
        if self.cuda and not isinstance(handle, list):
            self._used[handle[0]].record(self.torch.cuda.current_stream(self.device))


class TorchExecutor(Executor):
    """Blocks through the model's torch or Triton kernel on one or more devices.

    One device: blocks run one after another in the schedule's order, and the
    next block's samples upload while the current one trains.  Several
    devices: one Python thread per device takes blocks as
    :class:`NumbaExecutor`'s workers do (each as soon as the blocks it shares a
    partition with are done), so every round's orthogonal blocks train on
    different devices at once, as in GraphVite; partitions move between
    devices through the :class:`DeviceStore`.  A block's random stream comes
    from its task, so the tables do not depend on which device trained it.

    ``seeded``: the kernel takes the task's integer seed (Triton's Philox key)
    instead of a ``torch.Generator``."""

    def __init__(self, store, kernel: Callable, *, devices=None, device=None,
                 seeded: bool = False, upload_rows: int = 1 << 20):
        import torch
        self.torch = torch
        self.store = store
        self.kernel = kernel
        devs = devices if devices is not None else ([device] if device is not None
                                                     else store.devices)
        self.devices = [torch.device(d) for d in devs]
        self.device = self.devices[0]
        self.num_workers = len(self.devices)
        self.seeded = seeded
        self._generators = [torch.Generator(device=d) for d in self.devices]
        self._uploaders = [None] * len(self.devices)
        self._upload_rows = int(upload_rows)
        self._busy = [0.0] * len(self.devices)
        self._runner = ThreadRunner(self.num_workers, "vitegraph-device") \
            if self.num_workers > 1 else None

    def _uploader(self, w: int, columns: int) -> _Uploader:
        up = self._uploaders[w]
        if up is None or up.columns != columns:
            up = self._uploaders[w] = _Uploader(self.torch, self.devices[w], columns,
                                                self._upload_rows)
        return up

    def _rng(self, w: int, task: BlockTask):
        if self.seeded:
            return int(task.seed)
        g = self._generators[w]
        g.manual_seed(int(task.seed) & ((1 << 63) - 1))
        return g

    def _train(self, w: int, task: BlockTask, cols):
        device = self.devices[w]
        ctx = self.torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()
        with ctx:
            tables, consts = self.store.block(task.i, task.j, task.slot, w)
            return self.kernel(tables, cols, consts, task.lr_start, task.lr_end,
                               self._rng(w, task), 1)

    def train_episode(self, pool, rounds, *, skip=frozenset(), lanes=None, should_stop=None,
                      on_task=None):
        tasks = [t for r in rounds for t in r]
        self.store.begin_episode(lanes)
        if self.num_workers == 1:
            results = self._serial(pool, tasks, skip, should_stop, on_task)
        else:
            def train(task, w):
                t0 = time.perf_counter()
                up = self._uploader(w, len(pool.columns))
                handle = up.submit(task.columns(pool))
                st = self._train(w, task, up.wait(handle))
                up.release(handle)
                if self.devices[w].type == "cuda":
                    # another device may take this block's partitions next
                    self.torch.cuda.current_stream(self.devices[w]).synchronize()
                self._busy[w] += time.perf_counter() - t0
                if on_task is not None:
                    on_task(st.num_samples)
                return st

            results = _run_in_order_of_conflicts(self._runner, self.num_workers, tasks,
                                                 skip, should_stop, self.store.layout, train,
                                                 with_worker=True)
        return _finish(self.store, tasks, skip, results)

    def _serial(self, pool, tasks, skip, should_stop, on_task) -> list:
        """One device: train in order, uploading task k + 1 while k trains."""
        t0 = time.perf_counter()
        up = self._uploader(0, len(pool.columns))
        todo = [k for k in range(len(tasks)) if k not in skip]
        results: list = [None] * len(tasks)
        handle = up.submit(tasks[todo[0]].columns(pool)) if todo else None
        for n, k in enumerate(todo):
            if should_stop is not None and should_stop():
                break
            cols = up.wait(handle)
            nxt = None
            if n + 1 < len(todo):
                nxt = up.submit(tasks[todo[n + 1]].columns(pool))
            results[k] = self._train(0, tasks[k], cols)
            up.release(handle)
            handle = nxt
            if on_task is not None:
                on_task(results[k].num_samples)
        self._busy[0] += time.perf_counter() - t0
        return results

    def tables(self):
        return self.store.tables()

    def sample_rows(self, k: int, seed: int) -> dict:
        return self.store.sample_rows(k, seed)

    @property
    def counters(self):
        return {"worker_busy_seconds": list(self._busy), **self.store.counters}

    def close(self):
        if self._runner is not None:
            self._runner.close()


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
    # float() each: a loss may be a device tensor, and tensors of different
    # devices do not add
    loss = float(sum(float(st.loss) for st in trained))
    count = int(sum(st.num_samples for st in trained))
    if all(done):
        store.end_episode()
        return EpisodeResult(loss, count)
    return EpisodeResult(loss, count, [k for k in range(len(tasks)) if done[k]])


def _run_in_order_of_conflicts(runner: ThreadRunner, num_workers: int,
                               tasks: Sequence[BlockTask], skip, should_stop, layout,
                               train: Callable, with_worker: bool = False) -> list:
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

    def work(w):
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
                results[k] = train(tasks[k], w) if with_worker else train(tasks[k])
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


def make_executor(rc, model, layout, tables: dict, constants: dict,
                  files: Optional[dict] = None, ranks=None, schedule=None) -> Executor:
    """The executor for the resolved config's backend; ``files``: the
    partitioned tables kept in files (``table_storage`` a folder); ``ranks``:
    the process group of a run on several processes."""
    from .store import DeviceStore, HostStore
    kernel = model.kernel(rc.backend, rc)
    if ranks is not None:
        from .distributed import DistributedExecutor
        on_device = rc.backend in ("torch", "triton")
        return DistributedExecutor(HostStore(layout, tables, constants), kernel,
                                   num_workers=1 if on_device else rc.num_workers,
                                   threads_per_block=1 if on_device else rc.threads_per_block,
                                   ranks=ranks, schedule=schedule,
                                   device=rc.device if on_device else None,
                                   seeded=rc.backend == "triton",
                                   overlap=rc.config.dist_overlap)
    if files:
        from .paged import PagedStore
        store = PagedStore(layout, tables, constants, files, rc.table_memory)
        return NumbaExecutor(store, kernel, num_workers=rc.num_workers,
                             threads_per_block=rc.threads_per_block)
    if rc.backend in ("torch", "triton"):
        capacity = None if rc.device_memory == "auto" else int(rc.device_memory)
        devices = rc.device.split(",")
        store = DeviceStore(layout, tables, constants, devices, capacity)
        return TorchExecutor(store, kernel, devices=devices, seeded=rc.backend == "triton")
    store = HostStore(layout, tables, constants)
    return NumbaExecutor(store, kernel, num_workers=rc.num_workers,
                         threads_per_block=rc.threads_per_block)

