"""The training loop: graph -> sampler -> double-buffered pools -> workers -> tables.

:func:`train` is the functional core behind the estimators (``vg.DeepWalk`` ...)
and the CLI.  One run:

1. resolve the ``auto`` options (:func:`vitegraph.config.resolve`);
2. partition the nodes (P = 1: identity), build the negative tables per context
   partition and the walk sampler;
3. initialise ``vertex ~ U(-0.5/d, 0.5/d)`` and ``context = 0`` in permuted row
   order (first-order LINE: one table in both roles);
4. for every episode: the producer thread fills the next pool while the
   workers train the current one, block round by block round;
5. un-permute and return the tables with statistics.

``num_epoch * |E|`` positive samples are trained in ``num_episodes`` pools of
equal size (the last pool is not cut short: the total is rounded up to a
multiple of the pool size, at most one pool's worth).
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..config import TrainConfig, resolve
from ..config.train import ResolvedConfig
from ..errors import ParameterError
from ..graph import Graph
from ..partition import orthogonal_rounds, partition_nodes
from ..sampling import SamplePool, WalkSampler, build_negative_tables
from ..sampling.rng import splitmix64
from .checkpoint import (Checkpoint, check_compatible, graph_fingerprint, load_checkpoint,
                         save_checkpoint)
from .pipeline import PoolPipeline
from .workers import LrSchedule, NumbaWorkers, TorchWorkers

log = logging.getLogger(__name__)


@dataclass
class TrainStats:
    """What a run did and how fast."""

    samples: int = 0
    seconds: float = 0.0
    setup_seconds: float = 0.0
    train_seconds: float = 0.0        # workers busy
    fill_seconds: float = 0.0         # producer busy (overlaps training)
    wait_seconds: float = 0.0         # workers idle, waiting for a pool
    episodes: int = 0
    resumed_from_episode: int = 0
    loss_history: list = field(default_factory=list)   # mean loss per episode

    @property
    def samples_per_second(self) -> float:
        loop = self.seconds - self.setup_seconds
        return self.samples / loop if loop > 0 else 0.0

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["samples_per_second"] = self.samples_per_second
        return d


@dataclass
class TrainResult:
    vertex: np.ndarray                 # [num_nodes, dim], node id order
    context: np.ndarray                # same shape (the vertex array itself for LINE order 1)
    config: ResolvedConfig
    stats: TrainStats


def _episode_seed(seed: int, episode: int, stream: int) -> int:
    """Independent 63-bit seeds per (run seed, episode, stream)."""
    x = int(splitmix64(np.uint64(seed) * np.uint64(1000003) + np.uint64(episode)))
    return int(splitmix64(np.uint64(x ^ (stream * 0x9E3779B97F4A7C15 & (2**64 - 1))))) >> 1


def _init_tables(num_nodes: int, dim: int, seed: int, same: bool):
    rng = np.random.default_rng(seed)
    vertex = rng.uniform(-0.5 / dim, 0.5 / dim, size=(num_nodes, dim)).astype(np.float32)
    context = vertex if same else np.zeros((num_nodes, dim), dtype=np.float32)
    return vertex, context


class _Interrupt:
    """With a checkpoint to write, turn SIGINT into a flag checked after each
    episode, so Ctrl-C stops at a consistent point and saves.  Without one (or
    off the main thread) Ctrl-C raises at once, as usual."""

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
        log.warning("interrupt: stopping after the current episode (Ctrl-C again to abort)")

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def train(graph: Graph, config: Optional[TrainConfig] = None, *, checkpoint=None,
          resume: bool = False, checkpoint_every: int = 1) -> TrainResult:
    """Train node embeddings of ``graph`` with ``config`` (default DeepWalk).

    ``checkpoint``: path of a checkpoint file written every ``checkpoint_every``
    episodes and when the run is interrupted (Ctrl-C finishes the current
    episode, saves, and raises ``KeyboardInterrupt``).  ``resume=True`` continues
    from that file when it exists (refusing one of another graph or config).
    """
    t_start = time.perf_counter()
    if not isinstance(graph, Graph):
        raise ParameterError("train", "graph", "a vitegraph.Graph (see vg.as_graph)",
                             type(graph).__name__)
    config = config or TrainConfig()
    if not isinstance(config, TrainConfig):
        raise ParameterError("train", "config", "a TrainConfig", type(config).__name__)
    if graph.num_stored_edges == 0:
        raise ParameterError("train", "graph", "a graph with at least one edge", repr(graph))
    if resume and checkpoint is None:
        raise ParameterError("train", "resume", "False unless a checkpoint path is given", True)
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or \
            checkpoint_every < 1:
        raise ParameterError("train", "checkpoint_every", "a positive int", checkpoint_every)
    rc = resolve(config, graph.num_nodes, graph.num_edges)

    # -- episodes: equal pools covering num_epoch * |E| samples
    total = rc.total_samples
    num_episodes = max(1, math.ceil(total / rc.episode_size))
    episode_size = math.ceil(total / num_episodes)
    total = episode_size * num_episodes
    lr = LrSchedule(rc.learning_rate, rc.lr_floor, total)

    # -- partition, negative tables, sampler
    degree = graph.weighted_degree
    part = partition_nodes(degree, rc.num_partitions)
    negatives = build_negative_tables(part, degree, rc.negative_exponent)
    sampler = WalkSampler(graph.indptr, graph.indices, graph.weights,
                          num_edges=graph.num_edges, walk_length=rc.walk_length,
                          augmentation_step=rc.augmentation_step, shuffle_base=rc.shuffle_base,
                          p=rc.p, q=rc.q, num_threads=rc.num_sampler_threads, seed=rc.seed)
    routed = rc.num_partitions > 1
    rounds = orthogonal_rounds(rc.num_partitions, rc.num_workers if routed else 1)
    pools = [SamplePool(episode_size, part if routed else None) for _ in range(2)]

    # -- tables
    same = rc.model == "line" and rc.order == 1
    fingerprint = graph_fingerprint(graph)
    cfg_dict = rc.to_dict()
    start_episode = 0
    stats = TrainStats()
    if resume and checkpoint is not None and _exists(checkpoint):
        ck = load_checkpoint(checkpoint)
        check_compatible(checkpoint, ck, cfg_dict, fingerprint)
        vertex = np.ascontiguousarray(ck.vertex, dtype=np.float32)
        context = vertex if same else np.ascontiguousarray(ck.context, dtype=np.float32)
        start_episode = ck.episode
        stats.loss_history = list(ck.stats.get("loss_history", []))
        stats.resumed_from_episode = start_episode
        log.info("resuming from %s at episode %d of %d", checkpoint, start_episode, num_episodes)
    else:
        vertex, context = _init_tables(graph.num_nodes, rc.dim, rc.seed, same)
        if routed:  # permuted row order
            vertex = vertex[part.order]
            context = vertex if same else context
    if rc.backend == "torch":
        workers = TorchWorkers(vertex, context, negatives, part.offsets, device=rc.device,
                               batch_size=rc.batch_size, num_negative=rc.num_negative,
                               negative_weight=rc.negative_weight, weight_decay=rc.weight_decay,
                               seed=rc.seed, same_table=same)
    else:
        workers = NumbaWorkers(vertex, context, negatives, part.offsets,
                               num_workers=rc.num_workers, num_negative=rc.num_negative,
                               negative_weight=rc.negative_weight, weight_decay=rc.weight_decay,
                               seed=rc.seed)

    def fill(pool, episode):
        sampler.reseed(_episode_seed(rc.seed, episode, 0))
        sampler.fill(pool)

    def save(episode_done):
        v, c = workers.tables()
        save_checkpoint(checkpoint, Checkpoint(v, c, episode_done, episode_done * episode_size,
                                               cfg_dict, fingerprint,
                                               {"loss_history": stats.loss_history}))

    stats.setup_seconds = time.perf_counter() - t_start
    bar = _progress(rc.progress, total, start_episode * episode_size)
    pipeline = PoolPipeline(fill, pools, range(start_episode, num_episodes))
    episode = start_episode
    interrupted = saved = False
    try:
        with _Interrupt(checkpoint is not None) as stop:
            for episode, pool, _ in pipeline:
                workers.reseed(_episode_seed(rc.seed, episode, 1))
                t = time.perf_counter()
                loss, count = workers.train_pool(pool, episode * episode_size, lr, rounds)
                stats.train_seconds += time.perf_counter() - t
                stats.samples += count
                stats.loss_history.append(loss / max(count, 1))
                stats.episodes += 1
                if bar is not None:
                    bar.update(count)
                    bar.set_postfix(loss=f"{loss / max(count, 1):.4f}", refresh=False)
                done = episode + 1
                if done == num_episodes:
                    break  # finished: a late Ctrl-C does not throw the result away
                if checkpoint is not None and (done % checkpoint_every == 0 or stop.requested):
                    save(done)
                    saved = True
                if stop.requested:
                    interrupted = True
                    break
    finally:
        pipeline.close()
        workers_tables = workers.tables()
        workers.close()
        sampler.close()
        if bar is not None:
            bar.close()
        stats.fill_seconds = pipeline.fill_seconds
        stats.wait_seconds = pipeline.wait_seconds
        stats.seconds = time.perf_counter() - t_start
    if interrupted:
        if saved:
            log.warning("interrupted after episode %d of %d; checkpoint saved to %s",
                        episode + 1, num_episodes, checkpoint)
        raise KeyboardInterrupt
    vertex, context = workers_tables
    if routed:  # back to node id order
        inv = np.empty_like(part.order)
        inv[part.order] = np.arange(part.order.size, dtype=part.order.dtype)
        vertex = vertex[inv]
        context = vertex if same else context[inv]
    log.info("trained %d samples in %.2f s (%.2f M samples/s; fill %.2f s, train %.2f s, "
             "wait %.2f s)", stats.samples, stats.seconds, stats.samples_per_second / 1e6,
             stats.fill_seconds, stats.train_seconds, stats.wait_seconds)
    return TrainResult(vertex, context, rc, stats)


def _exists(path) -> bool:
    import os
    return os.path.exists(os.fspath(path))


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, unit="sample", unit_scale=True,
                desc="training", dynamic_ncols=True, smoothing=0.1)
