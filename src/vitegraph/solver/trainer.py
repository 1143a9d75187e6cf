"""``train()``: data -> model spec -> sampler -> pools -> executor -> tables.

The functional core behind the estimators (``vg.DeepWalk(...).fit``) and the
CLI.  One run:

1. look the model up (:func:`vitegraph.models.get_model`) and resolve the
   ``auto`` options on this data and machine;
2. partition the rows (P = 1: identity), let the model prepare its sampler and
   constants, pick the block schedule (orthogonal rounds, or rounds in which no
   partition appears twice when one table is seen from both sides);
3. initialise the model's tables (or load them from a checkpoint), in
   partition order;
4. the :class:`~vitegraph.solver.coordinator.Coordinator` runs the episodes
   on an executor;
5. back to row-id order, returned as a :class:`TrainResult`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np
from numba import njit

from .._validate import check_float
from ..config.train import ModelConfig, ResolvedConfig, TrainConfig, resolve
from ..errors import CheckpointError, ParameterError
from ..models import get_model
from ..models.spec import GLOBAL, NODES, DataInfo, Model
from ..partition import orthogonal_rounds, partition_nodes, shared_rounds
from ..sampling import SamplePool
from .checkpoint import (Checkpoint, TableShard, check_compatible, load_checkpoint,
                         save_checkpoint, save_sharded_checkpoint)
from .coordinator import (Coordinator, EpisodePlan, LrSchedule, Partial, TrainStats,
                          stream_seed)
from .executors import make_executor
from .memory import check_memory
from .store import Layout, check_layout

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """The trained tables (row-id order; a tied table is its target's array),
    the model, the resolved config, statistics and what the data looked like."""

    tables: dict
    model: Model
    config: ResolvedConfig
    stats: TrainStats
    info: DataInfo
    rank: int = 0       # several processes: this process's rank (tables on rank 0 only)

    def _check_here(self) -> None:
        if self.rank != 0:
            from ..errors import DistributedError
            raise DistributedError(f"this is rank {self.rank} of a run on several processes: "
                                   "the trained tables are on rank 0 only (use them there: "
                                   "if int(os.environ['RANK']) == 0: ...)")

    def __getitem__(self, name: str) -> np.ndarray:
        self._check_here()
        return self.tables[name]

    def embeddings(self, metadata: Optional[dict] = None):
        """The saved tables as :class:`~vitegraph.Embeddings` (the model's
        primary table first), with config, data summary and statistics as
        metadata."""
        from ..embeddings import Embeddings
        self._check_here()
        primary = self.model.primary
        specs = {t.name: t for t in self.model.tables(self.config.config)}
        others = {n: a for n, a in self.tables.items() if n != primary}
        vocabs = {n: self.info.vocabularies[specs[n].rows] for n in others
                  if specs[n].rows != NODES and specs[n].rows in self.info.vocabularies}
        meta = {"model": self.model.name, "config": self.config.to_dict(),
                "data": self.info.summary, "stats": self.stats.to_dict(), **(metadata or {})}
        return Embeddings(self.tables[primary], self.info.vocabulary, tables=others,
                          vocabularies=vocabs, primary=primary, metadata=meta)


def make_config(config=None, options: Optional[Mapping] = None) -> ModelConfig:
    """A config section from a TrainConfig, a model name, a mapping of options
    or None (DeepWalk), with ``options`` applied on top."""
    options = dict(options or {})
    if config is None:
        return TrainConfig(**options)
    if isinstance(config, str):
        return TrainConfig(**{**options, "model": config})
    if isinstance(config, Mapping):
        return TrainConfig(**{**config, **options})
    if isinstance(config, ModelConfig):
        return config.replace(**options) if options else config
    raise ParameterError("train", "config", "a TrainConfig, a model name or a mapping of "
                         "options", type(config).__name__)


INIT_CHUNK_BYTES = 1 << 26   # a table is initialised in chunks of this many bytes


def _fill_chunk(out: np.ndarray, init: str, seed: int, table_no: int, chunk_no: int) -> None:
    """Initial values of one chunk of a table, in place: ``uniform`` is
    ``U(-0.5/d, 0.5/d)`` drawn straight into float32 from the chunk's own
    generator (seeded by seed, table and chunk number, so chunks can be filled
    in any order, on any number of threads, with the same result); ``zeros``."""
    if init == "zeros":
        out[...] = 0
        return
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, table_no,
                                                                       chunk_no])))
    rng.random(out=out, dtype=np.float32)        # releases the GIL
    out -= np.float32(0.5)
    out *= np.float32(1.0 / out.shape[1])


def init_tables(tables, rc, info: DataInfo, layout=None, folder=None,
                needed=None) -> tuple[dict, dict]:
    """Stored tables, each in storage order (partition order: a row's initial
    values depend on its place, not its id, which is the same distribution and
    needs no permuted copy), filled chunk by chunk on ``num_workers`` threads
    (see :func:`_fill_chunk`).  Returns ``(arrays, files)``: with ``folder``,
    the partitioned tables are written there as ``.npy`` files (``files``:
    name -> path) with the same values as in memory.  ``needed(table, lo, hi)``
    (several processes): whether rows ``[lo, hi)`` are this process's; chunks
    it does not need are left as zeros never written (so never committed)."""
    from .._threads import ThreadRunner
    from .paged import table_path, transfer
    arrays, files, jobs = {}, {}, []
    shared_rng = np.random.default_rng(rc.seed)
    for table_no, t in enumerate(x for x in tables if x.tied_to is None):
        rows = info.num_nodes if t.rows == NODES else int(info.sizes[t.rows])
        d = t.width(rc)
        on_disk = folder is not None and t.role != GLOBAL
        if callable(t.init):
            # callable inits draw from one generator in table order, as they always have
            a = np.ascontiguousarray(t.init(shared_rng, (rows, d)), dtype=np.float32)
            if on_disk:
                files[t.name] = table_path(folder, t.name)
                _write_npy(files[t.name], a)
            else:
                arrays[t.name] = a
            continue
        if t.init not in ("uniform", "zeros"):
            raise ValueError(f"table {t.name!r}: unknown init {t.init!r}")
        step = max(1, INIT_CHUNK_BYTES // (4 * d))
        if on_disk:
            files[t.name] = path = table_path(folder, t.name)
            offset = _write_npy(path, None, (rows, d))       # header, then zeros
            if t.init == "uniform":
                jobs += [(path, offset + lo * d * 4, (min(rows, lo + step) - lo, d), t.init,
                          table_no, c) for c, lo in enumerate(range(0, rows, step))]
            continue
        alloc = np.zeros if (t.init == "zeros" or needed is not None) else np.empty
        a = arrays[t.name] = alloc((rows, d), np.float32)
        if t.init == "uniform":
            jobs += [(a[lo:lo + step], t.init, table_no, c)
                     for c, lo in enumerate(range(0, rows, step))
                     if needed is None or needed(t, lo, min(rows, lo + step))]

    def fill(*job):
        if isinstance(job[0], np.ndarray):
            out, init, table_no, c = job
            _fill_chunk(out, init, rc.seed, table_no, c)
            return
        path, offset, shape, init, table_no, c = job
        buf = np.empty(shape, dtype=np.float32)
        _fill_chunk(buf, init, rc.seed, table_no, c)
        fd = os.open(path, os.O_WRONLY)
        try:
            transfer(fd, buf, offset, write=True)
        finally:
            os.close(fd)

    runner = ThreadRunner(max(1, int(rc.num_workers)), "vitegraph-init")
    try:
        runner.run(fill, jobs)
    except OSError as exc:
        from ..errors import OutputError
        raise OutputError(f"cannot write a table file: {exc}", folder) from None
    finally:
        runner.close()
    return arrays, files


def _write_npy(path: str, a: Optional[np.ndarray], shape: Optional[tuple] = None) -> int:
    """A float32 ``.npy`` file: ``a``, or a header for ``shape`` and zeros (a
    sparse file, filled in later); returns the data offset."""
    from ..errors import OutputError
    shape = a.shape if a is not None else tuple(shape)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f4", "fortran_order": False, "shape": shape})
            offset = f.tell()
            if a is not None:
                f.write(memoryview(np.ascontiguousarray(a, dtype=np.float32)).cast("B"))
            else:
                f.truncate(offset + int(np.prod(shape)) * 4)
    except OSError as exc:
        raise OutputError(f"cannot write a table file: {exc}", path) from None
    return offset


def train(data, config=None, *, checkpoint=None, resume: bool = False,
          checkpoint_every: float = 60.0, init=None, freeze_existing: bool = False,
          **options) -> TrainResult:
    """Train the model ``config`` names on ``data``.

    ``config``: a :class:`~vitegraph.TrainConfig` (a model's config section), a
    model name (``"line"``), a mapping of options, or None (DeepWalk); keyword
    ``options`` override it: ``train(g, "line", order=1, num_epoch=100)``.

    ``checkpoint``: path of a checkpoint file, written at the end of an episode
    once ``checkpoint_every`` seconds have passed since the last one (0: every
    episode), and when the run is interrupted (Ctrl-C finishes the current
    episode, saves, and raises ``KeyboardInterrupt``).  ``resume=True``
    continues from that file when it exists (refusing one of other data or
    options).

    ``init``: trained :class:`~vitegraph.Embeddings` (or the path of a saved
    one) whose tables start this run, rows matched by node name; with
    ``freeze_existing=True`` those rows stay bitwise as they are and only the
    nodes ``init`` lacks train (new nodes of a grown graph; see
    :mod:`vitegraph.solver.warm`).
    """
    t_start = time.perf_counter()
    config = make_config(config, options)
    if resume and checkpoint is None:
        raise ParameterError("train", "resume", "False unless a checkpoint path is given", True)
    checkpoint_every = check_float("train", "checkpoint_every", checkpoint_every, minimum=0,
                                   expected="a number of seconds >= 0")
    model = get_model(config.model)
    data = model.check_data(data)
    info = model.describe(data)
    warm = None
    if init is not None or freeze_existing:
        from .warm import WarmStart
        warm = WarmStart.build(model, config, info, init, bool(freeze_existing))
        info.trainable_rows = warm.num_trainable
        log.info("warm start from %d table(s) of the given embedding%s", len(warm.rows),
                 f"; {warm.num_trainable:,} new rows train, the others are frozen"
                 if warm.trainable is not None else "")
    if model.direct:
        return _solve_direct(model, data, config, info, checkpoint, t_start)
    rc = resolve(config, info, model)
    if warm is not None:
        warm.check_run(rc)
    ranks = None
    from .distributed import world_size_from_env
    if world_size_from_env() > 1:
        from .distributed import check_supported, process_group, use_nccl
        ranks = process_group(rc.dist_timeout, use_nccl(rc))
        check_supported(model, rc, ranks)
        ranks.check_same({"config": {k: v for k, v in rc.to_dict().items()
                                     if k != "progress"},
                          "data": info.fingerprint})
        log.info("rank %d of %d: blocks of context partitions j = %d mod %d", ranks.rank,
                 ranks.world, ranks.rank, ranks.world)
    check_memory(model, rc, info)   # before anything large is allocated

    # -- episodes, partitions, schedule, sampler
    plan = EpisodePlan.cover(rc.total_samples, rc.episode_size)
    lr = LrSchedule(rc.learning_rate, rc.lr_floor, plan.total)
    P = rc.num_partitions
    part = partition_nodes(info.partition_weight, P)
    rounds = shared_rounds(P) if rc.shared_rows else orthogonal_rounds(P, P)
    specs = model.tables(config)
    check_layout(specs)
    layout = Layout(tuple(specs), part.offsets.astype(np.int64),
                    num_slots=max(len(r) for r in rounds),
                    threads_per_block=rc.threads_per_block)

    # -- tables: fresh or from the checkpoint, in partition order
    cfg_dict = rc.to_dict()
    stats = TrainStats()
    start_episode = 0
    partial = None
    folder = None if rc.table_storage == "memory" else os.fspath(rc.table_storage)
    files = {}
    if resume and os.path.exists(os.fspath(checkpoint)):
        # several processes: each reads the partitions it starts with
        ck = load_checkpoint(checkpoint, None if ranks is None else
                             lambda name, p: p % ranks.world == ranks.rank)
        check_compatible(checkpoint, ck, cfg_dict, info.fingerprint, lane_shapes(layout, rc, info))
        if ck.offsets is not None and list(ck.offsets) != [int(x) for x in layout.offsets]:
            raise CheckpointError(f"{checkpoint}: its partitions are cut at other rows than "
                                  "this run's (another version's partitioning?); start anew")
        tables = {name: np.ascontiguousarray(a, dtype=np.float32)
                  for name, a in ck.tables.items()}
        if folder is not None:
            from .paged import table_path
            for t in layout.storage:
                if t.role != GLOBAL:
                    a = tables.pop(t.name)
                    files[t.name] = table_path(folder, t.name)
                    _write_npy(files[t.name], a)
                    del a
        start_episode = ck.episode
        if ck.partial_done is not None:
            partial = Partial(ck.episode, list(ck.partial_done), ck.lanes, ck.partial_count,
                              ck.partial_loss)
        stats.samples_done = ck.episode * plan.episode_size
        stats.loss_history = list(ck.stats.get("loss_history", []))
        stats.resumed_from_episode = start_episode
        log.info("resuming from %s at episode %d of %d", checkpoint, start_episode,
                 plan.num_episodes)
    else:
        needed = None
        if ranks is not None:
            from .distributed import initial_rows
            needed = initial_rows(layout, ranks)
        tables, files = init_tables(specs, rc, info, layout, folder, needed)
        if warm is not None:
            if files:
                raise ParameterError("train", "init", "used with tables in memory",
                                     f"table_storage {rc.table_storage}")
            warm.apply(tables, specs, part.order)

    if warm is not None and warm.trainable is not None:
        problem = model.prepare(data, rc, part, trainable=warm.trainable)
    else:
        problem = model.prepare(data, rc, part)
    routing = None
    if ranks is not None and rc.dist_sampling == "share":
        if hasattr(problem.sampler, "share"):
            from .distributed import SampleRouting
            from .distributed import block_owners
            routing = problem.sampler.share = SampleRouting(ranks, P,
                                                            block_owners(rounds, ranks.world))
        else:
            log.warning("%s's sampler cannot share the sampling: every process walks the "
                        "whole pool", model.title)
    if rc.sampler == "device":
        from ..sampling.device_walks import DevicePool
        pools = [DevicePool(plan.episode_size, rc.device.split(",")[0], model.columns)
                 for _ in range(2)]
    else:
        pools = [SamplePool(plan.episode_size, part if P > 1 else None, model.columns)
                 for _ in range(2)]

    def fill(pool, episode):
        problem.sampler.reseed(stream_seed(rc.seed, episode, 0))
        problem.sampler.fill(pool)

    save = None
    if checkpoint is not None:
        def save(current, episodes_done, part):
            samples = episodes_done * plan.episode_size + (part.samples if part else 0)
            sharded = isinstance(current, TableShard)     # several processes
            ck = Checkpoint({} if sharded else current, episodes_done, samples, cfg_dict,
                            info.fingerprint, {"loss_history": stats.loss_history},
                            part.done if part else None, part.lanes if part else {},
                            part.loss if part else 0.0, part.samples if part else 0)
            if sharded:
                save_sharded_checkpoint(checkpoint, ck, current, ranks)
            else:
                save_checkpoint(checkpoint, ck)

    try:
        executor = make_executor(rc, model, layout, tables, problem.constants, files, ranks,
                                 rounds)
        del tables
        stats.setup_seconds = time.perf_counter() - t_start
        log.info("setup %.1f s (tables %s, sampler and pools ready)", stats.setup_seconds,
                 "in " + folder if folder else "in memory")
        coordinator = Coordinator(executor=executor, fill=fill, pools=pools, rounds=rounds,
                                  plan=plan, lr=lr, seed=rc.seed, stats=stats,
                                  passes=rc.passes, save=save,
                                  checkpoint_every=checkpoint_every,
                                  progress=rc.progress and (ranks is None or ranks.rank == 0))
        tables = coordinator.run(start_episode, partial)   # closes the executor
    finally:
        problem.close()
        stats.seconds = time.perf_counter() - t_start
        if routing is not None:
            stats.pairs_sent = routing.stats["pairs_sent"]
            stats.pairs_received = routing.stats["pairs_received"]

    if ranks is not None and ranks.rank != 0:      # the result is on rank 0
        log.info("trained %d samples in %.2f s (rank %d; the result is on rank 0)",
                 stats.samples, stats.seconds, ranks.rank)
        return TrainResult({}, model, rc, stats, info, rank=ranks.rank)
    # -- back to row-id order; tied tables alias their targets; drop unsaved ones
    if P > 1:
        for name in list(tables):
            if _role(specs, name) == GLOBAL:
                continue
            if name in files:
                from .paged import row_order_file, table_path
                a = tables.pop(name)
                tables[name] = row_order_file(a, part.order, table_path(folder, name, ".rows"))
                del a
                os.unlink(files[name])
            else:
                tables[name] = rows_in_id_order(tables[name], part.order)
    result = {}
    for t in specs:
        if t.saved:
            result[t.name] = tables[t.tied_to or t.name]
    result = model.finish(data, result, rc)
    log.info("trained %d samples in %.2f s (%.2f M samples/s; fill %.2f s, train %.2f s, "
             "wait %.2f s)", stats.samples, stats.seconds, stats.samples_per_second / 1e6,
             stats.fill_seconds, stats.train_seconds, stats.wait_seconds)
    return TrainResult(result, model, rc, stats, info)


def _solve_direct(model, data, config, info, checkpoint, t_start) -> TrainResult:
    """A :class:`~vitegraph.models.DirectModel`: its tables straight from the
    data (no samples, so nothing to checkpoint or resume)."""
    rc = ResolvedConfig(config, {}, model.resolve(config, info))
    log.info("resolved config: model=%s %s", config.model,
             " ".join(f"{k}={v}" for k, v in rc.to_dict().items() if k != "model"))
    check_memory(model, rc, info)
    if checkpoint is not None:
        log.info("%s is solved in one step: no checkpoint is written", model.title)
    stats = TrainStats()
    stats.setup_seconds = time.perf_counter() - t_start
    tables = model.finish(data, model.solve(data, rc), rc)
    stats.seconds = time.perf_counter() - t_start
    log.info("solved %s in %.2f s", model.title, stats.seconds)
    return TrainResult(tables, model, rc, stats, info)


def rows_in_id_order(a: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``a`` (storage order: ``a[k]`` is row ``order[k]``) put in row-id order
    in place, by following the permutation's cycles with one spare row (no
    second table); returns ``a``."""
    _permute_rows(a, np.ascontiguousarray(order, dtype=np.int64))
    return a


@njit(nogil=True, cache=True)
def _permute_rows(a, order):
    n = order.size
    placed = np.zeros(n, dtype=np.bool_)
    carry = np.empty(a.shape[1], dtype=a.dtype)
    spare = np.empty(a.shape[1], dtype=a.dtype)
    for s in range(n):
        if placed[s]:
            continue
        placed[s] = True
        if order[s] == s:
            continue
        carry[:] = a[s]
        k = s
        while True:                 # the row held at k belongs at order[k]
            dest = order[k]
            placed[dest] = True
            spare[:] = a[dest]
            a[dest] = carry
            carry[:] = spare
            if dest == s:
                break
            k = dest


def lane_shapes(layout, rc, info) -> dict:
    """Shapes of the GLOBAL tables' lane copies in this run."""
    out = {}
    for t in layout.storage:
        if t.role == GLOBAL:
            rows = int(info.sizes[t.rows])
            out[t.name] = (layout.num_lanes, rows, t.width(rc))
    return out


def _role(specs, name: str) -> str:
    return next(t.role for t in specs if t.name == name)
