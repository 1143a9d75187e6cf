"""LargeVis at scale: 10^6 points of dimension 50 (synthetic clusters) on this machine.

Reports the time of each stage (scaling and KNN search, perplexity weights and
symmetrisation, layout training, the picture), the peak memory of the process,
the KNN search's recall@K on 1,000 points (which the fit measures itself), and the layout's quality on a sample
of 20,000 points (accuracy of a 10-NN classifier of the cluster labels, 5-fold).

    python bench/largevis_scale.py --n 1000000 --k 40 --out bench/_work/scale
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import vitegraph as vg  # noqa: E402
from knn_methods import clusters  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=50)
    ap.add_argument("--k", type=int, default=40)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--out", default="bench/_work/scale")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    X, y = clusters(args.n, args.d)
    res = {"n": args.n, "d": args.d, "k": args.k, "generate_s": time.perf_counter() - t}
    t = time.perf_counter()
    est = vg.LargeVis(n_neighbors=args.k, num_epoch=args.epochs, seed=0, progress=True)
    est.fit(X)
    res["total_fit_s"] = time.perf_counter() - t
    res.update({f"knn_{k}": v for k, v in est.knn_stats_.items()})
    st = est.stats_
    res.update(layout_s=st.seconds, layout_setup_s=st.setup_seconds, samples=st.samples_done,
               samples_per_s=st.samples_done / max(st.seconds - st.setup_seconds, 1e-9),
               edges=est.knn_graph_.num_edges, peak_rss_mib_fit=peak_mib())
    print(json.dumps(res), flush=True)
    Y = est.embedding_
    np.save(out / "layout.npy", Y)
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    pick = np.random.default_rng(0).choice(args.n, min(20_000, args.n), replace=False)
    res["knn_acc_20k"] = float(cross_val_score(KNeighborsClassifier(10), Y[pick], y[pick],
                                               cv=5).mean())
    t = time.perf_counter()
    from vitegraph.apps.plot import plot_layout
    plot_layout(Y, out / "layout.png", labels=(y % 20).astype(str),
                title=f"{args.n:,} points, 100 clusters (colours repeat)")
    res["picture_s"] = time.perf_counter() - t
    res["peak_rss_mib"] = peak_mib()
    print(json.dumps(res, indent=1))
    (out / "scale.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
