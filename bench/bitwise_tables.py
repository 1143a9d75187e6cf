"""Bitwise before/after check of trained tables: deterministic runs (one worker
thread, one sampler thread) of every model on a planted-partition graph, saved
by one source tree and compared with another's.

    PYTHONPATH=/tmp/vg_old/src python bench/bitwise_tables.py --save bench/_work/old.npz
    PYTHONPATH=src python bench/bitwise_tables.py --save bench/_work/new.npz
    python bench/bitwise_tables.py --compare bench/_work/old.npz bench/_work/new.npz

Run each ``--save`` twice and keep the second file: a fresh numba compile and a
cached one can differ in the last bit (fastmath contractions), so compare runs
that both load numba's cache.
"""

from __future__ import annotations

import argparse

import numpy as np

RUNS = {
    "deepwalk": dict(model="deepwalk"),
    "line order 2": dict(model="line"),
    "line order 1": dict(model="line", order=1),
    "node2vec p=4 q=0.5": dict(model="node2vec", p=4.0, q=0.5),
    "deepwalk 3 negatives": dict(model="deepwalk", num_negative=3),
    "deepwalk torch (CPU)": dict(model="deepwalk", backend="torch", batch_size=512),
    "deepwalk P=2": dict(model="deepwalk", num_partitions=2),
}


def save(path: str) -> None:
    import vitegraph as vg
    from vitegraph.datasets import planted_partition
    g, _ = planted_partition(2000, 8, 8, 4, seed=7)
    out = {}
    for name, kw in RUNS.items():
        cfg = vg.TrainConfig(dim=24, num_epoch=30, num_workers=1, num_sampler_threads=1,
                             progress=False, episode_size=20000, seed=3, **kw)
        r = vg.train(g, cfg)
        tables = getattr(r, "tables", None) or {"vertex": r.vertex, "context": r.context}
        for t in ("vertex", "context"):
            out[f"{name}/{t}"] = tables[t]
    np.savez(path, **out)
    print(f"saved {len(out)} tables to {path}")


def compare(a: str, b: str) -> None:
    x, y = np.load(a), np.load(b)
    print("| run / table | bitwise equal | max abs difference |")
    print("|---|---|---|")
    for k in x.files:
        same = np.array_equal(x[k], y[k])
        print(f"| {k} | {'yes' if same else 'no'} | {np.abs(x[k] - y[k]).max():.3g} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save", default=None)
    ap.add_argument("--compare", nargs=2, default=None)
    args = ap.parse_args()
    if args.save:
        save(args.save)
    if args.compare:
        compare(*args.compare)


if __name__ == "__main__":
    main()
