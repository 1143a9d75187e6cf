"""Several processes (torch.distributed): ranks own partitions, blocks run
where their context partition lives, vertex partitions travel rank to rank.

Launched the standard way, ``torchrun --nproc-per-node W -m vitegraph run
config.yaml`` (``--nnodes`` for several machines): :func:`process_group`
finds ``WORLD_SIZE`` in the environment and joins the group (gloo; one
process stays the default and needs none of this).

The schedule is the serial engine's (:func:`orthogonal_rounds` with P
blocks per round), so the result is bitwise that of the serial run with one
thread per block: every rank fills the same pools (the same seeds and
sampler threads; :meth:`Ranks.check_same` refuses ranks that disagree on the
config or the data), and block (i, j) is trained by rank ``j mod W`` (with
separate vertex and context tables), the owner of context partition j,
which therefore never moves.  Before each round the vertex partition i of
each block goes to that rank from the rank that trained it last
(point-to-point ``isend``/``irecv``, as :mod:`vitegraph.partition.placement`
plans; ``placement_plan`` gives the counts of a whole run).  The moves of the
next round overlap the current one (``dist_overlap``, default on): receives
are posted at the round's start and a partition is sent as soon as the
sender's last block of the round that uses it is done, while it trains its
other blocks (each table of a move has a tag of its own, so ops posted in any
order match); over NCCL, which runs two ranks' ops in the order posted, each
round's moves are posted together instead.  Each rank tracks the partitions
it physically holds (added on receipt, dropped when the send is posted: it
is not trained here again); at the start of
every round an all-reduce checks that each vertex partition is held by
exactly one rank, and
a rank checks it holds both partitions of a block before training it.  At
the end of an episode the per-block sample counts of all ranks are summed
and must equal the pool's: every positive sample trained exactly once.

:meth:`DistributedExecutor.checkpoint_tables` gives each rank's held
partitions for a sharded checkpoint (each rank writes its own shard, rank 0
the manifest: :mod:`vitegraph.solver.checkpoint`); :meth:`DistributedExecutor.tables`
sends each partition from its holder to rank 0 for the result (the other
ranks' results hold no tables, so no process but rank 0 ever holds them whole).  A stop request
(Ctrl-C, which torchrun forwards to every rank) is agreed on at round
boundaries.  Every collective has the group's timeout (``dist_timeout``): a
rank that dies or hangs makes the others fail with
:class:`~vitegraph.errors.DistributedError` within it.

Memory: the tables are full-size arrays on every rank, but only the pages of
the partitions a rank holds are ever written there (initialised, received);
a partition sent away gives its pages back (``madvise``), so a rank's tables
cost about its share (``max_rss_training`` reports the peak).  Checkpoints
are sharded (no rank gathers the tables); the result is gathered on rank 0
only.

A table seen from both sides (first-order LINE's, the knowledge-graph
entities) follows :func:`shared_rounds`: both partitions of a block travel,
the block at position s of a round runs on rank ``s mod W``; the global
tables' lane copies of round slot s live on that rank, and before the
reduction each slot's lanes are broadcast from it, so every rank reduces all
lanes in lane order, as the serial run does.

The torch and Triton kernels (``backend: torch`` or ``triton``) run on the
process's device (``cuda:LOCAL_RANK``) with its partitions **resident** there:
a rank keeps each partition it holds as a device tensor (the host arrays are
written only for a checkpoint or the result, and their pages given back),
trains blocks on them in place, and sends and receives them as they are.  With
NCCL (``dist_backend: auto`` on CUDA, or ``nccl``) the group is
``cpu:gloo,cuda:nccl``: partitions go device to device over NCCL (batched
point-to-point), while the small host collectives (ownership, counts, lanes)
stay on gloo; with gloo, partitions are staged through host memory.  The
global tables' lane copies and the constants are staged per block.  Tested on
the CPU (``RESIDENT_ON_CPU``: the same path with the CPU as device, bitwise
the serial torch run); a test of two processes sharing one GPU over gloo
(``tests/test_distributed.py``, marked gpu) waits for a GPU machine, and NCCL
between two GPUs has not run (no machine with two GPUs; one GPU cannot hold
two NCCL ranks).  With the CPU as the device (and ``RESIDENT_ON_CPU`` off) the
partitions are the host arrays themselves, no copies.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import time
from typing import Optional

import numpy as np

from ..config.schema import AUTO
from ..errors import DistributedError, ParameterError
from ..models.spec import GLOBAL, HEAD, TAIL
from .executors import EpisodeResult, NumbaExecutor

log = logging.getLogger(__name__)

# Keep the partitions a process holds as tensors of their own on the CPU too
# (as they are on a GPU), so that the tests run the device-resident path
# without a GPU; no use otherwise.
RESIDENT_ON_CPU = False


def world_size_from_env() -> int:
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        raise ParameterError("train", "WORLD_SIZE", "an int (set by torchrun)",
                             os.environ.get("WORLD_SIZE")) from None


def is_main_process() -> bool:
    """True unless this is a rank other than 0 of a run on several processes
    (the one that writes outputs and prints)."""
    return world_size_from_env() <= 1 or os.environ.get("RANK", "0") == "0"


class Ranks:
    """The process group of a run: ``rank``, ``world``, ``timeout`` seconds.

    ``group``: the group of host-memory (gloo) collectives (None: the default
    group); ``device_p2p``: whether CUDA tensors travel process to process
    directly (NCCL) rather than through host memory."""

    def __init__(self, dist, rank: int, world: int, timeout: float, group=None,
                 device_p2p: bool = False):
        self.dist = dist
        self.rank = rank
        self.world = world
        self.timeout = timeout
        self.group = group
        self.device_p2p = device_p2p

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RuntimeError as exc:       # gloo: a peer closed, or the timeout passed
            raise DistributedError(
                f"rank {self.rank} of {self.world}: {what} failed ({str(exc).splitlines()[0]}); "
                f"another rank stopped or did not answer within {self.timeout:g} s "
                "(dist_timeout)") from None

    def all_sum(self, a: np.ndarray, what: str) -> np.ndarray:
        import torch
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))
        self._call(what, self.dist.all_reduce, t, op=self.dist.ReduceOp.SUM, group=self.group)
        return t.numpy()

    def all_gather(self, obj, what: str) -> list:
        """Every rank's ``obj`` (picklable), in rank order."""
        objs = [None] * self.world
        self._call(what, self.dist.all_gather_object, objs, obj, group=self.group)
        return objs

    def check_same(self, facts: dict) -> None:
        """Raise unless every rank passes the same ``facts`` (config, data)."""
        text = json.dumps(facts, sort_keys=True, default=str)
        mine = {k: hashlib.sha256(json.dumps(v, sort_keys=True, default=str).encode())
                .hexdigest() for k, v in facts.items()}
        objs = self.all_gather((hashlib.sha256(text.encode()).hexdigest(), mine, facts),
                               "comparing the ranks' configs")
        if len({o[0] for o in objs}) == 1:
            return
        for k in sorted(facts):
            if len({o[1].get(k) for o in objs}) > 1:
                raise DistributedError(f"the ranks disagree on {k}: " + "; ".join(
                    f"rank {r}: {o[2].get(k)!r}" for r, o in enumerate(objs)) +
                    " (every rank must run the same config on the same data)")
        raise DistributedError("the ranks disagree on their config or data")


def use_nccl(rc) -> bool:
    """Whether partitions of this run travel over NCCL (``dist_backend``):
    only with the torch or Triton kernels on CUDA devices."""
    choice = rc.config.dist_backend
    if choice == "gloo":
        return False
    on_cuda = rc.backend in ("torch", "triton") and rc.device.startswith("cuda")
    have = own = False
    if on_cuda:
        import torch
        import torch.distributed as dist
        have = torch.cuda.is_available() and dist.is_nccl_available()
        # NCCL refuses two ranks on one GPU: each local process needs its own
        local = int(os.environ.get("LOCAL_WORLD_SIZE", world_size_from_env()))
        own = have and rc.device == "cuda" and torch.cuda.device_count() >= local
    if choice == "nccl" and not (on_cuda and have):
        raise ParameterError(rc.config._owner, "dist_backend", "gloo or auto unless the "
                             "torch or triton kernels run on CUDA devices with a torch that "
                             "has NCCL" + ("" if on_cuda else
                                           f" (here backend {rc.backend}, device {rc.device})"),
                             choice)
    return own if choice == AUTO else True


def local_device(device: str, rank: int):
    """This process's device: ``cuda`` is ``cuda:LOCAL_RANK`` (modulo the
    GPUs visible), anything else as given."""
    import torch
    if device == "cuda":
        local = int(os.environ.get("LOCAL_RANK", rank))
        device = f"cuda:{local % max(1, torch.cuda.device_count())}"
    return torch.device(device)


def process_group(timeout: float, nccl: bool = False) -> Optional[Ranks]:
    """The run's process group when launched with ``WORLD_SIZE`` > 1, else
    None.  Joined here if the launcher did not: gloo, and with ``nccl`` the
    mixed backend ``cpu:gloo,cuda:nccl`` (host tensors over gloo, CUDA tensors
    over NCCL).  A group the launcher made without gloo gets a gloo group of
    its own for the host-memory collectives."""
    if world_size_from_env() <= 1:
        return None
    try:
        import torch.distributed as dist
    except ImportError:
        raise ParameterError("train", "WORLD_SIZE", "1 when torch is not installed "
                             "(pip install 'vitegraph[torch]')", os.environ["WORLD_SIZE"]) \
            from None
    wait = datetime.timedelta(seconds=timeout)
    if nccl:      # before anything touches a GPU: this process's own
        import torch
        torch.cuda.set_device(local_device("cuda", int(os.environ.get("RANK", "0"))))
    if not dist.is_initialized():
        try:
            dist.init_process_group("cpu:gloo,cuda:nccl" if nccl else "gloo", timeout=wait)
        except (RuntimeError, ValueError) as exc:
            raise DistributedError(f"cannot join the process group: {exc} (launch with "
                                   "torchrun, which sets RANK, WORLD_SIZE, MASTER_ADDR and "
                                   "MASTER_PORT)") from None
    backend = str(dist.get_backend())
    group = None if "gloo" in backend else dist.new_group(backend="gloo", timeout=wait)
    return Ranks(dist, dist.get_rank(), dist.get_world_size(), timeout, group,
                 device_p2p=nccl and "nccl" in backend)


class SampleRouting:
    """A rank's share of the sampling (``dist_sampling: share``): of the
    sampler's T chunks (one seeded stream each), rank w walks chunks
    ``T w / W .. T (w + 1) / W``; the per-chunk block counts are summed over
    the ranks, so every rank places its pairs where the serial fill would;
    then the pairs of each block go to the rank that trains it, which ends with
    exactly the serial pool's pairs in each of its blocks.  Its own process
    group: the sampler fills from a thread of its own while training talks on
    the main group."""

    def __init__(self, ranks: Ranks, num_partitions: int, owner_of: np.ndarray):
        self.ranks = ranks
        self.P = num_partitions
        self.owner_of = owner_of.ravel()           # block b = i * P + j -> its rank
        self.group = ranks.dist.new_group(backend="gloo", timeout=datetime.timedelta(
            seconds=ranks.timeout))
        self.stats = {"pairs_sent": 0, "pairs_received": 0, "exchange_seconds": 0.0}

    def chunks(self, T: int) -> range:
        if T < self.ranks.world:
            raise ParameterError("train", "num_sampler_threads", f"at least the number of "
                                 f"processes ({self.ranks.world}) with dist_sampling share", T)
        w, W = self.ranks.rank, self.ranks.world
        return range(T * w // W, T * (w + 1) // W)

    def reduce_counts(self, hist: np.ndarray) -> np.ndarray:
        import torch
        t = torch.from_numpy(np.ascontiguousarray(hist, dtype=np.int64))
        self.ranks._call("summing the sample counts", self.ranks.dist.all_reduce, t,
                         group=self.group)
        return t.numpy()

    def exchange(self, pool, hist, starts, mine) -> None:
        """Send this rank's pairs of each block to the block's rank; receive
        the other ranks' pairs of this rank's blocks (into the same places)."""
        import torch
        dist, W, me = self.ranks.dist, self.ranks.world, self.ranks.rank
        t0 = time.perf_counter()
        T = hist.shape[0]
        first = [T * r // W for r in range(W + 1)]
        ops = []
        for b in range(self.P * self.P):
            owner = int(self.owner_of[b])
            for r in range(W):
                lo_t, hi_t = first[r], first[r + 1]
                lo = int(starts[lo_t, b])
                hi = int(starts[hi_t - 1, b] + hist[hi_t - 1, b])
                if hi <= lo or r == owner or me not in (r, owner):
                    continue
                for col in (pool.heads, pool.tails):
                    piece = torch.from_numpy(col[lo:hi])
                    if me == r:
                        ops.append(self.ranks._call("routing samples", dist.isend, piece,
                                                    owner, group=self.group))
                    else:
                        ops.append(self.ranks._call("routing samples", dist.irecv, piece,
                                                    r, group=self.group))
                key = "pairs_sent" if me == r else "pairs_received"
                self.stats[key] += hi - lo
        for op in ops:
            self.ranks._call("routing samples", op.wait)
        self.stats["exchange_seconds"] += time.perf_counter() - t0


def block_owners(schedule, world: int) -> np.ndarray:
    """int[P, P]: the rank of each block, the one at position s of its round
    running on rank ``s mod W``."""
    P = 1 + max(max(i, j) for r in schedule for i, j in r)
    out = np.full((P, P), -1, dtype=np.int64)
    for r in schedule:
        for pos, (i, j) in enumerate(r):
            out[i, j] = pos % world
    return out


def initial_rows(layout, ranks: Ranks):
    """``needed(table, lo, hi)`` for the table initialisation: the rows of
    the partitions this rank starts with (vertex i and context j with
    ``i, j = rank mod W``)."""
    W, me = ranks.world, ranks.rank
    mine = [layout.rows(p) for p in range(layout.num_partitions) if p % W == me]

    def needed(table, lo, hi):
        return table.role == GLOBAL or any(r.start < hi and lo < r.stop for r in mine)
    return needed


def _release(view: np.ndarray) -> None:
    """Give the pages wholly inside ``view`` back to the system (they read as
    zeros until written again): a partition that left this rank costs no
    memory here."""
    import ctypes
    import mmap
    page = mmap.PAGESIZE
    start = view.__array_interface__["data"][0]
    lo = -(-start // page) * page
    hi = (start + view.nbytes) // page * page
    if hi > lo:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise(ctypes.c_void_p(lo), ctypes.c_size_t(hi - lo), 4)   # MADV_DONTNEED


def _max_rss() -> int:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def check_supported(model, rc, ranks: Ranks) -> None:
    owner = rc.config._owner
    if rc.backend != "numba" and len(rc.device.split(",")) > 1:
        raise ParameterError(owner, "device", "one device per process when training on "
                             "several processes", rc.device)
    if rc.table_storage != "memory":
        raise ParameterError(owner, "table_storage", "memory when training on several "
                             "processes", rc.table_storage)
    need = 2 * ranks.world if rc.shared_rows else ranks.world
    if rc.num_partitions < need:
        raise ParameterError(owner, "num_partitions", f"at least {need} (" + (
            "twice the number of processes: a round of blocks on one table seen from both "
            "sides holds num_partitions / 2 blocks" if rc.shared_rows else
            "the number of processes") + ")", rc.num_partitions)


class DistributedExecutor(NumbaExecutor):
    """A :class:`NumbaExecutor` for this rank's blocks; see the module docstring.

    ``schedule``: the rounds of (i, j) blocks; the block at position s of a
    round runs on rank ``s mod W`` (with the serial schedule of separate
    tables, position s is context partition s: rank ``j mod W``), and so do
    the lane copies of round slot s of the global tables."""

    def __init__(self, store, kernel, *, num_workers: int, threads_per_block: int,
                 ranks: Ranks, schedule, device: Optional[str] = None,
                 seeded: bool = False, overlap: bool = True):
        super().__init__(store, kernel, num_workers=num_workers,
                         threads_per_block=threads_per_block)
        self.ranks = ranks
        self.device = None
        if device is not None:           # the torch or Triton kernels
            import torch
            self.torch = torch
            self.device = local_device(device, ranks.rank)   # one GPU per process
            self.seeded = seeded
            self._generator = torch.Generator(device=self.device)
        lay = store.layout
        self.P = lay.num_partitions
        self._arrays = store.tables()
        W, me = ranks.world, ranks.rank
        heads = [t.name for t in lay.storage if t.role == HEAD]
        tails = [t.name for t in lay.storage if t.role == TAIL]
        self.shared = not tails and any(t.role == TAIL for t in lay.tables)
        # a "side" is the stored tables one partition index moves together:
        # block (i, j) needs side "head" partition i and side "tail" partition
        # j (for a table seen from both sides, both are "head")
        self.sides = {HEAD: heads} if self.shared else {HEAD: heads, TAIL: tails}
        self.owner_of = block_owners(schedule, W)
        # message tags: table n of side s, partition p -> a number of its own
        self._tags, first = {}, 0
        for side, names in self.sides.items():
            self._tags[side] = first
            first += self.P * len(names)
        # partition p of every side starts on rank p mod W (initialised there)
        self.holder = {side: [p % W for p in range(self.P)] for side in self.sides}
        self.held = {side: {p for p in range(self.P) if p % W == me} for side in self.sides}
        self._globals = [t.name for t in lay.storage if t.role == GLOBAL]
        self.stats = {"partition_transfers": 0, "bytes_sent": 0, "bytes_received": 0,
                      "transfer_seconds": 0.0, "ownership_checks": 0, "rounds": 0,
                      "max_rss_training": 0, "max_device_bytes": 0, "sends_overlapped": 0}
        self._release_pending = False
        for side, names in self.sides.items():     # (resumed from a whole checkpoint)
            for p in range(self.P):
                if p not in self.held[side]:
                    for view in self._views(names, p):
                        _release(view)
        # device-resident partitions: (table name, p) -> tensor on self.device,
        # for the partitions this rank holds; the host arrays are written only
        # for a checkpoint or the result (see _sync_host)
        self.resident = self.device is not None and (self.device.type != "cpu"
                                                     or RESIDENT_ON_CPU)
        # resident tensors travel as they are (NCCL, or on the CPU), else staged
        self._direct = self.resident and (ranks.device_p2p or self.device.type == "cpu")
        # the next round's moves overlap this round's blocks (not over NCCL,
        # which runs a pair's ops in the order posted: see _post)
        self.overlap = overlap and not ranks.device_p2p
        self._parts: dict = {}
        if self.resident:
            if self.device.type == "cuda":
                self.torch.cuda.set_device(self.device)
                if ranks.device_p2p:    # NCCL: every rank makes the communicator at once
                    t = self.torch.zeros(1, device=self.device)
                    ranks._call("starting NCCL", ranks.dist.all_reduce, t)
            for side, names in self.sides.items():
                for p in self.held[side]:
                    for name, view in zip(names, self._views(names, p)):
                        self._parts[name, p] = self._to_device(view)
                        _release(view)

    def _train_block(self, pool, task):
        if self.device is None:
            return super()._train_block(pool, task)
        return self._train_block_torch(pool, task)

    def _to_device(self, a: np.ndarray):
        """A copy of host array ``a`` on this process's device."""
        t = self.torch.from_numpy(np.ascontiguousarray(a))
        return t.clone() if self.device.type == "cpu" else t.to(self.device)

    def _train_block_torch(self, pool, task):
        """A block through the torch or Triton kernel on this process's device:
        its partitions are the resident tensors (or, host-staged, copies of
        the host arrays that go back after the block; on the CPU the kernel
        works on the host arrays in place); the global tables' lane copies and
        the constants are staged per block.  Its random stream is seeded
        from the task, as :class:`~vitegraph.solver.executors.TorchExecutor` does."""
        torch = self.torch
        t0 = time.perf_counter()
        if self.resident:
            lay = self.store.layout
            tables, consts = lay.block_views(task.i, task.j, task.slot,
                                             lambda name, p: self._parts[name, p],
                                             self.store.lane_copies(), self.store._constants)
        else:
            tables, consts = self.store.block(task.i, task.j, task.slot)
        on_host = self.device.type == "cpu"

        def to_device(a):
            if not isinstance(a, np.ndarray):
                return a                  # a resident partition
            t = torch.from_numpy(np.ascontiguousarray(a))
            return t if on_host else t.to(self.device)
        dev_tables = {n: to_device(a) for n, a in tables.items()}
        dev_consts = {n: to_device(a) for n, a in consts.items()}
        cols = [to_device(c) for c in task.columns(pool)]
        if self.seeded:
            rng = int(task.seed)
        else:
            rng = self._generator
            rng.manual_seed(int(task.seed) & ((1 << 63) - 1))
        try:
            st = self.kernel(dev_tables, cols, dev_consts, task.lr_start, task.lr_end, rng, 1)
            if not on_host:
                for n, a in tables.items():
                    if isinstance(a, np.ndarray):
                        a[...] = dev_tables[n].cpu().numpy()
        finally:
            if not self.resident:
                self.store.release(task.i, task.j, task.slot)
        self._busy[0] = self._busy.get(0, 0.0) + time.perf_counter() - t0
        if self.device.type == "cuda":
            self.stats["max_device_bytes"] = max(self.stats["max_device_bytes"],
                                                 torch.cuda.max_memory_allocated(self.device))
        return st

    def owner(self, i: int, j: int) -> int:
        return int(self.owner_of[i, j])

    def _needs(self, t):
        """(side, partition) pairs block ``t`` needs."""
        tail_side = HEAD if self.shared else TAIL
        return {(HEAD, t.i), (tail_side, t.j)}

    def _views(self, names, p):
        rows = self.store.layout.rows(p)
        return [self._arrays[n][rows] for n in names]

    def _plan(self, tasks) -> list:
        """The moves ``(side, partition, from, to)`` that bring each block of
        ``tasks`` (a round) its partitions, in the same order on every rank;
        the holders are updated as if they were done."""
        moves = []
        for t in tasks:
            dst = self.owner(t.i, t.j)
            for side, p in sorted(self._needs(t)):
                src = self.holder[side][p]
                if src != dst:
                    self.holder[side][p] = dst
                    self.stats["partition_transfers"] += 1
                    moves.append((side, p, src, dst))
        return moves

    def _ops(self, move) -> list:
        """This rank's point-to-point ops of ``move``: ``(isend or irecv,
        tensor, peer, tag, (name, p), side)``, one per table of the side
        (a tag of its own, so ops posted in any order match)."""
        side, p, src, dst = move
        me, dist = self.ranks.rank, self.ranks.dist
        if me not in (src, dst):
            return []
        names = self.sides[side]
        base = self._tags[side] + p * len(names)
        out = []
        for n, (name, view) in enumerate(zip(names, self._views(names, p))):
            if me == src:
                tensor = self._parts[name, p] if self.resident else self._host_tensor(view)
                if self.resident and not self._direct:
                    tensor = tensor.cpu()          # staged through host memory
                out.append((dist.isend, tensor, dst, base + n, (name, p), side))
                self.stats["bytes_sent"] += view.nbytes
            else:
                tensor = self._receive_buffer(view) if self.resident else self._host_tensor(view)
                out.append((dist.irecv, tensor, src, base + n, (name, p), side))
                self.stats["bytes_received"] += view.nbytes
        if me == src:
            self.held[side].discard(p)             # no longer trained here
        return out

    def sample_rows(self, k: int, seed: int) -> dict:
        """Up to ``k`` rows of each partition this rank holds (resident ones
        from the device), and the global tables: the divergence check."""
        rng = np.random.default_rng(seed)
        out = {n: self._arrays[n] for n in self._globals}
        for side, names in self.sides.items():
            for p in sorted(self.held[side]):
                for name, view in zip(names, self._views(names, p)):
                    idx = np.sort(rng.choice(view.shape[0], min(k, view.shape[0]),
                                             replace=False))
                    if self.resident:
                        t = self._parts[name, p]
                        rows = t[self.torch.from_numpy(idx).to(t.device)].cpu().numpy()
                    else:
                        rows = view[idx]
                    out[f"{name} (partition {p})"] = rows
        return out

    def _host_tensor(self, view: np.ndarray):
        import torch
        return torch.from_numpy(view)

    def _post(self, ops, flight: list, batch: bool = False) -> None:
        """Start ``ops``; ``flight`` collects them (see :meth:`_complete`).
        ``batch``: all at once, in order (NCCL runs the point-to-point ops
        between two ranks in the order posted, so each rank posts a round's
        moves together, in the plan's order)."""
        dist = self.ranks.dist
        group = None if self.resident and self.ranks.device_p2p else self.ranks.group
        if not ops:
            return
        if batch:
            # one request per op over gloo, one for the whole batch over NCCL
            reqs = self.ranks._call("moving partitions", dist.batch_isend_irecv,
                                    [dist.P2POp(fn, t, peer, group=group, tag=tag)
                                     for fn, t, peer, tag, _, _ in ops])
        else:
            reqs = [self.ranks._call("moving partitions", fn, t, peer, group=group, tag=tag)
                    for fn, t, peer, tag, _, _ in ops]
        flight.append((list(reqs), list(ops)))

    def _complete(self, flight: list, stop: bool) -> bool:
        """Wait for the moves in ``flight``; keep what arrived, give back what
        left; check that each partition is on exactly one rank and agree on a
        stop request in one all-reduce (returns whether any rank asked)."""
        dist = self.ranks.dist
        t0 = time.perf_counter()
        for reqs, _ in flight:
            for req in reqs:
                self.ranks._call("moving partitions", req.wait)
        for fn, tensor, _, _, (name, p), side in (op for _, ops in flight for op in ops):
            if fn is dist.irecv:
                self.held[side].add(p)
                if self.resident:
                    self._parts[name, p] = tensor if self._direct else tensor.to(self.device)
            elif self.resident:
                self._parts.pop((name, p), None)   # device memory back
            else:
                _release(self._arrays[name][self.store.layout.rows(p)])
        flight.clear()
        n = len(self.sides) * self.P
        mine = np.zeros(n + 1)
        for k, side in enumerate(self.sides):
            mine[[k * self.P + p for p in self.held[side]]] = 1
        mine[n] = 1.0 if stop else 0.0
        total = self.ranks.all_sum(mine, "checking partition ownership")
        self.stats["transfer_seconds"] += time.perf_counter() - t0
        self.stats["ownership_checks"] += 1
        if not np.all(total[:n] == 1):
            bad = int(np.flatnonzero(total[:n] != 1)[0])
            side = list(self.sides)[bad // self.P]
            raise DistributedError(f"partition {bad % self.P} ({side} side) is held by "
                                   f"{int(total[bad])} ranks (the transfers went wrong)")
        return bool(total[n] > 0)

    def _receive_buffer(self, view: np.ndarray):
        """Where a resident partition shaped like ``view`` is received."""
        return self.torch.empty(view.shape, dtype=self.torch.float32,
                                device=self.device if self._direct else "cpu")

    def _sync_host(self) -> None:
        """Copy the resident partitions this rank holds to the host arrays."""
        if not self.resident:
            return
        for (name, p), t in self._parts.items():
            self._arrays[name][self.store.layout.rows(p)] = t.cpu().numpy()

    def _share_lanes(self) -> None:
        """Every rank gets each round slot's lane copies from the rank that
        trained that slot, so all reduce the global tables alike (and as the
        serial run does, in lane order)."""
        import torch
        if not self._globals:
            return
        k = self.threads_per_block
        copies = self.store.lane_copies()
        for slot in range(self.store.layout.num_slots):
            src = slot % self.ranks.world
            for name in self._globals:
                view = copies[name][slot * k:(slot + 1) * k]
                self.ranks._call("sharing the global tables' lanes", self.ranks.dist.broadcast,
                                 torch.from_numpy(view), src, group=self.ranks.group)

    def any_rank(self, *flags: bool) -> tuple:
        total = self.ranks.all_sum(np.array(flags, dtype=np.float64), "agreeing on a checkpoint")
        return tuple(bool(x > 0) for x in total)

    def lanes(self) -> dict:
        self._share_lanes()
        return super().lanes()

    def train_episode(self, pool, rounds, *, skip=frozenset(), lanes=None, should_stop=None,
                      on_task=None):
        me = self.ranks.rank
        if self._release_pending:
            self._release_synced()
        self.store.begin_episode(lanes)
        flat = [t for r in rounds for t in r]
        results: list = [None] * len(flat)
        counts = np.zeros((self.P, self.P))
        expected = np.zeros((self.P, self.P))
        k = 0
        stopped = False
        flight: list = []
        if rounds:
            self._post([op for m in self._plan(rounds[0]) for op in self._ops(m)], flight,
                       batch=True)
        for n_round, r in enumerate(rounds):
            if self._complete(flight, bool(should_stop and should_stop())):
                stopped = True             # every rank stops before this round
                break
            self.stats["rounds"] += 1
            # the next round's moves: with overlap, receives start now and each
            # send as soon as this rank's last block of the round using that
            # partition is done; else all of them after the round
            moves = self._plan(rounds[n_round + 1]) if n_round + 1 < len(rounds) else []
            last_use = {}
            for pos, t in enumerate(r):
                if self.owner(t.i, t.j) == me:
                    for need in self._needs(t):
                        last_use[need] = pos
            sends_after: dict = {}
            if self.overlap:
                for m in moves:
                    if m[3] == me:
                        self._post(self._ops(m), flight)
                    elif m[2] == me:
                        sends_after.setdefault(last_use.get((m[0], m[1]), -1), []).append(m)
                mine = max(last_use.values(), default=-1)
                self.stats["sends_overlapped"] += sum(len(v) for pos, v in sends_after.items()
                                                      if pos < mine)
                self._post([op for m in sends_after.pop(-1, []) for op in self._ops(m)],
                           flight)
            for pos, t in enumerate(r):
                if k not in skip:
                    expected[t.i, t.j] += t.hi - t.lo
                    if self.owner(t.i, t.j) == me:
                        missing = [(side, p) for side, p in self._needs(t)
                                   if p not in self.held[side]]
                        if missing:
                            raise DistributedError(f"rank {me} was given block ({t.i}, {t.j}) "
                                                   f"without partition {missing[0][1]} "
                                                   f"({missing[0][0]} side)")
                        st = self._train_block(pool, t)
                        results[k] = st
                        counts[t.i, t.j] += st.num_samples
                        if on_task is not None:
                            on_task(st.num_samples)
                if pos in sends_after:
                    self._post([op for m in sends_after.pop(pos) for op in self._ops(m)],
                               flight)
                k += 1
            if not self.overlap:
                self._post([op for m in moves for op in self._ops(m)], flight, batch=True)
        # the other ranks' tasks count as trained here (their results are summed below)
        done_upto = k
        loss = sum(float(st.loss) for st in results if st is not None)
        summed = self.ranks.all_sum(np.concatenate([[loss], counts.ravel()]),
                                    "summing the episode's losses and counts")
        loss, counts = float(summed[0]), summed[1:].reshape(self.P, self.P)
        if not stopped and not np.array_equal(counts, expected):
            i, j = np.argwhere(counts != expected)[0]
            raise DistributedError(f"block ({i}, {j}) trained {int(counts[i, j])} samples, "
                                   f"the pool holds {int(expected[i, j])}")
        count = int(counts.sum())
        self.stats["max_rss_training"] = _max_rss()
        if stopped:
            return EpisodeResult(loss, count, sorted(set(range(done_upto)) | set(skip)))
        self._share_lanes()
        self.store.end_episode()
        return EpisodeResult(loss, count)

    def tables(self):
        """The result, on rank 0: each partition sent there from the rank
        holding it (the other ranks return ``{}`` and keep their share of the
        memory; every rank has the global tables whole)."""
        import torch
        dist, me = self.ranks.dist, self.ranks.rank
        self._sync_host()
        ops = []
        for side, names in self.sides.items():
            for p in range(self.P):
                src = self.holder[side][p]
                if src == 0 or me not in (0, src):
                    continue
                for view in self._views(names, p):
                    fn = dist.isend if me == src else dist.irecv
                    ops.append(self.ranks._call("gathering the result", fn,
                                                torch.from_numpy(view), 0 if me == src else src,
                                                group=self.ranks.group))
        for op in ops:
            self.ranks._call("gathering the result", op.wait)
        return super().tables() if me == 0 else {}

    def checkpoint_tables(self):
        """For a sharded checkpoint: the partitions this rank holds (no
        transfers) and the global tables, which every rank has whole."""
        from .checkpoint import TableShard
        self._sync_host()
        self._release_pending = self.resident    # written for the checkpoint only
        parts = {}
        for side, names in self.sides.items():
            for p in sorted(self.held[side]):
                for name, view in zip(names, self._views(names, p)):
                    parts[name, p] = view
        return TableShard(parts, {n: self._arrays[n] for n in self._globals},
                          self.store.layout.offsets,
                          {n: self._arrays[n].shape for names in self.sides.values()
                           for n in names})

    def _release_synced(self) -> None:
        """Resident partitions, after a checkpoint: the host pages it wrote."""
        self._release_pending = False
        for (name, p) in self._parts:
            _release(self._arrays[name][self.store.layout.rows(p)])

    @property
    def counters(self):
        return {**super().counters, **self.stats}
