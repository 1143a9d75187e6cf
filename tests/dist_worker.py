"""One rank of a test run on several processes (tests/test_distributed.py):
``python tests/dist_worker.py OUT.npz OPTIONS_JSON`` with RANK, WORLD_SIZE,
MASTER_ADDR and MASTER_PORT set (as torchrun sets them)."""

import json
import os
import sys

import numpy as np

import vitegraph as vg
from vitegraph.datasets.synthetic import planted_partition


def main():
    out, options = sys.argv[1], json.loads(sys.argv[2])
    graph = options.pop("graph", {"n": 600, "communities": 4, "seed": 0})
    g, _ = planted_partition(graph["n"], graph["communities"], seed=graph["seed"])
    checkpoint = options.pop("checkpoint", None)
    resume = options.pop("resume", False)
    every = options.pop("checkpoint_every", 60.0)
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
    r = vg.train(g, "deepwalk", progress=False, checkpoint=checkpoint, resume=resume,
                 checkpoint_every=every, **options)
    st = r.stats
    np.savez(out, vertex=r["vertex"], context=r["context"],
             stats=np.array(json.dumps({"samples": st.samples, "sent": st.bytes_sent,
                                        "received": st.bytes_received,
                                        "transfers": st.partition_transfers,
                                        "episodes": st.episodes,
                                        "passes": r.config.passes,
                                        "pairs_sent": st.pairs_sent,
                                        "pairs_received": st.pairs_received})))


if __name__ == "__main__":
    main()
