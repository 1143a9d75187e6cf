"""Spectral operations on a graph's matrices: ProNE's factorisation and its
spectral propagation, usable on any embedding.

ProNE (Zhang et al., IJCAI 2019) embeds a graph in two steps, both linear in
the edges:

1. **Sparse factorisation.**  With ``p_ij = A_ij / D_i`` (the random walk's
   step probabilities, ``D_i`` node i's out-strength) and a negative-sampling
   distribution ``P_j`` proportional to ``(sum_i p_ij) ** 0.75``, the matrix
   ``M_ij = ln p_ij - ln P_j`` on the edges (zero elsewhere: sparse, unlike
   the dense shifted-PMI matrices of NetMF) is factorised by a randomised
   truncated SVD (Halko et al. 2011); rows of
   ``U * sqrt(s)``, scaled to unit length, are the embedding.
2. **Spectral propagation.**  The embedding ``R`` is filtered by a band-pass
   function of the normalised Laplacian ``L = I - D^-1 (A + I)`` (self loops
   added; spectrum in [0, 2]), centred on ``mu``:
   ``g(x) = exp(-theta * (x^2 / 2 - 1))``, ``x = lambda - mu``.  With
   ``Y = (L - mu I)^2 / 2 - I`` the filter is ``exp(-theta * Y)``, whose
   Chebyshev expansion has modified-Bessel coefficients:
   ``exp(-theta y) = I_0(theta) + 2 sum_k (-1)^k I_k(theta) T_k(y)``, so
   ``step`` terms cost ``2 * step`` sparse products with ``n x d`` blocks
   (``T_{k+1} = 2 Y T_k - T_{k-1}``).  The result is
   ``(A + I) (R - g(L) R)``: the filtered signal removed (what remains is
   dominated by the local and global structure ProNE keeps), summed over
   each node's neighbourhood, then orthogonalised by an SVD as in step 1.

Everything runs in float32, the sparse-dense products on ``num_threads``
threads (numba ``nogil`` kernels over row ranges of equal non-zeros); memory
is linear in the edges plus a few ``n x d`` blocks.
"""

from __future__ import annotations

import logging
import time
from typing import Optional

import numpy as np
from numba import njit

from ._threads import ThreadRunner, cpu_count
from ._validate import check_float, check_int
from .errors import ParameterError

log = logging.getLogger(__name__)

__all__ = ["propagate", "SparseOperator", "proximity_matrix", "factorize", "spectral_filter",
           "propagate_matrix", "orthogonalize", "PROPAGATION_DEFAULTS"]

# ProNE's published settings (step, theta, mu)
PROPAGATION_DEFAULTS = {"steps": 10, "theta": 0.5, "mu": 0.2}


_BLAS = None


def _one_blas_thread():
    """A context in which BLAS/LAPACK run on one thread: the ``k x k``
    eigenproblems here (k ~ 138) gain nothing from threads, and OpenBLAS's
    spinning threads make them 10-20x slower when the CPUs are shared
    (measured on 2 cores with another process busy)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def _eigh(g: np.ndarray):
    with _one_blas_thread():
        return np.linalg.eigh(g)


class _Rows:
    """Products of tall ``n x k`` blocks split by rows over our own threads,
    each chunk one single-threaded BLAS call (callers hold
    :func:`_one_blas_thread`): as fast as threaded BLAS on a quiet machine,
    and no spinning BLAS threads to fight a busy one."""

    def __init__(self, runner: ThreadRunner):
        self.runner = runner

    def _chunks(self, n: int):
        step = max(2048, -(-n // (4 * self.runner.num_threads)))
        return [(lo, min(n, lo + step)) for lo in range(0, n, step)]

    def gram(self, x: np.ndarray, exact: bool = False) -> np.ndarray:
        """``x^T x`` in float64 (``exact``: each chunk in float64 too)."""
        def part(lo, hi):
            blk = x[lo:hi].astype(np.float64) if exact else x[lo:hi]
            return (blk.T @ blk).astype(np.float64)
        return sum(self.runner.run(part, self._chunks(x.shape[0])),
                   np.zeros((x.shape[1], x.shape[1])))

    def times(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """``x @ m`` (float32)."""
        m = np.ascontiguousarray(m, dtype=np.float32)
        out = np.empty((x.shape[0], m.shape[1]), dtype=np.float32)

        def part(lo, hi):
            np.matmul(x[lo:hi], m, out=out[lo:hi])
        self.runner.run(part, self._chunks(x.shape[0]))
        return out


# ---------------------------------------------------------------- sparse products

@njit(nogil=True, fastmath=True, cache=True)
def _spmm_rows(indptr, indices, data, x, out, a, b, y, c, z, e, lo, hi):
    """``out[i] = a * (S x)[i] + b * x[i] + c * y[i] + e * z[i]`` for rows
    ``lo <= i < hi`` of the CSR matrix ``S`` (``data`` empty: all ones)."""
    d = x.shape[1]
    acc = np.empty(d, dtype=np.float32)
    ones = data.size == 0
    for i in range(lo, hi):
        acc[:] = 0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            w = np.float32(1.0) if ones else data[p]
            for k in range(d):
                acc[k] += w * x[j, k]
        for k in range(d):
            v = a * acc[k]
            if b != 0:
                v += b * x[i, k]
            if c != 0:
                v += c * y[i, k]
            if e != 0:
                v += e * z[i, k]
            out[i, k] = v


class SparseOperator:
    """A square CSR matrix multiplied into ``n x d`` float32 blocks on several
    threads: ``apply(x, a=1, b=0, y=None, c=0, z=None, e=0)`` returns
    ``a * S x + b * x + c * y + e * z`` (the axpys fused into the product's
    pass).  Rows are split into chunks of about equal non-zeros, several per
    thread."""

    def __init__(self, indptr, indices, data=None, num_threads: int = 1):
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.data = (np.empty(0, np.float32) if data is None
                     else np.ascontiguousarray(data, dtype=np.float32))
        self.n = self.indptr.size - 1
        self.num_threads = max(1, int(num_threads))
        nnz = int(self.indptr[-1])
        pieces = 4 * self.num_threads if self.n > 4096 else 1
        cuts = np.searchsorted(self.indptr, np.linspace(0, nnz, pieces + 1)[1:-1])
        self.bounds = np.unique(np.concatenate([[0], cuts, [self.n]])).astype(np.int64)
        self._runner = ThreadRunner(self.num_threads, "vitegraph-spmm")

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.indices.nbytes + self.data.nbytes

    def apply(self, x, a=1.0, b=0.0, y=None, c=0.0, z=None, e=0.0, out=None):
        x = np.ascontiguousarray(x, dtype=np.float32)
        if out is None:
            out = np.empty_like(x)
        y = x if y is None else y
        z = x if z is None else z
        f = np.float32
        jobs = [(self.indptr, self.indices, self.data, x, out, f(a), f(b), y, f(c), z, f(e),
                 self.bounds[k], self.bounds[k + 1]) for k in range(self.bounds.size - 1)]
        self._runner.run(_spmm_rows, jobs)
        return out

    def close(self) -> None:
        self._runner.close()


def _csr(graph):
    """``(indptr, indices, weights or None)`` of a graph's stored edges (an
    undirected graph stores both directions)."""
    w = graph.weights
    return graph.indptr, graph.indices, (None if w is None else np.asarray(w, np.float32))


def _strength(indptr, weights) -> np.ndarray:
    if weights is None:
        return np.diff(indptr).astype(np.float64)
    return np.add.reduceat(weights.astype(np.float64), indptr[:-1]) * (np.diff(indptr) > 0)


# ---------------------------------------------------------------- factorisation

def proximity_matrix(graph, negative_exponent: float = 0.75):
    """ProNE's sparse matrix: ``ln p_ij - ln P_j`` on the stored edges, as a
    ``scipy.sparse.csr_matrix`` (float32).  ``p_ij = A_ij / D_i``;
    ``P_j`` proportional to ``(sum_i p_ij) ** negative_exponent``.  Edges of
    weight <= 0 give 0."""
    import scipy.sparse as sp
    indptr, indices, weights = _csr(graph)
    n = indptr.size - 1
    strength = _strength(indptr, weights)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    inv = np.divide(1.0, strength, out=np.zeros_like(strength), where=strength > 0)
    p = inv[rows] if weights is None else weights.astype(np.float64) * inv[rows]
    col = np.bincount(indices, weights=p, minlength=n) ** negative_exponent
    col /= col.sum()
    with np.errstate(divide="ignore"):
        vals = np.log(p) - np.log(col[indices])
    vals[~(p > 0)] = 0.0
    return sp.csr_matrix((vals.astype(np.float32), np.asarray(indices), np.asarray(indptr)),
                         shape=(n, n))


def orthogonalize(x: np.ndarray, num_threads: int = 1) -> np.ndarray:
    """ProNE's last step: ``U * sqrt(s)`` of the thin SVD ``x = U S V^T``,
    each row scaled to unit length (rows of zeros stay zero).  Computed from
    the ``d x d`` Gram matrix in float64 (``U sqrt(S) = x V / sqrt(S)``), one
    pass over ``x``."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    runner = ThreadRunner(num_threads, "vitegraph-dense")
    try:
        with _one_blas_thread():
            rows = _Rows(runner)
            out = _orthogonalized(x, rows)
    finally:
        runner.close()
    return _unit_rows(out)


def _orthogonalized(x: np.ndarray, rows: "_Rows") -> np.ndarray:
    g = rows.gram(x, exact=True)
    s2, v = _eigh(g)
    s2 = np.clip(s2[::-1], 0.0, None)
    v = v[:, ::-1]
    keep = s2 > s2[0] * 1e-12 if s2[0] > 0 else np.zeros_like(s2, dtype=bool)
    scale = np.zeros_like(s2)
    scale[keep] = s2[keep] ** -0.25           # 1 / sqrt(s), s = sqrt(s2)
    return rows.times(x, v * scale)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64)).astype(np.float32)
    np.divide(x, norms[:, None], out=x, where=norms[:, None] > 0)
    return x


def _orthonormal(y: np.ndarray, rows: "_Rows") -> np.ndarray:
    """An orthonormal basis of the column space of tall ``y``, as its columns
    (fewer than ``y``'s when ``y`` is rank-deficient), by the eigenvectors of
    the Gram matrix, twice (the second pass restores the orthogonality the
    float32 Gram matrix loses): two matrix products per pass, several times
    faster than a Householder QR of an ``n x k`` block (1M x 138: 0.5 s
    against 20 s on 2 cores)."""
    q = np.ascontiguousarray(y, dtype=np.float32)
    for _ in range(2):
        lam, v = _eigh(rows.gram(q))
        keep = lam > max(lam[-1], 0.0) * 1e-6 if lam.size else lam > 0
        if not keep.any():
            return q[:, :0]
        q = rows.times(q, v[:, keep] / np.sqrt(lam[keep]))
    return q


def randomized_svd(op: SparseOperator, op_t: SparseOperator, rank: int, *, n_iter: int = 5,
                   oversamples: int = 10, seed: int = 0):
    """``(U, s)``: the ``rank`` leading left singular vectors and values of
    the matrix ``op`` applies (``op_t``: its transpose), by the randomised
    range finder of Halko, Martinsson and Tropp (2011, algorithm 4.4: a
    Gaussian sketch of ``rank + oversamples`` columns, ``n_iter`` power
    iterations, each side re-orthonormalised) and an exact SVD of the small
    projected matrix.  The same algorithm as scikit-learn's
    ``randomized_svd`` (its singular values agree to float32 precision, a
    test checks), here with the products on threads and without importing
    scikit-learn (0.8 s of a 2 s run)."""
    n = op.n
    k = min(n, rank + oversamples)
    rng = np.random.default_rng(seed)
    omega = rng.standard_normal((op_t.n, k), dtype=np.float32)
    rows = _Rows(op._runner)
    with _one_blas_thread():
        q = _orthonormal(op.apply(omega), rows)
        for _ in range(n_iter):
            q = _orthonormal(op_t.apply(q), rows)
            q = _orthonormal(op.apply(q), rows)
        b_t = op_t.apply(q)                          # (q^T M)^T: n x k
        # the SVD of B = q^T M through its k x k Gram matrix
        s2, w = _eigh(rows.gram(b_t))
        order = np.argsort(s2)[::-1][:rank]
        s = np.zeros(rank)
        s[:order.size] = np.sqrt(np.clip(s2[order], 0.0, None))
        u = np.zeros((n, rank), dtype=np.float32)
        u[:, :order.size] = rows.times(q, w[:, order])
    return u, s


def factorize(matrix, dim: int, *, seed: int = 0, n_iter: int = 5, oversamples: int = 10,
              num_threads: int = 1) -> np.ndarray:
    """Rows of ``U * sqrt(s)`` of a rank-``dim`` randomised SVD of ``matrix``
    (a square ``scipy.sparse`` matrix; :func:`randomized_svd`), scaled to unit
    length; float32 ``n x dim``.  ``dim`` above the matrix's size is an error."""
    n = matrix.shape[0]
    if dim > n:
        raise ParameterError("factorize", "dim", f"at most the number of nodes ({n})", dim)
    m = matrix.tocsr()
    mt = m.T.tocsr()
    op = SparseOperator(m.indptr, m.indices, m.data, num_threads)
    op_t = SparseOperator(mt.indptr, mt.indices, mt.data, num_threads)
    try:
        u, s = randomized_svd(op, op_t, dim, n_iter=n_iter, oversamples=oversamples,
                              seed=seed)
    finally:
        op.close()
        op_t.close()
    u *= np.sqrt(s).astype(np.float32)
    return _unit_rows(u)


# ---------------------------------------------------------------- propagation

def _bessel(steps: int, theta: float) -> np.ndarray:
    from scipy.special import iv
    return iv(np.arange(steps), theta)


def spectral_filter(op: SparseOperator, x: np.ndarray, *, steps: int, theta: float,
                    mu: float) -> np.ndarray:
    """``g(L) x`` for ``L = I - op`` (``op``: the random-walk matrix of the
    graph with self loops) by a ``steps``-term Chebyshev expansion of
    ``g(lambda) = exp(-theta ((lambda - mu)^2 / 2 - 1))`` (see the module
    docstring)."""
    bessel = _bessel(steps, theta)
    shift = 1.0 - mu                     # M x = (L - mu I) x = (1 - mu) x - op x

    def y_apply(t, minus=None, minus2=None):
        # 2 Y t = M (M t) - 2 t, fused with the recurrence's subtractions
        mt = op.apply(t, a=-1.0, b=shift)
        if minus is None:                 # T_1 = Y T_0 = M(M t) / 2 - t
            u = op.apply(mt, a=-1.0, b=shift)
            u *= np.float32(0.5)
            u -= t
            return u
        # T_{k+1} = 2 Y T_k - T_{k-1} = M(M T_k) - 2 T_k - T_{k-1}
        return op.apply(mt, a=-1.0, b=shift, y=minus, c=-2.0, z=minus2, e=-1.0)

    t0 = np.ascontiguousarray(x, dtype=np.float32)
    out = np.float32(bessel[0]) * t0
    if steps == 1:
        return out
    t1 = y_apply(t0)
    out -= np.float32(2 * bessel[1]) * t1
    for k in range(2, steps):
        t2 = y_apply(t1, minus=t1, minus2=t0)
        sign = 1.0 if k % 2 == 0 else -1.0
        out += np.float32(2 * sign * bessel[k]) * t2
        t0, t1 = t1, t2
    return out


def propagation_operators(graph, num_threads: int = 1):
    """``(walk, adjacency)`` operators of ``A + I``: ``D^-1 (A + I)`` (rows of
    the self-looped graph normalised) and ``A + I`` itself."""
    indptr, indices, weights = _csr(graph)
    n = indptr.size - 1
    lengths = np.diff(indptr)
    new_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=new_indptr[1:])
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    pos = np.arange(indices.size, dtype=np.int64) + rows + 1     # after each row's self loop
    new_indices = np.empty(new_indptr[-1], dtype=np.int32)
    new_indices[new_indptr[:-1]] = np.arange(n, dtype=np.int32)
    new_indices[pos] = indices
    w = np.ones(new_indices.size, dtype=np.float32)
    if weights is not None:
        w[pos] = weights
    strength = np.add.reduceat(w.astype(np.float64), new_indptr[:-1])
    walk_w = (w / strength[np.repeat(np.arange(n), lengths + 1)]).astype(np.float32)
    walk = SparseOperator(new_indptr, new_indices, walk_w, num_threads)
    adj = SparseOperator(new_indptr, new_indices, None if weights is None else w, num_threads)
    return walk, adj


def propagate_matrix(graph, x: np.ndarray, *, steps: int = 10, theta: float = 0.5,
                     mu: float = 0.2, orthogonal: bool = True,
                     num_threads: int = 1) -> np.ndarray:
    """ProNE's spectral propagation of ``x`` (``n x d``, row i = node i):
    ``(A + I) (x - g(L) x)``, then :func:`orthogonalize` (``orthogonal``).
    ``steps`` 1 returns ``x`` unchanged (ProNE's convention)."""
    owner = "propagate"
    steps = check_int(owner, "steps", steps, minimum=1)
    theta = check_float(owner, "theta", theta, minimum=0, exclusive_minimum=True)
    mu = check_float(owner, "mu", mu)
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] != graph.num_nodes:
        raise ParameterError(owner, "embeddings", f"a matrix of {graph.num_nodes} rows (the "
                             "graph's nodes)", getattr(x, "shape", type(x).__name__))
    if steps == 1:
        return np.array(x, dtype=np.float32)
    t0 = time.perf_counter()
    walk, adj = propagation_operators(graph, num_threads)
    try:
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        filtered = spectral_filter(walk, x32, steps=steps, theta=theta, mu=mu)
        np.subtract(x32, filtered, out=filtered)
        out = adj.apply(filtered)
    finally:
        walk.close()
        adj.close()
    log.info("spectral propagation: %d steps, theta %g, mu %g on %d x %d in %.2f s",
             steps, theta, mu, x.shape[0], x.shape[1], time.perf_counter() - t0)
    return orthogonalize(out, num_threads) if orthogonal else out


def propagate(embeddings, graph, *, steps: int = 10, theta: float = 0.5, mu: float = 0.2,
              orthogonal: bool = True, with_context: bool = True,
              num_threads: Optional[int] = None):
    """ProNE's spectral propagation of any embedding of ``graph``'s nodes.

    ``embeddings``: an :class:`~vitegraph.Embeddings` (rows matched to the
    graph's nodes by name; every node needs a row) or an array (row i = node
    id i).  ``graph``: anything :func:`vitegraph.as_graph` accepts.  Returns
    the same kind: an array, or an Embeddings holding the propagated primary
    table alone (a context table no longer pairs with it), the graph's node
    names and ``metadata["propagation"]``.  ``with_context``: an Embeddings
    with a context table of the same shape (DeepWalk, LINE, node2vec)
    propagates the sum of its vertex and context rows, as the ``propagate``
    training option does.  Parameters are ProNE's (see
    :mod:`vitegraph.spectral`); ``num_threads`` defaults to the CPU count.
    """
    from .embeddings import Embeddings
    from .graph.convert import as_graph
    graph = as_graph(graph)
    threads = cpu_count() if num_threads is None else check_int(
        "propagate", "num_threads", num_threads, minimum=1)
    params = dict(steps=steps, theta=theta, mu=mu, orthogonal=orthogonal)
    if not isinstance(embeddings, Embeddings):
        return propagate_matrix(graph, embeddings, num_threads=threads, **params)
    rows = embeddings.rows_for(graph.vocabulary)
    missing = np.flatnonzero(rows < 0)
    if missing.size:
        name = graph.vocabulary.names[missing[0]]
        raise ParameterError("propagate", "embeddings", "a row for every node of the graph",
                             f"none for {missing.size:,} nodes (node {name!r} first); embed "
                             "new nodes with vitegraph.embed_new_nodes")
    x = embeddings.vectors
    context = embeddings.context if embeddings.primary == "vertex" else None
    summed = bool(with_context and context is not None and context is not x
                  and context.shape == x.shape)
    if summed:
        c_rows = embeddings.rows_for(graph.vocabulary, "context")
        if not (c_rows >= 0).all():
            summed = False
    x = x if np.array_equal(rows, np.arange(x.shape[0])) else x[rows]
    if summed:
        x = x + (context if np.array_equal(c_rows, np.arange(context.shape[0]))
                 else context[c_rows])
    out = propagate_matrix(graph, x, num_threads=threads, **params)
    meta = dict(embeddings.metadata, propagation=dict(params, with_context=summed))
    return Embeddings(out, graph.vocabulary, primary=embeddings.primary, metadata=meta)
