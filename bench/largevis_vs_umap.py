"""LargeVis layouts against umap-learn and openTSNE: quality, time, memory.

Each contender runs in a fresh process per round (its own virtual environment
for the peers), warm: the process first lays out 500 points (numba's one-time
compilation; its time is reported apart), then the whole data, timed; peak
memory is the process's (``/usr/bin/time -v``).  Rounds are interleaved (A B C
A B C ...), one per seed.  Quality, computed here from the saved layouts: the
accuracy of a 10-nearest-neighbour classifier in the layout (5-fold
cross-validated) and scikit-learn's trustworthiness at k = 10.

    python -m venv bench/_work/viz-venv
    bench/_work/viz-venv/bin/pip install umap-learn==0.5.12 opentsne==1.0.4
    python bench/largevis_vs_umap.py --peer-python bench/_work/viz-venv/bin/python \\
        --data mnist --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _timed import run_timed  # noqa: E402
DATA = Path(os.environ.get("VITEGRAPH_DATA", HERE.parent.parent / "shared" / "data"))

RUNNER = r'''
import json, sys, time
import numpy as np
a = json.loads(sys.argv[1])
X = np.load(a["x"])
def make(seed):
    if a["who"] == "vitegraph":
        import vitegraph as vg
        return lambda Z: vg.LargeVis(seed=seed, progress=False, **a["options"]).fit_transform(Z)
    if a["who"] == "umap":
        import umap
        return lambda Z: umap.UMAP(random_state=seed, n_jobs=a["threads"], **a["options"]).fit_transform(Z)
    from openTSNE import TSNE
    return lambda Z: np.asarray(TSNE(random_state=seed, n_jobs=a["threads"], **a["options"]).fit(Z))
t = time.perf_counter()
make(a["seed"] + 1000)(X[:500])
warm = time.perf_counter() - t
t = time.perf_counter()
Y = make(a["seed"])(X)
wall = time.perf_counter() - t
np.save(a["out"], np.asarray(Y, dtype=np.float32))
print("RESULT", json.dumps({"fit_s": wall, "warmup_s": warm}))
'''


def load(name: str):
    if name == "mnist":
        d = DATA / "mnist_test"
        with gzip.open(d / "t10k-images-idx3-ubyte.gz") as f:
            X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
        with gzip.open(d / "t10k-labels-idx1-ubyte.gz") as f:
            y = np.frombuffer(f.read(), np.uint8, offset=8)
        return X.astype(np.float32), y.astype(np.int64)
    if name == "digits":
        a = np.loadtxt(DATA / "digits" / "digits.csv.gz", delimiter=",")
        return a[:, :-1].astype(np.float32), a[:, -1].astype(np.int64)
    raise SystemExit(f"unknown data {name!r}")


def quality(X, Y, labels, seed=0):
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    acc = cross_val_score(KNeighborsClassifier(10), Y, labels, cv=cv).mean()
    return float(acc), float(trustworthiness(X, Y, n_neighbors=10))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", required=True)
    ap.add_argument("--data", default="mnist", choices=("mnist", "digits"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--contenders", nargs="+", default=["vitegraph", "umap", "opentsne"])
    ap.add_argument("--options", default="{}",
                    help="JSON options of vg.LargeVis (default: its defaults)")
    args = ap.parse_args()
    X, labels = load(args.data)
    threads = os.cpu_count() or 1
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    rows = {c: [] for c in args.contenders}
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", X)
        for seed in args.seeds:
            for who in args.contenders:
                a = dict(x=str(Path(tmp) / "x.npy"), out=str(Path(tmp) / "y.npy"), who=who,
                         seed=seed, threads=threads,
                         options=json.loads(args.options) if who == "vitegraph" else {})
                python = sys.executable if who == "vitegraph" else args.peer_python
                r = run_timed(python, RUNNER, a, env if who == "vitegraph" else None)
                r["knn_acc"], r["trustworthiness"] = quality(X, np.load(a["out"]), labels)
                r["seed"] = seed
                rows[who].append(r)
                print(who, json.dumps(r), flush=True)
    print(f"\n{args.data}: {X.shape[0]} x {X.shape[1]}, seeds {args.seeds}, {threads} threads\n")
    print("| contender | 10-NN accuracy (mean) | trustworthiness k=10 (mean) | fit s (best) | "
          "fit s (mean) | compile s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for who, rs in rows.items():
        f = [r["fit_s"] for r in rs]
        print(f"| {who} | {np.mean([r['knn_acc'] for r in rs]):.4f} | "
              f"{np.mean([r['trustworthiness'] for r in rs]):.4f} | {min(f):.1f} | "
              f"{np.mean(f):.1f} | {np.mean([r['warmup_s'] for r in rs]):.1f} | "
              f"{max(r['peak_rss_mib'] for r in rs):.0f} |")
    if "vitegraph" in rows:
        best = min(r["fit_s"] for r in rows["vitegraph"])
        for who in rows:
            if who != "vitegraph":
                print(f"{who} / vitegraph (best fit time): "
                      f"{min(r['fit_s'] for r in rows[who]) / best:.2f}x")


if __name__ == "__main__":
    main()
