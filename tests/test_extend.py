"""Warm starts, frozen rows and new nodes of a grown graph."""

import logging

import numpy as np
import pytest

import vitegraph as vg
from vitegraph.apps.classification import _evaluate_split
from vitegraph.datasets.synthetic import planted_partition
from vitegraph.errors import ParameterError
from vitegraph.kernels import skipgram_numba as k
from vitegraph.sampling import WalkSampler
from vitegraph.sampling.rng import make_states


def grown(seed=0, n=1200, communities=4, fraction=0.1):
    """(full graph with string names, old graph without the held-out nodes,
    labels of the full graph, held-out mask)."""
    g, labels = planted_partition(n, communities, degree_in=10.0, degree_out=2.0, seed=seed)
    rng = np.random.default_rng(seed)
    new = np.zeros(n, bool)
    new[rng.choice(n, int(fraction * n), replace=False)] = True
    src, dst, _ = g.edges()
    names = np.array([f"n{i}" for i in range(n)])
    full = vg.from_edges(np.stack([names[src], names[dst]], 1))
    keep = ~(new[src] | new[dst])
    old = vg.from_edges(np.stack([names[src[keep]], names[dst[keep]]], 1))
    # labels by name, and the mask, in the full graph's id order
    ids = np.array([int(x[1:]) for x in full.vocabulary.names])
    y = np.asarray(labels.matrix.todense() if hasattr(labels.matrix, "todense")
                   else labels.matrix)[ids].astype(bool)
    return full, old, y, new[ids]


def accuracy_on_new(x, y, new):
    micro, _, _ = _evaluate_split(x, y, np.flatnonzero(~new), np.flatnonzero(new), 1.0,
                                  "newton", 0)
    return 100 * micro


@pytest.fixture(scope="module")
def setting():
    full, old, y, new = grown()
    emb = vg.train(old, "deepwalk", dim=32, seed=1, progress=False).embeddings()
    return full, old, y, new, emb


# ---------------------------------------------------------------- kernel and sampler

def test_masked_kernel_never_writes_a_frozen_row():
    rng = np.random.default_rng(0)
    v = rng.standard_normal((50, 8)).astype(np.float32)
    c = rng.standard_normal((50, 8)).astype(np.float32)
    v0, c0 = v.copy(), c.copy()
    heads = rng.integers(0, 50, 4000).astype(np.int32)
    tails = rng.integers(0, 50, 4000).astype(np.int32)
    from vitegraph.sampling.alias import build_alias
    prob, alias = build_alias(np.ones(50))
    flags = (np.arange(50) >= 40).astype(np.uint8)
    st = k.train_block_masked(v, c, heads, tails, prob, alias, flags, flags, num_negative=2,
                              negative_weight=5.0, weight_decay=0.0, lr_start=0.05,
                              lr_end=0.01, states=make_states(0, 2), num_threads=2)
    assert st.num_samples == 4000 and st.loss > 0
    np.testing.assert_array_equal(v[:40], v0[:40])
    np.testing.assert_array_equal(c[:40], c0[:40])
    assert not np.allclose(v[40:], v0[40:]) and not np.allclose(c[40:], c0[40:])
    with pytest.raises(ParameterError, match="train_vertex"):
        k.train_block_masked(v, c, heads, tails, prob, alias, flags[:10], flags,
                             num_negative=1, negative_weight=5.0, weight_decay=0.0,
                             lr_start=0.05, lr_end=0.01, states=make_states(0, 1))


def test_walks_start_only_where_the_mask_says():
    # two components; walks that start in the second never leave it
    edges = np.array([[0, 1], [1, 2], [2, 0], [3, 4], [4, 5], [5, 3]])
    g = vg.from_edges(edges)
    mask = np.array([False, False, False, True, True, True])
    s = WalkSampler(g.indptr, g.indices, walk_length=3, augmentation_step=2, shuffle_base=1,
                    p=1.0, q=1.0, seed=0, start_mask=mask)
    heads, tails = s.sample(3000)
    assert heads.min() >= 3 and tails.min() >= 3
    with pytest.raises(ParameterError, match="start_mask"):
        WalkSampler(g.indptr, g.indices, walk_length=3, augmentation_step=2, shuffle_base=1,
                    p=1.0, q=1.0, start_mask=mask[:3])


# ---------------------------------------------------------------- train(init=...)

def test_warm_start_copies_rows_by_name(setting):
    full, old, y, new, emb = setting
    # a tiny learning rate: the run ends where it started, rows matched by name
    r = vg.train(full, "deepwalk", dim=32, num_epoch=1, learning_rate=1e-9, seed=2,
                 progress=False, init=emb, num_partitions=3, num_workers=1)
    rows = emb.rows_for(full.vocabulary)
    np.testing.assert_allclose(r["vertex"][~new], emb.vectors[rows[~new]], atol=1e-6)
    np.testing.assert_allclose(r["context"][~new], emb.context[rows[~new]], atol=1e-6)
    fresh = vg.train(full, "deepwalk", dim=32, num_epoch=1, learning_rate=1e-9, seed=2,
                     progress=False, num_partitions=3, num_workers=1)
    np.testing.assert_allclose(r["vertex"][new], fresh["vertex"][new], atol=1e-6)


def test_frozen_run_trains_new_rows_only_and_they_classify(setting):
    full, old, y, new, emb = setting
    r = vg.train(full, "deepwalk", dim=32, seed=3, progress=False, init=emb,
                 freeze_existing=True)
    rows = emb.rows_for(full.vocabulary)
    np.testing.assert_array_equal(r["vertex"][~new], emb.vectors[rows[~new]])
    np.testing.assert_array_equal(r["context"][~new], emb.context[rows[~new]])
    # the automatic length counts the new rows only (6,400 samples each)
    assert r.stats.samples <= 2 * 6400 * new.sum()
    assert accuracy_on_new(r["vertex"], y, new) > 85          # chance: 25%
    assert r.config.samples_per_row == pytest.approx(
        r.config.num_epoch * full.num_edges / new.sum(), rel=1e-3)


def test_warm_start_errors(setting):
    full, old, y, new, emb = setting
    with pytest.raises(ParameterError, match="freeze_existing.*init="):
        vg.train(full, "deepwalk", freeze_existing=True)
    with pytest.raises(ParameterError, match="widths.*'vertex': 16"):
        vg.train(full, "deepwalk", dim=16, init=emb)
    with pytest.raises(ParameterError, match="nothing would train"):
        vg.train(old, "deepwalk", dim=32, init=emb, freeze_existing=True)
    with pytest.raises(ParameterError, match="backend numba"):
        vg.train(full, "deepwalk", dim=32, init=emb, freeze_existing=True, backend="torch",
                 progress=False)
    with pytest.raises(ParameterError, match="table of this model"):
        vg.train(full, "line", order=1, dim=32, init=vg.Embeddings(
            emb.vectors, emb.vocabulary, primary="other"))


# ---------------------------------------------------------------- embed_new_nodes

def test_neighbours_method_is_the_harmonic_extension(caplog):
    # old: a triangle; new: x next to a and b, y next to x only, z and w alone together
    old = vg.Embeddings(np.array([[1, 0], [0, 1], [1, 1]], np.float32),
                        vg.Vocabulary(np.array(["a", "b", "c"]), 3))
    grown_graph = vg.from_edges(np.array([["a", "b"], ["b", "c"], ["c", "a"], ["x", "a"],
                                          ["x", "b"], ["y", "x"], ["z", "w"]]))
    with caplog.at_level(logging.WARNING):
        out = vg.embed_new_nodes(old, grown_graph, tolerance=1e-7)
    assert "2 new node(s) have no path" in caplog.text
    v = dict(zip(out.vocabulary.names, out.vectors))
    np.testing.assert_array_equal(v["a"], [1, 0])
    # harmonic: x = (a + b + y) / 3, y = x  ->  x = y = (a + b) / 2, then scaled
    # to the old rows' mean length
    mean_len = np.mean([1, 1, np.sqrt(2)])
    want = np.array([0.5, 0.5]) / np.linalg.norm([0.5, 0.5]) * mean_len
    np.testing.assert_allclose(v["x"], want, rtol=1e-4)
    np.testing.assert_allclose(v["y"], want, rtol=1e-4)
    np.testing.assert_array_equal(v["z"], [0, 0])          # the documented fallback
    assert out.metadata["new_nodes"] == {**out.metadata["new_nodes"], "method": "neighbours",
                                         "count": 4, "unreachable": 2}


def test_new_nodes_by_both_methods_keep_old_rows(setting, tmp_path):
    full, old, y, new, emb = setting
    rows = emb.rows_for(full.vocabulary)
    for method in ("neighbours", "train"):
        out = vg.embed_new_nodes(emb, full, method=method, seed=1)
        assert list(out.vocabulary.names) == list(full.vocabulary.names)
        np.testing.assert_array_equal(out.vectors[~new], emb.vectors[rows[~new]])
        np.testing.assert_array_equal(out.context[~new], emb.context[rows[~new]])
        assert accuracy_on_new(out.vectors, y, new) > 80, method
        assert out.metadata["new_nodes"]["count"] == new.sum()
    with pytest.raises(ParameterError, match="method"):
        vg.embed_new_nodes(emb, full, method="magic")


def test_cli_extend_and_embed_init(setting, tmp_path, capsys):
    from vitegraph.cli.main import main
    full, old, y, new, emb = setting
    src, dst, _ = full.edges()
    names = full.vocabulary.names
    edges = tmp_path / "grown.txt"
    edges.write_text("".join(f"{names[a]} {names[b]}\n" for a, b in zip(src, dst)))
    saved = tmp_path / "old.npz"
    emb.save(saved)
    out = tmp_path / "ext.npz"
    assert main(["extend", str(saved), str(edges), "-o", str(out)]) == 0
    assert f"{new.sum()} new node(s) embedded by neighbours" in capsys.readouterr().out
    assert vg.Embeddings.load(out).vectors.shape == (full.num_nodes, 32)
    out2 = tmp_path / "ext2.npz"
    assert main(["embed", str(edges), "--init", str(saved), "--freeze-existing", "--dim",
                 "32", "-o", str(out2), "-q"]) == 0
    got = vg.Embeddings.load(out2)
    r = emb.rows_for(got.vocabulary)
    keep = r >= 0
    np.testing.assert_array_equal(got.vectors[keep], emb.vectors[r[keep]])
    assert main(["embed", str(edges), "--freeze-existing", "-o", str(out2)]) != 0
    assert "--init" in capsys.readouterr().err


def test_estimator_fit_with_init_and_embed_new_nodes(setting):
    full, old, y, new, emb = setting
    est = vg.DeepWalk(dim=32, seed=5)
    with pytest.raises(ValueError, match="not fitted"):
        est.embed_new_nodes(full)
    est.fit(old)
    rows = est.embeddings_.rows_for(full.vocabulary)
    for method in ("neighbours", "train"):
        out = est.embed_new_nodes(full, method=method)
        np.testing.assert_array_equal(out.vectors[~new], est.embeddings_.vectors[rows[~new]])
    warm = vg.DeepWalk(dim=32, seed=6).fit(full, init=est.embeddings_, freeze_existing=True)
    np.testing.assert_array_equal(warm.embeddings_.vectors[~new],
                                  est.embeddings_.vectors[rows[~new]])
    assert warm.stats_.samples < est.stats_.samples / 4


def test_rows_for_matches_names_of_any_kind():
    e = vg.Embeddings(np.zeros((3, 2), np.float32), vg.Vocabulary(np.array(["a", "12", "c"]), 3))
    np.testing.assert_array_equal(e.rows_for(vg.Vocabulary(np.array(["c", "zz", "a"]), 3)),
                                  [2, -1, 0])
    # an int name matches the string of its digits, however long the strings are
    np.testing.assert_array_equal(e.rows_for(vg.Vocabulary(np.array([12, 12345]), 2)), [1, -1])
    ints = vg.Embeddings(np.zeros((3, 2), np.float32), vg.Vocabulary(np.array([7, 3, 9]), 3))
    np.testing.assert_array_equal(ints.rows_for(vg.Vocabulary(np.array([9, 4, 7, 3]), 4)),
                                  [2, -1, 0, 1])
    ident = vg.Embeddings(np.zeros((3, 2), np.float32))
    np.testing.assert_array_equal(ident.rows_for(vg.Vocabulary(np.array([2, 5, 0]), 3)),
                                  [2, -1, 0])
