"""The spectral model (ProNE) and the spectral propagation of any embedding."""

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp

import vitegraph as vg
from vitegraph import spectral as S
from vitegraph.apps import node_classification
from vitegraph.datasets.synthetic import planted_partition
from vitegraph.errors import ConfigError, ParameterError


@pytest.fixture(scope="module")
def community_graph():
    return planted_partition(1500, 6, degree_in=8.0, degree_out=4.0, seed=1)


def _dense(g, weights=True):
    n = g.num_nodes
    w = g.weights if (weights and g.weights is not None) else np.ones(g.indices.size)
    return sp.csr_matrix((w, g.indices, g.indptr), shape=(n, n)).toarray()


# ---------------------------------------------------------------- building blocks

@pytest.mark.parametrize("threads", [1, 3])
def test_sparse_operator_fuses_the_axpys_and_splits_rows_exactly(threads):
    rng = np.random.default_rng(0)
    m = sp.random(5000, 5000, density=0.002, random_state=1, format="csr", dtype=np.float32)
    x, y, z = (rng.standard_normal((5000, 7), dtype=np.float32) for _ in range(3))
    op = S.SparseOperator(m.indptr, m.indices, m.data, threads)
    got = op.apply(x, a=-1.0, b=0.8, y=y, c=-2.0, z=z, e=-1.0)
    want = -(m @ x) + 0.8 * x - 2 * y - z
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    one = S.SparseOperator(m.indptr, m.indices, m.data, 1).apply(x, a=-1.0, b=0.8, y=y,
                                                                  c=-2.0, z=z, e=-1.0)
    np.testing.assert_array_equal(got, one)      # rows are independent: any thread count
    ones = S.SparseOperator(m.indptr, m.indices, None, threads).apply(x)
    np.testing.assert_allclose(ones, (m > 0).astype(np.float32) @ x, rtol=1e-5, atol=1e-5)


def test_randomized_svd_agrees_with_scikit_learn():
    from sklearn.utils.extmath import randomized_svd as sk_rsvd
    m = sp.random(1000, 1000, density=0.01, random_state=2, format="csr", dtype=np.float32)
    d = np.ones(1000, dtype=np.float32)
    d[:40] = 100 * 0.85 ** np.arange(40)         # a decaying, well-separated spectrum
    m = m + sp.diags(d)
    m = m.tocsr()
    mt = m.T.tocsr()
    u, s = S.randomized_svd(S.SparseOperator(m.indptr, m.indices, m.data, 2),
                            S.SparseOperator(mt.indptr, mt.indices, mt.data, 2), 20, seed=3)
    _, s_ref, _ = sk_rsvd(m.astype(np.float64), 20, n_iter=5, random_state=0)
    np.testing.assert_allclose(s, s_ref, rtol=2e-3)
    np.testing.assert_allclose(u.T @ u, np.eye(20), atol=1e-4)          # orthonormal
    # left singular vectors: |u_k . u_ref_k| ~ 1 for well-separated values
    u_ref = la.svd(m.toarray().astype(np.float64))[0][:, :5]
    assert np.all(np.abs(np.sum(u[:, :5] * u_ref, axis=0)) > 0.999)


def test_randomized_svd_of_a_low_rank_matrix_pads_with_zeros():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 3)) @ rng.standard_normal((3, 300))
    m = sp.csr_matrix(a.astype(np.float32))
    mt = m.T.tocsr()
    u, s = S.randomized_svd(S.SparseOperator(m.indptr, m.indices, m.data),
                            S.SparseOperator(mt.indptr, mt.indices, mt.data), 8)
    np.testing.assert_allclose(s[:3], la.svdvals(a)[:3], rtol=1e-4)
    assert np.all(s[3:] < 1e-2 * s[0]) and np.isfinite(u).all()


def test_proximity_matrix_entries_follow_the_definition():
    edges = np.array([[0, 1], [1, 2], [2, 0], [2, 3]])
    g = vg.from_edges(edges, np.array([1.0, 2.0, 3.0, 4.0]))
    m = S.proximity_matrix(g).toarray()
    a = _dense(g)
    p = a / a.sum(axis=1, keepdims=True)
    col = p.sum(axis=0) ** 0.75
    col /= col.sum()
    want = np.where(a > 0, np.log(np.where(a > 0, p, 1)) - np.log(col)[None, :], 0)
    np.testing.assert_allclose(m, want, rtol=1e-5, atol=1e-6)


def test_chebyshev_filter_matches_the_matrix_exponential():
    g, _ = planted_partition(200, 4, degree_in=5.0, degree_out=2.0, seed=0)
    n = g.num_nodes
    a = _dense(g) + np.eye(n)
    walk = a / a.sum(axis=1, keepdims=True)
    theta, mu = 0.5, 0.2
    m = np.eye(n) - walk - mu * np.eye(n)
    exact = la.expm(-theta * (0.5 * m @ m - np.eye(n)))      # exp(-theta Y)
    x = np.random.default_rng(0).standard_normal((n, 6)).astype(np.float32)
    op, _ = S.propagation_operators(g, 2)
    got = S.spectral_filter(op, x, steps=10, theta=theta, mu=mu)
    np.testing.assert_allclose(got, exact @ x, rtol=1e-4, atol=1e-4)
    # fewer terms: a worse approximation (the test can tell)
    rough = S.spectral_filter(op, x, steps=2, theta=theta, mu=mu)
    assert np.abs(rough - exact @ x).max() > 1e-3


def test_propagation_is_the_filtered_residual_summed_over_neighbourhoods():
    g, _ = planted_partition(150, 3, seed=2)
    x = np.random.default_rng(1).standard_normal((g.num_nodes, 5)).astype(np.float32)
    op, adj = S.propagation_operators(g, 1)
    want = adj.apply(x - S.spectral_filter(op, x, steps=10, theta=0.5, mu=0.2))
    raw = S.propagate_matrix(g, x, orthogonal=False)
    np.testing.assert_allclose(raw, want, rtol=1e-5, atol=1e-5)
    out = S.propagate_matrix(g, x)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)
    # orthogonalize: U sqrt(s) of the thin SVD, row-normalised
    u, s, _ = la.svd(raw.astype(np.float64), full_matrices=False)
    ref = u * np.sqrt(s)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(np.abs(out), np.abs(ref), atol=1e-3)
    np.testing.assert_array_equal(S.propagate_matrix(g, x, steps=1), x)


# ---------------------------------------------------------------- the model

def test_prone_separates_communities_and_is_deterministic(community_graph):
    g, labels = community_graph
    est = vg.ProNE(dim=32, seed=4)
    x = est.fit_transform(g)
    assert x.shape == (g.num_nodes, 32) and x.dtype == np.float32
    assert est.stats_.samples == 0 and est.embeddings_.context is None
    acc = node_classification(x, labels.matrix, train_ratios=(0.5,), repeats=2).scores[0]
    assert acc.micro_f1 > 80          # chance: 17%
    again = vg.ProNE(dim=32, seed=4, num_threads=1).fit_transform(g)
    np.testing.assert_allclose(again, x, atol=1e-5)
    flat = vg.ProNE(dim=32, seed=4, propagate=False).fit_transform(g)
    flat_acc = node_classification(flat, labels.matrix, train_ratios=(0.5,),
                                   repeats=2).scores[0]
    assert acc.micro_f1 > flat_acc.micro_f1      # propagation helps on this graph


def test_prone_config_has_no_engine_options_and_errors_name_them():
    c = vg.TrainConfig(model="prone", dim=16)
    assert isinstance(c, vg.models.spectral.ProNEConfig) and c.propagate is True
    assert not hasattr(c, "num_epoch")
    with pytest.raises(ParameterError, match="num_partitions.*an option of deepwalk"):
        vg.TrainConfig(model="prone", num_partitions=4)
    g, _ = planted_partition(40, 2, seed=0)
    with pytest.raises(ParameterError, match="dim.*at most the number of nodes"):
        vg.ProNE(dim=64).fit(g)
    with pytest.raises(ParameterError, match="init"):
        vg.train(g, "prone", dim=8, init=vg.Embeddings(np.zeros((g.num_nodes, 8), "f4")))
    from vitegraph.config.run import train_section
    with pytest.raises(ConfigError, match="train.backend"):
        train_section({"model": "prone", "backend": "numba"})


def test_memory_plan_refuses_a_prone_run_that_does_not_fit(community_graph):
    g, _ = community_graph
    with pytest.raises(ParameterError, match="memory_budget.*n x dim blocks"):
        vg.train(g, "prone", dim=64, memory_budget=1_000_000)


# ---------------------------------------------------------------- propagation of others

def test_propagate_matches_embeddings_by_name_and_refuses_missing_rows():
    g = vg.from_edges(np.array([["a", "b"], ["b", "c"], ["c", "a"], ["c", "d"]]))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    names = g.vocabulary.names
    perm = np.array([2, 0, 3, 1])
    emb = vg.Embeddings(x[perm], vg.Vocabulary(names[perm], 4), context=x[perm])
    out = vg.propagate(emb, g, steps=3)              # vertex + context
    np.testing.assert_allclose(out.vectors, S.propagate_matrix(g, 2 * x, steps=3), atol=1e-6)
    alone = vg.propagate(emb, g, steps=3, with_context=False)
    np.testing.assert_allclose(alone.vectors, S.propagate_matrix(g, x, steps=3), atol=1e-6)
    assert out.context is None and out.metadata["propagation"]["steps"] == 3
    assert list(out.vocabulary.names) == list(names)
    short = vg.Embeddings(x[:3], vg.Vocabulary(names[:3], 3))
    with pytest.raises(ParameterError, match="none for 1 nodes.*'d'"):
        vg.propagate(short, g)
    with pytest.raises(ParameterError, match="4 rows"):
        vg.propagate(x[:3], g)


def test_propagate_option_of_deepwalk_drops_the_context_table(community_graph):
    g, labels = community_graph
    opts = dict(dim=16, num_epoch=600, seed=1, progress=False, num_workers=1)
    plain = vg.train(g, "deepwalk", **opts)
    prop = vg.train(g, "deepwalk", propagate=True, **opts)
    emb = prop.embeddings()
    assert emb.context is None and set(prop.tables) == {"vertex"}
    np.testing.assert_allclose(emb.vectors, S.propagate_matrix(g, plain["vertex"] +
                                                             plain["context"]), atol=1e-5)
    np.testing.assert_allclose(emb.vectors, vg.propagate(plain.embeddings(), g).vectors,
                               atol=1e-6)
    assert prop.config.to_dict()["propagate"] is True
    scores = prop.model.score(prop.tables, np.array([0, 1]), np.array([1, 2]))
    np.testing.assert_allclose(scores, [emb.vectors[0] @ emb.vectors[1],
                                        emb.vectors[1] @ emb.vectors[2]], rtol=1e-5)
    before = node_classification(plain["vertex"], labels.matrix, train_ratios=(0.5,),
                                 repeats=2).scores[0].micro_f1
    after = node_classification(emb.vectors, labels.matrix, train_ratios=(0.5,),
                                repeats=2).scores[0].micro_f1
    assert after > before


def test_cli_embed_prone_and_propagate(tmp_path, capsys):
    from vitegraph.cli.main import main
    g, _ = planted_partition(300, 3, seed=0)
    src, dst, _ = g.edges()
    edges = tmp_path / "e.txt"
    np.savetxt(edges, np.stack([src, dst], 1), fmt="%d")
    out = tmp_path / "p.npz"
    assert main(["embed", str(edges), "--model", "prone", "--dim", "16", "-o", str(out),
                 "-q"]) == 0
    assert "solved ProNE" in capsys.readouterr().out
    emb = vg.Embeddings.load(out)
    assert emb.vectors.shape == (300, 16) and emb.metadata["model"] == "prone"
    assert not (tmp_path / "p.npz.checkpoint.npz").exists()
    dw = tmp_path / "dw.npz"
    assert main(["embed", str(edges), "--dim", "8", "--epochs", "5", "-o", str(dw),
                 "-q"]) == 0
    prop = tmp_path / "dw_p.txt"
    assert main(["propagate", str(dw), str(edges), "-o", str(prop)]) == 0
    back = vg.Embeddings.read(prop)
    assert back.vectors.shape == (300, 8)
    assert main(["embed", str(edges), "--model", "prone", "--num-partitions", "2", "-o",
                 str(out)]) != 0
    assert "num_partitions" in capsys.readouterr().err


def test_prone_on_blogcatalog_reaches_published_quality(data_dir):
    folder = data_dir("blogcatalog")
    g = vg.read_edgelist(folder / "edges.txt")
    labels = vg.read_labels(folder / "labels.txt", g)
    x = vg.ProNE().fit_transform(g)
    res = node_classification(x, labels.matrix, train_ratios=(0.1, 0.5, 0.9), repeats=5)
    micro = [s.micro_f1 for s in res.scores]
    # ProNE's published BlogCatalog figures (nodevectors measured here: 36.9 / 40.8 / 41.8)
    assert micro[0] > 36.0 and micro[1] > 40.5 and micro[2] > 41.0, micro
