"""Approximate KNN libraries for LargeVis graphs: build time and recall@K.

pynndescent (NN-descent), hnswlib (HNSW graph) and faiss-cpu (HNSW, flat
index) on the same data, same run, interleaved, on all cores; recall@K against
exact neighbours on 1,000 sampled points.  Run in a venv holding the three
(they are not vitegraph dependencies; vitegraph uses pynndescent):

    bench/_work/viz-venv/bin/pip install pynndescent==0.7.0 hnswlib==0.8.0 faiss-cpu==1.15.1
    bench/_work/viz-venv/bin/python bench/knn_methods.py --data mnist --k 200
    bench/_work/viz-venv/bin/python bench/knn_methods.py --data clusters --n 200000 --k 40

Each library's first call (numba compilation for pynndescent) is a warm-up on
2,000 points, reported apart.
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("VITEGRAPH_DATA", HERE.parent.parent / "shared" / "data"))


def clusters(n, d=50, centres=100, seed=0):
    """Gaussian clusters of varied spread in d dimensions (the scale test's data)."""
    rng = np.random.default_rng(seed)
    c = rng.normal(0, 4, (centres, d)).astype(np.float32)
    spread = rng.uniform(0.5, 2.0, centres).astype(np.float32)
    y = rng.integers(0, centres, n)
    return c[y] + rng.normal(0, 1, (n, d)).astype(np.float32) * spread[y, None], y


def mnist():
    with gzip.open(DATA / "mnist_test" / "t10k-images-idx3-ubyte.gz") as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32)
    return X


def exact_rows(X, rows, k):
    sq = np.einsum("ij,ij->i", X, X)
    out = []
    for lo in range(0, rows.size, 256):
        r = rows[lo:lo + 256]
        d = sq[r, None] + sq[None, :] - 2.0 * X[r] @ X.T
        d[np.arange(r.size), r] = np.inf
        out.append(np.sort(np.partition(d, k - 1, axis=1)[:, :k], axis=1))
    return np.concatenate(out)


def recall(X, ind, rows, truth_d):
    k = truth_d.shape[1]
    kth = truth_d[:, -1]
    mine = X[ind[rows]] - X[rows][:, None, :]
    d = np.einsum("nkd,nkd->nk", mine, mine)
    return float((d <= kth[:, None] * (1 + 1e-4) + 1e-4).sum() / (rows.size * k))


def drop_self(ind, k):
    n = ind.shape[0]
    own = ind == np.arange(n)[:, None]
    drop = np.where(own.any(1), own.argmax(1), ind.shape[1] - 1)
    keep = np.ones(ind.shape, bool)
    keep[np.arange(n), drop] = False
    return ind[keep].reshape(n, ind.shape[1] - 1)[:, :k]


def run_pynndescent(X, k, threads):
    from pynndescent import NNDescent
    idx = NNDescent(X, n_neighbors=k + 1, random_state=0, n_jobs=threads, low_memory=True,
                    compressed=True)
    return drop_self(idx.neighbor_graph[0], k)


def run_hnswlib(X, k, threads, ef=None):
    import hnswlib
    p = hnswlib.Index(space="l2", dim=X.shape[1])
    p.init_index(max_elements=X.shape[0], ef_construction=200, M=16, random_seed=0)
    p.set_num_threads(threads)
    p.add_items(X)
    p.set_ef(ef or max(2 * k, 100))
    ind, _ = p.knn_query(X, k=k + 1)
    return drop_self(ind, k)


def run_faiss(X, k, threads):
    import faiss
    faiss.omp_set_num_threads(threads)
    index = faiss.IndexHNSWFlat(X.shape[1], 16)
    index.hnsw.efConstruction = 200
    index.add(X)
    index.hnsw.efSearch = max(2 * k, 100)
    _, ind = index.search(X, k + 1)
    return drop_self(ind, k)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=("mnist", "clusters"), default="mnist")
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--k", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--methods", nargs="+", default=["pynndescent", "hnswlib", "faiss"])
    args = ap.parse_args()
    X = mnist() if args.data == "mnist" else clusters(args.n)[0]
    X = np.ascontiguousarray(X, dtype=np.float32)
    threads = os.cpu_count() or 1
    rows = np.random.default_rng(1).choice(X.shape[0], 1000, replace=False)
    t = time.perf_counter()
    truth = exact_rows(X, rows, args.k)
    print(f"{args.data}: {X.shape}, K={args.k}, {threads} threads; exact on 1000 rows "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    fns = {"pynndescent": run_pynndescent, "hnswlib": run_hnswlib, "faiss": run_faiss}
    warm = {}
    for m in args.methods:
        t = time.perf_counter()
        fns[m](X[:2000], 10, threads)
        warm[m] = time.perf_counter() - t
    res = {m: [] for m in args.methods}
    for _ in range(args.rounds):
        for m in args.methods:
            t = time.perf_counter()
            ind = fns[m](X, args.k, threads)
            s = time.perf_counter() - t
            res[m].append((s, recall(X, ind, rows, truth)))
            print(m, f"{s:.1f} s recall {res[m][-1][1]:.4f}", flush=True)
    print("\n| library | build + query s (best) | recall@K | warm-up s |")
    print("|---|---|---|---|")
    for m, r in res.items():
        print(f"| {m} | {min(s for s, _ in r):.1f} | {np.mean([x for _, x in r]):.4f} | "
              f"{warm[m]:.1f} |")


if __name__ == "__main__":
    main()
