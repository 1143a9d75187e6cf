"""CPU training kernel: per-sample Hogwild SGD in numba (DESIGN.md section 1).

For sample t of a block of N, with ``lr_t = lr_start + (lr_end - lr_start) * t / N``:
first ``num_negative`` steps on (vertex[heads[t]], context[n]) with label 0 and
weight ``negative_weight``, n drawn from the alias table over the context rows,
then one step on (vertex[heads[t]], context[tails[t]]) with label 1 and weight 1.
Each step, with ``g = sigmoid(v.c) - label``::

    v -= lr * w * (g * c + weight_decay * v)
    c -= lr * w * (g * v + weight_decay * c)      (both from the old v, c)

The kernels release the GIL, so the solver can train several orthogonal blocks
at once from a Python thread pool; ``num_threads > 1`` splits one block into
contiguous chunks trained at once by as many threads (Hogwild: unsynchronised
updates of shared rows).  Chunk i uses RNG slot ``states[i]`` and its own stretch
of the lr ramp (its samples keep their block-wide t).

Speed (the CPU kernel is the product, not a fallback):

- float32 row loops that LLVM vectorises (AVX2: 8 lanes; the dot products with
  several accumulators under ``fastmath``);
- sigmoid and loss from an interpolated table instead of ``exp`` / ``log1p``
  (``_numba_ops``);
- with one negative (GraphVite's default) a sample's negative and positive steps
  are fused into one read pass and one write pass over its three rows, and two
  consecutive samples that share no row are trained together so that their
  dependency chains overlap.  Both are exact rewrites of the per-sample order
  (up to float rounding); samples whose rows coincide take the plain path;
- the rows of the sample ``_AHEAD`` places ahead are prefetched, with its
  negatives already drawn (in batches, off the critical path), which hides most
  cache misses of tables larger than L2.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..sampling.alias import alias_draw
from .._validate import check_float, check_int
from ._common import BlockStats, run_chunks
from ._numba_ops import (pair_gradient, prefetch_row, sgd_fused_one_negative,
                         sgd_fused_two_samples, sgd_pair)

__all__ = ["train_block", "train_block_with_negatives", "train_block_masked",
           "draw_negatives"]

_AHEAD = 6  # prefetch distance, in samples (4-8 measured best at d = 64..128)
_DRAW_BATCH = 256  # negatives are drawn this many samples at a time (>= _AHEAD)


# how vertex and context share memory (decides when the fused steps are exact)
_DISJOINT = 0   # no shared memory
_SAME = 1       # the same table: equal indices mean the same row
_OVERLAP = 2    # some other overlap: never fuse


@njit(inline="always", cache=True)
def _lr_at(lr_start, lr_step, t):
    """lr of sample t: ``lr_start + t * lr_step``, ``lr_step = (lr_end - lr_start)
    / total`` (computed in float64, then rounded to float32)."""
    return np.float32(lr_start + lr_step * t)


@njit(inline="always", cache=True)
def _fusable(h, n, p, sharing):
    """A one-negative sample touches three distinct rows."""
    return n != p and (sharing == _DISJOINT or (h != n and h != p))


@njit(inline="always", cache=True)
def _independent(h1, n1, p1, h2, n2, p2, sharing):
    """Two fusable samples share no row."""
    if n1 == n2 or n1 == p2 or p1 == n2 or p1 == p2 or h1 == h2:
        return False
    return sharing == _DISJOINT or (h1 != n2 and h1 != p2 and h2 != n1 and h2 != p1)


@njit(nogil=True, fastmath=True, cache=True)  # not inlined: keeps the hot loop small
def _train_sequential(vertex, context, h, tail, negs, row, num_negative,
                      negative_weight, weight_decay, lr):
    """Negatives ``negs[row, :num_negative]`` then the positive ``tail`` for head
    ``h``, one step after the other (any K, any row coincidences)."""
    loss = 0.0
    scale = lr * negative_weight
    for j in range(num_negative):
        loss += negative_weight * sgd_pair(vertex, context, h, negs[row, j],
                                           False, scale, weight_decay)
    loss += sgd_pair(vertex, context, h, tail, True, lr, weight_decay)
    return loss


@njit(inline="always", cache=True)
def _prefetch_sample(vertex, context, heads, tails, negs, row, t, num_negative):
    prefetch_row(vertex, heads[t])
    prefetch_row(context, tails[t])
    for j in range(num_negative):
        prefetch_row(context, negs[row, j])


@njit(nogil=True, fastmath=True, cache=True)
def _train_range(vertex, context, heads, tails, neg_prob, neg_alias, negatives,
                 num_negative, negative_weight, weight_decay, lr_start, lr_end, total,
                 lo, hi, states, slot, losses, sharing):
    """Samples ``[lo, hi)`` of a block of ``total``; writes the loss to
    ``losses[slot]``.  Negatives: ``negatives[t]`` when that array has rows
    (int32[total, K]), else drawn from the alias table with ``states[slot]``.

    Negatives are staged ``_DRAW_BATCH`` samples at a time in a ring of twice
    that, ahead of use: a tight loop of independent alias-table loads overlaps
    their cache misses, and the rows of sample ``t + _AHEAD`` are known when it
    is prefetched.  Draws happen in sample order, so they do not depend on
    these sizes (:func:`draw_negatives` reproduces them).  (One kernel for both
    sources of negatives: it is the slow one to compile.)

    A one-negative sample whose three rows are distinct takes the fused step,
    together with the next sample when the two share no row; anything else
    (several negatives, coinciding rows, tables overlapping in odd ways) takes
    the step-by-step path.  The loop is written out with ``continue`` rather
    than through a helper returning (count, loss): LLVM lays that out 15-25%
    slower."""
    given = negatives.shape[0] > 0
    state = states[slot]
    n_c = context.shape[0]
    lr_step = (lr_end - lr_start) / total
    mask = 2 * _DRAW_BATCH - 1
    ring = np.empty((2 * _DRAW_BATCH, max(num_negative, 1)), dtype=np.int32)
    staged = lo  # negatives of samples [lo, staged) are in the ring
    fetched = lo  # rows of samples [lo, fetched) were prefetched
    loss = 0.0
    t = lo
    while t < hi:
        target = min(t + _AHEAD + 2, hi)
        if staged < target:
            end = min(staged + _DRAW_BATCH, hi)
            for s in range(staged, end):
                for j in range(num_negative):
                    if given:
                        ring[s & mask, j] = negatives[s, j]
                    else:
                        state, ring[s & mask, j] = alias_draw(neg_prob, neg_alias, 0, n_c,
                                                              state)
            staged = end
        while fetched < target:
            _prefetch_sample(vertex, context, heads, tails, ring, fetched & mask,
                             fetched, num_negative)
            fetched += 1
        h = heads[t]
        p = tails[t]
        lr = _lr_at(lr_start, lr_step, t)
        if num_negative == 1 and sharing != _OVERLAP:
            n = ring[t & mask, 0]
            if _fusable(h, n, p, sharing):
                u = t + 1
                if u < hi:
                    h2 = heads[u]
                    p2 = tails[u]
                    n2 = ring[u & mask, 0]
                    if _fusable(h2, n2, p2, sharing) and _independent(h, n, p, h2, n2, p2,
                                                                      sharing):
                        loss += sgd_fused_two_samples(
                            vertex, context, h, n, p, lr, h2, n2, p2,
                            _lr_at(lr_start, lr_step, u), negative_weight, weight_decay)
                        t += 2
                        continue
                loss += sgd_fused_one_negative(vertex, context, h, n, p, lr,
                                               negative_weight, weight_decay)
                t += 1
                continue
        loss += _train_sequential(vertex, context, h, p, ring, t & mask, num_negative,
                                  negative_weight, weight_decay, lr)
        t += 1
    states[slot] = state
    losses[slot] = loss


@njit(inline="always", fastmath=True, cache=True)
def _masked_pair(vertex, context, h, r, positive, scale, decay, write_v, write_c):
    """:func:`sgd_pair` writing only the rows whose flag is set (a frozen
    row is read, never written); returns the loss."""
    d = vertex.shape[1]
    g, loss = pair_gradient(vertex, context, h, r, positive, scale)
    b = scale * decay
    for k in range(d):
        vk = vertex[h, k]
        ck = context[r, k]
        if write_v:
            vertex[h, k] = vk - (g * ck + b * vk)
        if write_c:
            context[r, k] = context[r, k] - (g * vk + b * ck)
    return loss


@njit(nogil=True, fastmath=True, cache=True)
def _train_range_masked(vertex, context, heads, tails, neg_prob, neg_alias, train_v,
                        train_c, num_negative, negative_weight, weight_decay, lr_start,
                        lr_end, total, lo, hi, states, slot, losses):
    """:func:`_train_range`'s per-sample order (negatives, then the positive),
    step by step, with rows whose ``train_v`` / ``train_c`` flag is 0 frozen;
    a sample whose head and tail are both frozen is skipped, negatives and
    all (its negatives would train only against a frozen head)."""
    state = states[slot]
    n_c = neg_prob.shape[0]
    lr_step = (lr_end - lr_start) / total
    scale_n = np.float32(negative_weight)
    loss = 0.0
    for t in range(lo, hi):
        h = heads[t]
        p = tails[t]
        wv = train_v[h] != 0
        if not wv and train_c[p] == 0:
            continue            # both rows frozen: the sample can change nothing it is for
        lr = _lr_at(lr_start, lr_step, t)
        for j in range(num_negative):
            state, n = alias_draw(neg_prob, neg_alias, 0, n_c, state)
            loss += negative_weight * _masked_pair(vertex, context, h, n, False,
                                                   lr * scale_n, weight_decay, wv,
                                                   train_c[n] != 0)
        loss += _masked_pair(vertex, context, h, p, True, lr, weight_decay, wv,
                             train_c[p] != 0)
    states[slot] = state
    losses[slot] = loss


@njit(nogil=True, cache=True)
def _draw_range(neg_prob, neg_alias, lo, hi, states, slot, out):
    """The draws :func:`_train_range` makes for samples ``[lo, hi)``, in
    the same order, into ``out[lo:hi]``."""
    state = states[slot]
    n_c = neg_prob.shape[0]
    for t in range(lo, hi):
        for j in range(out.shape[1]):
            state, out[t, j] = alias_draw(neg_prob, neg_alias, 0, n_c, state)
    states[slot] = state


@njit(nogil=True, cache=True)
def _min_max(a):
    flat = a.ravel()
    lo = flat[0]
    hi = flat[0]
    for x in flat:
        if x < lo:
            lo = x
        elif x > hi:
            hi = x
    return lo, hi


# ---------------------------------------------------------------- Python side

_OWNER = "train_block"


def _check_table(owner, name, a):
    if not (isinstance(a, np.ndarray) and a.dtype == np.float32 and a.ndim == 2
            and a.flags.c_contiguous and a.flags.writeable):
        raise ParameterError(owner, name, "a writeable C-contiguous float32 array "
                             "of shape (rows, dim)", _describe(a))


def _check_index(owner, name, a, ndim, upper, rows=None):
    if not (isinstance(a, np.ndarray) and a.dtype == np.int32 and a.ndim == ndim
            and a.flags.c_contiguous):
        raise ParameterError(owner, name, f"a C-contiguous int32 array with {ndim} "
                             "dimension" + ("s" if ndim > 1 else ""), _describe(a))
    if rows is not None and a.shape[0] != rows:
        raise ParameterError(owner, name, f"{rows} rows long", _describe(a))
    if a.size:
        lo, hi = _min_max(a)
        if lo < 0 or hi >= upper:
            raise ParameterError(owner, name, f"local row indices in [0, {upper})",
                                 f"values in [{lo}, {hi}]")


def _describe(a):
    if isinstance(a, np.ndarray):
        return f"ndarray(dtype={a.dtype}, shape={a.shape})"
    return type(a).__name__


def _check_common(owner, vertex, context, heads, tails, negative_weight,
                  weight_decay, lr_start, lr_end, num_threads):
    _check_table(owner, "vertex", vertex)
    _check_table(owner, "context", context)
    if vertex.shape[1] != context.shape[1]:
        raise ParameterError(owner, "context", f"of dim {vertex.shape[1]} (as vertex)",
                             _describe(context))
    _check_index(owner, "heads", heads, 1, vertex.shape[0])
    _check_index(owner, "tails", tails, 1, context.shape[0], rows=heads.shape[0])
    return (np.float32(check_float(owner, "negative_weight", negative_weight, minimum=0)),
            np.float32(check_float(owner, "weight_decay", weight_decay, minimum=0)),
            check_float(owner, "lr_start", lr_start, minimum=0),
            check_float(owner, "lr_end", lr_end, minimum=0),
            check_int(owner, "num_threads", num_threads, minimum=1))


def _check_negative_table(owner, neg_prob, neg_alias, n_c=None):
    """Check an alias table over ``n_c`` rows (None: any length); returns n_c."""
    ok = (isinstance(neg_prob, np.ndarray) and neg_prob.dtype == np.float32
          and neg_prob.ndim == 1 and neg_prob.flags.c_contiguous)
    if ok and n_c is None:
        n_c = neg_prob.shape[0]
    if not ok or neg_prob.shape[0] != n_c:
        shape = "(rows,)" if n_c is None else f"({n_c},) (one slot per context row)"
        raise ParameterError(owner, "neg_prob", f"a C-contiguous float32 array of shape "
                             f"{shape}", _describe(neg_prob))
    _check_index(owner, "neg_alias", neg_alias, 1, n_c, rows=n_c)
    return n_c


def _check_states(owner, states, num_threads):
    if not (isinstance(states, np.ndarray) and states.dtype == np.uint64
            and states.ndim == 1 and states.size >= num_threads
            and states.flags.writeable):
        raise ParameterError(owner, "states", f"a writeable uint64 array of at least "
                             f"{num_threads} (num_threads) slots", _describe(states))


def _sharing(vertex, context):
    if not np.may_share_memory(vertex, context):
        return np.int64(_DISJOINT)
    same = (vertex.__array_interface__["data"][0] == context.__array_interface__["data"][0]
            and vertex.shape == context.shape and vertex.strides == context.strides)
    return np.int64(_SAME if same else _OVERLAP)


def train_block(vertex, context, heads, tails, neg_prob, neg_alias, *,
                num_negative, negative_weight, weight_decay, lr_start, lr_end,
                states, num_threads=1) -> BlockStats:
    """Train one block of positive samples in place; negatives drawn from the
    alias table ``(neg_prob, neg_alias)`` over the rows of ``context``.

    ``vertex`` float32[n_v, d] and ``context`` float32[n_c, d] (C-contiguous; may
    be the same array, as in first-order LINE); ``heads`` / ``tails`` int32[N],
    local row indices into them; ``states`` uint64[>= num_threads], advanced in
    place.  With ``num_threads == 1`` the result is a deterministic function of
    the inputs and ``states[0]``.
    """
    owner = _OWNER
    negw, wd, lr0, lr1, num_threads = _check_common(
        owner, vertex, context, heads, tails, negative_weight, weight_decay,
        lr_start, lr_end, num_threads)
    num_negative = check_int(owner, "num_negative", num_negative, minimum=0)
    _check_negative_table(owner, neg_prob, neg_alias, context.shape[0])
    _check_states(owner, states, num_threads)
    n = heads.shape[0]
    if n == 0:
        return BlockStats(0.0, 0)
    losses = np.zeros(num_threads, dtype=np.float64)
    k = np.int64(num_negative)
    total = np.int64(n)
    sharing = _sharing(vertex, context)
    no_negatives = np.zeros((0, num_negative), dtype=np.int32)

    def args_for(lo, hi, slot):
        return (vertex, context, heads, tails, neg_prob, neg_alias, no_negatives, k,
                negw, wd, lr0, lr1, total, np.int64(lo), np.int64(hi), states,
                np.int64(slot), losses, sharing)

    run_chunks(_train_range, args_for, n, num_threads)
    return BlockStats(float(losses.sum()), n)


def train_block_masked(vertex, context, heads, tails, neg_prob, neg_alias, train_vertex,
                       train_context, *, num_negative, negative_weight, weight_decay,
                       lr_start, lr_end, states, num_threads=1) -> BlockStats:
    """As :func:`train_block`, with frozen rows: ``train_vertex`` uint8[n_v]
    and ``train_context`` uint8[n_c] flag the rows that train (0: the row is
    used, never written, so it ends bitwise as it started).  For training new
    nodes against a trained embedding; step by step (no fused or prefetching
    path), as such runs are short."""
    owner = "train_block_masked"
    negw, wd, lr0, lr1, num_threads = _check_common(
        owner, vertex, context, heads, tails, negative_weight, weight_decay,
        lr_start, lr_end, num_threads)
    num_negative = check_int(owner, "num_negative", num_negative, minimum=0)
    _check_negative_table(owner, neg_prob, neg_alias, context.shape[0])
    _check_states(owner, states, num_threads)
    for name, flags, rows in (("train_vertex", train_vertex, vertex.shape[0]),
                              ("train_context", train_context, context.shape[0])):
        if not (isinstance(flags, np.ndarray) and flags.dtype == np.uint8
                and flags.shape == (rows,)):
            raise ParameterError(owner, name, f"a uint8 array of {rows} flags", _describe(flags))
    n = heads.shape[0]
    if n == 0:
        return BlockStats(0.0, 0)
    losses = np.zeros(num_threads, dtype=np.float64)

    def args_for(lo, hi, slot):
        return (vertex, context, heads, tails, neg_prob, neg_alias, train_vertex,
                train_context, np.int64(num_negative), negw, wd, lr0, lr1, np.int64(n),
                np.int64(lo), np.int64(hi), states, np.int64(slot), losses)

    run_chunks(_train_range_masked, args_for, n, num_threads)
    return BlockStats(float(losses.sum()), n)


def train_block_with_negatives(vertex, context, heads, tails, negatives, *,
                               negative_weight, weight_decay, lr_start, lr_end,
                               num_threads=1) -> BlockStats:
    """As :func:`train_block`, with the negatives given: ``negatives``
    int32[N, K] holds the context rows of sample t's K negatives (for parity
    tests and for callers that draw negatives elsewhere)."""
    owner = "train_block_with_negatives"
    negw, wd, lr0, lr1, num_threads = _check_common(
        owner, vertex, context, heads, tails, negative_weight, weight_decay,
        lr_start, lr_end, num_threads)
    _check_index(owner, "negatives", negatives, 2, context.shape[0],
                 rows=heads.shape[0])
    n = heads.shape[0]
    if n == 0:
        return BlockStats(0.0, 0)
    losses = np.zeros(num_threads, dtype=np.float64)
    total = np.int64(n)
    sharing = _sharing(vertex, context)
    unused_prob = np.ones(1, dtype=np.float32)
    unused_alias = np.zeros(1, dtype=np.int32)
    unused_states = np.zeros(num_threads, dtype=np.uint64)

    def args_for(lo, hi, slot):
        return (vertex, context, heads, tails, unused_prob, unused_alias, negatives,
                np.int64(negatives.shape[1]), negw, wd, lr0, lr1, total, np.int64(lo),
                np.int64(hi), unused_states, np.int64(slot), losses, sharing)

    run_chunks(_train_range, args_for, n, num_threads)
    return BlockStats(float(losses.sum()), n)


def draw_negatives(neg_prob, neg_alias, num_samples, num_negative, states,
                   num_threads=1) -> np.ndarray:
    """The negatives :func:`train_block` draws for a block of ``num_samples``
    with the same ``states`` and ``num_threads``, as int32[num_samples,
    num_negative]; advances ``states`` the same way.  For tests and tools."""
    owner = "draw_negatives"
    num_samples = check_int(owner, "num_samples", num_samples, minimum=0)
    num_negative = check_int(owner, "num_negative", num_negative, minimum=0)
    num_threads = check_int(owner, "num_threads", num_threads, minimum=1)
    n_c = _check_negative_table(owner, neg_prob, neg_alias)
    if n_c == 0 and num_samples and num_negative:
        raise ParameterError(owner, "neg_prob", "a non-empty alias table", _describe(neg_prob))
    _check_states(owner, states, num_threads)
    out = np.zeros((num_samples, num_negative), dtype=np.int32)
    if num_samples and num_negative:
        run_chunks(_draw_range, lambda lo, hi, slot: (
            neg_prob, neg_alias, np.int64(lo), np.int64(hi), states, np.int64(slot),
            out), num_samples, num_threads)
    return out
