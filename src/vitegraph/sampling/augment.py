"""The walk engine: online augmentation (walks -> positive pairs) and walk corpora.

What one sampler thread computes (pairs mode, slots ``[lo, hi)`` of a chunk):

1. draw a start edge (u, v) by weight (node by out-strength, then neighbour by
   weight; see :mod:`vitegraph.sampling.walks`);
2. walk on from v until the walk has ``walk_length`` steps (``walk_length + 1``
   nodes c_0..c_L) or reaches a node with no out-edges;
3. whenever node c_m is appended, emit (c_{m-k}, c_m) for k = 1..min(s, m): every
   forward pair at distance at most s (``augmentation_step``), each once;
4. stop when the chunk is full (walks in progress are cut short).

Slot k of the chunk (n slots) is written at ``lo + start(k mod B) + k div B``
where column c of the B-column layout starts at ``c * (n // B) + min(c, n % B)``:
LINE's pseudo-shuffle ``(k mod B) * (n / B) + k div B``, kept a permutation when
B does not divide n.  B = 1 writes the chunk in order.

How it is fast.  A walk step chases two dependent pointers, ``indptr[v]`` then
``indices[indptr[v] + r]``; on graphs beyond the L2 cache each is a cache miss,
and one walk at a time runs at memory latency (about 6M steps/s on the 2-core
dev machine for BlogCatalog, whose 2.7 MB of indices fit in L3).  So every
thread advances ``num_lanes`` independent walks round-robin as small state
machines.  Each visit of a lane does one stage and prefetches what the lane's
next stage will read, so by the time the lane comes round again (``num_lanes``
visits later) its data is in cache and the misses of all lanes overlap:

* PROPOSE (the row of the lane's current node was prefetched): emit the pairs
  that end at this node (once), then draw a slot of its row and prefetch
  ``indices`` there (weighted graphs: prefetch the row's alias entry, stage
  ALIAS; node2vec: also prefetch the previous node's row for the adjacency test);
* ALIAS (weighted only): keep the slot or take its alias, prefetch ``indices``;
* RESOLVE: read the proposed neighbour; node2vec accepts or rejects it (rejected:
  back to PROPOSE); accepted: append it and prefetch its row and routing code.

A lane whose walk ends starts the next walk in the same visit.  Walk histories
are rings of ``2**ceil(log2(s + 1))`` entries per lane, in L1; nothing is
allocated per walk.  The output depends on ``num_lanes``, which is therefore a
fixed constant of the sampler, not a tuning knob chosen at run time.

Routed mode (P > 1) writes local indices into a staging chunk with the block id
``part(head) * P + part(tail)`` beside each pair, and counts pairs per block in
``hist[t]``; :func:`vitegraph.sampling.pool.scatter_blocks` then moves them into
their blocks.  Partitions and local indices come from one packed int64 table
``code[n] = part << 32 | local``, read once per walk node (prefetched).

Corpus mode (:func:`vitegraph.sampling.walks.random_walks`) runs the same engine
but starts walk i at ``starts[i]`` (first step first-order) and writes its nodes
to row i of ``walks_out``, padding with -1 after a dead end.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._intrinsics import prefetch
from .alias import alias_draw
from .rng import next_u64, split_u64
from .steps import has_edge

NUM_LANES = 16          # walks in flight per thread (fixed: it shapes the output)
_LOW32 = np.int64(0xFFFFFFFF)
_INV24 = np.float32(1.0 / (1 << 24))
_PROPOSE = 0
_ALIAS = 1
_RESOLVE = 2
_IDLE = 3


@njit(nogil=True, cache=True)
def walk_engine(indptr, indices, row_prob, row_alias, hub_slot, hub_bits, node_prob, node_alias,
                weighted, second_order, inv_p, inv_q, envelope,
                walk_length, step, shuffle_base, num_lanes,
                routed, code, num_partitions, corpus, starts, walks_out,
                out_h, out_t, out_b, hist, lo, hi, states, t):
    """Run the engine for thread ``t`` on slots (pairs mode) or walks (corpus
    mode) ``[lo, hi)`` with stream ``states[t]``; see the module docstring."""
    n = hi - lo
    if n <= 0:
        return
    state = states[t]
    K = num_lanes
    P = num_partitions
    sure = min(1.0, inv_q)    # acceptance coin below this: accept any x != prev
    never = max(1.0, inv_q)   # at or above this: reject any x != prev
    # ring of recent walk nodes per lane (pairs mode); routed: (part*P) << 32 | local
    R = 1
    while R < step + 1:
        R <<= 1
    mask = R - 1
    ring = np.empty((K, R), dtype=np.int64)
    cur = np.zeros(K, dtype=np.int64)       # current node
    prev = np.zeros(K, dtype=np.int64)      # previous node
    m = np.zeros(K, dtype=np.int64)         # index of cur in its walk
    stage = np.full(K, _IDLE, dtype=np.int64)
    addr = np.zeros(K, dtype=np.int64)      # pending slot in indices / alias table
    rowlo = np.zeros(K, dtype=np.int64)     # row start of cur (weighted alias)
    acoin = np.zeros(K, dtype=np.float64)   # alias coin (weighted)
    accept = np.zeros(K, dtype=np.float64)  # node2vec coin * envelope
    emitted = np.zeros(K, dtype=np.bool_)
    walk_id = np.zeros(K, dtype=np.int64)   # corpus mode: output row
    num_nodes = node_prob.size
    has_hubs = hub_slot.size > 0
    counts = np.zeros(hist.shape[1], dtype=np.int64)  # pairs per block, this thread
    words = (num_nodes + 63) >> 6
    B = min(shuffle_base, n)
    col_q = n // B
    col_r = n - col_q * B
    k = 0            # pairs written (pairs mode)
    col = 0          # k mod B
    base = lo        # lo + start of column col
    d = 0            # k div B
    next_walk = lo   # corpus mode: next start index
    active = K
    if corpus:
        active = 0
    L = 0
    # lanes start IDLE; the first visit of an IDLE lane starts a walk
    while True:
        st = stage[L]
        if st == _RESOLVE:
            y = np.int64(indices[addr[L]])
            ok = True
            if second_order and m[L] >= 1:
                a = accept[L]
                t_ = prev[L]
                if y == t_:
                    ok = a < inv_p
                elif a < sure:
                    ok = True
                elif a >= never:
                    ok = False
                else:
                    # does t_ -> y exist?  hubs: one bit; others: search t_'s row
                    hs = hub_slot[t_] if has_hubs else -1
                    if hs >= 0:
                        word = hub_bits[hs * words + (y >> 6)]
                        adj = ((word >> np.uint64(y & 63)) & np.uint64(1)) != np.uint64(0)
                    else:
                        adj = has_edge(indices, indptr[t_], indptr[t_ + 1], y)
                    ok = a < 1.0 if adj else a < inv_q
            stage[L] = _PROPOSE
            if not ok:
                continue  # rejected: propose again now, the row of cur is cached
            prev[L] = cur[L]
            cur[L] = y
            m[L] += 1
            emitted[L] = False
            prefetch(indptr, y)
            if routed:
                prefetch(code, y)
        elif st == _ALIAS:
            a_ = addr[L]
            if acoin[L] >= row_prob[a_]:
                a_ = rowlo[L] + row_alias[a_]
                addr[L] = a_
            prefetch(indices, a_)
            stage[L] = _RESOLVE
        else:
            # PROPOSE or IDLE.  An IDLE lane (or a finished walk) starts a new
            # walk and proposes its first step in the same visit.
            restart = st == _IDLE
            if not restart:
                x = cur[L]
                mm = m[L]
                if not emitted[L]:
                    emitted[L] = True
                    if corpus:
                        walks_out[walk_id[L], mm] = x
                    else:
                        if routed:
                            c = code[x]
                            px = c >> 32
                            lx = c & _LOW32
                            ring[L, mm & mask] = ((px * P) << 32) | lx
                        else:
                            ring[L, mm & mask] = x
                        cnt = min(step, mm, n - k)
                        for j in range(1, cnt + 1):
                            pos = base + d
                            h = ring[L, (mm - j) & mask]
                            if routed:
                                out_h[pos] = np.int32(h & _LOW32)
                                out_t[pos] = np.int32(lx)
                                b = (h >> 32) + px
                                out_b[pos] = b
                                counts[b] += 1
                            else:
                                out_h[pos] = np.int32(h)
                                out_t[pos] = np.int32(x)
                            col += 1
                            if col == B:
                                col = 0
                                base = lo
                                d += 1
                            else:
                                base += col_q + (1 if col <= col_r else 0)
                        k += cnt
                        if k >= n:
                            break
                if mm == walk_length:
                    restart = True
                else:
                    rlo = indptr[x]
                    deg = indptr[x + 1] - rlo
                    if deg == 0:
                        restart = True
            if restart:
                if corpus:
                    if st != _IDLE:
                        for j in range(m[L] + 1, walk_length + 1):
                            walks_out[walk_id[L], j] = -1
                        active -= 1
                    if next_walk >= hi:
                        stage[L] = _IDLE
                        if active == 0:
                            break
                        L += 1
                        if L == K:
                            L = 0
                        continue
                    x = np.int64(starts[next_walk])
                    walk_id[L] = next_walk
                    next_walk += 1
                    active += 1
                    walks_out[walk_id[L], 0] = x
                else:
                    state, x = alias_draw(node_prob, node_alias, 0, num_nodes, state)
                    if routed:
                        c = code[x]
                        ring[L, 0] = (((c >> 32) * P) << 32) | (c & _LOW32)
                    else:
                        ring[L, 0] = x
                cur[L] = x
                m[L] = 0
                mm = 0
                emitted[L] = True
                rlo = indptr[x]
                deg = indptr[x + 1] - rlo
                if deg == 0:
                    # isolated start: only in corpus mode (or alias rounding);
                    # the walk is over, the next visit starts another
                    stage[L] = _PROPOSE
                    m[L] = walk_length if not corpus else 0
                    if corpus:
                        for j in range(1, walk_length + 1):
                            walks_out[walk_id[L], j] = -1
                        active -= 1
                        stage[L] = _IDLE
                    L += 1
                    if L == K:
                        L = 0
                    continue
            # propose a neighbour of x (row [rlo, rlo + deg))
            state, bits = next_u64(state)
            slot, c1 = split_u64(bits, deg)
            a_ = rlo + slot
            addr[L] = a_
            if second_order and mm >= 1:
                if weighted:
                    state, bits = next_u64(state)
                    c2 = np.float32(bits >> np.uint64(40)) * _INV24
                else:
                    c2 = c1
                a = c2 * envelope
                accept[L] = a
            if weighted:
                acoin[L] = c1
                rowlo[L] = rlo
                prefetch(row_prob, a_)
                prefetch(row_alias, a_)
                stage[L] = _ALIAS
            else:
                prefetch(indices, a_)
                stage[L] = _RESOLVE
        L += 1
        if L == K:
            L = 0
    states[t] = state
    if routed:
        for b in range(counts.size):
            hist[t, b] = counts[b]
