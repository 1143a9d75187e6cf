"""WalkSampler: fills sample pools with positive pairs from online random walks.

``fill(pool)`` splits the pool's capacity N into ``num_threads`` contiguous
chunks (``N * t // T`` .. ``N * (t + 1) // T``), one per sampler thread, each
with its own seeded xorshift64* stream, so a fixed seed and thread count give
identical pools whatever the OS does with the threads.  Successive fills
continue the same streams.

* P = 1 (``pool.partition`` is None or has one partition): each thread writes
  its walks' pairs straight into its chunk of ``pool.heads``/``pool.tails``.
* P > 1: a parallel counting sort.  Each thread writes local indices and block
  ids into its chunk of a staging buffer and counts pairs per block; a prefix
  sum over (block, thread) gives every thread its write cursor in every block;
  each thread then scatters its chunk, stably, into the pool.  Blocks get
  exactly the pairs that were drawn: nothing overflows, nothing is dropped,
  and the pseudo-shuffle order survives inside each block.

The kernels are numba ``nogil`` functions run on a private thread pool, so
``fill`` releases the GIL: the solver calls it from a Python thread and trains
on the other pool meanwhile.  One sampler fills one pool at a time (a lock
guards the streams and the staging buffer).
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np

from .._threads import ThreadRunner
from .._validate import check_float, check_int
from ..errors import ParameterError
from ..partition import Partition
from .alias import build_alias
from .augment import NUM_LANES, walk_engine
from .pool import SamplePool, block_id_dtype, scatter_blocks
from .rng import make_states
from .walks import default_augmentation_step, prepare_walk_graph

_EMPTY_CODE = np.empty(0, dtype=np.int64)
_EMPTY_STARTS = np.empty(0, dtype=np.int64)
_EMPTY_WALKS = np.empty((0, 0), dtype=np.int32)


class WalkSampler:
    """Random-walk augmentation sampler (DeepWalk, LINE, node2vec positives).

    Parameters:
        indptr, indices, weights: CSR graph (``weights=None``: unweighted).  Rows
            must be sorted without duplicates when ``p`` or ``q`` is not 1.
        num_edges: number of *input* edges |E| for the default augmentation
            step (an undirected edge counts once); defaults to the number of
            stored edges, which over-counts undirected graphs: pass it.
        walk_length: steps per walk (``walk_length + 1`` nodes).  1 with
            ``augmentation_step=1`` is independent edge sampling.
        augmentation_step: s, pairs (c_j, c_{j+k}) for k = 1..s; ``None`` =
            :func:`default_augmentation_step` of (|E|, |V|).
        shuffle_base: B of the pseudo-shuffle (1 = none).
        p, q: node2vec return and in-out parameters (1, 1 = first-order walk).
        start_mask: optional bool[V]: walks start only at these nodes (drawn by
            out-strength among them), e.g. the new nodes of a grown graph.

    The training defaults of these options live in the model config sections
    (:mod:`vitegraph.models.skipgram`); here every one is explicit.
        num_threads: sampler threads (and seeded streams).
        seed: seed of the streams.

    After construction: ``augmentation_step_`` (resolved s), ``graph_``
    (:class:`~vitegraph.sampling.walks.WalkGraph`), ``nbytes`` (table memory).
    """

    def __init__(self, indptr, indices, weights=None, *, num_edges: int | None = None,
                 walk_length: int, augmentation_step: int | None, shuffle_base: int,
                 p: float, q: float, num_threads: int = 1, seed: int = 0,
                 start_mask=None):
        owner = "WalkSampler"
        self.walk_length = check_int(owner, "walk_length", walk_length, minimum=1)
        self.shuffle_base = check_int(owner, "shuffle_base", shuffle_base, minimum=1)
        self.num_threads = check_int(owner, "num_threads", num_threads, minimum=1)
        self.p = check_float(owner, "p", p, minimum=0, exclusive_minimum=True)
        self.q = check_float(owner, "q", q, minimum=0, exclusive_minimum=True)
        self.seed = check_int(owner, "seed", seed)
        self.second_order = not (self.p == 1.0 and self.q == 1.0)
        self.graph_ = prepare_walk_graph(indptr, indices, weights,
                                         sorted_rows=self.second_order, owner=owner)
        if self.graph_.nnz == 0:
            raise ParameterError(owner, "indices", "a graph with at least one edge", "no edges")
        if start_mask is not None:
            start_mask = np.asarray(start_mask, dtype=bool)
            if start_mask.shape != (self.graph_.num_nodes,):
                raise ParameterError(owner, "start_mask", f"{self.graph_.num_nodes} flags",
                                     start_mask.shape)
            weight = np.where(start_mask, self.graph_.strength, 0.0)
            if not weight.sum() > 0:
                raise ParameterError(owner, "start_mask", "at least one node with edges",
                                     "no such node")
            node_prob, node_alias = build_alias(weight)
            self.graph_ = dataclasses.replace(self.graph_, node_prob=node_prob,
                                              node_alias=node_alias)
        if num_edges is None:
            num_edges = self.graph_.nnz
        num_edges = check_int(owner, "num_edges", num_edges, minimum=1)
        if augmentation_step is None:
            augmentation_step = default_augmentation_step(num_edges, self.graph_.num_nodes,
                                                          self.walk_length)
        self.augmentation_step_ = check_int(owner, "augmentation_step", augmentation_step,
                                            minimum=1, maximum=self.walk_length)
        self.num_edges = num_edges
        # walks in flight per thread: fixed, as it shapes the output; tests set
        # 1 to get the pairs of one walk after another
        self.num_lanes = NUM_LANES
        self._states = make_states(self.seed, self.num_threads)
        self._lock = threading.Lock()
        self._runner = ThreadRunner(self.num_threads, "vitegraph-sampler")
        self._staging = None
        self._codes: dict[int, tuple[Partition, np.ndarray]] = {}
        # several processes: fill only a share of the chunks, then route the
        # pairs (see vitegraph.solver.distributed.SampleRouting); None: all
        self.share = None

    # -- resources -----------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Bytes held by the sampler: sampling tables, routing codes, staging."""
        n = self.graph_.nbytes
        n += sum(code.nbytes for _, code in self._codes.values())
        if self._staging is not None:
            n += sum(a.nbytes for a in self._staging)
        return n

    def close(self) -> None:
        """Stop the sampler threads and drop the staging buffer."""
        self._runner.close()
        self._staging = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _code(self, partition: Partition) -> np.ndarray:
        hit = self._codes.get(id(partition))
        if hit is None or hit[0] is not partition:
            code = (partition.part_of.astype(np.int64) << 32) | partition.local_of.astype(np.int64)
            self._codes = {id(partition): (partition, code)}  # keep only the latest
            return code
        return hit[1]

    def _staging_for(self, capacity: int, num_partitions: int):
        dt = block_id_dtype(num_partitions)
        st = self._staging
        if st is None or st[0].size < capacity or st[2].dtype != dt:
            st = (np.empty(capacity, np.int32), np.empty(capacity, np.int32),
                  np.empty(capacity, dt))
            self._staging = st
        return st

    # -- sampling ------------------------------------------------------------

    def reseed(self, seed: int) -> None:
        """Restart the thread streams from ``seed`` (e.g. one seed per episode,
        so that a resumed run samples exactly what an uninterrupted one would)."""
        seed = check_int("WalkSampler.reseed", "seed", seed)
        with self._lock:
            self.seed = seed
            self._states = make_states(self.seed, self.num_threads)

    def fill(self, pool: SamplePool) -> SamplePool:
        """Fill ``pool`` to capacity with fresh pairs, routed into its blocks.

        Releases the GIL while sampling.  Returns ``pool``.
        """
        if not isinstance(pool, SamplePool) or len(pool.columns) != 2:
            raise ParameterError("WalkSampler.fill", "pool", "a SamplePool of pairs",
                                 type(pool).__name__)
        g = self.graph_
        part = pool.partition
        if part is not None and part.num_nodes != g.num_nodes:
            raise ParameterError("WalkSampler.fill", "pool",
                                 f"a pool partitioning {g.num_nodes} nodes",
                                 f"a partition of {part.num_nodes} nodes")
        routed = part is not None and part.num_partitions > 1
        P = pool.num_partitions
        T = self.num_threads
        N = pool.capacity
        bounds = [N * t // T for t in range(T + 1)]
        with self._lock:
            hist = np.zeros((T, P * P if routed else 1), dtype=np.int64)
            if routed:
                code = self._code(part)
                out_h, out_t, out_b = self._staging_for(N, P)
            else:
                code = _EMPTY_CODE
                out_h, out_t, out_b = pool.heads, pool.tails, np.empty(0, np.uint8)
            common = (g.indptr, g.indices, g.row_prob, g.row_alias, g.hub_slot, g.hub_bits,
                      g.node_prob, g.node_alias, g.weighted, self.second_order,
                      1.0 / self.p, 1.0 / self.q,
                      max(1.0, 1.0 / self.p, 1.0 / self.q),
                      self.walk_length, self.augmentation_step_, self.shuffle_base,
                      self.num_lanes, routed, code, P, False, _EMPTY_STARTS, _EMPTY_WALKS,
                      out_h, out_t, out_b, hist)
            share = self.share if routed else None
            mine = range(T) if share is None else share.chunks(T)
            jobs = [common + (bounds[t], bounds[t + 1], self._states, t) for t in mine]
            self._runner.run(walk_engine, jobs)
            if not routed:
                pool.offsets[:] = 0
                pool.offsets[1:] = N
                return pool
            if share is not None:          # every rank's chunk counts, summed
                hist = share.reduce_counts(hist)
            totals = hist.sum(axis=0)
            offsets = np.zeros(P * P + 1, dtype=np.int64)
            np.cumsum(totals, out=offsets[1:])
            # cursor[t, b] = offsets[b] + pairs of block b from threads before t
            cursors = offsets[:-1][None, :] + np.cumsum(hist, axis=0) - hist
            starts = cursors.copy()
            jobs = [(out_h, out_t, out_b, bounds[t], bounds[t + 1], cursors[t],
                     pool.heads, pool.tails) for t in mine]
            self._runner.run(scatter_blocks, jobs)
            pool.offsets[:] = offsets
            if share is not None:          # each block's pairs to the rank training it
                share.exchange(pool, hist, starts, mine)
        return pool

    def sample(self, num_pairs: int) -> tuple[np.ndarray, np.ndarray]:
        """``num_pairs`` pairs as global ids ``(heads, tails)``, in emission order
        (after the pseudo-shuffle).  For tests and tools; training uses :meth:`fill`."""
        num_pairs = check_int("WalkSampler.sample", "num_pairs", num_pairs, minimum=1)
        pool = self.fill(SamplePool(num_pairs))
        return pool.heads, pool.tails
