"""CSR construction from edge arrays: counting sort, per-row sort, duplicate merge.

Everything here is O(E) numba work except the per-row sorts (O(d log d) per row),
and never materialises more than the final CSR plus one staging copy:

1. ``count``: out-degree of every source (``np.bincount``);
2. ``scatter``: place each edge (and its reverse for undirected graphs) at its
   row's cursor, in input order;
3. ``sort rows``: stable sort of each row by neighbour id, carrying weights;
4. ``merge``: collapse equal neighbours inside a row by the duplicate policy
   (``sum`` adds weights, ``first`` keeps the first in input order, ``error``
   reports) and compact the arrays.

Self-loops of an undirected graph are stored once.  Zero-weight edges are
dropped: a walk can never take them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from numba import njit, prange

class DuplicateEdgeError(Exception):
    """Internal: raised with the ids of a repeated edge; readers turn it into a
    :class:`~vitegraph.errors.GraphError` naming the nodes and the input lines."""

    def __init__(self, u: int, v: int):
        super().__init__(u, v)
        self.u, self.v = u, v


DUPLICATE_POLICIES = ("auto", "sum", "first", "error")
SELF_LOOP_POLICIES = ("keep", "drop")


@dataclass(frozen=True)
class CSRArrays:
    indptr: np.ndarray
    indices: np.ndarray
    weights: Optional[np.ndarray]
    num_edges: int          # edges in the input sense (undirected edge counted once)
    num_duplicates: int     # input edges merged into another
    num_self_loops: int     # self-loops dropped or kept, as counted in the input


@njit(nogil=True, cache=True)
def _scatter(src, dst, w, indptr, out_idx, out_w, symmetric):
    """Place edges into rows in input order (so a stable row sort keeps it)."""
    cursor = indptr[:-1].copy()
    has_w = w.size > 0
    for e in range(src.size):
        u = src[e]
        v = dst[e]
        p = cursor[u]
        out_idx[p] = v
        if has_w:
            out_w[p] = w[e]
        cursor[u] = p + 1
        if symmetric and u != v:
            p = cursor[v]
            out_idx[p] = u
            if has_w:
                out_w[p] = w[e]
            cursor[v] = p + 1


@njit(nogil=True, parallel=True, cache=True)
def _sort_rows(indptr, idx, w):
    """Stable sort of every row by neighbour id, carrying weights.

    Stability keeps input order among equal neighbours, which is what the
    ``first`` duplicate policy relies on.  Short rows use an in-place insertion
    sort (no allocation); long rows a merge sort.
    """
    has_w = w.size > 0
    for r in prange(indptr.size - 1):
        lo = indptr[r]
        hi = indptr[r + 1]
        n = hi - lo
        if n < 2:
            continue
        if n <= 32:
            for a in range(lo + 1, hi):
                v = idx[a]
                wv = w[a] if has_w else np.float32(0)
                b = a - 1
                while b >= lo and idx[b] > v:
                    idx[b + 1] = idx[b]
                    if has_w:
                        w[b + 1] = w[b]
                    b -= 1
                idx[b + 1] = v
                if has_w:
                    w[b + 1] = wv
            continue
        perm = np.argsort(idx[lo:hi], kind="mergesort")
        seg_i = idx[lo:hi].copy()
        for t in range(n):
            idx[lo + t] = seg_i[perm[t]]
        if has_w:
            seg_w = w[lo:hi].copy()
            for t in range(n):
                w[lo + t] = seg_w[perm[t]]


@njit(nogil=True, cache=True)
def _merge_rows(indptr, idx, w, policy_sum):
    """Collapse equal neighbours in sorted rows, in place.  Returns the new indptr
    and the number of merged entries."""
    n = indptr.size - 1
    new_ptr = np.empty(n + 1, dtype=np.int64)
    new_ptr[0] = 0
    has_w = w.size > 0
    out = 0
    merged = 0
    for r in range(n):
        lo = indptr[r]
        hi = indptr[r + 1]
        prev = -1
        for p in range(lo, hi):
            v = idx[p]
            if v == prev:
                merged += 1
                if has_w and policy_sum:
                    w[out - 1] += w[p]
                continue
            idx[out] = v
            if has_w:
                w[out] = w[p]
            out += 1
            prev = v
        new_ptr[r + 1] = out
    return new_ptr, merged


@njit(nogil=True, cache=True)
def _first_duplicate(indptr, idx):
    for r in range(indptr.size - 1):
        for p in range(indptr[r] + 1, indptr[r + 1]):
            if idx[p] == idx[p - 1]:
                return r, idx[p]
    return -1, -1


def build_csr(src: np.ndarray, dst: np.ndarray, weights: Optional[np.ndarray],
              num_nodes: int, *, directed: bool, duplicates: str = "auto",
              self_loops: str = "keep") -> CSRArrays:
    """CSR arrays for the edges ``src[e] -> dst[e]`` (ids already in ``[0, num_nodes)``).

    ``duplicates``: ``sum`` adds the weights of repeated edges (on unweighted
    input every listed edge weighs 1, so an edge listed k times gets weight k
    and the graph becomes weighted when some edge repeats), ``first`` keeps the
    first occurrence, ``error`` raises :class:`DuplicateEdgeError`, ``auto`` is
    ``sum`` for weighted input and ``first`` for unweighted input (an unweighted
    edge listed twice is one edge).  For undirected graphs ``(u, v)`` and
    ``(v, u)`` are the same edge.
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}")
    if self_loops not in SELF_LOOP_POLICIES:
        raise ValueError(f"self_loops must be one of {SELF_LOOP_POLICIES}, got {self_loops!r}")
    index_dtype = np.int32 if num_nodes < 2**31 else np.int64
    src = np.ascontiguousarray(src, dtype=index_dtype)
    dst = np.ascontiguousarray(dst, dtype=index_dtype)
    if duplicates == "auto":
        duplicates = "first" if weights is None else "sum"
    counted = weights is None and duplicates == "sum"   # multiplicities become weights
    if counted:
        weights = np.ones(src.size, dtype=np.float32)
    w = (np.empty(0, dtype=np.float32) if weights is None
         else np.ascontiguousarray(weights, dtype=np.float32))
    if w.size and not w.all():
        # a zero-weight edge is no edge: a walk can never take it
        keep = w != 0
        src, dst, w = src[keep], dst[keep], w[keep]

    loops = src == dst
    num_loops = int(np.count_nonzero(loops))
    if num_loops and self_loops == "drop":
        keep = ~loops
        src, dst = src[keep], dst[keep]
        if w.size:
            w = w[keep]
        loops = np.zeros(src.size, dtype=bool)
    symmetric = not directed

    deg = np.bincount(src, minlength=num_nodes).astype(np.int64)
    if symmetric:
        # the reverse copy of each non-loop edge goes to row dst
        deg += np.bincount(dst[~loops], minlength=num_nodes) if num_loops else \
            np.bincount(dst, minlength=num_nodes)
    indptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    nnz = int(indptr[-1])
    idx = np.empty(nnz, dtype=index_dtype)
    out_w = np.empty(nnz if w.size else 0, dtype=np.float32)
    _scatter(src, dst, w, indptr, idx, out_w, symmetric)
    _sort_rows(indptr, idx, out_w)

    if duplicates == "error":
        r, v = _first_duplicate(indptr, idx)
        if r >= 0:
            raise DuplicateEdgeError(int(r), int(v))
    new_ptr, merged = _merge_rows(indptr, idx, out_w, duplicates == "sum")
    nnz_new = int(new_ptr[-1])
    if nnz_new != nnz:
        idx = idx[:nnz_new].copy()
        if out_w.size:
            out_w = out_w[:nnz_new].copy()
    indptr = new_ptr
    kept_loops = 0 if self_loops == "drop" else _count_loops(indptr, idx)
    if directed:
        num_edges = nnz_new
        merged_edges = merged
    else:
        num_edges = (nnz_new - kept_loops) // 2 + kept_loops
        merged_edges = src.size - num_edges
    keep_weights = weights is not None and not (counted and merged_edges == 0)
    return CSRArrays(indptr, idx, out_w if keep_weights else None,
                     int(num_edges), int(merged_edges), num_loops)


@njit(nogil=True, cache=True)
def _count_loops(indptr, idx):
    c = 0
    for r in range(indptr.size - 1):
        for p in range(indptr[r], indptr[r + 1]):
            if idx[p] == r:
                c += 1
    return c
