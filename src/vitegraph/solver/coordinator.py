"""The coordinator: episodes, the learning-rate schedule, progress, Ctrl-C,
checkpoints and resume.  It knows no model and no hardware: it asks the
sampler for pools (through the double-buffered :class:`PoolPipeline`), turns
each pool and the block schedule into :class:`BlockTask` rounds, and hands
them to an :class:`~vitegraph.solver.executors.Executor`.

Learning rate: linear in the global sample index ``t`` over the whole run,
``lr(t) = lr0 * max(lr_floor, 1 - t / total)``.  The blocks of one round are
trained at the same time, so each gets the ramp of the round's span
``[t, t + samples of the round)``.

With P > 1 a pool is trained in ``passes`` passes over the schedule, each
giving every block a slice of its samples, so that no block trains long on
one pair of partitions (see :func:`block_tasks`).

Random streams belong to blocks: block (i, j) of episode e, pass c draws its
negatives from a stream seeded by (seed, e, 1 + (c P + i) P + j), and the
sampler's stream by (seed, e, 0).  So every episode is a function of the seed, the episode
and the schedule alone: a resumed run trains exactly what an uninterrupted one
would, and the number of workers does not enter (with one thread per block).
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from ..errors import DivergenceError
from ..sampling import SamplePool
from ..sampling.rng import splitmix64
from .executors import BlockTask, Executor
from .pipeline import PoolPipeline

log = logging.getLogger(__name__)


@dataclass
class TrainStats:
    """What a run did and how fast."""

    samples: int = 0                  # trained by this process (samples_per_second)
    samples_done: int = 0             # of the run, a resumed one's earlier part included
    seconds: float = 0.0
    setup_seconds: float = 0.0
    train_seconds: float = 0.0        # executor busy with episodes (wall)
    fill_seconds: float = 0.0         # producer busy (overlaps training)
    wait_seconds: float = 0.0         # executor idle, waiting for a pool
    episodes: int = 0
    resumed_from_episode: int = 0
    loss_history: list = field(default_factory=list)   # mean loss per episode
    worker_busy_seconds: list = field(default_factory=list)  # per worker, inside kernels
    partition_loads: int = 0
    partition_evictions: int = 0
    partition_transfers: int = 0      # device to device, or rank to rank
    bytes_sent: int = 0               # several processes: partitions this rank sent ...
    bytes_received: int = 0           # ... and received
    transfer_seconds: float = 0.0     # in those transfers and the per-round sync with the others
    rounds: int = 0                   # several processes: rounds of blocks trained
    max_rss_training: int = 0         # several processes: peak bytes of this process
                                      # before the result is gathered
    max_device_bytes: int = 0         # several processes on GPUs: peak device memory
    sends_overlapped: int = 0         # several processes: partitions sent while this
                                      # rank still trained blocks of the round
    pairs_sent: int = 0               # several processes, dist_sampling share: pairs this
    pairs_received: int = 0           # rank routed to / got from the others
    bytes_paged_in: int = 0           # tables in a folder: partitions read ...
    bytes_paged_out: int = 0          # ... and written back
    paging_seconds: float = 0.0       # time in those reads and writes

    @property
    def samples_per_second(self) -> float:
        loop = self.seconds - self.setup_seconds
        return self.samples / loop if loop > 0 else 0.0

    @property
    def worker_utilisation(self) -> list:
        """Each worker's busy share of the wall time of the training loop
        (everything after setup, waits for the sampler included)."""
        loop = self.seconds - self.setup_seconds
        if loop <= 0:
            return [0.0 for _ in self.worker_busy_seconds]
        return [b / loop for b in self.worker_busy_seconds]

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["samples_per_second"] = self.samples_per_second
        d["worker_utilisation"] = self.worker_utilisation
        return d


# a run has diverged when an episode's mean loss exceeds this many times the
# first episode's (or 1, whichever is larger), or is not finite
DIVERGENCE_FACTOR = 10.0
# rows of each table checked for non-finite values after every episode
CHECKED_ROWS = 4096

# at most this many samples in one task: a task is the unit the executors
# schedule and a Ctrl-C waits for (about 0.1 to 0.3 s on a CPU core)
TASK_SAMPLES = 1 << 20


class LrSchedule:
    """``lr(t) = lr0 * max(floor, 1 - t / total)`` over global sample index t."""

    def __init__(self, lr0: float, floor: float, total: int):
        self.lr0, self.floor, self.total = float(lr0), float(floor), max(int(total), 1)

    def __call__(self, t: int) -> float:
        return self.lr0 * max(self.floor, 1.0 - t / self.total)


@dataclass(frozen=True)
class EpisodePlan:
    """``num_episodes`` pools of ``episode_size`` samples covering at least
    ``requested`` samples (rounded up by less than one sample per pool)."""

    requested: int
    num_episodes: int
    episode_size: int

    @classmethod
    def cover(cls, total: int, episode_size: int) -> "EpisodePlan":
        n = max(1, math.ceil(total / episode_size))
        return cls(int(total), n, math.ceil(total / n))

    @property
    def total(self) -> int:
        return self.num_episodes * self.episode_size


def stream_seed(seed: int, episode: int, stream: int) -> int:
    """Independent 63-bit seeds per (run seed, episode, stream); stream 0 is the
    sampler, stream 1 + b block b = i * P + j."""
    mask = (1 << 64) - 1
    x = int(splitmix64(np.uint64((int(seed) * 1000003 + int(episode)) & mask)))
    return int(splitmix64(np.uint64(x ^ (stream * 0x9E3779B97F4A7C15 & mask)))) >> 1


def block_tasks(pool: SamplePool, rounds: Sequence[Sequence[tuple]], t0: int,
                lr: LrSchedule, seed: int, episode: int, passes: int = 1,
                max_task: Optional[int] = None) -> list[list[BlockTask]]:
    """The episode's rounds as tasks: ``passes`` passes over the schedule (more
    if a block would otherwise give a task of over ``max_task`` samples), pass c
    training the c-th of the equal slices of every block; each task with its
    round slot, the round's lr ramp and a random seed of its own."""
    sizes = pool.block_sizes()
    P = pool.num_partitions
    max_task = TASK_SAMPLES if max_task is None else max_task
    passes = max(passes, -(-int(sizes.max()) // max_task))
    out = []
    t = t0
    for c in range(passes):
        for blocks in rounds:
            live = []
            for slot, (i, j) in enumerate(blocks):
                lo, hi = sizes[i, j] * c // passes, sizes[i, j] * (c + 1) // passes
                if hi > lo:
                    live.append((slot, i, j, int(lo), int(hi)))
            n = int(sum(hi - lo for *_, lo, hi in live))
            if n:
                lr0, lr1 = lr(t), lr(t + n)
                out.append([BlockTask(i, j, slot, lr0, lr1,
                                      stream_seed(seed, episode, 1 + (c * P + i) * P + j),
                                      lo, hi)
                            for slot, i, j, lo, hi in live])
            t += n
    return out


class Interrupt:
    """With a checkpoint to write, turn SIGINT into a flag the executors check
    between tasks, so Ctrl-C stops within a task's time at a consistent point
    and saves.  Without one (or off the main thread) Ctrl-C raises at once, as
    usual; a second Ctrl-C also raises at once."""

    def __init__(self, enabled: bool):
        self.requested = False
        self._enabled = enabled
        self._old = None

    def __enter__(self):
        if self._enabled and threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.requested:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True
        log.warning("interrupt: stopping after the blocks in training, then saving "
                    "(Ctrl-C again to abort)")

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


class Coordinator:
    """Runs the episodes of a plan; see the module docstring.

    ``fill(pool, episode)`` fills a pool (the producer side); ``save(tables,
    episodes_done, partial)`` writes a checkpoint (None: no checkpoints, Ctrl-C
    raises at once) at the end of an episode when ``checkpoint_every`` seconds
    have passed since the last one (0: every episode), and when interrupted;
    ``tables`` is what the executor's ``checkpoint_tables`` gives (several
    processes: this process's :class:`~vitegraph.solver.checkpoint.TableShard`),
    ``partial`` a :class:`Partial` when stopped inside an episode.
    """

    def __init__(self, *, executor: Executor, fill: Callable, pools: list[SamplePool],
                 rounds, plan: EpisodePlan, lr: LrSchedule, seed: int, stats: TrainStats,
                 passes: int = 1,
                 save: Optional[Callable] = None, checkpoint_every: float = 60.0,
                 progress: bool = False):
        self.executor = executor
        self.fill = fill
        self.pools = pools
        self.rounds = rounds
        self.plan = plan
        self.lr = lr
        self.seed = seed
        self.passes = passes
        self.stats = stats
        self.save = save
        self.checkpoint_every = checkpoint_every
        self.progress = progress

    def run(self, start_episode: int, partial: Optional["Partial"] = None) -> dict:
        """Train episodes ``start_episode ..``; returns the tables (partition
        order).  ``partial``: the tasks of episode ``start_episode`` trained
        before an interruption (skipped) and the lane copies of that moment.
        A first Ctrl-C stops at the next task boundary, saves and raises
        KeyboardInterrupt; a second raises at once."""
        plan, stats = self.plan, self.stats
        initial = start_episode * plan.episode_size + (partial.samples if partial else 0)
        bar = _progress(self.progress, plan.total, initial)
        bar_lock = threading.Lock()

        def on_task(count):
            if bar is not None:
                with bar_lock:
                    bar.update(count)

        pipeline = PoolPipeline(self.fill, self.pools, range(start_episode, plan.num_episodes))
        episode = start_episode
        interrupted = saved = False
        tables = None
        last_save = time.perf_counter()
        try:
            with Interrupt(self.save is not None) as stop:
                for episode, pool, _ in pipeline:
                    t = time.perf_counter()
                    tasks = block_tasks(pool, self.rounds, episode * plan.episode_size,
                                        self.lr, self.seed, episode, self.passes)
                    resumed = partial if partial is not None and partial.episode == episode \
                        else None
                    res = self.executor.train_episode(
                        pool, tasks, skip=frozenset(resumed.done) if resumed else frozenset(),
                        lanes=resumed.lanes if resumed else None,
                        should_stop=lambda: stop.requested, on_task=on_task)
                    stats.train_seconds += time.perf_counter() - t
                    stats.samples += res.count
                    if res.done is not None:  # stopped inside the episode
                        if self.save is not None:
                            flat = [x for r in tasks for x in r]
                            current = self.executor.checkpoint_tables()
                            self.agreed(check_finite, current, self.lr.lr0, episode + 1,
                                        plan.num_episodes)
                            before = resumed.loss if resumed else 0.0
                            self.save(current, episode, Partial(
                                episode, res.done, self.executor.lanes(),
                                sum(flat[k].hi - flat[k].lo for k in res.done),
                                before + res.loss))
                            saved = True
                        interrupted = True
                        break
                    loss, count = res.loss, res.count
                    if resumed is not None:  # the tasks trained before the interruption
                        loss, count = loss + resumed.loss, count + resumed.samples
                    stats.samples_done += count
                    stats.loss_history.append(loss / max(count, 1))
                    stats.episodes += 1
                    self.check_divergence(episode)
                    if bar is not None:
                        bar.set_postfix(loss=f"{loss / max(count, 1):.4f}", refresh=False)
                    done = episode + 1
                    if done == plan.num_episodes:
                        break  # finished: a late Ctrl-C does not throw the result away
                    due = time.perf_counter() - last_save >= self.checkpoint_every
                    # clocks and signals differ between processes: all save or none
                    due, requested = self.executor.any_rank(due, stop.requested)
                    if self.save is not None and (due or requested):
                        current = self.executor.checkpoint_tables()
                        self.agreed(check_finite, current, self.lr.lr0, episode + 1,
                                    plan.num_episodes)
                        self.save(current, done, None)
                        saved = True
                        last_save = time.perf_counter()
                    if requested:
                        interrupted = True
                        break
        finally:
            pipeline.close()
            tables = self.executor.tables()
            counters = self.executor.counters
            self.executor.close()
            if bar is not None:
                bar.close()
            stats.fill_seconds = pipeline.fill_seconds
            stats.wait_seconds = pipeline.wait_seconds
            stats.worker_busy_seconds = counters.get("worker_busy_seconds", [])
            stats.partition_loads = counters.get("partition_loads", 0)
            stats.partition_evictions = counters.get("partition_evictions", 0)
            stats.partition_transfers = counters.get("partition_transfers", 0)
            stats.bytes_sent = counters.get("bytes_sent", 0)
            stats.bytes_received = counters.get("bytes_received", 0)
            stats.transfer_seconds = counters.get("transfer_seconds", 0.0)
            stats.rounds = counters.get("rounds", 0)
            stats.max_rss_training = counters.get("max_rss_training", 0)
            stats.max_device_bytes = counters.get("max_device_bytes", 0)
            stats.sends_overlapped = counters.get("sends_overlapped", 0)
            stats.bytes_paged_in = counters.get("bytes_paged_in", 0)
            stats.bytes_paged_out = counters.get("bytes_paged_out", 0)
            stats.paging_seconds = counters.get("paging_seconds", 0.0)
        if interrupted:
            if saved:
                log.warning("interrupted in episode %d of %d; checkpoint saved",
                            episode + 1, plan.num_episodes)
            raise KeyboardInterrupt
        check_finite(tables, self.lr.lr0, plan.num_episodes, plan.num_episodes)
        return tables

    def check_divergence(self, episode: int) -> None:
        """Raise :class:`DivergenceError` when the episode's mean loss exploded
        or a sample of the tables' rows is not finite."""
        losses = self.stats.loss_history
        last, first = losses[-1], losses[0]
        if not math.isfinite(last):
            what = "the loss is not a number"
        elif last > DIVERGENCE_FACTOR * max(first, 1.0):
            what = f"the mean loss rose from {first:.4g} to {last:.4g}"
        else:
            what = None
        if what is not None:
            raise DivergenceError(_diverged(what, self.lr.lr0, episode + 1,
                                            self.plan.num_episodes))
        sample = getattr(self.executor, "sample_rows", None)
        if sample is not None:
            self.agreed(check_finite, sample(CHECKED_ROWS, episode), self.lr.lr0, episode + 1,
                        self.plan.num_episodes)

    def agreed(self, check: Callable, tables, lr0: float, episode: int,
               num_episodes: int) -> None:
        """``check(tables, ...)``, with every process of the run raising if
        any does (each checks the tables it holds; a process raising alone
        would leave the others waiting in their next collective)."""
        try:
            check(tables, lr0, episode, num_episodes)
            failed = None
        except DivergenceError as exc:
            failed = exc
        anywhere, = self.executor.any_rank(failed is not None)
        if failed is not None:
            raise failed
        if anywhere:
            raise DivergenceError(_diverged("another process's tables are not finite", lr0,
                                            episode, num_episodes))


def _diverged(what: str, lr0: float, episode: int, num_episodes: int) -> str:
    return (f"training diverged in episode {episode} of {num_episodes}: {what}. The "
            f"learning rate ({lr0:g}) is the likely cause: try learning_rate={lr0 / 10:.3g} "
            "or lower. Nothing was written")


def check_finite(tables: dict, lr0: float, episode: int, num_episodes: int) -> None:
    """Raise :class:`DivergenceError` naming a table with non-finite values."""
    for name, a in tables.items():
        if not _all_finite(a):
            share = sum(int(np.count_nonzero(~np.isfinite(a[lo:lo + step])))
                        for step in [_rows_per_chunk(a)]
                        for lo in range(0, len(a), step)) / max(1, a.size)
            raise DivergenceError(_diverged(f"{100 * share:.3g}% of the values of table "
                                            f"{name!r} are not finite", lr0, episode,
                                            num_episodes))


def _rows_per_chunk(a, chunk_bytes: int = 1 << 26) -> int:
    return max(1, chunk_bytes // max(1, a[:1].nbytes))


def _all_finite(a) -> bool:
    """Whether every value of ``a`` is finite, a chunk of rows at a time (no
    boolean copy of a table; a memory-mapped table is read once)."""
    a = np.asarray(a) if not isinstance(a, np.ndarray) else a
    if a.ndim == 0:
        return bool(np.isfinite(a))
    step = _rows_per_chunk(a)
    return all(bool(np.isfinite(a[lo:lo + step]).all()) for lo in range(0, len(a), step))


@dataclass
class Partial:
    """An episode interrupted between tasks: which tasks (flattened, in serial
    order) were trained, the GLOBAL tables' lane copies, and their samples."""

    episode: int
    done: list
    lanes: dict
    samples: int = 0
    loss: float = 0.0


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, unit="sample", unit_scale=True,
                desc="training", dynamic_ncols=True, smoothing=0.1)
