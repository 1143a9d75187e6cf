"""Write a large planted-partition graph as a text edge list, streamed.

    python bench/make_big_graph.py --nodes 10000000 --edges 100000000 \
        -o bench/_work/big/big10m.txt

Node ``i`` belongs to community ``i % C`` (C = nodes // 1000).  Each edge
draws its first end uniformly; the second end is in the same community with
probability ``p_in`` (default 0.8), else uniform.  Edges are written in
chunks of a few million with pyarrow's CSV writer, so memory stays small
whatever the size, and the file is written under a temporary name and renamed.
The labels (community of every node) go next to it as ``NAME.labels.npy``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=10_000_000)
    ap.add_argument("--edges", type=int, default=100_000_000)
    ap.add_argument("--p-in", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=4_000_000)
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    import pyarrow as pa
    import pyarrow.csv as pcsv

    n, C = args.nodes, max(1, args.nodes // 1000)
    rng = np.random.default_rng(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    tmp = args.output + ".part"
    t0 = time.perf_counter()
    opts = pcsv.WriteOptions(include_header=False, delimiter=" ")
    written = 0
    with pa.OSFile(tmp, "wb") as sink:
        while written < args.edges:
            k = min(args.chunk, args.edges - written)
            a = rng.integers(0, n, k, dtype=np.int64)
            b = rng.integers(0, n, k, dtype=np.int64)
            inside = rng.random(k) < args.p_in
            # same community as a: a's residue plus a uniform multiple of C
            per = (n - a[inside] % C + C - 1) // C
            b[inside] = a[inside] % C + C * (rng.random(int(inside.sum())) * per).astype(np.int64)
            loop = a == b
            b[loop] = (b[loop] + C) % n
            pcsv.write_csv(pa.table({"u": a, "v": b}), sink, write_options=opts)
            written += k
    os.replace(tmp, args.output)
    np.save(args.output + ".labels.npy", (np.arange(n) % C).astype(np.int32))
    size = os.path.getsize(args.output)
    print(f"{args.output}: {n:,} nodes, {written:,} edges, {size / 2**20:.0f} MiB, "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
