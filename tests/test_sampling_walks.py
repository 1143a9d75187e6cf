"""Walk steps and walk corpora: first-order and node2vec transition laws."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from vitegraph.errors import GraphError, ParameterError
from vitegraph.sampling import (default_augmentation_step, prepare_walk_graph, random_walks,
                                step_counts)
from vitegraph.sampling.walks import hub_bitmaps


def chi2_p(counts, law):
    """Chi-square goodness-of-fit p-value of ``counts`` against the law ``law``."""
    counts = np.asarray(counts, dtype=float)
    law = np.asarray(law, dtype=float)
    return stats.chisquare(counts, law / law.sum() * counts.sum()).pvalue


def csr(edges, n, weights=None, symmetric=True):
    """CSR arrays (sorted rows) of an edge list."""
    e = np.asarray(edges)
    w = np.ones(len(e)) if weights is None else np.asarray(weights, dtype=float)
    if symmetric:
        e = np.vstack([e, e[:, ::-1]])
        w = np.concatenate([w, w])
    m = sp.csr_matrix((w, (e[:, 0], e[:, 1])), shape=(n, n))
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float32)


# A small hand-made graph: 0-1-2-3 square with diagonal 1-3, tail 3-4, 4-5,
# and 2-5.  Node 1's neighbours: 0, 2, 3.
HAND = [(0, 1), (1, 2), (2, 3), (3, 0), (1, 3), (3, 4), (4, 5), (2, 5)]
HAND_W = [1.0, 2.0, 0.5, 1.5, 3.0, 1.0, 2.5, 4.0]


def node2vec_law(indptr, indices, w, t, v, p, q):
    """Exact node2vec transition probabilities from v having come from t."""
    nbrs = indices[indptr[v]:indptr[v + 1]]
    wt = w[indptr[v]:indptr[v + 1]].astype(float)
    t_nbrs = set(indices[indptr[t]:indptr[t + 1]].tolist())
    alpha = np.array([1 / p if x == t else (1.0 if x in t_nbrs else 1 / q) for x in nbrs])
    law = alpha * wt
    return nbrs, law / law.sum()


def test_default_augmentation_step():
    assert default_augmentation_step(333_983, 10_312, 40) == 2        # BlogCatalog
    assert default_augmentation_step(4_945_382, 1_138_499, 40) == 5   # YouTube
    assert default_augmentation_step(40 * 1000, 1000, 40) == 2        # 40**2 == 1600 exactly
    assert default_augmentation_step(10**9, 10, 40) == 1
    assert default_augmentation_step(5, 10, 40) == 40
    assert default_augmentation_step(5, 10, walk_length=7) == 7
    with pytest.raises(ParameterError):
        default_augmentation_step(0, 10, 40)


def test_csr_validation_names_the_rule():
    indptr, indices, w = csr(HAND, 6)
    with pytest.raises(GraphError, match="indptr"):
        prepare_walk_graph(indptr[:-1], indices)
    bad = indices.copy()
    bad[0] = 99
    with pytest.raises(GraphError, match="indices must lie"):
        prepare_walk_graph(indptr, bad)
    with pytest.raises(GraphError, match="positive"):
        prepare_walk_graph(indptr, indices, np.zeros_like(w))
    with pytest.raises(GraphError, match="one entry per stored edge"):
        prepare_walk_graph(indptr, indices, w[:-1])
    unsorted = indices.copy()
    unsorted[[0, 1]] = unsorted[[1, 0]]
    prepare_walk_graph(indptr, unsorted)  # fine for first-order walks
    with pytest.raises(GraphError, match="row 0 is not sorted"):
        prepare_walk_graph(indptr, unsorted, sorted_rows=True)
    with pytest.raises(ParameterError):
        random_walks(indptr, indices, walk_length=4, p=0)


def test_equal_weights_build_no_tables():
    indptr, indices, w = csr(HAND, 6)
    g = prepare_walk_graph(indptr, indices, w)  # all ones: unweighted
    assert not g.weighted and g.row_prob.size == 0
    g = prepare_walk_graph(indptr, indices, None)
    assert not g.weighted and g.nbytes == 8 * 6
    g = prepare_walk_graph(*csr(HAND, 6, HAND_W))
    assert g.weighted and g.row_prob.size == indices.size


def test_weighted_step_chi_square():
    indptr, indices, w = csr(HAND, 6, HAND_W)
    g = prepare_walk_graph(indptr, indices, w)
    n = 300_000
    for v in range(6):
        counts = step_counts(g, 0, v, n, seed=v)
        nbrs = indices[indptr[v]:indptr[v + 1]]
        law = w[indptr[v]:indptr[v + 1]] / w[indptr[v]:indptr[v + 1]].sum()
        assert counts.sum() == counts[nbrs].sum() == n
        assert chi2_p(counts[nbrs], law) > 1e-3


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("p,q", [(1.0, 1.0), (4.0, 2.0), (0.25, 4.0), (2.0, 0.5), (0.5, 0.5)])
def test_node2vec_transition_chi_square(weighted, p, q):
    indptr, indices, w = csr(HAND, 6, HAND_W if weighted else None)
    g = prepare_walk_graph(indptr, indices, w if weighted else None, sorted_rows=True)
    wl = w if weighted else np.ones_like(w)
    n = 200_000
    # (t, v) cases cover: return, common neighbour, distance-2 neighbour
    for t, v in [(0, 1), (3, 1), (1, 3), (5, 2), (4, 3)]:
        counts = step_counts(g, t, v, n, p=p, q=q, second_order=True, seed=17 * t + v)
        nbrs, law = node2vec_law(indptr, indices, wl, t, v, p, q)
        assert counts.sum() == counts[nbrs].sum() == n
        assert chi2_p(counts[nbrs], law) > 1e-3, (t, v)


def test_node2vec_with_p_q_one_matches_uniform_walk():
    indptr, indices, _ = csr(HAND, 6)
    g = prepare_walk_graph(indptr, indices, sorted_rows=True)
    n = 200_000
    for t, v in [(0, 1), (4, 3), (1, 2)]:
        a = step_counts(g, t, v, n, second_order=True, seed=1)
        b = step_counts(g, t, v, n, second_order=False, seed=2)
        nbrs = indices[indptr[v]:indptr[v + 1]]
        # each matches the uniform law, and the two samples agree with each other
        for c in (a, b):
            assert chi2_p(c[nbrs], np.ones(nbrs.size)) > 1e-3
        assert stats.chi2_contingency(np.vstack([a[nbrs], b[nbrs]])).pvalue > 1e-3


@pytest.mark.parametrize("p,q", [(1.0, 1.0), (4.0, 2.0)])
def test_random_walks_follow_edges(p, q):
    indptr, indices, w = csr(HAND, 6, HAND_W)
    walks = random_walks(indptr, indices, w, walk_length=12, p=p, q=q, seed=5, num_threads=2)
    assert walks.shape == (6, 13) and walks.dtype == np.int32
    np.testing.assert_array_equal(walks[:, 0], np.arange(6))
    adj = sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(6, 6)).toarray() > 0
    assert adj[walks[:, :-1], walks[:, 1:]].all()
    again = random_walks(indptr, indices, w, walk_length=12, p=p, q=q, seed=5, num_threads=2)
    np.testing.assert_array_equal(walks, again)


def test_random_walks_stop_at_dead_ends():
    # directed chain 0 -> 1 -> 2, node 3 isolated
    indptr = np.array([0, 1, 2, 2, 2], dtype=np.int64)
    indices = np.array([1, 2], dtype=np.int32)
    walks = random_walks(indptr, indices, starts=[0, 1, 2, 3, 0], walk_length=4, p=2.0)
    np.testing.assert_array_equal(walks, [[0, 1, 2, -1, -1], [1, 2, -1, -1, -1],
                                          [2, -1, -1, -1, -1], [3, -1, -1, -1, -1],
                                          [0, 1, 2, -1, -1]])


def test_random_walk_visits_follow_stationary_law():
    # on a connected non-bipartite undirected graph, long-run visits are
    # proportional to weighted degree
    indptr, indices, w = csr(HAND, 6, HAND_W)
    walks = random_walks(indptr, indices, w, starts=np.zeros(2000, np.int64),
                         walk_length=200, seed=9)
    visits = np.bincount(walks[:, 50:].ravel(), minlength=6)
    strength = np.bincount(np.repeat(np.arange(6), np.diff(indptr)), weights=w, minlength=6)
    law = strength / strength.sum()
    # visits within a walk are correlated: compare loosely
    np.testing.assert_allclose(visits / visits.sum(), law, atol=0.01)


@pytest.mark.parametrize("hubs", [None, 0, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("p,q", [(4.0, 2.0), (0.25, 4.0)])
def test_walk_engine_node2vec_law(weighted, p, q, hubs):
    """The pipelined engine (not only the reference step) follows the law:
    walks t -> v -> x, conditioned on v, give x with the node2vec probabilities.
    ``hubs``: adjacency by bitmaps for all nodes (None: V/32 < 1), by binary
    search only (0), or mixed (degree >= 3 gets a bitmap)."""
    indptr, indices, w = csr(HAND, 6, HAND_W if weighted else None)
    wl = w if weighted else np.ones_like(w)
    g = prepare_walk_graph(indptr, indices, w if weighted else None, sorted_rows=True,
                           hub_min_degree=hubs)
    assert (g.hub_slot >= 0).sum() == {None: 6, 0: 0, 3: 3}[hubs]
    t = 1
    walks = random_walks(None, None, graph=g, starts=np.full(300_000, t), walk_length=2,
                         p=p, q=q, seed=21)
    for v in indices[indptr[t]:indptr[t + 1]]:
        x = walks[walks[:, 1] == v, 2]
        nbrs, law = node2vec_law(indptr, indices, wl, t, v, p, q)
        counts = np.bincount(x, minlength=6)
        assert counts.sum() == counts[nbrs].sum()
        assert chi2_p(counts[nbrs], law) > 1e-3, v


def test_hub_bitmaps_match_rows():
    indptr, indices, _ = csr([(i, j) for i in range(70) for j in range(i + 1, 70, 3)], 70)
    slot, bits = hub_bitmaps(indptr, indices, min_degree=20)
    deg = np.diff(indptr)
    assert np.array_equal(slot >= 0, deg >= 20)
    words = bits.reshape(-1, 2)
    for v in np.flatnonzero(slot >= 0):
        row = set(indices[indptr[v]:indptr[v + 1]].tolist())
        member = [(int(words[slot[v], x >> 6]) >> (x & 63)) & 1 for x in range(70)]
        assert member == [int(x in row) for x in range(70)]
    # default threshold ceil(V / 32): memory at most 4 bytes per stored edge + a word
    slot, bits = hub_bitmaps(indptr, indices)
    assert bits.nbytes <= 4 * indices.size + 8 * (slot >= 0).sum()
