"""DeepWalk on a synthetic graph of about 1M nodes and 5M edges, on the CPU.

The graph size the engine issue names for a GPU run; this records what the CPU
backend does with it: setup, samples/s, peak memory.

    python bench/large_cpu.py --epochs 20
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import time

import vitegraph as vg
from vitegraph.datasets import planted_partition


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--dim", type=int, default=128)
    args = ap.parse_args()
    t = time.perf_counter()
    g, _ = planted_partition(args.nodes, args.nodes // 1000, degree_in=8, degree_out=2, seed=0)
    t_graph = time.perf_counter() - t
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = vg.DeepWalk(num_epoch=args.epochs, dim=args.dim, progress=False).fit(g)
    s = m.stats_
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# {datetime.date.today()} {platform.node()} {os.cpu_count()} CPUs")
    print(f"graph: {g!r}, built in {t_graph:.1f} s; augmentation step "
          f"{m.config_.augmentation_step}; {args.epochs} epochs, dim {args.dim}")
    print(f"samples {s.samples:,}; wall {s.seconds:.1f} s (setup {s.setup_seconds:.1f} s, "
          f"train {s.train_seconds:.1f} s, fill {s.fill_seconds:.1f} s, wait "
          f"{s.wait_seconds:.1f} s); {s.samples_per_second / 1e6:.2f} M samples/s")
    tables = 2 * g.num_nodes * args.dim * 4 / 2**20
    csr = g.nbytes / 2**20
    pools = 2 * m.config_.episode_size * 2 * 4 / 2**20
    need = tables + csr + pools
    print(f"peak RSS {peak:.0f} MiB ({base:.0f} MiB before training); tables {tables:.0f} "
          f"+ CSR {csr:.0f} + pools {pools:.0f} = {need:.0f} MiB; peak / that = "
          f"{peak / need:.2f}")


if __name__ == "__main__":
    main()
