"""Link prediction: hold out edges, sample non-edges, score pairs by embeddings.

The protocol (DESIGN.md section 5): :func:`split_edges` holds out a fraction of
the edges of an undirected graph while every node that had an edge keeps one;
the embeddings are trained on the training edges; :func:`sample_non_edges`
draws as many node pairs that are not edges of the full graph; and
:func:`link_prediction` scores both sets with ``vertex[u] . context[v]`` and
reports ROC AUC, plus the mean reciprocal rank of each held-out edge among
corrupted tails.

Edges are ``(m, 2)`` int arrays of node ids, each undirected edge given once (in
either orientation), no self-loops.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import minimum_spanning_tree
from sklearn.metrics import roc_auc_score

from ..errors import GraphError, ParameterError
from . import protocols
from ._checks import (as_embedding_matrix, as_node_pairs, check_bool, check_int, check_real,
                      check_seed)

__all__ = ["LinkPredictionResult", "split_edges", "sample_non_edges", "link_prediction"]

# pairs scored per chunk in the MRR ranking: bounds the [chunk, K, dim] gather
_GATHER_BUDGET = 1 << 22
# enumerate every candidate pair instead of rejection sampling up to this many
_ENUMERATE_LIMIT = 1 << 22
# candidate pairs drawn per rejection round at most
_MAX_BATCH = 1 << 24
# largest num_nodes ** 2 for which an edge set is a packed bit array (32 MiB)
_BITSET_LIMIT = 1 << 28


@dataclass(frozen=True)
class LinkPredictionResult:
    """ROC AUC and MRR (fractions in [0, 1]) of a link prediction run.

    ``mrr`` is ``None`` when ``num_mrr_negatives`` was 0.
    """

    auc: float
    mrr: Optional[float]
    num_positive: int
    num_negative: int
    num_mrr_negatives: int
    symmetric: bool
    filtered_mrr: bool

    def to_dict(self) -> dict:
        """Plain dict of floats, ints and bools, ready for ``json.dump``."""
        return asdict(self)

    def format_table(self) -> str:
        """Two lines of text for printing."""
        mrr = "n/a" if self.mrr is None else f"{self.mrr:.4f}"
        return (f"link prediction: {self.num_positive} positive / {self.num_negative} "
                f"negative pairs, {'symmetric' if self.symmetric else 'one-way'} scores\n"
                f"AUC {self.auc:.4f}   MRR {mrr} (vs {self.num_mrr_negatives} "
                f"{'filtered ' if self.filtered_mrr else ''}corrupted tails)")


def _edge_keys(lo: np.ndarray, hi: np.ndarray, num_nodes: int) -> np.ndarray:
    return lo * np.int64(num_nodes) + hi


def _canonical_keys(edges: np.ndarray, num_nodes: int) -> np.ndarray:
    return _edge_keys(edges.min(axis=1), edges.max(axis=1), num_nodes)


class _EdgeSet:
    """Vectorised membership of undirected pairs in a fixed edge set.

    A packed bit per possible pair while ``num_nodes ** 2`` bits stay small
    (BlogCatalog: 13 MB), else binary search in the sorted canonical keys.
    """

    def __init__(self, edges: np.ndarray, num_nodes: int):
        self.num_nodes = num_nodes
        keys = _canonical_keys(edges, num_nodes)
        if num_nodes * num_nodes <= _BITSET_LIMIT:
            self.bits = np.zeros((num_nodes * num_nodes + 7) // 8, dtype=np.uint8)
            np.bitwise_or.at(self.bits, keys >> 3, (1 << (keys & 7)).astype(np.uint8))
            self.keys = None
        else:
            self.bits = None
            self.keys = np.unique(keys)

    def contains(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        keys = _edge_keys(np.minimum(u, v), np.maximum(u, v), self.num_nodes)
        if self.bits is not None:
            return ((self.bits[keys >> 3] >> (keys & 7).astype(np.uint8)) & 1).astype(bool)
        if self.keys.size == 0:
            return np.zeros(keys.shape, dtype=bool)
        pos = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        return self.keys[pos] == keys


def _as_undirected_edges(edges, num_nodes: int, owner: str) -> np.ndarray:
    """Validated ``(m, 2)`` int64 edges: ids in range, no self-loops, no repeats."""
    e = as_node_pairs(edges, num_nodes, owner, "edges", allow_empty=True)
    loops = np.flatnonzero(e[:, 0] == e[:, 1])
    if loops.size:
        u = int(e[loops[0], 0])
        raise GraphError(f"{owner}: edges has {loops.size} self-loop(s), the first "
                         f"({u}, {u}) in row {int(loops[0])}; drop them first")
    keys = _canonical_keys(e, num_nodes)
    uniq, counts = np.unique(keys, return_counts=True)
    if uniq.size != keys.size:
        dup_key = uniq[counts > 1][0]
        rows = np.flatnonzero(keys == dup_key)[:2]
        raise GraphError(f"{owner}: edges lists the undirected edge "
                         f"({int(e[rows[0], 0])}, {int(e[rows[0], 1])}) more than once "
                         f"(rows {int(rows[0])} and {int(rows[1])}); give each undirected "
                         f"edge once")
    return e


def split_edges(edges, num_nodes: int, test_fraction: float = protocols.TEST_FRACTION,
                seed: int = 0,
                keep_nodes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Split the edges of an undirected graph into training and held-out test edges.

    ``round(test_fraction * m)`` edges are held out.  With ``keep_nodes`` a
    random spanning forest (the minimum spanning forest under random distinct
    weights) stays in training and the test edges are drawn uniformly from the
    other edges, so every node that had an edge keeps one, and every connected
    component stays connected.  Without it the test edges are drawn uniformly
    from all edges.

    Returns ``(train, test)``: int64 arrays whose rows are the input rows (same
    orientation, input order), together exactly the input edges.  Deterministic
    given ``seed``.

    Raises :class:`GraphError` on self-loops, an edge listed twice (also as
    ``(v, u)``), or when fewer than the requested number of edges lie outside
    the spanning forest (a graph with about as many edges as nodes).
    """
    owner = "split_edges"
    num_nodes = check_int(owner, "num_nodes", num_nodes, minimum=1)
    test_fraction = check_real(owner, "test_fraction", test_fraction, low=0.0, high=1.0,
                               expected="a float in (0, 1)")
    seed = check_seed(owner, seed)
    keep_nodes = check_bool(owner, "keep_nodes", keep_nodes)
    e = _as_undirected_edges(edges, num_nodes, owner)
    m = e.shape[0]
    n_test = int(round(test_fraction * m))
    if n_test == 0:
        raise GraphError(f"{owner}: test_fraction={test_fraction} of {m} edges holds out "
                         f"no edge")
    rng = np.random.default_rng(seed)
    if keep_nodes:
        weights = (rng.permutation(m) + 1).astype(np.float64)  # distinct, nonzero
        graph = sp.csr_matrix((weights, (e.min(axis=1), e.max(axis=1))),
                              shape=(num_nodes, num_nodes))
        forest = minimum_spanning_tree(graph)
        in_forest = np.zeros(m, dtype=bool)
        # weights[i] == rank + 1 is unique, so a forest weight names its edge
        rank_to_edge = np.empty(m, dtype=np.int64)
        rank_to_edge[weights.astype(np.int64) - 1] = np.arange(m)
        in_forest[rank_to_edge[np.rint(forest.data).astype(np.int64) - 1]] = True
        candidates = np.flatnonzero(~in_forest)
        if candidates.size < n_test:
            raise GraphError(
                f"{owner}: cannot hold out {n_test} of {m} edges with keep_nodes=True: "
                f"a spanning forest needs {m - candidates.size} of them, which leaves "
                f"{candidates.size}; lower test_fraction or pass keep_nodes=False")
        test_idx = rng.choice(candidates, size=n_test, replace=False)
    else:
        test_idx = rng.choice(m, size=n_test, replace=False)
    is_test = np.zeros(m, dtype=bool)
    is_test[test_idx] = True
    return e[~is_test], e[is_test]


def sample_non_edges(edges, num_nodes: int, num_samples: int, seed: int = 0, *,
                     exclude_isolated: bool = True) -> np.ndarray:
    """Draw ``num_samples`` distinct node pairs that are not edges of ``edges``.

    ``edges`` is the *full* graph (training plus test edges).  Pairs are never
    self-loops and are returned as ``(u, v)`` with ``u < v``, in the order drawn.
    With ``exclude_isolated`` (default) both ends are drawn from the nodes that
    have at least one edge: a node without edges has an untrained embedding and
    would make an easy negative.  Otherwise from all ``num_nodes`` nodes.

    Uniform over the allowed pairs: vectorised rejection sampling in batches, or,
    when the candidate pairs are few (or mostly edges), choice among all of them.
    Deterministic given ``seed``.  Raises :class:`GraphError` when fewer than
    ``num_samples`` non-edges exist.
    """
    owner = "sample_non_edges"
    num_nodes = check_int(owner, "num_nodes", num_nodes, minimum=1)
    num_samples = check_int(owner, "num_samples", num_samples, minimum=0)
    seed = check_seed(owner, seed)
    exclude_isolated = check_bool(owner, "exclude_isolated", exclude_isolated)
    e = _as_undirected_edges(edges, num_nodes, owner)
    known = _EdgeSet(e, num_nodes)
    if exclude_isolated:
        pool = np.flatnonzero(np.bincount(e.ravel(), minlength=num_nodes) > 0)
    else:
        pool = np.arange(num_nodes, dtype=np.int64)
    p = pool.size
    total = p * (p - 1) // 2
    available = total - e.shape[0]  # every edge joins two pool nodes
    if num_samples > available:
        raise GraphError(f"{owner}: asked for {num_samples} non-edges, but the "
                         f"{p} candidate nodes have only {available}")
    rng = np.random.default_rng(seed)
    if num_samples == 0:
        return np.empty((0, 2), dtype=np.int64)
    acceptance = available / total
    if total <= _ENUMERATE_LIMIT and (acceptance < 0.5 or num_samples > available // 2):
        iu, iv = np.triu_indices(p, k=1)
        iu, iv = pool[iu], pool[iv]
        free = ~known.contains(iu, iv)
        keys = rng.choice(_edge_keys(iu[free], iv[free], num_nodes), size=num_samples,
                          replace=False)
    else:
        keys = np.empty(0, dtype=np.int64)
        while keys.size < num_samples:
            need = num_samples - keys.size
            batch = min(int(math.ceil(1.2 * need / acceptance)) + 64, _MAX_BATCH)
            a = pool[rng.integers(0, p, size=batch)]
            b = pool[rng.integers(0, p, size=batch)]
            ok = (a != b) & ~known.contains(a, b)
            a, b = a[ok], b[ok]
            new = _edge_keys(np.minimum(a, b), np.maximum(a, b), num_nodes)
            keys = np.concatenate([keys, new])
            _, first = np.unique(keys, return_index=True)
            keys = keys[np.sort(first)]  # drop repeats, keep the draw order
        keys = keys[:num_samples]
    return np.stack([keys // num_nodes, keys % num_nodes], axis=1)


def _corrupt_tails(pos: np.ndarray, num_nodes: int, k: int, known: Optional[_EdgeSet],
                   rng: np.random.Generator, max_rounds: int = 100) -> np.ndarray:
    """``[P, k]`` random tails w for each positive (u, v): w not in {u, v}, and with
    ``known`` (u, w) not a known edge.  Each round redraws only the rejected
    entries."""
    heads = np.repeat(pos[:, 0], k)
    trues = np.repeat(pos[:, 1], k)
    tails = rng.integers(0, num_nodes, size=heads.size)
    redo = np.arange(heads.size)
    for _ in range(max_rounds):
        u, w = heads[redo], tails[redo]
        bad = (w == u) | (w == trues[redo])
        if known is not None:
            bad |= known.contains(u, w)
        redo = redo[bad]
        if redo.size == 0:
            return tails.reshape(pos.shape[0], k)
        tails[redo] = rng.integers(0, num_nodes, size=redo.size)
    row = int(redo[0] // k)
    raise GraphError(f"link_prediction: could not draw {k} corrupted tails for the pair "
                     f"({int(pos[row, 0])}, {int(pos[row, 1])}): its head is adjacent to "
                     f"(almost) every node")


def _pair_scores(vertex: np.ndarray, context: np.ndarray, heads: np.ndarray,
                 tails: np.ndarray, symmetric: bool) -> np.ndarray:
    """Scores of heads[i] against tails[i, j] (tails may be 1-D or 2-D), in chunks
    that bound the gathered rows."""
    width = 1 if tails.ndim == 1 else tails.shape[1]
    chunk = max(1, _GATHER_BUDGET // (width * vertex.shape[1]))
    if heads.size <= chunk:
        return _pair_scores_chunk(vertex, context, heads, tails, symmetric)
    return np.concatenate([
        _pair_scores_chunk(vertex, context, heads[lo:lo + chunk], tails[lo:lo + chunk],
                           symmetric) for lo in range(0, heads.size, chunk)])


def _pair_scores_chunk(vertex, context, heads, tails, symmetric):
    t = tails if tails.ndim == 2 else tails[:, None]
    s = np.einsum("pd,pkd->pk", vertex[heads], context[t])
    if symmetric:
        s = 0.5 * (s + np.einsum("pkd,pd->pk", vertex[t], context[heads]))
    return s if tails.ndim == 2 else s[:, 0]


def link_prediction(vertex, context, test_pos, test_neg, *, symmetric: bool = True,
                    num_mrr_negatives: int = 50, known_edges=None,
                    seed: int = 0) -> LinkPredictionResult:
    """Score held-out edges against non-edges; ROC AUC and MRR.

    A pair (u, v) scores ``vertex[u] . context[v]``; with ``symmetric`` (default)
    the mean of that and ``vertex[v] . context[u]``, which is the fair choice for
    an undirected graph whose training sampled both orientations, and makes the
    score independent of how a pair is written.  With ``symmetric=False`` the
    pair is scored in the orientation given (as GraphVite does for its
    directed test lists).  ``context=None`` uses ``vertex`` for both sides.

    AUC: ``sklearn.metrics.roc_auc_score`` of ``test_pos`` (label 1) against
    ``test_neg`` (label 0), for example from :func:`sample_non_edges`.

    MRR: each positive (u, v) is ranked among ``num_mrr_negatives`` tails
    (u, w) with w drawn uniformly from all nodes other than u and v, and with
    ``known_edges`` (the full graph) other than known neighbours of u (the
    filtered setting).  Rank = 1 + number of tails scoring at least as high (ties
    count against the model).  0 turns MRR off.
    """
    owner = "link_prediction"
    v_tab = as_embedding_matrix(vertex, owner, "vertex")
    if context is None:
        c_tab = v_tab
    else:
        c_tab = as_embedding_matrix(context, owner, "context")
        if c_tab.shape != v_tab.shape:
            raise ParameterError(owner, "context", f"an array of the vertex table's shape "
                                 f"{v_tab.shape}", f"shape {c_tab.shape}")
    num_nodes = v_tab.shape[0]
    pos = as_node_pairs(test_pos, num_nodes, owner, "test_pos")
    neg = as_node_pairs(test_neg, num_nodes, owner, "test_neg")
    symmetric = check_bool(owner, "symmetric", symmetric)
    k = check_int(owner, "num_mrr_negatives", num_mrr_negatives, minimum=0)
    seed = check_seed(owner, seed)
    known = None
    if known_edges is not None:
        ke = as_node_pairs(known_edges, num_nodes, owner, "known_edges", allow_empty=True)
        known = _EdgeSet(ke, num_nodes)

    s_pos = _pair_scores(v_tab, c_tab, pos[:, 0], pos[:, 1], symmetric)
    s_neg = _pair_scores(v_tab, c_tab, neg[:, 0], neg[:, 1], symmetric)
    labels = np.concatenate([np.ones(s_pos.size), np.zeros(s_neg.size)])
    auc = float(roc_auc_score(labels, np.concatenate([s_pos, s_neg])))

    mrr = None
    if k > 0:
        if num_nodes < 3:
            raise ParameterError(owner, "num_mrr_negatives",
                                 "0 on a graph of fewer than 3 nodes", k)
        rng = np.random.default_rng(seed)
        tails = _corrupt_tails(pos, num_nodes, k, known, rng)
        # the true tail goes in column 0 so that it is scored by the same code
        cand = np.concatenate([pos[:, 1:], tails], axis=1)
        s = _pair_scores(v_tab, c_tab, pos[:, 0], cand, symmetric)
        rank = 1 + np.count_nonzero(s[:, 1:] >= s[:, :1], axis=1)
        mrr = float(np.mean(1.0 / rank))
    return LinkPredictionResult(auc=auc, mrr=mrr, num_positive=int(pos.shape[0]),
                                num_negative=int(neg.shape[0]), num_mrr_negatives=k,
                                symmetric=symmetric, filtered_mrr=known is not None)
