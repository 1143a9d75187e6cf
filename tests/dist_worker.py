"""One rank of a test run on several processes (tests/test_distributed.py):
``python tests/dist_worker.py OUT.npz OPTIONS_JSON`` with RANK, WORLD_SIZE,
MASTER_ADDR and MASTER_PORT set (as torchrun sets them)."""

import json
import os
import sys

import numpy as np

import vitegraph as vg
from vitegraph.datasets.synthetic import planted_partition


def make_data(kind: str):
    """The training data of a test run: a planted-partition graph, or random
    triplets (400 entities, 8 relations)."""
    if kind == "kg":
        rng = np.random.default_rng(0)
        return rng.integers(0, [400, 8, 400], size=(3000, 3))
    g, _ = planted_partition(600, 4, seed=0)
    return g


def main():
    out, options = sys.argv[1], json.loads(sys.argv[2])
    model = options.pop("model", "deepwalk")
    g = make_data("kg" if model in ("transe", "distmult", "rotate") else "graph")
    checkpoint = options.pop("checkpoint", None)
    resume = options.pop("resume", False)
    every = options.pop("checkpoint_every", 60.0)
    if options.pop("resident_on_cpu", False):
        import vitegraph.solver.distributed as d
        d.RESIDENT_ON_CPU = True      # the device-resident path, with the CPU as device
    poison_at = options.pop("poison_at_episode", None)
    if poison_at is not None and int(os.environ["RANK"]) == 1:
        import vitegraph.solver.distributed as d
        original_episode = d.DistributedExecutor.train_episode
        seen = []

        def poisoned(self, *a, **k):
            res = original_episode(self, *a, **k)
            seen.append(1)
            if len(seen) == poison_at:       # this rank's rows go bad, its loss does not
                p = sorted(self.held["head"])[0]
                for view in self._views(self.sides["head"], p):
                    view[:] = np.nan
            return res
        d.DistributedExecutor.train_episode = poisoned
    die_at = options.pop("die_at_episode", None)
    hang_at = options.pop("hang_at_episode", None)
    if (die_at is not None or hang_at is not None) and int(os.environ["RANK"]) == 1:
        import time

        import vitegraph.solver.coordinator as co
        original = co.block_tasks

        def failing(pool, rounds, t0, lr, seed, episode, *a, **k):
            if episode == die_at:
                os._exit(3)          # a rank killed mid-run
            if episode == hang_at:
                time.sleep(3600)     # a rank that hangs
            return original(pool, rounds, t0, lr, seed, episode, *a, **k)
        co.block_tasks = failing
    if model in ("transe", "distmult", "rotate"):
        from vitegraph.graph.triplets import as_knowledge_graph
        g = as_knowledge_graph(g)
    r = vg.train(g, model, progress=False, checkpoint=checkpoint, resume=resume,
                 checkpoint_every=every, **options)
    st = r.stats
    tables = {name: a for name, a in r.tables.items()}     # rank 0 only
    if r.rank != 0:
        try:
            r.embeddings()
            raise AssertionError("a rank other than 0 gave embeddings")
        except vg.errors.DistributedError:
            pass
    np.savez(out, **tables,
             stats=np.array(json.dumps({"samples": st.samples, "sent": st.bytes_sent,
                                        "received": st.bytes_received,
                                        "transfers": st.partition_transfers,
                                        "episodes": st.episodes,
                                        "passes": r.config.passes,
                                        "pairs_sent": st.pairs_sent,
                                        "pairs_received": st.pairs_received,
                                        "max_device_bytes": st.max_device_bytes,
                                        "sends_overlapped": st.sends_overlapped})))


if __name__ == "__main__":
    main()
