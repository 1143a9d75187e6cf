"""One step of a random walk: the reference, one-walk-at-a-time implementation.

The production kernel (:mod:`vitegraph.sampling.augment`) runs the same
transition rules as a pipelined state machine over many walks, with neighbour
bitmaps for hubs; these plain inline functions state the rules once, serve
:func:`vitegraph.sampling.walks.step_counts` (per-step statistics in tests), and
are the simplest place to read what a step does.

Graph layout: CSR ``indptr`` int64[V+1], ``indices`` int32[nnz] (rows sorted,
no duplicates; needed only by the second-order step), and for weighted graphs
per-row alias tables ``row_prob``/``row_alias`` (see
:func:`vitegraph.sampling.alias.build_row_alias`).  Unweighted graphs build no
table at all: a neighbour is ``indices[lo + randbelow(deg)]``.  Every step
returns ``(state, next node)`` with ``next = -1`` at a node without out-edges.

node2vec (Grover & Leskovec 2016) with O(|V| + |E|) memory: instead of
GraphVite's per-edge alias tables (sum of degree squared entries) we sample by
rejection, as KnightKing (SOSP 2019) does.  Propose x from the first-order
distribution of the current node v (uniform, or by weight through v's row
alias table), then accept with
probability ``alpha(t, x) / max(1, 1/p, 1/q)`` where t is the previous node and
``alpha = 1/p`` if x == t, ``1`` if the edge t -> x exists, ``1/q`` otherwise.
The accepted x has probability proportional to ``alpha(t, x) * w(v, x)``,
exactly the node2vec transition.  The test "t -> x exists" searches t's sorted
row (the engine uses bitmaps for hubs), and it is skipped when the coin alone decides: a coin below
``min(1, 1/q)`` accepts any x != t, a coin at or above ``max(1, 1/q)`` rejects
any x != t.  Expected proposals per step are at most ``max(1, 1/p, 1/q) /
min(1, 1/p, 1/q)``; for the usual p, q in [0.25, 4] that is a handful.  On a
directed graph "edge t -> x" is the stored direction.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .alias import alias_draw
from .rng import next_u64, randbelow, split_u64

_INV24 = np.float32(1.0 / (1 << 24))


@njit(inline="always", cache=True)
def has_edge(indices, lo, hi, x):
    """Whether ``x`` is in the sorted slice ``indices[lo:hi]``.

    Binary search down to 32 entries (two cache lines), then a branch-free count
    over them, which the compiler vectorises: about half the time of a plain
    binary search on rows of up to a few hundred entries.
    """
    while hi - lo > 32:
        mid = (lo + hi) >> 1
        if indices[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    c = 0
    for i in range(lo, hi):
        c += indices[i] == x
    return c > 0


@njit(inline="always", cache=True)
def first_order_step(indptr, indices, row_prob, row_alias, weighted, v, state):
    """Move from ``v`` to a neighbour chosen by weight (uniformly if unweighted)."""
    lo = indptr[v]
    n = indptr[v + 1] - lo
    if n == 0:
        return state, np.int64(-1)
    if weighted:
        state, k = alias_draw(row_prob, row_alias, lo, n, state)
    else:
        state, k = randbelow(state, n)
    return state, np.int64(indices[lo + k])


@njit(inline="always", cache=True)
def node2vec_step(indptr, indices, row_prob, row_alias, weighted, t, v,
                  inv_p, inv_q, envelope, state):
    """Second-order step from ``v`` having arrived from ``t`` (rejection sampling).

    ``inv_p = 1/p``, ``inv_q = 1/q``, ``envelope = max(1, 1/p, 1/q)``.
    """
    lo = indptr[v]
    n = indptr[v + 1] - lo
    if n == 0:
        return state, np.int64(-1)
    tlo = indptr[t]
    thi = indptr[t + 1]
    sure = min(1.0, inv_q)   # coin below this accepts any x != t
    never = max(1.0, inv_q)  # coin at or above this rejects any x != t
    while True:
        if weighted:
            state, k = alias_draw(row_prob, row_alias, lo, n, state)
            state, bits = next_u64(state)
            coin = np.float32(bits >> np.uint64(40)) * _INV24
        else:
            state, bits = next_u64(state)
            k, coin = split_u64(bits, n)
        x = np.int64(indices[lo + k])
        a = coin * envelope
        if x == t:
            if a < inv_p:
                return state, x
            continue
        if a < sure:
            return state, x
        if a >= never:
            continue
        # sure <= a < never: the answer depends on whether t -> x exists
        if has_edge(indices, tlo, thi, x):
            if a < 1.0:
                return state, x
        elif a < inv_q:
            return state, x
