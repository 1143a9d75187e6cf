"""Throughput of the training kernels on random samples.

    python bench/kernels.py [--rows 10312] [--samples 4000000] [--repeats 3]

Numba kernel: samples/s for each dim and thread count, 1 negative (weight 5),
uniformly random heads and tails over tables of ``--rows`` rows (BlogCatalog's
node count by default), so rows are rarely in L1/L2, and negatives from an
alias table of random weights.  With ``--graph`` (default: BlogCatalog's edges
when ../shared/data is there) also samples as a trainer sees them: random
edges of the graph, both directions, negatives by degree^0.75, so hub rows stay
in cache.  Torch kernel: its CPU throughput at a few batch sizes.  Runs are interleaved (every configuration once
per round) and the best of ``--repeats`` rounds is reported, since the machine
is shared.  "per core" divides wall-clock throughput by the thread count; "per
CPU-s" divides by the CPU time the process actually got, which is what one core
sustains when others compete for it.  Memory: peak RSS, before and after.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import time

import numpy as np

from vitegraph.kernels import skipgram_numba as numba_sgd
from vitegraph.sampling.alias import build_alias
from vitegraph.sampling.rng import make_states

KW = dict(num_negative=1, negative_weight=5.0, weight_decay=0.005,
          lr_start=0.025, lr_end=0.0025)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


DEFAULT_GRAPH = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                             "blogcatalog", "edges.txt")


def make_case(rows, dim, samples, edges=None, seed=0):
    """Tables (vertex ~ U(-0.5/d, 0.5/d), context likewise so that gradients are
    not zero) and samples: uniform rows, or random directed edges of ``edges``."""
    rng = np.random.default_rng(seed)
    vertex = ((rng.random((rows, dim), dtype=np.float32) - 0.5) / dim)
    context = ((rng.random((rows, dim), dtype=np.float32) - 0.5) / dim)
    if edges is None:
        heads = rng.integers(0, rows, samples).astype(np.int32)
        tails = rng.integers(0, rows, samples).astype(np.int32)
        prob, alias = build_alias(rng.random(rows) ** 0.75 + 0.1)
    else:
        both = np.concatenate([edges, edges[:, ::-1]])
        pick = both[rng.integers(0, len(both), samples)]
        heads, tails = pick[:, 0].astype(np.int32), pick[:, 1].astype(np.int32)
        prob, alias = build_alias(np.bincount(both[:, 0], minlength=rows) ** 0.75)
    return vertex, context, heads, tails, prob, alias


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10312)
    ap.add_argument("--samples", type=int, default=4_000_000)
    ap.add_argument("--dims", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--torch-samples", type=int, default=500_000)
    ap.add_argument("--torch-batches", type=int, nargs="*", default=[1024, 16384])
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch intra-op threads (1: per-core figures; more threads "
                         "stall badly when other processes share the cores)")
    ap.add_argument("--graph", default=DEFAULT_GRAPH,
                    help="edge list 'u v' per line for the edge-sampling case ('' to skip)")
    args = ap.parse_args(argv)

    load0 = os.getloadavg()[0]
    rss0 = peak_rss_mib()
    samplings = {"uniform": None}
    if args.graph and os.path.exists(args.graph):
        edges = np.loadtxt(args.graph, dtype=np.int64, ndmin=2)[:, :2]
        samplings[f"edges of {os.path.basename(os.path.dirname(os.path.abspath(args.graph)))}"] = edges
    cases = {}
    for name, edges in samplings.items():
        rows = args.rows if edges is None else int(edges.max()) + 1
        for d in args.dims:
            cases[(name, d)] = make_case(rows, d, args.samples, edges)
    rss_tables = peak_rss_mib()
    configs = [(name, d, t) for name in samplings for d in args.dims for t in args.threads]
    for name, d, t in configs:  # compile / load from cache, and warm the tables
        v, c, h, tl, p, a = cases[(name, d)]
        numba_sgd.train_block(v, c, h[:1000], tl[:1000], p, a, states=make_states(0, t),
                              num_threads=t, **KW)
    best = {cfg: (np.inf, np.inf) for cfg in configs}
    for _ in range(args.repeats):
        for cfg in configs:
            name, d, t = cfg
            v, c, h, tl, p, a = cases[(name, d)]
            st = make_states(1, t)
            wall, cpu = timed(lambda: numba_sgd.train_block(v, c, h, tl, p, a, states=st,
                                                            num_threads=t, **KW))
            best[cfg] = (min(best[cfg][0], wall), min(best[cfg][1], cpu))
    rss_numba = peak_rss_mib()

    print(f"# kernels benchmark, {datetime.date.today()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {load0:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end")
    print(f"{args.samples:,} samples per run, 1 negative, best of {args.repeats}; "
          f"uniform: {args.rows} rows\n")
    print("| kernel | samples | dim | threads | M samples/s | per core | per CPU-s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for cfg in configs:
        name, d, t = cfg
        wall, cpu = best[cfg]
        n = args.samples
        print(f"| numba | {name} | {d} | {t} | {n / wall / 1e6:.2f} | "
              f"{n / wall / t / 1e6:.2f} | {n / cpu / 1e6:.2f} |")

    rss_torch = None
    if args.torch_batches:
        try:
            import torch
        except ImportError:
            torch = None
            print("\n(torch not installed: torch kernel skipped)")
        if torch is not None:
            from vitegraph.kernels import skipgram_torch as torch_sgd
            torch.set_num_threads(args.torch_threads)
            n = min(args.torch_samples, args.samples)
            tbest = {}
            for d in args.dims:
                v, c, h, tl, p, a = cases[("uniform", d)]
                tv, tc = torch.from_numpy(v.copy()), torch.from_numpy(c.copy())
                th, ttl = torch.from_numpy(h[:n]), torch.from_numpy(tl[:n])
                tp, ta = torch.from_numpy(p), torch.from_numpy(a)
                gen = torch.Generator().manual_seed(0)
                for b in args.torch_batches:
                    torch_sgd.train_block(tv, tc, th[:b], ttl[:b], tp, ta, generator=gen,
                                          batch_size=b, **KW)
                    for _ in range(args.repeats):
                        wall, cpu = timed(lambda: torch_sgd.train_block(
                            tv, tc, th, ttl, tp, ta, generator=gen, batch_size=b, **KW))
                        old = tbest.get((d, b), (np.inf, np.inf))
                        tbest[(d, b)] = (min(old[0], wall), min(old[1], cpu))
            rss_torch = peak_rss_mib()
            print(f"\ntorch {torch.__version__} on CPU, {torch.get_num_threads()} thread(s), "
                  f"uniform samples, {n:,} per run\n")
            print("| kernel | dim | batch | M samples/s | per CPU-s |")
            print("| --- | --- | --- | --- | --- |")
            for (d, b), (wall, cpu) in tbest.items():
                print(f"| torch | {d} | {b} | {n / wall / 1e6:.2f} | {n / cpu / 1e6:.2f} |")

    table_mib = sum(x.nbytes for case in cases.values() for x in case[:2]) / 2**20
    print(f"\npeak RSS: {rss0:.0f} MiB after imports, {rss_tables:.0f} MiB with tables and "
          f"samples ({table_mib:.0f} MiB of tables), {rss_numba:.0f} MiB after the numba runs"
          + (f", {rss_torch:.0f} MiB after the torch runs" if rss_torch else ""))


if __name__ == "__main__":
    main()
