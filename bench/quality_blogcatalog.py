"""Quality on BlogCatalog with default settings: DeepWalk, LINE, node2vec, and
DeepWalk and first-order LINE with P = 4 partitions and 2 workers against P = 1
(with the share of the training wall time each worker was busy).

Standard protocol: one-vs-rest logistic regression, top-k prediction, 5 seeded
splits at 10 / 50 / 90% labelled nodes (vitegraph.apps.node_classification).
Training seeds are given by ``--seeds``; the table shows the mean over them and
the per-seed Micro-F1 at 50%.

    python bench/quality_blogcatalog.py --seeds 0 1
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np

import vitegraph as vg
from vitegraph.apps import node_classification
from vitegraph.datasets import load_dataset

DATA = Path(os.environ.get("VITEGRAPH_DATA", Path(__file__).resolve().parents[1] / ".." /
                           "shared" / "data"))

CONTENDERS = {
    "DeepWalk (defaults)": (vg.DeepWalk, {}),
    "DeepWalk, P=4 partitions, 2 workers": (vg.DeepWalk, {"num_partitions": 4,
                                                          "num_workers": 2}),
    "LINE order 2 (defaults)": (vg.LINE, {}),
    "LINE order 1": (vg.LINE, {"order": 1}),
    "LINE order 1, P=4 partitions, 2 workers": (vg.LINE, {"order": 1, "num_partitions": 4,
                                                          "num_workers": 2}),
    "node2vec p=0.25 q=0.25": (vg.Node2Vec, {"p": 0.25, "q": 0.25}),
    "node2vec p=4 q=2": (vg.Node2Vec, {"p": 4.0, "q": 2.0}),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", nargs="*", default=None, help="substrings of contender names")
    args = ap.parse_args()
    g, labels = load_dataset("blogcatalog", DATA)  # names the folder if it is missing
    vg.DeepWalk(num_epoch=1, progress=False).fit(g)  # warm numba's cache
    print(f"# BlogCatalog quality, {datetime.date.today()}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, seeds {args.seeds}, {args.repeats} splits")
    print("| model | train s | M samples/s | Micro-F1 10/50/90 | Macro-F1 10/50/90 | "
          "Micro-F1 50% per seed | workers busy |")
    print("|---|---|---|---|---|---|---|")
    for name, (cls, kw) in CONTENDERS.items():
        if args.only and not any(o in name for o in args.only):
            continue
        mi, ma, secs, rate, busy = [], [], [], [], []
        for seed in args.seeds:
            t = time.perf_counter()
            m = cls(seed=seed, progress=False, **kw).fit(g)
            secs.append(time.perf_counter() - t)
            rate.append(m.stats_.samples / secs[-1] / 1e6)
            busy.extend(getattr(m.stats_, "worker_utilisation", []))
            r = node_classification(m.embeddings_.vectors, labels.matrix, repeats=args.repeats)
            mi.append([s.micro_f1 for s in r.scores])
            ma.append([s.macro_f1 for s in r.scores])
        per_seed = ", ".join(f"{row[1]:.2f}" for row in mi)
        mi, ma = np.mean(mi, axis=0), np.mean(ma, axis=0)
        print(f"| {name} | {min(secs):.1f} | {max(rate):.1f} | "
              f"{' / '.join(f'{x:.1f}' for x in mi)} | {' / '.join(f'{x:.1f}' for x in ma)} | "
              f"{per_seed} | {_busy(busy, kw)} |", flush=True)


def _busy(shares, kw) -> str:
    """Lowest busy share of a worker (partitioned runs only: with P = 1 the
    threads share one block)."""
    if not shares or kw.get("num_partitions", 1) == 1:
        return ""
    return f"{100 * min(shares):.0f}% (min)"


if __name__ == "__main__":
    main()
