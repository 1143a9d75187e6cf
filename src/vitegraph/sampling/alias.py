"""Alias tables (Walker 1977, Vose 1991): O(n) construction, O(1) draws.

A table over n outcomes is two arrays, ``prob`` (float32) and ``alias`` (int32):
draw a slot i uniformly, keep i with probability ``prob[i]``, else take
``alias[i]``.  One 64-bit random number serves both choices (see
:func:`vitegraph.sampling.rng.split_u64`).

Tables for many small distributions (the neighbours of every CSR row) are stored
back to back: the table of row r occupies ``[indptr[r], indptr[r+1])`` and its
aliases are offsets within the row.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .rng import make_states, next_u64, split_u64


@njit(nogil=True, cache=True)
def _fill_alias(w, prob, alias, lo, n):
    """Vose's method on ``w[lo:lo+n]``, writing ``prob``/``alias`` at the same slots.

    ``alias`` values are offsets in ``[0, n)``.  Uses two index stacks kept in the
    ``alias`` slots that are not yet final, so it needs no extra memory beyond a
    small work array of size n.
    """
    if n == 0:
        return
    total = 0.0
    for k in range(n):
        total += w[lo + k]
    if total <= 0.0:
        # all-zero weights: fall back to uniform
        for k in range(n):
            prob[lo + k] = 1.0
            alias[lo + k] = k
        return
    scaled = np.empty(n, dtype=np.float64)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    positive = 0
    for k in range(n):
        if w[lo + k] > 0.0:
            positive = k
        scaled[k] = w[lo + k] * n / total
        if scaled[k] < 1.0:
            small[ns] = k
            ns += 1
        else:
            large[nl] = k
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        prob[lo + s] = scaled[s]
        alias[lo + s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    while nl > 0:
        nl -= 1
        g = large[nl]
        prob[lo + g] = 1.0
        alias[lo + g] = g
    while ns > 0:  # only reached through rounding error
        ns -= 1
        s = small[ns]
        if w[lo + s] > 0.0:
            prob[lo + s] = 1.0
            alias[lo + s] = s
        else:  # a zero weight must stay impossible: point it at a positive one
            prob[lo + s] = 0.0
            alias[lo + s] = positive


def build_alias(weights) -> tuple[np.ndarray, np.ndarray]:
    """Alias table for outcomes ``0..n-1`` with probability proportional to
    ``weights`` (non-negative, finite).  Returns ``(prob float32[n], alias int32[n])``.
    """
    w = np.ascontiguousarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ValueError("alias table needs a non-empty 1-D weight array")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("alias table weights must be finite and non-negative")
    prob = np.empty(w.size, dtype=np.float32)
    alias = np.empty(w.size, dtype=np.int32)
    _fill_alias(w, prob, alias, 0, w.size)
    return prob, alias


@njit(nogil=True, parallel=True, cache=True)
def _fill_row_alias(indptr, w, prob, alias):
    for r in prange(indptr.size - 1):
        lo = indptr[r]
        _fill_alias(w, prob, alias, lo, indptr[r + 1] - lo)


def build_row_alias(indptr, weights) -> tuple[np.ndarray, np.ndarray]:
    """Per-row alias tables over the CSR rows ``indptr`` with edge ``weights``.

    Returns ``(prob float32[nnz], alias int32[nnz])``; row r's table lives in
    ``[indptr[r], indptr[r+1])`` and ``alias`` holds offsets within the row.
    Memory: 8 bytes per stored edge.
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    prob = np.empty(w.size, dtype=np.float32)
    alias = np.empty(w.size, dtype=np.int32)
    if w.size:
        _fill_row_alias(indptr, w, prob, alias)
    return prob, alias


@njit(inline="always", cache=True)
def alias_draw(prob, alias, lo, n, state):
    """Draw from the table stored at ``[lo, lo+n)``: ``(new_state, offset in [0, n))``."""
    state, x = next_u64(state)
    k, coin = split_u64(x, n)
    if coin < prob[lo + k]:
        return state, k
    return state, np.int64(alias[lo + k])


@njit(nogil=True, cache=True)
def _alias_sample(prob, alias, size, states):
    state = states[0]
    out = np.empty(size, dtype=np.int64)
    n = prob.size
    for i in range(size):
        state, out[i] = alias_draw(prob, alias, 0, n, state)
    states[0] = state
    return out


def alias_sample(prob, alias, size: int, seed: int = 0) -> np.ndarray:
    """``size`` draws from one table (for tests and tools): ``int64[size]``."""
    return _alias_sample(prob, alias, int(size), make_states(seed, 1))
