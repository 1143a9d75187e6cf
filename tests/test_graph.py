"""Graph storage, builders, policies, and binary save/load."""

import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import vitegraph as vg
from vitegraph.errors import GraphError, ParameterError, UnknownNodeError, VitegraphError


def csr(g):
    return (g.indptr.tolist(), g.indices.tolist(),
            None if g.weights is None else g.weights.tolist())


def check_invariants(g):
    assert g.indptr.dtype == np.int64 and g.indptr[0] == 0
    assert np.all(np.diff(g.indptr) >= 0) and g.indptr[-1] == g.indices.size
    assert g.indices.dtype == np.int32
    for u in range(g.num_nodes):
        row = g.indices[g.indptr[u]:g.indptr[u + 1]]
        assert np.all(np.diff(row) > 0), "rows sorted, no repeats"
    if g.indices.size:
        assert g.indices.min() >= 0 and g.indices.max() < g.num_nodes
    if not g.directed:
        A = g.to_scipy()
        assert (A != A.T).nnz == 0, "undirected graphs store both directions"


def test_tiny_undirected_csr():
    g = vg.from_edges([[0, 1], [1, 2], [2, 0], [3, 3]])
    # rows: 0:{1,2} 1:{0,2} 2:{0,1} 3:{3} (self-loop stored once)
    assert csr(g) == ([0, 2, 4, 6, 7], [1, 2, 0, 2, 0, 1, 3], None)
    assert g.num_edges == 4 and g.num_stored_edges == 7
    assert g.degree.tolist() == [2, 2, 2, 1]
    assert not g.directed and not g.is_weighted
    check_invariants(g)


def test_tiny_directed_weighted_csr():
    g = vg.from_edges([[0, 2], [0, 1], [2, 0]], weights=[1.5, 2.0, 3.0], directed=True)
    assert csr(g) == ([0, 2, 2, 3], [1, 2, 0], [2.0, 1.5, 3.0])
    assert g.num_edges == 3
    assert g.weighted_degree.tolist() == [3.5, 0.0, 3.0]


def test_arrays_are_read_only():
    g = vg.from_edges([[0, 1]])
    with pytest.raises(ValueError):
        g.indices[0] = 5


@pytest.mark.parametrize("policy,expected", [("sum", [4.0, 4.0]), ("first", [1.0, 1.0])])
def test_duplicate_policy_weighted(policy, expected):
    # (0,1) and (1,0) are the same undirected edge
    g = vg.from_edges([[0, 1], [1, 0]], weights=[1.0, 3.0], duplicates=policy)
    assert g.num_edges == 1
    assert g.weights.tolist() == expected


def test_duplicate_policy_first_keeps_first_in_input_order():
    g = vg.from_edges([[0, 1], [0, 2], [0, 1]], weights=[5.0, 1.0, 7.0], directed=True,
                      duplicates="first")
    assert csr(g) == ([0, 2, 2, 2], [1, 2], [5.0, 1.0])


def test_duplicate_policy_auto():
    g = vg.from_edges([[0, 1], [0, 1]])                       # unweighted: merge
    assert g.num_edges == 1 and g.weights is None
    g = vg.from_edges([[0, 1], [0, 1]], weights=[1, 2])      # weighted: sum
    assert g.weights.tolist() == [3.0, 3.0]


def test_duplicate_policy_error_names_nodes():
    with pytest.raises(GraphError, match=r"duplicate edge \('b', 'a'\)|duplicate edge \('a', 'b'\)"):
        vg.from_edges(np.array([["a", "b"], ["b", "a"]]), duplicates="error")
    g = vg.from_edges([[0, 1], [1, 0]], directed=True, duplicates="error")  # distinct if directed
    assert g.num_edges == 2


def test_self_loop_policy():
    keep = vg.from_edges([[0, 0], [0, 1]])
    drop = vg.from_edges([[0, 0], [0, 1]], self_loops="drop")
    assert keep.num_edges == 2 and drop.num_edges == 1
    assert csr(drop) == ([0, 1, 2], [1, 0], None)


def test_isolated_nodes_kept_when_named():
    g = vg.from_edges([[0, 1]], num_nodes=4)
    assert g.num_nodes == 4 and g.degree.tolist() == [1, 1, 0, 0]
    g = vg.from_edges(np.array([["x", "y"]]), nodes=["z", "y", "x"])
    assert g.num_nodes == 3 and g.node_names.tolist() == ["z", "y", "x"]
    assert g.neighbors("x").tolist() == [1] and g.degree.tolist() == [0, 1, 1]


def test_sparse_int_ids_are_relabelled_in_sorted_order():
    g = vg.from_edges([[1000, 7], [7, 50]])
    assert g.node_names.tolist() == [7, 50, 1000]
    assert g.vocabulary.id_of(1000) == 2
    assert g.neighbors(7).tolist() == [1, 2]


def test_dense_int_ids_keep_their_ids():
    g = vg.from_edges([[2, 1], [1, 0]])
    assert g.vocabulary.is_identity and g.num_nodes == 3


def test_string_ids():
    g = vg.from_edges(np.array([["bob", "alice"], ["alice", "carol"]]))
    assert g.node_names.tolist() == ["alice", "bob", "carol"]
    assert g.vocabulary.ids_of(["carol", "bob"]).tolist() == [2, 1]
    assert g.vocabulary.name_of(0) == "alice"
    with pytest.raises(UnknownNodeError, match="dave"):
        g.neighbors("dave")


def test_edges_roundtrip_and_scipy():
    E = np.array([[0, 1], [1, 2], [2, 3], [3, 3]])
    g = vg.from_edges(E)
    src, dst, w = g.edges()
    assert sorted(zip(src.tolist(), dst.tolist())) == [(0, 1), (1, 2), (2, 3), (3, 3)]
    assert g.to_scipy().nnz == g.num_stored_edges


@pytest.mark.parametrize("bad,match", [
    (np.zeros((3, 3), dtype=int), r"shape \(E, 2\)"),
    (np.array([[0.5, 1.0]]), "integer node ids"),
])
def test_from_edges_bad_arrays(bad, match):
    with pytest.raises(ParameterError, match=match):
        vg.from_edges(bad)


@pytest.mark.parametrize("w,what", [([np.nan], "NaN"), ([np.inf], "infinite"), ([-1.0], "negative")])
def test_from_edges_bad_weights(w, what):
    with pytest.raises(VitegraphError, match=what):
        vg.from_edges([[0, 1]], weights=w)


def test_from_edges_bad_policy_and_range():
    with pytest.raises(ParameterError, match="'duplicates' parameter"):
        vg.from_edges([[0, 1]], duplicates="max")
    with pytest.raises(VitegraphError, match="out of range for num_nodes=2"):
        vg.from_edges([[0, 5]], num_nodes=2)
    with pytest.raises(ParameterError, match="non-empty"):
        vg.from_edges(np.empty((0, 2), dtype=int))


# ----------------------------------------------------------------- storage
@pytest.mark.parametrize("fmt", ["folder", "npz"])
def test_save_load_roundtrip(tmp_path, fmt):
    g = vg.from_edges(np.array([["a", "b"], ["b", "c"]]), weights=[0.5, 2.0], directed=True)
    p = tmp_path / ("g.npz" if fmt == "npz" else "g")
    g.save(p)
    h = vg.Graph.load(p)
    assert csr(h) == csr(g) and h.directed and h.num_edges == 2
    assert h.node_names.tolist() == ["a", "b", "c"]


def test_load_mmap_folder(tmp_path):
    g = vg.from_edges([[0, 1], [1, 2]])
    g.save(tmp_path / "g")
    h = vg.Graph.load(tmp_path / "g", mmap=True)
    assert isinstance(h.indices, np.memmap) and csr(h) == csr(g)


def test_save_replaces_atomically_and_keeps_old_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "g"
    vg.from_edges([[0, 1]]).save(p)
    big = vg.from_edges([[0, 1], [1, 2], [2, 3]])
    import vitegraph.graph.store as store

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(store.json, "dump", boom)
    with pytest.raises(KeyboardInterrupt):
        big.save(p)
    monkeypatch.undo()
    assert vg.Graph.load(p).num_nodes == 2, "the old graph survives an interrupted save"
    assert [x for x in os.listdir(tmp_path) if x.startswith(".tmp")] == []
    big.save(p)
    assert vg.Graph.load(p).num_nodes == 4


def test_load_errors(tmp_path):
    with pytest.raises(VitegraphError, match="no such file"):
        vg.Graph.load(tmp_path / "missing")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(VitegraphError, match="junk.npz: not a saved vitegraph graph"):
        vg.Graph.load(tmp_path / "junk.npz")


# ---------------------------------------------------------------- property
edge_lists = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(edges=edge_lists, directed=st.booleans(), weighted=st.booleans(),
       loops=st.sampled_from(["keep", "drop"]), fmt=st.sampled_from(["folder", "npz"]))
def test_property_build_save_load(tmp_path_factory, edges, directed, weighted, loops, fmt):
    E = np.array(edges)
    if loops == "drop" and np.all(E[:, 0] == E[:, 1]):
        return  # nothing left
    w = np.arange(1, len(E) + 1, dtype=np.float64) if weighted else None
    g = vg.from_edges(E, weights=w, directed=directed, self_loops=loops, duplicates="sum")
    check_invariants(g)
    # the edge set is exactly the input's (as a set, under the policies)
    names = g.node_names
    want = {}
    for k, (a, b) in enumerate(edges):
        if a == b and loops == "drop":
            continue
        key = (a, b) if directed else (min(a, b), max(a, b))
        want[key] = want.get(key, 0.0) + (w[k] if weighted else 1.0)
    src, dst, ww = g.edges()
    got = {(int(names[s]), int(names[d])) if directed else
           tuple(sorted((int(names[s]), int(names[d])))): (ww[i] if weighted else 1.0)
           for i, (s, d) in enumerate(zip(src, dst))}
    assert set(got) == set(want) and g.num_edges == len(want)
    if weighted:
        for k in want:
            assert got[k] == pytest.approx(want[k])
    d = tmp_path_factory.mktemp("g")
    p = d / ("g.npz" if fmt == "npz" else "g")
    g.save(p)
    h = vg.Graph.load(p)
    check_invariants(h)
    assert csr(h) == csr(g) and h.directed == g.directed and h.num_edges == g.num_edges
    assert h.node_names.tolist() == g.node_names.tolist()


def test_zero_weight_edges_are_dropped():
    g = vg.from_edges([[0, 1], [1, 2], [2, 0]], weights=[1.0, 0.0, 2.0])
    assert g.num_edges == 2 and g.weights.min() > 0 and g.neighbors(1).tolist() == [0]
