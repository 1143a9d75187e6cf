"""Partitioned training on BlogCatalog: quality and speed against the number of
passes over the block schedule per pool (``PASS_ROW_SAMPLES``: samples per row
of a partition that one pass gives a block).

    python bench/partitioned_blogcatalog.py quality --seeds 0 1 2 3
    python bench/partitioned_blogcatalog.py speed --rounds 2

``quality``: first-order LINE, P = 1 against P = 4 with 2 workers at several
pass sizes, mean Micro-F1 over the seeds (10 splits each).  ``speed``: P = 4, 2
workers, first-order LINE and DeepWalk, wall time and each worker's busy share,
pass sizes interleaved, best of the rounds.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import vitegraph as vg
import vitegraph.config.train as engine_options
from vitegraph.apps import node_classification
from vitegraph.datasets import load_dataset

DATA = Path(os.environ.get("VITEGRAPH_DATA", Path(__file__).resolve().parents[1] / ".." /
                           "shared" / "data"))
PARTITIONED = {"num_partitions": 4, "num_workers": 2}


def quality(g, labels, seeds, row_samples):
    rows = [("P = 1", None, {})] + [(f"P = 4, {r} samples per row a pass", r, PARTITIONED)
                                    for r in row_samples]
    print("| first-order LINE | passes per pool | Micro-F1 10/50/90 |")
    print("|---|---|---|")
    for name, r, kw in rows:
        if r is not None:
            engine_options.PASS_ROW_SAMPLES = r
        scores = []
        for seed in seeds:
            m = vg.LINE(order=1, seed=seed, progress=False, **kw).fit(g)
            res = node_classification(m.embeddings_.vectors, labels.matrix, repeats=10)
            scores.append([s.micro_f1 for s in res.scores])
        mean = np.mean(scores, axis=0)
        print(f"| {name} | {m.config_.passes} | {' / '.join(f'{x:.2f}' for x in mean)} |",
              flush=True)


def speed(g, rounds, row_samples):
    best: dict = {}
    for _ in range(rounds):
        for r in row_samples:
            engine_options.PASS_ROW_SAMPLES = r
            for cls, kw in ((vg.LINE, {"order": 1}), (vg.DeepWalk, {})):
                m = cls(seed=0, progress=False, **PARTITIONED, **kw).fit(g)
                key = (r, cls.__name__)
                s = m.stats_
                if key not in best or s.seconds < best[key][1]:
                    best[key] = (m.config_.passes, s.seconds, s.worker_utilisation)
    print("| samples per row a pass | passes | model | best s | workers busy |")
    print("|---|---|---|---|---|")
    for (r, name), (passes, secs, util) in best.items():
        print(f"| {r} | {passes} | {name} | {secs:.1f} | "
              f"{' / '.join(f'{100 * u:.0f}%' for u in util)} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["quality", "speed"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--row-samples", type=int, nargs="+", default=[8, 4, 2])
    args = ap.parse_args()
    g, labels = load_dataset("blogcatalog", DATA)
    vg.DeepWalk(num_epoch=1, progress=False).fit(g)  # warm numba's cache
    if args.what == "quality":
        quality(g, labels, args.seeds, args.row_samples)
    else:
        speed(g, args.rounds, args.row_samples)


if __name__ == "__main__":
    main()
