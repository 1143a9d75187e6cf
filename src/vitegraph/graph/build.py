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
def _scatter(src, dst, w, cursor, out_idx, out_w, symmetric):
    """Place edges into rows in input order (so a stable row sort keeps it);
    ``cursor[u]`` is where row u's next entry goes, and is advanced."""
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
    return build_csr_chunks([src], [dst], None if weights is None else [weights], num_nodes,
                            directed=directed, duplicates=duplicates, self_loops=self_loops)


@njit(nogil=True, cache=True)
def _count(src, dst, deg, symmetric):
    """Row lengths: ``deg[u] += 1`` per edge, and ``deg[v] += 1`` for the reverse
    copy of a non-loop edge of an undirected graph."""
    for e in range(src.size):
        u = src[e]
        v = dst[e]
        deg[u] += 1
        if symmetric and u != v:
            deg[v] += 1


def _prepare_chunk(src, dst, w, index_dtype, counted, self_loops):
    """One chunk's edges as the build wants them: ids in ``index_dtype``, float32
    weights (empty when unweighted), zero-weight edges and (``drop``) self-loops
    removed; also how many self-loops the chunk listed."""
    src = np.ascontiguousarray(src, dtype=index_dtype)
    dst = np.ascontiguousarray(dst, dtype=index_dtype)
    if counted:
        w = np.ones(src.size, dtype=np.float32)
    w = np.empty(0, dtype=np.float32) if w is None else np.ascontiguousarray(w, np.float32)
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
    return src, dst, w, num_loops


def build_csr_chunks(src_chunks: list, dst_chunks: list, weight_chunks: Optional[list],
                     num_nodes: int, *, directed: bool, duplicates: str = "auto",
                     self_loops: str = "keep") -> CSRArrays:
    """:func:`build_csr` for edges given as lists of chunks (a streamed reader's
    batches), in input order.  The lists are emptied as the chunks are used, so
    the caller that hands over its only references never holds the edges and
    the finished CSR at once beyond one chunk's worth: the peak is the chunks
    plus the CSR, with no concatenated copy of the input."""
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}, got {duplicates!r}")
    if self_loops not in SELF_LOOP_POLICIES:
        raise ValueError(f"self_loops must be one of {SELF_LOOP_POLICIES}, got {self_loops!r}")
    if len(src_chunks) != len(dst_chunks) or \
            (weight_chunks is not None and len(weight_chunks) != len(src_chunks)):
        raise ValueError("src, dst and weight chunk lists differ in length")
    weighted_in = weight_chunks is not None
    index_dtype = np.int32 if num_nodes < 2**31 else np.int64
    if duplicates == "auto":
        duplicates = "first" if not weighted_in else "sum"
    counted = not weighted_in and duplicates == "sum"   # multiplicities become weights
    has_w = weighted_in or counted
    symmetric = not directed

    # pass 1: clean every chunk, count row lengths (into indptr[1:], summed in place)
    indptr = np.zeros(num_nodes + 1, dtype=np.int64)
    deg = indptr[1:]
    num_loops = 0
    num_input = 0
    for k in range(len(src_chunks)):
        s, d, w, loops = _prepare_chunk(src_chunks[k], dst_chunks[k],
                                        None if weight_chunks is None else weight_chunks[k],
                                        index_dtype, counted, self_loops)
        src_chunks[k], dst_chunks[k] = s, d
        if weight_chunks is not None or counted:
            if weight_chunks is None:
                weight_chunks = [None] * len(src_chunks)
            weight_chunks[k] = w
        num_loops += loops
        num_input += s.size
        _count(s, d, deg, symmetric)
    del deg
    np.cumsum(indptr, out=indptr)
    nnz = int(indptr[-1])
    idx = np.empty(nnz, dtype=index_dtype)
    out_w = np.empty(nnz if has_w else 0, dtype=np.float32)

    # pass 2: place the edges, freeing each chunk once placed; indptr[u] is row
    # u's cursor, which ends at the start of row u + 1, so shifts back after
    cursor = indptr[:-1]
    empty_w = np.empty(0, dtype=np.float32)
    for k in range(len(src_chunks)):
        w = weight_chunks[k] if has_w else empty_w
        _scatter(src_chunks[k], dst_chunks[k], w, cursor, idx, out_w, symmetric)
        src_chunks[k] = dst_chunks[k] = None
        if has_w:
            weight_chunks[k] = None
    del cursor
    _shift_right(indptr)
    src_chunks.clear()
    dst_chunks.clear()
    if weight_chunks is not None:
        weight_chunks.clear()
    _sort_rows(indptr, idx, out_w)

    if duplicates == "error":
        r, v = _first_duplicate(indptr, idx)
        if r >= 0:
            raise DuplicateEdgeError(int(r), int(v))
    new_ptr, merged = _merge_rows(indptr, idx, out_w, duplicates == "sum")
    nnz_new = int(new_ptr[-1])
    if nnz_new != nnz:
        idx = _shrink(idx, nnz_new)
        if out_w.size:
            out_w = _shrink(out_w, nnz_new)
    indptr = new_ptr
    kept_loops = 0 if self_loops == "drop" else _count_loops(indptr, idx)
    if directed:
        num_edges = nnz_new
        merged_edges = merged
    else:
        num_edges = (nnz_new - kept_loops) // 2 + kept_loops
        merged_edges = num_input - num_edges
    keep_weights = weighted_in or (counted and merged_edges > 0)
    return CSRArrays(indptr, idx, out_w if keep_weights else None,
                     int(num_edges), int(merged_edges), num_loops)


@njit(nogil=True, cache=True)
def _shift_right(a):
    """``a[1:] = a[:-1]; a[0] = 0`` in place."""
    for k in range(a.size - 1, 0, -1):
        a[k] = a[k - 1]
    a[0] = 0


def _shrink(a: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` entries of ``a``, which is no longer needed: resized in
    place when ``a`` owns its memory (no second copy at the peak), else copied."""
    if a.base is None and a.flags.owndata:
        try:
            a.resize(n, refcheck=False)
            return a
        except (ValueError, SystemError):
            pass
    return a[:n].copy()


@njit(nogil=True, cache=True)
def _count_loops(indptr, idx):
    c = 0
    for r in range(indptr.size - 1):
        for p in range(indptr[r], indptr[r + 1]):
            if idx[p] == r:
                c += 1
    return c
