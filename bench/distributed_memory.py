"""Memory of a run on several processes against one (issue 14): peak RSS of
each process while training (before the result is gathered on rank 0) and
over the whole run (sharded checkpoints and the result included), with the
tables' size for scale.

    torchrun --nproc-per-node 2 bench/distributed_memory.py GRAPH --epochs 1
    python bench/distributed_memory.py GRAPH --epochs 1 --num-partitions 2
    ... --checkpoint ck.npz --checkpoint-every 10     # with checkpoints
"""

import argparse
import os
import resource
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import vitegraph as vg  # noqa: E402


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("graph")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--num-partitions", type=int, default=None)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--checkpoint-every", type=float, default=10.0)
    args = ap.parse_args()
    g = vg.Graph.load(args.graph, mmap=True) if os.path.isdir(args.graph) \
        else vg.read_edgelist(args.graph)
    opts = dict(dim=args.dim, num_epoch=args.epochs, progress=False, num_workers=1)
    if args.num_partitions:
        opts["num_partitions"] = args.num_partitions
    # RSS just before the tables are allocated: graph, imports (torch and gloo
    # under torchrun) and the process group are in it; the growth after it is
    # the tables (the partitions this process holds), pools and sampling tables
    import vitegraph.solver.trainer as trainer
    marks = {}
    original = trainer.init_tables

    def init_tables(*a, **k):
        marks["before"] = rss()
        return original(*a, **k)
    trainer.init_tables = init_tables
    r = vg.train(g, "deepwalk", checkpoint=args.checkpoint,
                 checkpoint_every=args.checkpoint_every, **opts)
    whole_run = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    before = marks["before"]
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    tables = 2 * g.num_nodes * args.dim * 4
    peak = r.stats.max_rss_training or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"rank {rank} of {world}: {g.num_nodes:,} nodes, tables {tables / 2**30:.2f} GiB; "
          f"RSS before the tables {before / 2**30:.2f} GiB, peak while training "
          f"{peak / 2**30:.2f} GiB: +{(peak - before) / 2**30:.2f} GiB; whole run "
          f"{whole_run / 2**30:.2f} GiB: +{(whole_run - before) / 2**30:.2f} GiB; "
          f"{r.stats.samples_per_second / 1e6:.2f} M samples/s",
          flush=True)


if __name__ == "__main__":
    main()
