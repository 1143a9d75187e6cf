"""Walk graphs: CSR validation, the tables a walk needs, and walk corpora.

:class:`WalkGraph` holds plain CSR arrays plus exactly the tables the chosen
walk needs:

* unweighted graph: no per-edge table at all; steps draw ``randbelow(degree)``;
* weighted graph: per-row alias tables (8 bytes per stored edge);
* always: an alias table over nodes proportional to out-strength (8 bytes per
  node), used to start walks from a random edge.  Drawing node u by its
  out-strength and then a neighbour v of u by weight picks the stored edge
  (u, v) with probability ``w(u, v) / sum(w)``: exactly edge sampling by weight,
  without an alias table over all edges and without a source-node array (that
  would cost 12 bytes per edge instead of 8 per node).

A weight array whose entries are all equal is treated as unweighted (same
distribution, no tables).  node2vec adds nothing: its rejection step works on
the first-order tables (see :mod:`vitegraph.sampling.steps`).

:func:`random_walks` writes a walk corpus (one walk per start node), for
DeepWalk-style tools and for comparing walk speed with other walk generators;
training itself never stores walks (see :class:`vitegraph.sampling.WalkSampler`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from .._threads import ThreadRunner
from .._validate import check_float, check_int
from ..errors import GraphError, ParameterError
from .alias import build_alias, build_row_alias
from .rng import make_states
from .augment import NUM_LANES, walk_engine
from .steps import first_order_step, node2vec_step

_EMPTY_F32 = np.empty(0, dtype=np.float32)
_EMPTY_I32 = np.empty(0, dtype=np.int32)
_EMPTY_I64 = np.empty(0, dtype=np.int64)
_EMPTY_U8 = np.empty(0, dtype=np.uint8)
_EMPTY_U64 = np.empty(0, dtype=np.uint64)


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """CSR arrays and sampling tables, validated once.

    ``row_prob``/``row_alias`` are empty for unweighted graphs.
    ``node_prob``/``node_alias`` draw a start node by out-strength.
    ``hub_slot``/``hub_bits`` (node2vec only) are the bitmaps of :func:`hub_bitmaps`.
    """

    indptr: np.ndarray      # int64[V+1]
    indices: np.ndarray     # int32[nnz]
    weighted: bool
    row_prob: np.ndarray    # float32[nnz] or empty
    row_alias: np.ndarray   # int32[nnz] or empty
    node_prob: np.ndarray   # float32[V]
    node_alias: np.ndarray  # int32[V]
    strength: np.ndarray    # float64[V] out-strength (weighted out-degree)
    hub_slot: np.ndarray    # int32[V]: bitmap row of a hub or -1; empty unless node2vec
    hub_bits: np.ndarray    # uint64[num_hubs * ceil(V / 64)]: neighbour bitmaps

    @property
    def num_nodes(self) -> int:
        return self.indptr.size - 1

    @property
    def nnz(self) -> int:
        return self.indices.size

    @property
    def nbytes(self) -> int:
        """Bytes of the sampling tables built here (not the CSR arrays)."""
        return (self.row_prob.nbytes + self.row_alias.nbytes + self.node_prob.nbytes
                + self.node_alias.nbytes + self.hub_slot.nbytes + self.hub_bits.nbytes)


def check_csr(indptr, indices, weights=None, *, sorted_rows=False, owner="WalkGraph"):
    """Validate and convert CSR arrays; return ``(indptr int64, indices int32, weights|None)``.

    Raises :class:`~vitegraph.errors.GraphError` with the rule that is broken.
    Arrays already of the right dtype and contiguous are not copied.
    """
    indptr = np.asarray(indptr)
    indices = np.asarray(indices)
    if indptr.ndim != 1 or indptr.size < 2 or not np.issubdtype(indptr.dtype, np.integer):
        raise GraphError(f"{owner}: indptr must be a 1-D integer array of length V+1 >= 2")
    if indices.ndim != 1 or (indices.size and not np.issubdtype(indices.dtype, np.integer)):
        raise GraphError(f"{owner}: indices must be a 1-D integer array")
    num_nodes = indptr.size - 1
    if num_nodes >= 2**31:
        raise GraphError(f"{owner}: at most 2**31 - 1 nodes are supported, got {num_nodes}")
    if indptr[0] != 0 or indptr[-1] != indices.size:
        raise GraphError(f"{owner}: indptr must start at 0 and end at len(indices) "
                         f"({indices.size}), got {indptr[0]} and {indptr[-1]}")
    if np.any(np.diff(indptr) < 0):
        raise GraphError(f"{owner}: indptr must be non-decreasing")
    if indices.size and (indices.min() < 0 or indices.max() >= num_nodes):
        raise GraphError(f"{owner}: indices must lie in [0, {num_nodes})")
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    if sorted_rows and indices.size > 1:
        bad = indices[1:] <= indices[:-1]
        starts = indptr[1:-1]
        starts = starts[(starts > 0) & (starts < indices.size)]
        bad[starts - 1] = False  # a row start may be smaller than the previous row's end
        if np.any(bad):
            k = int(np.argmax(bad)) + 1
            row = int(np.searchsorted(indptr, k, side="right") - 1)
            raise GraphError(f"{owner}: row {row} is not sorted ascending without duplicates "
                             "(needed for node2vec adjacency tests)")
    if weights is not None:
        weights = np.asarray(weights)
        if weights.shape != indices.shape:
            raise GraphError(f"{owner}: weights must have one entry per stored edge "
                             f"({indices.size}), got shape {weights.shape}")
        if (not np.issubdtype(weights.dtype, np.number)
                or np.issubdtype(weights.dtype, np.complexfloating)):
            raise GraphError(f"{owner}: weights must be real numbers")
        if weights.size and not (np.all(np.isfinite(weights)) and weights.min() > 0):
            raise GraphError(f"{owner}: weights must be finite and positive "
                             "(drop zero-weight edges when building the graph)")
    return indptr, indices, weights


@njit(nogil=True, cache=True)
def _fill_hub_bits(indptr, indices, hubs, words, bits):
    for h in range(hubs.size):
        v = hubs[h]
        base = h * words
        for k in range(indptr[v], indptr[v + 1]):
            x = indices[k]
            bits[base + (x >> 6)] |= np.uint64(1) << np.uint64(x & 63)


def hub_bitmaps(indptr, indices, min_degree=None):
    """Neighbour bitmaps of the hubs, for node2vec's adjacency test.

    A node whose out-degree is at least ``min_degree`` (default ``ceil(V / 32)``)
    gets a bitmap of V bits, so "is x a neighbour" is one memory access instead
    of a binary search of ~log2(degree) dependent probes.  A bitmap takes V / 8
    bytes and its row at least 4 * V / 32 bytes, so the bitmaps never cost more
    than 4 bytes per stored edge (0.4 MB on BlogCatalog, where they serve 38% of
    the adjacency tests).  Returns ``(hub_slot int32[V], bits uint64[...])``.
    """
    num_nodes = indptr.size - 1
    if min_degree is None:
        min_degree = max(1, -(-num_nodes // 32))
    deg = np.diff(indptr)
    hubs = np.flatnonzero(deg >= min_degree).astype(np.int64)
    slot = np.full(num_nodes, -1, dtype=np.int32)
    slot[hubs] = np.arange(hubs.size, dtype=np.int32)
    words = (num_nodes + 63) // 64
    bits = np.zeros(hubs.size * words, dtype=np.uint64)
    if hubs.size:
        _fill_hub_bits(indptr, indices, hubs, words, bits)
    return slot, bits


def prepare_walk_graph(indptr, indices, weights=None, *, sorted_rows=False,
                       owner="WalkGraph", hub_min_degree=None) -> WalkGraph:
    """Validate CSR arrays and build the tables a walk needs (see module doc).

    ``sorted_rows=True`` (node2vec) checks that rows are sorted and builds the
    hub bitmaps of :func:`hub_bitmaps` (``hub_min_degree`` overrides the
    threshold; 0 turns them off).
    """
    indptr, indices, weights = check_csr(indptr, indices, weights,
                                         sorted_rows=sorted_rows, owner=owner)
    deg = np.diff(indptr)
    weighted = weights is not None and weights.size > 0 and weights.min() != weights.max()
    if weighted:
        w64 = weights.astype(np.float64)
        row_prob, row_alias = build_row_alias(indptr, w64)
        csum = np.zeros(w64.size + 1)
        np.cumsum(w64, out=csum[1:])
        strength = csum[indptr[1:]] - csum[indptr[:-1]]
        del csum
    else:
        row_prob, row_alias = _EMPTY_F32, _EMPTY_I32
        strength = deg.astype(np.float64)
    if strength.sum() > 0:
        node_prob, node_alias = build_alias(strength)
    else:  # no edges: walks never start (random_walks still works)
        node_prob = np.ones(deg.size, dtype=np.float32)
        node_alias = np.arange(deg.size, dtype=np.int32)
    hub_slot, hub_bits = _EMPTY_I32, _EMPTY_U64
    if sorted_rows and hub_min_degree != 0:
        hub_slot, hub_bits = hub_bitmaps(indptr, indices, hub_min_degree)
    return WalkGraph(indptr, indices, bool(weighted), row_prob, row_alias,
                     node_prob, node_alias, strength, hub_slot, hub_bits)


def default_augmentation_step(num_edges: int, num_nodes: int, walk_length: int) -> int:
    """GraphVite's rule ``floor(ln 1600 / ln(|E| / |V|))``, clipped to ``[1, walk_length]``.

    ``num_edges`` is the number of input edges (an undirected edge counts
    once).  A graph with ``|E| <= |V|`` gets ``walk_length``.  BlogCatalog
    (333,983 edges, 10,312 nodes) gives 2, YouTube about 5.
    """
    owner = "default_augmentation_step"
    num_edges = check_int(owner, "num_edges", num_edges, minimum=1)
    num_nodes = check_int(owner, "num_nodes", num_nodes, minimum=1)
    walk_length = check_int(owner, "walk_length", walk_length, minimum=1)
    ratio = num_edges / num_nodes
    if ratio <= 1.0:
        return walk_length
    step = math.floor(math.log(1600.0) / math.log(ratio) + 1e-9)
    return max(1, min(walk_length, step))


# ---------------------------------------------------------------------------
# walk corpora


def random_walks(indptr, indices, weights=None, *, starts=None, walk_length: int,
                 p: float = 1.0, q: float = 1.0, num_threads: int = 1, seed: int = 0,
                 graph: WalkGraph | None = None) -> np.ndarray:
    """One random walk from each start node: ``int32[len(starts), walk_length + 1]``.

    Row i is ``starts[i]`` followed by ``walk_length`` steps; a walk that reaches
    a node without out-edges ends there and the rest of its row is -1.  The
    first step is first-order (there is no previous node), later steps are
    node2vec steps unless ``p == q == 1``.  ``starts`` defaults to every node once.
    Start nodes are split into ``num_threads`` contiguous chunks, one seeded
    stream each: a fixed seed and thread count give identical output.
    Pass a prepared ``graph`` (from :func:`prepare_walk_graph`) to skip validation
    and table building on repeated calls.
    """
    owner = "random_walks"
    walk_length = check_int(owner, "walk_length", walk_length, minimum=1)
    num_threads = check_int(owner, "num_threads", num_threads, minimum=1)
    p = check_float(owner, "p", p, minimum=0, exclusive_minimum=True)
    q = check_float(owner, "q", q, minimum=0, exclusive_minimum=True)
    second_order = not (p == 1.0 and q == 1.0)
    if graph is None:
        graph = prepare_walk_graph(indptr, indices, weights, sorted_rows=second_order,
                                   owner=owner)
    if starts is None:
        starts = np.arange(graph.num_nodes, dtype=np.int64)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    if starts.ndim != 1 or (starts.size and (starts.min() < 0 or starts.max() >= graph.num_nodes)):
        raise ParameterError(owner, "starts", f"a 1-D array of node ids in [0, {graph.num_nodes})",
                             "out-of-range ids" if starts.ndim == 1 else starts.shape)
    out = np.empty((starts.size, walk_length + 1), dtype=np.int32)
    states = make_states(seed, num_threads)
    bounds = np.linspace(0, starts.size, num_threads + 1).astype(np.int64)
    envelope = max(1.0, 1.0 / p, 1.0 / q)
    hist = np.zeros((num_threads, 1), dtype=np.int64)
    jobs = [(graph.indptr, graph.indices, graph.row_prob, graph.row_alias, graph.hub_slot,
             graph.hub_bits, graph.node_prob, graph.node_alias, graph.weighted, second_order,
             1.0 / p, 1.0 / q, envelope,
             walk_length, 1, 1, NUM_LANES, False, _EMPTY_I64, 1, True, starts, out,
             _EMPTY_I32, _EMPTY_I32, _EMPTY_U8, hist, bounds[t], bounds[t + 1], states, t)
            for t in range(num_threads)]
    with ThreadRunner(num_threads, "vitegraph-walks") as runner:
        runner.run(walk_engine, jobs)
    return out


@njit(nogil=True, cache=True)
def _step_counts(indptr, indices, row_prob, row_alias, weighted, second_order,
                 inv_p, inv_q, envelope, prev, cur, size, states):
    """Histogram (over node ids) of ``size`` independent steps from ``cur``
    having arrived from ``prev``: for statistical tests."""
    counts = np.zeros(indptr.size - 1, dtype=np.int64)
    state = states[0]
    for _ in range(size):
        if second_order:
            state, x = node2vec_step(indptr, indices, row_prob, row_alias, weighted,
                                     prev, cur, inv_p, inv_q, envelope, state)
        else:
            state, x = first_order_step(indptr, indices, row_prob, row_alias,
                                        weighted, cur, state)
        counts[x] += 1
    states[0] = state
    return counts


def step_counts(graph: WalkGraph, prev: int, cur: int, size: int, *, p: float = 1.0,
                q: float = 1.0, second_order: bool | None = None, seed: int = 0) -> np.ndarray:
    """Counts of the next node over ``size`` independent steps ``prev -> cur -> ?``.

    ``second_order=None`` uses the node2vec step unless ``p == q == 1``; pass
    True to force it (tests compare it with the first-order step at p = q = 1).
    ``cur`` must have out-edges.
    """
    if second_order is None:
        second_order = not (p == 1.0 and q == 1.0)
    return _step_counts(graph.indptr, graph.indices, graph.row_prob, graph.row_alias,
                        graph.weighted, bool(second_order), 1.0 / p, 1.0 / q,
                        max(1.0, 1.0 / p, 1.0 / q), np.int64(prev), np.int64(cur),
                        np.int64(size), make_states(seed, 1))
