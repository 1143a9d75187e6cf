"""Benchmark of the CPU samplers on BlogCatalog (see docs/bench-samplers.md).

Measures, with one sampler thread (= per core):

* positive pairs per second of ``WalkSampler.fill`` for DeepWalk-style walks with
  augmentation step s in {1, 2, 5} and P in {1, 4} partitions, and for node2vec
  (p = 4, q = 2) at s = 2 (BlogCatalog's automatic s) and s = 5;
* peak memory of each configuration (sampler tables + pool + staging, traced by
  tracemalloc) and the peak RSS of the process;
* walk-corpus generation (10 walks per node, 80 steps; PecanPy's SparseOTF mode,
  which costs a whole row per step, 1 walk per node) against PecanPy 2.0.9 on
  the same graph, uniform and node2vec walks, in walk steps per second, with
  PecanPy run in its own virtual environment (it needs numpy < 2) as a
  subprocess that takes commands over a pipe, so that both sides are timed in
  alternation and each reports its best of ``--repeats``;
* the share of draws GraphVite's fixed-capacity blocks would drop at P = 4.

Usage::

    python bench/samplers.py [--repeats 5] [--pairs 10000000]
        [--pecanpy-python bench/_work/pecanpy-venv/bin/python] [--json bench/out/samplers.json]

Set up the PecanPy environment once (bench/_work is git-ignored)::

    python -m venv bench/_work/pecanpy-venv
    bench/_work/pecanpy-venv/bin/pip install pecanpy==2.0.9
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "blogcatalog" / "edges.txt"
NUM_WALKS = 10
WALK_LENGTH = 80


# --------------------------------------------------------------------------
# PecanPy side: runs inside the PecanPy venv, imports nothing from vitegraph


def pecanpy_worker(edges: str) -> None:
    """Serve timing commands on stdin: '<mode> <walks per node>' with mode
    'uniform' | 'sparseotf' | 'precomp', or 'quit'."""
    import numpy as np
    from numba_progress import ProgressBar
    from pecanpy import pecanpy as pp

    graphs = {}
    t0 = time.perf_counter()
    for name, cls, p, q in (("uniform", pp.FirstOrderUnweighted, 1, 1),
                            ("sparseotf", pp.SparseOTF, 4, 2),
                            ("precomp", pp.PreComp, 4, 2)):
        g = cls(p=p, q=q, workers=1, verbose=False, random_state=0)
        g.read_edg(edges, weighted=False, directed=False, delimiter=" ")
        t = time.perf_counter()
        g._preprocess_transition_probs()
        prep = time.perf_counter() - t
        graphs[name] = (g, prep)
    load_s = time.perf_counter() - t0

    def run(g, num_walks):
        nodes = np.arange(g.num_nodes, dtype=np.uint32)
        starts = np.concatenate([nodes] * num_walks)
        np.random.seed(0)
        np.random.shuffle(starts)
        with ProgressBar(total=starts.size, disable=True) as progress:
            t = time.perf_counter()
            mat = g._random_walks(starts.size, WALK_LENGTH, 0, starts, g.get_has_nbrs(),
                                  g.get_move_forward(), progress)
            dt = time.perf_counter() - t
        steps = int((mat[:, -1].astype(np.int64) - 1).sum())
        return dt, steps

    for g, _ in graphs.values():  # compile
        run(g, 1)
    extra = {name: {"preprocess_s": prep} for name, (g, prep) in graphs.items()}
    pc = graphs["precomp"][0]
    extra["precomp"]["alias_bytes"] = int(pc.alias_j.nbytes + pc.alias_q.nbytes)
    print(json.dumps({"ready": True, "load_s": load_s, "extra": extra}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "quit":
            break
        g, _ = graphs[cmd[0]]
        dt, steps = run(g, int(cmd[1]))
        print(json.dumps({"mode": cmd[0], "seconds": dt, "steps": steps}), flush=True)


# --------------------------------------------------------------------------
# vitegraph side


def load_blogcatalog(path):
    import numpy as np
    import scipy.sparse as sp

    e = np.loadtxt(path, dtype=np.int64)
    n = int(e.max()) + 1
    a = sp.coo_matrix((np.ones(len(e), np.float32), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    a = (a + a.T).tocsr()
    a.sum_duplicates()
    a.sort_indices()
    return a.indptr.astype(np.int64), a.indices.astype(np.int32), len(e)


def graphvite_waste(block_stream, num_partitions, capacity_per_block, num_threads):
    """Share of draws GraphVite's policy drops: every thread owns an equal range
    of every block and draws until all its ranges are full, dropping pairs whose
    range is full.  ``block_stream[t]`` is thread t's sequence of block ids."""
    import numpy as np

    nb = num_partitions ** 2
    drawn = 0
    kept = 0
    first_full = []
    for stream in block_stream:
        need = capacity_per_block // num_threads
        last = 0
        first = None
        for b in range(nb):
            hits = np.flatnonzero(stream == b)
            if hits.size < need:
                raise RuntimeError("stream too short for the GraphVite simulation")
            last = max(last, hits[need - 1] + 1)
            first = hits[need - 1] + 1 if first is None else min(first, hits[need - 1] + 1)
        drawn += last
        kept += need * nb
        first_full.append(first / (need * nb))
    return 1.0 - kept / drawn, float(np.mean(first_full))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pairs", type=int, default=10_000_000, help="pool capacity")
    ap.add_argument("--pecanpy-python", default=str(ROOT / "bench/_work/pecanpy-venv/bin/python"))
    ap.add_argument("--json", default=str(ROOT / "bench/out/samplers.json"))
    ap.add_argument("--pecanpy-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.pecanpy_worker:
        return pecanpy_worker(args.data)

    import resource
    import tracemalloc

    import numpy as np

    from vitegraph.partition import partition_nodes
    from vitegraph.sampling import SamplePool, WalkSampler, prepare_walk_graph, random_walks

    if not Path(args.data).exists():
        sys.exit(f"{args.data}: BlogCatalog edges not found (see shared/data/README.md)")
    indptr, indices, num_edges = load_blogcatalog(args.data)
    V = indptr.size - 1
    deg = np.diff(indptr)
    print(f"BlogCatalog: {V} nodes, {num_edges} edges, {indices.size} stored", flush=True)

    # ---- pair throughput --------------------------------------------------
    configs = []
    for s in (1, 2, 5):
        for P in (1, 4):
            configs.append(dict(name=f"deepwalk s={s} P={P}", s=s, P=P, p=1.0, q=1.0, T=1))
    for s in (2, 5):
        configs.append(dict(name=f"node2vec p=4 q=2 s={s} P=1", s=s, P=1, p=4.0, q=2.0, T=1))
    configs.append(dict(name="deepwalk s=5 P=1, 2 threads", s=5, P=1, p=1.0, q=1.0, T=2))
    configs.append(dict(name="deepwalk s=5 P=4, 2 threads", s=5, P=4, p=1.0, q=1.0, T=2))
    parts = {P: partition_nodes(deg, P) for P in (1, 4)}
    for c in configs:  # compile every kernel variant before memory is traced
        WalkSampler(indptr, indices, None, walk_length=WALK_LENGTH, augmentation_step=c["s"],
                    shuffle_base=1, p=c["p"], q=c["q"],
                    num_threads=c["T"]).fill(SamplePool(1000, parts[c["P"]]))
    state = []
    for c in configs:
        tracemalloc.start()
        sampler = WalkSampler(indptr, indices, None, num_edges=num_edges,
                              walk_length=WALK_LENGTH, augmentation_step=c["s"], shuffle_base=1,
                              p=c["p"], q=c["q"], num_threads=c["T"], seed=1)
        pool = SamplePool(args.pairs, parts[c["P"]] if c["P"] > 1 else None)
        sampler.fill(SamplePool(1000, pool.partition))  # compile / warm
        sampler.fill(pool)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        c["peak_bytes"] = peak
        c["table_bytes"] = sampler.graph_.nbytes
        state.append((sampler, pool))
        c["best_s"] = float("inf")
    for _ in range(args.repeats):
        for c, (sampler, pool) in zip(configs, state):
            t = time.perf_counter()
            sampler.fill(pool)
            c["best_s"] = min(c["best_s"], time.perf_counter() - t)
    for c, (sampler, pool) in zip(configs, state):
        c["pairs_per_s"] = args.pairs / c["best_s"]
        c["pairs_per_s_per_core"] = c["pairs_per_s"] / c["T"]
        sampler.close()
    del state

    # ---- GraphVite fixed-capacity waste (P = 4) ---------------------------
    part4 = parts[4]
    threads = 2
    cap_block = 1_000_000
    streams = []
    for t in range(threads):
        sm = WalkSampler(indptr, indices, None, num_edges=num_edges, walk_length=WALK_LENGTH,
                         augmentation_step=None, shuffle_base=1, p=1.0, q=1.0, seed=100 + t)
        h, tl = sm.sample(int(cap_block * 16 / threads * 1.4))
        streams.append((part4.part_of[h] * 4 + part4.part_of[tl]).astype(np.int8))
    share = np.bincount(np.concatenate(streams), minlength=16) / sum(s.size for s in streams)
    waste, first_full = graphvite_waste(streams, 4, cap_block, threads)
    gv = {"block_share_min": float(share.min()), "block_share_max": float(share.max()),
          "dropped_fraction": waste, "pool_filled_when_first_block_full": first_full,
          "capacity_per_block": cap_block, "threads": threads, "augmentation_step": 2}

    # ---- walk corpora vs PecanPy ------------------------------------------
    walks = {}
    g1 = prepare_walk_graph(indptr, indices)
    g2 = prepare_walk_graph(indptr, indices, sorted_rows=True)
    starts = np.tile(np.arange(V, dtype=np.int64), NUM_WALKS)

    def ours(mode):
        g, p, q = (g1, 1.0, 1.0) if mode == "uniform" else (g2, 4.0, 2.0)
        t = time.perf_counter()
        w = random_walks(None, None, graph=g, starts=starts, walk_length=WALK_LENGTH, p=p, q=q,
                         seed=0)
        dt = time.perf_counter() - t
        return dt, int((w >= 0).sum() - w.shape[0])

    for mode in ("uniform", "node2vec"):
        ours(mode)  # compile
        walks[mode] = {"vitegraph_s": float("inf")}
    peer = None
    if Path(args.pecanpy_python).exists():
        env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
        peer = subprocess.Popen([args.pecanpy_python, __file__, "--pecanpy-worker", "--data",
                                 args.data], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, env=env)
        hello = json.loads(peer.stdout.readline())
        walks["pecanpy_setup"] = hello
        for mode in ("uniform", "sparseotf", "precomp"):
            walks.setdefault(mode, {})["pecanpy_s"] = float("inf")
    else:
        print(f"PecanPy venv not found at {args.pecanpy_python}: peer timings skipped")
    for _ in range(args.repeats):
        for mode in ("uniform", "node2vec"):
            dt, steps = ours(mode)
            walks[mode]["vitegraph_s"] = min(walks[mode]["vitegraph_s"], dt)
            walks[mode]["vitegraph_steps"] = steps
        if peer is not None:
            for mode in ("uniform", "sparseotf", "precomp"):
                # SparseOTF recomputes a whole row per step: 1 walk per node is plenty
                peer.stdin.write(f"{mode} {1 if mode == 'sparseotf' else NUM_WALKS}\n")
                peer.stdin.flush()
                r = json.loads(peer.stdout.readline())
                walks[mode]["pecanpy_s"] = min(walks[mode]["pecanpy_s"], r["seconds"])
                walks[mode]["pecanpy_steps"] = r["steps"]
    if peer is not None:
        peer.stdin.write("quit\n")
        peer.stdin.close()
        peer.wait()

    # ---- report -------------------------------------------------------------
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
          f"(shared); repeats {args.repeats}, best of; pool {args.pairs:,} pairs\n")
    print("| configuration | threads | M pairs/s | M pairs/s per core | peak memory (MB) |")
    print("| --- | --- | --- | --- | --- |")
    for c in configs:
        print(f"| {c['name']} | {c['T']} | {c['pairs_per_s'] / 1e6:.1f} | "
              f"{c['pairs_per_s_per_core'] / 1e6:.1f} | {c['peak_bytes'] / 2**20:.0f} |")
    print(f"\nprocess peak RSS: {peak_rss / 2**20:.0f} MB")
    print(f"\nGraphVite fixed blocks at P=4 (s=2, {threads} threads, {cap_block:,} pairs per "
          f"block): block shares {gv['block_share_min']:.4f}..{gv['block_share_max']:.4f} "
          f"(even = {1 / 16:.4f}); dropped draws {100 * gv['dropped_fraction']:.2f}%; "
          f"first block full at {100 * gv['pool_filled_when_first_block_full']:.1f}% of the pool")
    print(f"\nwalk corpora: {NUM_WALKS} walks per node x {WALK_LENGTH} steps, 1 thread, "
          "M steps/s (ratio = vitegraph / PecanPy)")
    u = walks["uniform"]
    n = walks["node2vec"]
    rate = lambda steps, s: steps / s / 1e6  # noqa: E731
    ours_u = rate(u["vitegraph_steps"], u["vitegraph_s"])
    line = f"uniform: vitegraph {ours_u:.1f}"
    if "pecanpy_s" in u:
        theirs = rate(u["pecanpy_steps"], u["pecanpy_s"])
        line += f", PecanPy FirstOrderUnweighted {theirs:.1f} (ratio {ours_u / theirs:.1f}x)"
    print(line)
    line = f"node2vec p=4 q=2: vitegraph {rate(n['vitegraph_steps'], n['vitegraph_s']):.1f}"
    for mode, label in (("sparseotf", "SparseOTF"), ("precomp", "PreComp")):
        if mode in walks:
            w = walks[mode]
            r = rate(w["pecanpy_steps"], w["pecanpy_s"])
            line += (f", PecanPy {label} {r:.2f} "
                     f"(ratio {rate(n['vitegraph_steps'], n['vitegraph_s']) / r:.1f}x)")
    print(line)
    if "pecanpy_setup" in walks:
        ex = walks["pecanpy_setup"]["extra"]
        print(f"PecanPy PreComp preprocessing {ex['precomp']['preprocess_s']:.1f} s, "
              f"{ex['precomp']['alias_bytes'] / 2**20:.0f} MB of per-edge alias tables "
              f"(vitegraph node2vec tables: {g2.nbytes / 2**20:.2f} MB)")
    out = {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor(),
           "cores": os.cpu_count(), "repeats": args.repeats, "pairs": args.pairs,
           "configs": configs, "graphvite": gv, "walks": walks, "peak_rss_bytes": peak_rss}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
