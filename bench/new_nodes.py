"""New nodes without retraining (issue 15): hold out a share of a labelled
graph's nodes with their edges, train on the rest, add them back, and embed
them (a) by a short run that trains only their rows, the others frozen, and
(b) in closed form from their neighbours; compare with a full retrain.

Quality: one-vs-rest logistic regression trained on the old nodes' labels,
tested on the new nodes (Micro-/Macro-F1, top-k prediction as the standard
protocol).  Times: wall seconds of each method's call (same run, interleaved
over seeds).

    python bench/new_nodes.py --dataset blogcatalog --seeds 0 1
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import vitegraph as vg
from vitegraph.apps.classification import _evaluate_split


def holdout_graphs(g, fraction, seed):
    rng = np.random.default_rng(seed)
    n = g.num_nodes
    new = np.zeros(n, dtype=bool)
    new[rng.choice(n, int(round(fraction * n)), replace=False)] = True
    src, dst, _ = g.edges()
    names = g.vocabulary.names
    keep = ~(new[src] | new[dst])
    old_ids = np.flatnonzero(~new)
    old_graph = vg.from_edges(np.stack([names[src[keep]], names[dst[keep]]], 1),
                              nodes=names[old_ids])
    return new, old_graph


def f1_on_new(x, labels, new, seed):
    y = labels.matrix
    y = np.asarray(y.todense() if hasattr(y, "todense") else y).astype(bool)
    has = y.any(axis=1)
    train = np.flatnonzero(~new & has)
    test = np.flatnonzero(new & has)
    micro, macro, _ = _evaluate_split(x, y, train, test, 1.0, "newton", seed)
    return 100 * micro, 100 * macro


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="blogcatalog")
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                       "shared", "data"))
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--model", default="deepwalk")
    args = ap.parse_args(argv)
    folder = os.path.join(args.data_dir, args.dataset)
    g = vg.read_edgelist(os.path.join(folder, "edges.txt"))
    labels = vg.read_labels(os.path.join(folder, "labels.txt"), g)
    rows = []
    for seed in args.seeds:
        new, old_graph = holdout_graphs(g, args.fraction, seed)
        old = vg.train(old_graph, args.model, seed=seed, progress=False).embeddings()
        t = time.perf_counter()
        full = vg.train(g, args.model, seed=seed, progress=False).embeddings()
        t_full = time.perf_counter() - t
        t = time.perf_counter()
        a = vg.train(g, args.model, seed=seed, progress=False, init=old,
                     freeze_existing=True).embeddings()
        t_a = time.perf_counter() - t
        t = time.perf_counter()
        b = vg.embed_new_nodes(old, g, method="neighbours")
        t_b = time.perf_counter() - t
        ids = a.rows_for(g.vocabulary)
        assert (ids == np.arange(g.num_nodes)).all()
        same = np.array_equal(a.vectors[~new], old.vectors[old.rows_for(g.vocabulary)[~new]])
        for name, emb, secs in (("full retrain", full, t_full), ("(a) train new rows", a, t_a),
                                ("(b) neighbours", b, t_b)):
            x = emb.vectors[emb.rows_for(g.vocabulary)]
            micro, macro = f1_on_new(x, labels, new, seed)
            rows.append((seed, name, micro, macro, secs, same if name.startswith("(a)") else ""))
            print(f"seed {seed} {name:20s} Micro-F1 {micro:6.2f} Macro-F1 {macro:6.2f} "
                  f"{secs:7.2f} s {rows[-1][5]}", flush=True)
    print(f"\n{args.dataset}, {args.model}, {args.fraction:.0%} of the nodes held out; "
          f"seeds {args.seeds}; {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")
    print("| method | Micro-F1 (new nodes) | Macro-F1 | seconds (best) |")
    print("|---|---|---|---|")
    for name in ("full retrain", "(a) train new rows", "(b) neighbours"):
        r = [x for x in rows if x[1] == name]
        print(f"| {name} | {np.mean([x[2] for x in r]):.2f} | {np.mean([x[3] for x in r]):.2f} "
              f"| {min(x[4] for x in r):.2f} |")


if __name__ == "__main__":
    main()
