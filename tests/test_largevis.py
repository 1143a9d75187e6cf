"""LargeVis: KNN graphs, perplexity weights, the layout kernel, the estimator,
reading vectors and `vitegraph visualize`."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest

import vitegraph as vg
from vitegraph.errors import InputFormatError, ParameterError
from vitegraph.graph import knn as K
from vitegraph.kernels import layout_numba as L
from vitegraph.sampling.alias import build_alias

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def blobs(n=600, d=20, centres=3, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.normal(0, 6, (centres, d))
    y = rng.integers(0, centres, n)
    return (c[y] + rng.normal(0, 1, (n, d))).astype(np.float32), y


# ---------------------------------------------------------------- KNN and weights

@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_knn_against_brute_force(metric):
    from sklearn.neighbors import NearestNeighbors
    X, _ = blobs(300, 8)
    ind, dist = K.knn_exact(X, 7, metric, block=64)
    nn = NearestNeighbors(n_neighbors=8, metric=metric).fit(X)
    d_ref, i_ref = nn.kneighbors(X)
    np.testing.assert_allclose(dist, d_ref[:, 1:], rtol=1e-4, atol=1e-4)
    assert (ind == i_ref[:, 1:]).mean() > 0.999      # ties may swap
    assert not (ind == np.arange(300)[:, None]).any()


@pytest.mark.slow       # pynndescent compiles its numba functions: about a minute
def test_nndescent_recall_and_the_recall_measure():
    X, _ = blobs(2000, 16)
    ind, dist = K.knn(X, 15, method="nndescent")
    assert ind.shape == (2000, 15) and not (ind == np.arange(2000)[:, None]).any()
    assert np.all(np.diff(dist, axis=1) >= -1e-5)
    assert K.knn_recall(X, ind, sample=300) > 0.95
    exact, _ = K.knn(X, 15, method="exact")
    assert K.knn_recall(X, exact, sample=300) == 1.0
    wrong = np.random.default_rng(0).integers(0, 2000, exact.shape)
    assert K.knn_recall(X, wrong, sample=300) < 0.1
    g, stats = K.knn_graph(X, n_neighbors=15, perplexity=5.0, method="nndescent")
    assert stats["method"] == "nndescent" and stats["recall"] > 0.95


def test_perplexity_weights_meet_the_perplexity():
    rng = np.random.default_rng(1)
    d = np.sort(rng.uniform(0.5, 3.0, (50, 30)), axis=1)
    P = K.perplexity_weights(d, 10.0)
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-5)
    H = -(P * np.log(np.maximum(P, 1e-30))).sum(1)
    np.testing.assert_allclose(np.exp(H), 10.0, rtol=1e-3)
    assert np.all(np.diff(P, axis=1) <= 1e-7)       # nearer, heavier
    with pytest.raises(ParameterError, match="perplexity"):
        K.perplexity_weights(d, 31.0)


def test_knn_graph_weights_are_the_mean_of_both_directions():
    X, _ = blobs(120, 5)
    g, stats = K.knn_graph(X, n_neighbors=6, perplexity=3.0, scale="none")
    ind, dist = K.knn_exact(X, 6)
    P = K.perplexity_weights(dist, 3.0)
    dense = np.zeros((120, 120))
    dense[np.repeat(np.arange(120), 6), ind.ravel()] = P.ravel()
    want = (dense + dense.T) / 2
    got = np.zeros((120, 120))
    rows = np.repeat(np.arange(120), np.diff(g.indptr))
    got[rows, g.indices] = g.weights
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert stats["method"] == "exact" and not g.directed


def test_scaling_rules():
    X = np.array([[0.0, 10.0], [2.0, 30.0], [4.0, 20.0]], np.float32)
    m = K.scale_vectors(X, "maxabs")
    np.testing.assert_allclose(m.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(np.abs(m).max(0), 1.0)
    s = K.scale_vectors(X, "standard")
    np.testing.assert_allclose(s.std(0), 1.0, rtol=1e-5)
    assert K.scale_vectors(X, "none") is X
    assert K.choose_method(10_000, 784) == "exact"
    assert K.choose_method(1_000_000, 50) == "nndescent"


@pytest.mark.parametrize("bad,match", [
    (np.zeros(10), "2-D"),
    (np.array([[1.0, np.nan], [0.0, 1.0], [1.0, 1.0]]), "NaN"),
    (np.array([["a", "b"]]), "numbers"),
])
def test_bad_vectors_are_named(bad, match):
    with pytest.raises(ParameterError, match=match):
        vg.LargeVis(progress=False).fit(bad)


def test_fewer_points_than_neighbours():
    X, _ = blobs(50, 4)
    with pytest.raises(ParameterError, match="n_neighbors"):
        vg.LargeVis(progress=False).fit(X)            # K = 200 by default


# ---------------------------------------------------------------- the kernel

def _reference(y, h, t, negs, gamma, lr, clip):
    """One sample at a time in float64 (SGD), as the kernel's docstring says."""
    y = y.astype(np.float64)
    for s in range(len(h)):
        i, j = h[s], t[s]
        u = y[i] - y[j]
        g = np.clip(2 * u / (1 + u @ u), -clip, clip)
        gi = g.copy()
        y[j] += lr * g
        for e in negs[s]:
            u = y[i] - y[e]
            d2 = u @ u
            g = np.clip(-2 * gamma * u / ((0.1 + d2) * (1 + d2)), -clip, clip)
            gi += g
            y[e] += lr * g
        y[i] -= lr * gi
    return y


@pytest.mark.parametrize("dim", [2, 3])
def test_layout_kernel_against_a_float64_reference(dim):
    rng = np.random.default_rng(2)
    n, N, Kn = 40, 60, 4
    y0 = rng.normal(0, 1, (n, dim)).astype(np.float32)
    h = rng.integers(0, n, N).astype(np.int32)
    t = ((h + 1 + rng.integers(0, n - 1, N)) % n).astype(np.int32)
    negs = np.stack([(h + 1 + rng.integers(0, n - 1, N)) % n for _ in range(Kn)], 1)
    y = y0.copy()
    prob, alias = build_alias(np.ones(n))
    stats = L.train_block(y, y, h, t, prob, alias, num_negative=Kn, negative_weight=3.0,
                          lr_start=0.05, lr_end=0.05, optimizer="sgd",
                          states=np.zeros(1, np.uint64), negatives=negs, clip=5.0)
    ref = _reference(y0, h, t, negs, 3.0, 0.05, 5.0)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    assert stats.num_samples == N and np.isfinite(stats.loss)


def test_adam_kernel_moves_rows_by_about_the_learning_rate():
    """Lazy Adam's first step of a row is lr * g / |g| ~ lr (bias uncorrected:
    (1 - b1) / sqrt(1 - b2) = 3.16 lr)."""
    y = np.array([[0.0, 0.0], [1.0, 0.0]], np.float32)
    m = [np.zeros_like(y) for _ in range(2)]
    prob, alias = build_alias(np.ones(2))
    L.train_block(y, y, np.array([0], np.int32), np.array([1], np.int32), prob, alias,
                  num_negative=1, negative_weight=3.0, lr_start=0.01, lr_end=0.01,
                  optimizer="adam", moments=(m[0], m[1], m[0], m[1]),
                  states=np.zeros(1, np.uint64), negatives=np.array([[1]]))
    # row 1: attracted then repelled in the same direction component; row 0 moves
    assert 0.0 < abs(y[0, 0]) < 0.1 and abs(y[1, 0] - 1.0) < 0.1


# ---------------------------------------------------------------- the estimator

def test_largevis_separates_clusters():
    X, y = blobs(600, 20, 4)
    est = vg.LargeVis(n_neighbors=30, perplexity=10, num_epoch=30, progress=False, seed=3)
    Y = est.fit_transform(X)
    assert Y.shape == (600, 2) and np.isfinite(Y).all()
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    assert cross_val_score(KNeighborsClassifier(10), Y, y, cv=5).mean() > 0.97
    assert est.knn_stats_["method"] == "exact"
    # the KNN graph is reusable, and 3-D works
    Z = vg.LargeVis(dim=3, num_epoch=10, progress=False).fit_transform(est.knn_graph_)
    assert Z.shape == (600, 3)


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "digits").exists(), reason="shared/data/digits is absent")
def test_digits_layout_quality():
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    a = np.loadtxt(DATA / "digits" / "digits.csv.gz", delimiter=",")
    X, y = a[:, :-1].astype(np.float32), a[:, -1].astype(int)
    Y = vg.LargeVis(progress=False, seed=0).fit_transform(X)
    acc = cross_val_score(KNeighborsClassifier(10), Y, y, cv=5).mean()
    # measured 0.97 / 0.99 (UMAP's defaults: about the same, docs/benchmarks.md)
    assert acc > 0.95
    assert trustworthiness(X, Y, n_neighbors=10) > 0.97


# ---------------------------------------------------------------- reading and the CLI

def test_read_vectors_formats(tmp_path):
    from vitegraph.vectors import read_row_labels, read_vectors
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "a.npy", X)
    assert np.array_equal(read_vectors(tmp_path / "a.npy")[0], X)
    np.savez(tmp_path / "b.npz", X=X, labels=np.array([1, 2, 1, 2]))
    x, lab, _ = read_vectors(tmp_path / "b.npz")
    assert np.array_equal(x, X) and list(lab) == [1, 2, 1, 2]
    (tmp_path / "c.csv").write_text("f1,f2,label\n1,2,a\n3,4,b\n")
    x, lab, _ = read_vectors(tmp_path / "c.csv", label_column=-1)
    assert x.tolist() == [[1, 2], [3, 4]] and list(lab) == ["a", "b"]
    with gzip.open(tmp_path / "d.tsv.gz", "wt") as f:
        f.write("1\t2\n3\t4\n5\n")
    with pytest.raises(InputFormatError, match="line 3"):
        read_vectors(tmp_path / "d.tsv.gz")
    (tmp_path / "e.csv").write_text("1,2\n3,x\n")
    with pytest.raises(InputFormatError, match="line 2"):
        read_vectors(tmp_path / "e.csv")
    with pytest.raises(InputFormatError, match="no such file"):
        read_vectors(tmp_path / "missing.npy")
    (tmp_path / "l.txt").write_text("a\nb\nc\n")
    with pytest.raises(ParameterError, match="one label per row"):
        read_row_labels(tmp_path / "l.txt", 4)


def test_visualize_command(tmp_path, capsys):
    from vitegraph.cli.main import main
    X, y = blobs(300, 10, 3)
    np.save(tmp_path / "x.npy", X)
    (tmp_path / "y.txt").write_text("".join(f"c{v}\n" for v in y))
    out = tmp_path / "pics" / "layout.png"
    rc = main(["visualize", str(tmp_path / "x.npy"), "-o", str(out), "--labels",
               str(tmp_path / "y.txt"), "--n-neighbors", "20", "--perplexity", "8",
               "--num-epoch", "10", "-q"])
    assert rc == 0
    assert out.stat().st_size > 10_000
    z = np.load(tmp_path / "pics" / "layout.coords.npz")
    assert z["coordinates"].shape == (300, 2) and list(z["labels"][:3]) == [f"c{v}" for v in
                                                                           y[:3]]
    # wrong labels, a bad image name: clear errors, nothing written
    (tmp_path / "short.txt").write_text("a\nb\n")
    assert main(["visualize", str(tmp_path / "x.npy"), "-o", str(tmp_path / "w.png"),
                 "--labels", str(tmp_path / "short.txt"), "-q"]) == 1
    assert "one label per row" in capsys.readouterr().err
    assert not (tmp_path / "w.png").exists() and not (tmp_path / "w.coords.npz").exists()
    # the coordinates never overwrite the input
    import shutil
    shutil.copy(tmp_path / "x.npy", tmp_path / "in.coords.npz")
    assert main(["visualize", str(tmp_path / "in.coords.npz"), "-o", str(tmp_path / "in.png"),
                 "-q"]) == 1
    assert "overwrite" in capsys.readouterr().err
    assert main(["visualize", str(tmp_path / "x.npy"), "-o", str(tmp_path / "w.xyz"),
                 "-q"]) == 1


@pytest.mark.slow
def test_visualize_3d_with_a_rotating_view(tmp_path):
    from vitegraph.cli.main import main
    X, y = blobs(200, 10, 3)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    out = tmp_path / "l3.png"
    assert main(["visualize", str(tmp_path / "x.npy"), "-o", str(out), "--labels",
                 str(tmp_path / "y.npy"), "--dim", "3", "--rotate", "--n-neighbors", "15",
                 "--perplexity", "5", "--num-epoch", "5", "-q"]) == 0
    assert out.exists() and (tmp_path / "l3.gif").stat().st_size > 10_000
    assert math.isfinite(float(np.load(tmp_path / "l3.coords.npz")["coordinates"].sum()))


# ---------------------------------------------------------------- torch and Triton kernels

def _parity_problem(dim, seed=4, n=40, N=30, Kn=3):
    rng = np.random.default_rng(seed)
    y0 = rng.normal(0, 1, (n, dim)).astype(np.float32)
    h = rng.integers(0, n, N)
    t = (h + 1 + rng.integers(0, n - 1, N)) % n
    negs = np.zeros((N, Kn), np.int64)
    for s in range(N):      # distinct rows within a sample
        pool = np.setdiff1d(np.arange(n), [h[s], t[s]])
        negs[s] = rng.choice(pool, Kn, replace=False)
    return y0, h, t, negs


@pytest.mark.parametrize("backend", ["torch", "triton"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_torch_and_triton_layout_kernels_match_numba(backend, optimizer):
    torch = pytest.importorskip("torch")
    if backend == "triton":
        pytest.importorskip("triton")
        from vitegraph.kernels import layout_triton as kt
        device = "cuda" if torch.cuda.is_available() else "cpu"
        if not kt.available(device)[0]:
            pytest.skip(kt.available(device)[1])
    else:
        from vitegraph.kernels import layout_torch as kt
        device = "cpu"
    y0, h, t, negs = _parity_problem(2)
    kw = dict(num_negative=negs.shape[1], negative_weight=3.0, lr_start=0.05, lr_end=0.01,
              optimizer=optimizer, clip=5.0)
    prob, alias = build_alias(np.ones(y0.shape[0]))
    a = y0.copy()
    m = [np.zeros_like(a) for _ in range(2)]
    s1 = L.train_block(a, a, h.astype(np.int32), t.astype(np.int32), prob, alias,
                       moments=(m[0], m[1], m[0], m[1]), states=np.zeros(1, np.uint64),
                       negatives=negs, **kw)
    b = torch.tensor(y0, device=device)
    tm = [torch.zeros_like(b) for _ in range(2)]
    extra = dict(block=1) if backend == "triton" else dict(batch_size=1)
    s2 = kt.train_block(b, b, torch.tensor(h), torch.tensor(t), torch.tensor(prob),
                        torch.tensor(alias), moments=(tm[0], tm[1], tm[0], tm[1]),
                        negatives=torch.tensor(negs), **extra, **kw)
    if backend == "triton" and device == "cuda":
        pass        # programs run concurrently there: the order differs
    else:
        tol = dict(rtol=1e-4, atol=1e-5) if optimizer == "sgd" else dict(rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(b.cpu().numpy(), a, **tol)
    assert not np.allclose(a, y0)
    # numba estimates its loss on every 8th sample; the others sum every sample
    assert s2.loss == pytest.approx(s1.loss, rel=0.5)


@pytest.mark.slow
def test_largevis_on_the_torch_backend():
    """Batched: 1,000 points, batches capped at 1000 / 32 samples (numba 0.983,
    torch 0.953 measured)."""
    pytest.importorskip("torch")
    X, y = blobs(1000, 20, 4)
    est = vg.LargeVis(n_neighbors=30, perplexity=10, num_epoch=20, progress=False, seed=1,
                      backend="torch", device="cpu")
    Y = est.fit_transform(X)
    assert est.config_.backend == "torch"
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    assert cross_val_score(KNeighborsClassifier(10), Y, y, cv=5).mean() > 0.9


def test_largevis_on_the_triton_backend():
    """Through the engine (the interpreter is too slow for a quality run on the
    CPU: 143 s for 5 epochs of 1,000 points; with a GPU, quality as numba's)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("triton")
    from vitegraph.kernels import layout_triton as kt
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if not kt.available(device)[0]:
        pytest.skip(kt.available(device)[1])
    cuda = device == "cuda"
    X, y = blobs(1000 if cuda else 120, 20, 4)
    est = vg.LargeVis(n_neighbors=30 if cuda else 10, perplexity=10 if cuda else 4,
                      num_epoch=20 if cuda else 1, progress=False, seed=1, backend="triton",
                      device=device)
    Y = est.fit_transform(X)
    assert est.config_.backend == "triton" and np.isfinite(Y).all()
    assert est.stats_.samples_done == est.stats_.samples
    if cuda:
        from sklearn.model_selection import cross_val_score
        from sklearn.neighbors import KNeighborsClassifier
        assert cross_val_score(KNeighborsClassifier(10), Y, y, cv=5).mean() > 0.9
