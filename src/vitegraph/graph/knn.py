"""K-nearest-neighbour graphs of vectors, with LargeVis's perplexity weights.

The first stage of a LargeVis layout (:mod:`vitegraph.models.largevis`):

1. **scaling** (``scale``): ``"maxabs"`` centres each feature and divides it by
   its largest absolute value (GraphVite's default), ``"standard"`` centres and
   divides by the standard deviation, ``"none"`` keeps the input;
2. **neighbours** (:func:`knn`): ``"exact"`` blocked brute force (squared
   Euclidean through one matrix product per block of rows, or cosine), or
   ``"nndescent"`` (pynndescent's approximate search); ``"auto"`` is exact
   when ``n^2 d`` is at most 1e11 (MNIST's 10,000 x 784 is) and NN-descent
   above;
3. **weights** (:func:`perplexity_weights`): for each point, ``p_{j|i} ∝
   exp(-beta_i d_ij^2)`` over its K neighbours, ``beta_i`` found by bisection
   so that the entropy of ``p_{.|i}`` is ``log(perplexity)`` (t-SNE's and
   LargeVis's calibration);
4. **symmetrisation** (:func:`knn_graph`): ``w_ij = (p_{j|i} + p_{i|j}) / 2``
   over the union of both directions' edges.  This is both LargeVis's union of
   the two neighbour lists and GraphVite's average: an edge only one side
   lists keeps half its weight instead of being dropped (an intersection) or
   counted in full (a max), so mutual neighbours weigh most.

:func:`knn_recall` measures an approximate graph against exact neighbours on a
sample of points.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from numba import njit, prange

from ..errors import ParameterError

log = logging.getLogger("vitegraph")

SCALES = ("maxabs", "standard", "none")
METHODS = ("auto", "exact", "nndescent")
METRICS = ("euclidean", "cosine")
EXACT_LIMIT = 1e11          # n^2 d under which method="auto" is exact


def check_vectors(X, owner: str = "knn", name: str = "X") -> np.ndarray:
    """``X`` as a float32 [n, d] array, or a clear error (1-D input, NaN or
    infinite rows, too few points)."""
    try:
        a = np.asarray(X)
    except Exception as e:  # ragged lists and the like
        raise ParameterError(owner, name, "a 2-D array [points, features]",
                             f"{type(X).__name__} ({e})") from None
    if a.ndim != 2:
        raise ParameterError(owner, name, "a 2-D array [points, features] (one row per "
                             "point; reshape(-1, 1) for a single feature)",
                             f"an array of shape {a.shape}")
    if a.dtype.kind not in "biuf":
        raise ParameterError(owner, name, "numbers", f"dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float32)
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ParameterError(owner, name, "finite values", f"{rows.size} rows with NaN or "
                             f"infinity (first: row {rows[0]})")
    return a


def scale_vectors(X: np.ndarray, scale: str = "maxabs") -> np.ndarray:
    """``X`` scaled by the ``scale`` rule (see the module docstring)."""
    if scale not in SCALES:
        raise ParameterError("knn", "scale", f"one of {SCALES}", scale)
    if scale == "none":
        return X
    Y = X - X.mean(axis=0, dtype=np.float64).astype(np.float32)
    if scale == "maxabs":
        div = np.abs(Y).max(axis=0)
    else:
        div = Y.std(axis=0, dtype=np.float64).astype(np.float32)
    div[div == 0] = 1.0
    return np.ascontiguousarray(Y / div, dtype=np.float32)


def choose_method(n: int, d: int, method: str = "auto") -> str:
    if method not in METHODS:
        raise ParameterError("knn", "method", f"one of {METHODS}", method)
    if method != "auto":
        return method
    return "exact" if float(n) * n * d <= EXACT_LIMIT else "nndescent"


def _exact_block(X, sq, lo, hi, k, metric):
    """Neighbours of rows ``lo:hi`` among all rows (self excluded)."""
    Q = X[lo:hi]
    if metric == "cosine":
        d = 1.0 - Q @ X.T
    else:
        d = sq[lo:hi, None] + sq[None, :] - 2.0 * (Q @ X.T)
        np.maximum(d, 0.0, out=d)
    d[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
    part = np.argpartition(d, k - 1, axis=1)[:, :k]
    pd = np.take_along_axis(d, part, 1)
    order = np.argsort(pd, axis=1, kind="stable")
    return np.take_along_axis(part, order, 1), np.take_along_axis(pd, order, 1)


def _unit_rows(X):
    norm = np.linalg.norm(X, axis=1, keepdims=True)
    norm[norm == 0] = 1.0
    return np.ascontiguousarray(X / norm, dtype=np.float32)


def knn_exact(X: np.ndarray, k: int, metric: str = "euclidean", *, block: int = 1024,
              progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Exact neighbours: ``(indices int32 [n, k], distances float32 [n, k])``,
    nearest first; distances are Euclidean (or cosine distances)."""
    n = X.shape[0]
    if metric == "cosine":
        X = _unit_rows(X)
    sq = np.einsum("ij,ij->i", X, X)
    ind = np.empty((n, k), dtype=np.int32)
    dist = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        i, d = _exact_block(X, sq, lo, hi, k, metric)
        ind[lo:hi] = i
        dist[lo:hi] = np.sqrt(d) if metric == "euclidean" else d
        if progress is not None:
            progress.update(hi - lo)
    return ind, dist


def knn_nndescent(X: np.ndarray, k: int, metric: str = "euclidean", *, seed: int = 0,
                  threads: int = None, progress: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Approximate neighbours by NN-descent (pynndescent), self excluded;
    ``progress``: pynndescent's own progress lines (it has no bar)."""
    try:
        from pynndescent import NNDescent
    except ImportError:
        raise ParameterError("knn", "method", "'exact' (pynndescent is not installed: pip "
                             "install pynndescent)", "nndescent") from None
    index = NNDescent(X, n_neighbors=k + 1, metric=metric, random_state=seed,
                      n_jobs=threads or -1, low_memory=True, compressed=True,
                      verbose=bool(progress))
    ind, dist = index.neighbor_graph
    ind = np.asarray(ind)
    dist = np.asarray(dist, dtype=np.float32)
    # drop each row's own entry (or its farthest when the search missed itself)
    n = X.shape[0]
    own = ind == np.arange(n)[:, None]
    drop = np.where(own.any(1), own.argmax(1), k)
    keep = np.ones(ind.shape, dtype=bool)
    keep[np.arange(n), drop] = False
    return (ind[keep].reshape(n, k).astype(np.int32), dist[keep].reshape(n, k))


def knn(X, k: int, *, method: str = "auto", metric: str = "euclidean", seed: int = 0,
        progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours of every row of ``X`` (self excluded):
    ``(indices [n, k], distances [n, k])``, nearest first."""
    X = check_vectors(X)
    n, d = X.shape
    if metric not in METRICS:
        raise ParameterError("knn", "metric", f"one of {METRICS}", metric)
    k = int(k)
    if k < 1:
        raise ParameterError("knn", "n_neighbors", "at least 1", k)
    if k >= n:
        raise ParameterError("knn", "n_neighbors", f"fewer than the number of points ({n})",
                             k)
    how = choose_method(n, d, method)
    if how == "exact":
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=n, desc="knn (exact)", unit="pt", leave=False)
        try:
            return knn_exact(X, k, metric, progress=bar)
        finally:
            if bar is not None:
                bar.close()
    return knn_nndescent(X, k, metric, seed=seed, progress=progress)


def knn_recall(X, indices: np.ndarray, *, sample: int = 1000, metric: str = "euclidean",
               seed: int = 0) -> float:
    """Recall@K of ``indices`` against exact neighbours on ``sample`` random rows
    (ties at the K-th distance count as found)."""
    X = check_vectors(X)
    if metric == "cosine":
        X = _unit_rows(X)
    n, k = indices.shape
    rows = np.random.default_rng(seed).choice(n, min(sample, n), replace=False)
    sq = np.einsum("ij,ij->i", X, X)
    found = 0
    for lo in range(0, rows.size, 512):
        r = rows[lo:lo + 512]
        if metric == "cosine":
            d = 1.0 - X[r] @ X.T
        else:
            d = sq[r, None] + sq[None, :] - 2.0 * (X[r] @ X.T)
        d[np.arange(r.size), r] = np.inf
        kth = np.partition(d, k - 1, axis=1)[:, k - 1]
        mine = np.take_along_axis(d, indices[r].astype(np.int64), 1)
        found += int((mine <= kth[:, None] + 1e-5 * np.maximum(1.0, np.abs(kth[:, None])))
                     .sum())
    return found / (rows.size * k)


@njit(parallel=True, cache=True)
def _calibrate(d2, perplexity, out, iters):
    n, k = d2.shape
    target = math.log(perplexity)
    for i in prange(n):
        lo, hi = 0.0, np.inf
        beta = 1.0
        base = d2[i, 0]         # nearest first: shift for stability
        for _ in range(iters):
            s = 0.0
            sd = 0.0
            for j in range(k):
                e = math.exp(-beta * (d2[i, j] - base))
                s += e
                sd += e * (d2[i, j] - base)
            # entropy of p_j = e_j / s: log s + beta * E[d2 - base]
            h = math.log(s) + beta * sd / s
            if abs(h - target) < 1e-5:
                break
            if h > target:      # too flat: sharpen
                lo = beta
                beta = beta * 2.0 if hi == np.inf else (beta + hi) / 2.0
            else:
                hi = beta
                beta = (beta + lo) / 2.0
        s = 0.0
        for j in range(k):
            e = math.exp(-beta * (d2[i, j] - base))
            out[i, j] = e
            s += e
        for j in range(k):
            out[i, j] /= s


def perplexity_weights(distances: np.ndarray, perplexity: float, iters: int = 100
                       ) -> np.ndarray:
    """``p_{j|i}`` [n, k] (rows sum to 1) from neighbour ``distances`` (nearest
    first), each row's bandwidth calibrated to ``perplexity`` (at most k)."""
    k = distances.shape[1]
    if not (0 < perplexity <= k):
        raise ParameterError("knn", "perplexity", f"in (0, n_neighbors = {k}]", perplexity)
    d2 = np.ascontiguousarray(distances, dtype=np.float64) ** 2
    out = np.empty(d2.shape, dtype=np.float64)
    _calibrate(d2, float(perplexity), out, int(iters))
    return out.astype(np.float32)


def knn_graph(X, *, n_neighbors: int = 200, perplexity: float = 20.0,
              method: str = "auto", metric: str = "euclidean", scale: str = "maxabs",
              seed: int = 0, recall_sample: int = 1000, progress: bool = False):
    """The weighted, undirected KNN graph of ``X`` as a :class:`~vitegraph.Graph`
    (nodes are row ids), and a dict of what it took (seconds per stage, the
    method, and for an approximate search its recall@K against exact
    neighbours on ``recall_sample`` random points: a few seconds at 10^6
    points)."""
    import scipy.sparse as sp
    from .io import from_scipy
    X = check_vectors(X)
    n, d = X.shape
    stats = {"points": n, "features": d, "n_neighbors": int(n_neighbors)}
    t0 = time.perf_counter()
    Xs = scale_vectors(X, scale)
    stats["method"] = choose_method(n, d, method)
    ind, dist = knn(Xs, n_neighbors, method=stats["method"], metric=metric, seed=seed,
                    progress=progress)
    stats["knn_s"] = time.perf_counter() - t0
    if recall_sample and stats["method"] != "exact":
        t0 = time.perf_counter()
        stats["recall"] = knn_recall(Xs, ind, sample=recall_sample, metric=metric, seed=seed)
        stats["recall_s"] = time.perf_counter() - t0
        log.info("knn recall@%d on %d points: %.4f", n_neighbors, recall_sample,
                 stats["recall"])
    t0 = time.perf_counter()
    P = perplexity_weights(dist, min(float(perplexity), float(n_neighbors)))
    rows = np.repeat(np.arange(n, dtype=np.int64), ind.shape[1])
    M = sp.csr_matrix((P.ravel(), (rows, ind.ravel().astype(np.int64))), shape=(n, n))
    W = (M + M.T) * 0.5
    graph = from_scipy(W, directed=False)
    stats["weights_s"] = time.perf_counter() - t0
    log.info("knn graph: %d points, K=%d (%s), %d edges in %.1f s", n, n_neighbors,
             stats["method"], graph.num_edges, stats["knn_s"] + stats["weights_s"])
    return graph, stats
