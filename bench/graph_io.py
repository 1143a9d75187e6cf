"""Graph IO benchmark: parse a text edge list and build the CSR.

Builds a synthetic edge list (default 10M edges over 1M nodes, uniform random
endpoints; unweighted and weighted variants) under bench/_work/, then times
``vg.read_edgelist`` end to end (read, parse, id mapping, CSR build) in fresh
child processes, best of ``--repeats``, and records each child's peak resident
memory.  Prints a Markdown table to paste into docs/benchmarks.md.

    python bench/graph_io.py                 # 10M edges, 3 repeats
    python bench/graph_io.py --edges 1000000 # quicker
    python bench/graph_io.py --baseline-src /tmp/old/src   # against another version

``--baseline-src`` runs every child a second time with that source tree first
on ``PYTHONPATH`` (a ``git worktree`` of an older commit), interleaved, and
prints both rows.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

WORK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_work")


def make_file(path: str, num_edges: int, num_nodes: int, weighted: bool, seed: int = 0):
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        chunk = 1_000_000
        for lo in range(0, num_edges, chunk):
            n = min(chunk, num_edges - lo)
            e = rng.integers(0, num_nodes, size=(n, 2))
            if weighted:
                w = rng.random(n).round(3) + 0.001
                lines = "\n".join(f"{a} {b} {c}" for a, b, c in zip(e[:, 0], e[:, 1], w))
            else:
                lines = "\n".join(f"{a} {b}" for a, b in e)
            f.write(lines + "\n")
    os.replace(tmp, path)


def child(path: str) -> None:
    """Run once in a fresh process: warm the numba cache on a tiny file, then time."""
    import vitegraph as vg
    tiny = os.path.join(WORK, "tiny.txt")
    with open(tiny, "w") as f:
        f.write("0 1\n1 2\n")
    vg.read_edgelist(tiny)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    g = vg.read_edgelist(path)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": dt, "peak_bytes": peak, "base_bytes": base,
                      "num_edges": g.num_edges, "stored": g.num_stored_edges,
                      "csr_bytes": g.nbytes, "file_bytes": os.path.getsize(path)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-src", help="another version's src/ folder, run interleaved")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    rows = []
    files = {}
    for weighted in (False, True):
        name = f"edges_{args.edges}_{args.nodes}{'_w' if weighted else ''}.txt"
        files[weighted] = os.path.join(WORK, name)
        make_file(files[weighted], args.edges, args.nodes, weighted)
    versions = {"this": None}
    if args.baseline_src:
        versions["baseline"] = os.path.abspath(args.baseline_src)
    results = {(v, w): [] for v in versions for w in (False, True)}
    for _ in range(args.repeats):  # interleave versions and variants
        for weighted in (False, True):
            for ver, src in versions.items():
                env = dict(os.environ)
                if src:
                    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
                out = subprocess.run([sys.executable, __file__, "--child", files[weighted]],
                                     check=True, capture_output=True, text=True,
                                     env=env).stdout
                results[(ver, weighted)].append(json.loads(out.strip().splitlines()[-1]))
    for (ver, weighted), rs in results.items():
        best = min(r["seconds"] for r in rs)
        r0 = rs[0]
        rows.append({
            "variant": ("weighted" if weighted else "unweighted")
            + ("" if ver == "this" else f" ({ver})"),
            "edges": r0["num_edges"], "stored": r0["stored"],
            "file_mb": r0["file_bytes"] / 1e6, "best_s": best,
            "all_s": [round(r["seconds"], 2) for r in rs],
            "medges_per_s": args.edges / best / 1e6,
            "peak_mb": max(r["peak_bytes"] for r in rs) / 1e6,
            "extra_peak_mb": max(r["peak_bytes"] - r["base_bytes"] for r in rs) / 1e6,
            "bytes_per_input_edge": max(r["peak_bytes"] - r["base_bytes"] for r in rs)
            / args.edges,
            "csr_bytes_per_stored_edge": r0["csr_bytes"] / r0["stored"],
        })
    print(f"# graph IO, {args.edges:,} input edges over {args.nodes:,} nodes, undirected")
    print(f"# {datetime.date.today()} {platform.node()} {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}")
    print("| input | file MB | best s (all) | M input edges/s | stored edges | "
          "CSR bytes/stored edge | peak RSS MB (above imports) | bytes/input edge above imports |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['file_mb']:.0f} | {r['best_s']:.2f} ({r['all_s']}) | "
              f"{r['medges_per_s']:.2f} | {r['stored']:,} | {r['csr_bytes_per_stored_edge']:.2f} | "
              f"{r['peak_mb']:.0f} ({r['extra_peak_mb']:.0f}) | {r['bytes_per_input_edge']:.1f} |")


if __name__ == "__main__":
    main()
