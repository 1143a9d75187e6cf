"""Link prediction: edge splits, non-edge sampling, AUC and MRR."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.stats import chisquare

from vitegraph.apps import link_prediction, sample_non_edges, split_edges
from vitegraph.errors import GraphError, ParameterError

# the package attribute ``link_prediction`` is the function; this is the module
lp_module = importlib.import_module("vitegraph.apps.linkpred")


def _data_dir() -> Path:
    env = os.environ.get("VITEGRAPH_DATA")
    return Path(env) if env else Path(__file__).parents[1] / ".." / "shared" / "data"


def _random_graph(num_nodes=300, num_edges=1200, seed=0):
    """Unique undirected edges, no self-loops, random orientation; nodes
    ``num_nodes - 10 ..`` are left without edges."""
    rng = np.random.default_rng(seed)
    active = num_nodes - 10
    keys = set()
    while len(keys) < num_edges:
        u, v = rng.integers(0, active, size=2)
        if u != v:
            keys.add((min(u, v), max(u, v)))
    e = np.array(sorted(keys), dtype=np.int64)
    flip = rng.random(len(e)) < 0.5
    e[flip] = e[flip][:, ::-1]
    return e


def _key_set(edges):
    return {(min(u, v), max(u, v)) for u, v in edges.tolist()}


def _components(edges, num_nodes):
    a = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])),
                      shape=(num_nodes, num_nodes))
    return connected_components(a, directed=False)[1]


# --- split_edges -------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_partitions_edges_and_keeps_every_node(seed):
    n = 300
    e = _random_graph(n, 700, seed=seed)  # sparse: the forest takes most edges
    train, test = split_edges(e, n, test_fraction=0.2, seed=seed)
    assert len(test) == round(0.2 * len(e))
    assert len(train) + len(test) == len(e)
    rows = {tuple(r) for r in e.tolist()}
    assert {tuple(r) for r in train.tolist()} | {tuple(r) for r in test.tolist()} == rows
    assert not ({tuple(r) for r in train.tolist()} & {tuple(r) for r in test.tolist()})
    deg_full = np.bincount(e.ravel(), minlength=n)
    deg_train = np.bincount(train.ravel(), minlength=n)
    assert np.all(deg_train[deg_full > 0] > 0)
    # the spanning forest keeps every component connected
    full, kept = _components(e, n), _components(train, n)
    assert len(set(zip(full.tolist(), kept.tolist()))) == len(set(full.tolist()))
    assert len(set(kept.tolist())) == len(set(full.tolist()))


def test_split_keeps_input_rows_and_order():
    e = _random_graph(100, 400)
    train, test = split_edges(e, 100, seed=3)
    pos = {tuple(r): i for i, r in enumerate(e.tolist())}
    assert np.all(np.diff([pos[tuple(r)] for r in train.tolist()]) > 0)
    assert np.all(np.diff([pos[tuple(r)] for r in test.tolist()]) > 0)


def test_split_never_removes_a_pendant_edge_hand_made():
    # a triangle 0-1-2 with a pendant node 3 on 2: only triangle edges can go
    e = np.array([[0, 1], [1, 2], [2, 0], [2, 3]])
    held_out = set()
    for seed in range(30):
        train, test = split_edges(e, 4, test_fraction=0.25, seed=seed)
        assert len(test) == 1
        assert [2, 3] in train.tolist()
        held_out.add(tuple(test[0]))
    assert held_out == {(0, 1), (1, 2), (2, 0)}


def test_split_is_deterministic_by_seed():
    e = _random_graph()
    a = split_edges(e, 300, seed=7)
    b = split_edges(e, 300, seed=7)
    c = split_edges(e, 300, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_split_without_keep_nodes():
    e = _random_graph()
    train, test = split_edges(e, 300, test_fraction=0.5, seed=0, keep_nodes=False)
    assert len(test) == 600 and len(train) == 600
    assert _key_set(train) | _key_set(test) == _key_set(e)


def test_split_errors():
    path = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
    with pytest.raises(GraphError, match="keep_nodes"):
        split_edges(path, 5, test_fraction=0.5)  # a tree: every edge is needed
    with pytest.raises(GraphError, match="self-loop"):
        split_edges(np.array([[0, 1], [2, 2]]), 3)
    with pytest.raises(GraphError, match="more than once"):
        split_edges(np.array([[0, 1], [1, 2], [1, 0]]), 3)
    with pytest.raises(GraphError, match="no edge"):
        split_edges(np.array([[0, 1], [1, 2]]), 3, test_fraction=0.1)
    for kwargs, name in [(dict(test_fraction=0.0), "test_fraction"),
                         (dict(test_fraction=1.0), "test_fraction"),
                         (dict(num_nodes=2), "edges"),  # node 2 out of range
                         (dict(seed=-3), "seed"),
                         (dict(keep_nodes=1), "keep_nodes"),
                         (dict(edges=np.array([0, 1, 2])), "edges")]:
        args = dict(edges=np.array([[0, 1], [1, 2], [0, 2]]), num_nodes=3)
        args.update(kwargs)
        with pytest.raises(ParameterError) as err:
            split_edges(**args)
        assert err.value.name == name and "split_edges" in str(err.value)


# --- sample_non_edges ---------------------------------------------------------------

def test_non_edges_are_never_edges_nor_loops_and_distinct():
    n = 300
    e = _random_graph(n, 1200)
    neg = sample_non_edges(e, n, 1500, seed=0)
    assert neg.shape == (1500, 2) and neg.dtype == np.int64
    assert np.all(neg[:, 0] < neg[:, 1])
    assert not (_key_set(neg) & _key_set(e))
    assert len(_key_set(neg)) == 1500
    # isolated nodes (290..299) are left out by default, drawn otherwise
    assert neg.max() < 290
    assert sample_non_edges(e, n, 20000, seed=0, exclude_isolated=False).max() >= 290


def test_non_edges_deterministic_by_seed():
    e = _random_graph()
    np.testing.assert_array_equal(sample_non_edges(e, 300, 100, seed=5),
                                  sample_non_edges(e, 300, 100, seed=5))
    assert not np.array_equal(sample_non_edges(e, 300, 100, seed=5),
                              sample_non_edges(e, 300, 100, seed=6))


def test_non_edges_of_a_nearly_complete_graph():
    n = 40
    iu, iv = np.triu_indices(n, k=1)
    missing = {(0, 5), (3, 17), (20, 39)}
    keep = np.array([(u, v) not in missing for u, v in zip(iu, iv)])
    e = np.stack([iu[keep], iv[keep]], axis=1)
    neg = sample_non_edges(e, n, 3, seed=1)
    assert _key_set(neg) == missing
    with pytest.raises(GraphError, match="non-edges"):
        sample_non_edges(e, n, 4)


def test_non_edges_roughly_uniform():
    # a 4-cycle on 0..3 plus a separate edge 4-5
    e = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [4, 5]])
    counts = {}
    for seed in range(400):
        for pair in _key_set(sample_non_edges(e, 6, 1, seed=seed)):
            counts[pair] = counts.get(pair, 0) + 1
    assert set(counts) <= _key_set(np.array([[u, v] for u in range(6)
                                             for v in range(u + 1, 6)])) - _key_set(e)
    # 15 pairs - 5 edges = 10 non-edges, each drawn about 40 times
    assert len(counts) == 10
    assert chisquare(list(counts.values())).pvalue > 1e-3


def test_edge_set_paths_agree(monkeypatch):
    """The packed-bit and the sorted-key edge sets answer alike."""
    n = 300
    e = _random_graph(n, 1200)
    rng = np.random.default_rng(0)
    pos, neg = e[:50], sample_non_edges(e, n, 50, seed=1)
    vertex, context = rng.standard_normal((n, 4)), rng.standard_normal((n, 4))
    u, v = rng.integers(0, n, size=(2, 5000))
    u[:100], v[:100] = e[:100, 1], e[:100, 0]  # some certain hits, reversed
    edge_set = _key_set(e)
    expected = [(min(x, y), max(x, y)) in edge_set for x, y in zip(u.tolist(), v.tolist())]

    def run():
        np.testing.assert_array_equal(lp_module._EdgeSet(e, n).contains(u, v), expected)
        return (sample_non_edges(e, n, 500, seed=0),
                link_prediction(vertex, context, pos, neg, known_edges=e,
                                num_mrr_negatives=30, seed=2))

    bits = run()
    assert lp_module._EdgeSet(e, n).bits is not None
    monkeypatch.setattr(lp_module, "_BITSET_LIMIT", 0)
    assert lp_module._EdgeSet(e, n).bits is None
    keys = run()
    np.testing.assert_array_equal(bits[0], keys[0])
    assert bits[1] == keys[1]


def test_non_edges_bad_arguments():
    e = np.array([[0, 1], [1, 2]])
    with pytest.raises(ParameterError) as err:
        sample_non_edges(e, 3, -1)
    assert err.value.name == "num_samples"
    with pytest.raises(GraphError):
        sample_non_edges(np.array([[0, 1], [1, 1]]), 3, 1)


# --- link_prediction ----------------------------------------------------------------

def _two_cliques(size=12):
    """Two cliques; embeddings put each clique on its own axis."""
    n = 2 * size
    group = np.repeat([0, 1], size)
    iu, iv = np.triu_indices(n, k=1)
    same = group[iu] == group[iv]
    edges = np.stack([iu[same], iv[same]], axis=1)
    emb = np.eye(2)[group]
    return n, edges, emb


def test_perfect_scores_give_auc_and_mrr_one():
    n, edges, emb = _two_cliques()
    train, test = split_edges(edges, n, test_fraction=0.2, seed=0)
    neg = sample_non_edges(edges, n, len(test), seed=0)
    r = link_prediction(emb, emb, test, neg, known_edges=edges, num_mrr_negatives=10)
    assert r.auc == pytest.approx(1.0)
    assert r.mrr == pytest.approx(1.0)  # filtered tails all lie in the other clique
    assert r.filtered_mrr and r.num_positive == len(test) and r.num_negative == len(neg)


def test_ties_count_against_the_model():
    pos = np.array([[0, 1], [2, 3]])
    neg = np.array([[0, 2], [1, 3]])
    r = link_prediction(np.zeros((6, 4)), None, pos, neg, num_mrr_negatives=7)
    assert r.auc == pytest.approx(0.5)
    assert r.mrr == pytest.approx(1 / 8)


def test_random_embeddings_give_auc_near_half():
    n = 300
    e = _random_graph(n, 1500, seed=1)
    train, test = split_edges(e, n, test_fraction=0.3, seed=0)
    neg = sample_non_edges(e, n, len(test), seed=0)
    rng = np.random.default_rng(0)
    r = link_prediction(rng.standard_normal((n, 16)), rng.standard_normal((n, 16)),
                        test, neg, num_mrr_negatives=20)
    assert abs(r.auc - 0.5) < 0.05
    # a random rank among 21 candidates: E[1/rank] = H(21)/21, about 0.173
    assert abs(r.mrr - 0.173) < 0.03


def test_symmetric_scores_ignore_pair_orientation():
    rng = np.random.default_rng(2)
    vertex, context = rng.standard_normal((30, 8)), rng.standard_normal((30, 8))
    pos = np.array([[0, 1], [2, 3], [4, 5], [6, 7]])
    neg = np.array([[8, 9], [10, 11], [12, 13], [14, 15]])
    a = link_prediction(vertex, context, pos, neg, num_mrr_negatives=5, seed=3)
    b = link_prediction(vertex, context, pos[:, ::-1], neg[:, ::-1], num_mrr_negatives=0)
    assert a.auc == b.auc and b.mrr is None
    # one-way scores: vertex[u] . context[v] by hand
    c = link_prediction(vertex, context, pos, neg, symmetric=False, num_mrr_negatives=0)
    s_pos = np.einsum("ij,ij->i", vertex[pos[:, 0]], context[pos[:, 1]])
    s_neg = np.einsum("ij,ij->i", vertex[neg[:, 0]], context[neg[:, 1]])
    expected = np.mean(s_pos[:, None] > s_neg[None, :]) \
        + 0.5 * np.mean(s_pos[:, None] == s_neg[None, :])
    assert c.auc == pytest.approx(expected)


def test_mrr_hand_made_rank():
    # 1-D embeddings, context = vertex: score(u, v) = x_u * x_v.  The positive
    # (0, 1) scores 2; every possible tail (2..5) scores 3: rank 41 of 41.
    x = np.array([[1.0], [2.0], [3.0], [3.0], [3.0], [3.0]])
    pos, neg = np.array([[0, 1]]), np.array([[2, 3]])
    r = link_prediction(x, None, pos, neg, num_mrr_negatives=40)
    assert r.mrr == pytest.approx(1 / 41)
    # every tail scores 1 < 2: rank 1
    x[2:] = 1.0
    assert link_prediction(x, None, pos, neg, num_mrr_negatives=40).mrr == 1.0
    # one tail above, one tied, two below: the positive's rank is 1 + (draws
    # of nodes 2 or 3), so MRR lies strictly between the two extremes
    x[2], x[3] = 3.0, 1.0 * 2.0
    r = link_prediction(x, None, pos, neg, num_mrr_negatives=40)
    assert 1 / 41 < r.mrr < 1.0


def test_link_prediction_result_to_dict():
    n, edges, emb = _two_cliques()
    r = link_prediction(emb, None, edges[:5], np.array([[0, 20], [1, 21]]))
    d = json.loads(json.dumps(r.to_dict()))
    assert d["auc"] == pytest.approx(1.0) and d["num_mrr_negatives"] == 50
    assert "AUC" in r.format_table()


@pytest.mark.parametrize("kwargs, name", [
    (dict(context=np.zeros((5, 3))), "context"),
    (dict(vertex=np.zeros(6)), "vertex"),
    (dict(test_pos=np.array([[0, 6]])), "test_pos"),
    (dict(test_neg=np.zeros((0, 2), dtype=int)), "test_neg"),
    (dict(num_mrr_negatives=-1), "num_mrr_negatives"),
    (dict(symmetric="no"), "symmetric"),
    (dict(known_edges=np.array([[0, 9]])), "known_edges"),
])
def test_link_prediction_bad_arguments(kwargs, name):
    args = dict(vertex=np.ones((6, 3)), context=np.ones((6, 3)),
                test_pos=np.array([[0, 1]]), test_neg=np.array([[2, 3]]))
    args.update(kwargs)
    with pytest.raises(ParameterError) as err:
        link_prediction(args.pop("vertex"), args.pop("context"), args.pop("test_pos"),
                        args.pop("test_neg"), **args)
    assert err.value.name == name and "link_prediction" in str(err.value)


# --- real data ----------------------------------------------------------------------

_BLOGCATALOG = _data_dir() / "blogcatalog"


@pytest.mark.slow
@pytest.mark.skipif(not (_BLOGCATALOG / "edges.txt").is_file(),
                    reason=f"BlogCatalog not found at {_BLOGCATALOG} "
                           f"(set VITEGRAPH_DATA to the shared data folder)")
def test_blogcatalog_split_and_random_scores():
    e = np.loadtxt(_BLOGCATALOG / "edges.txt", dtype=np.int64)
    e = e[e[:, 0] != e[:, 1]]
    n = 10312
    train, test = split_edges(e, n, test_fraction=0.1, seed=0)
    assert len(test) == round(0.1 * len(e)) and len(train) + len(test) == len(e)
    deg_full = np.bincount(e.ravel(), minlength=n)
    assert np.all(np.bincount(train.ravel(), minlength=n)[deg_full > 0] > 0)
    neg = sample_non_edges(e, n, len(test), seed=0)
    assert not (_key_set(neg) & _key_set(e))
    rng = np.random.default_rng(0)
    r = link_prediction(rng.standard_normal((n, 32)), rng.standard_normal((n, 32)),
                        test, neg, num_mrr_negatives=10)
    assert abs(r.auc - 0.5) < 0.02
