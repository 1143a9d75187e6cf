"""Quality of the device sampler's pools on BlogCatalog, on any machine.

The walks of :class:`~vitegraph.sampling.device_walks.DeviceWalkSampler` (run
here on CPU tensors) are copied into host pools and trained by the numba kernel
with DeepWalk's defaults, against the host :class:`WalkSampler`; interleaved
seeds, Micro-F1 at 10 / 50 / 90% (5 splits).  Only the sampler differs.

    python bench/device_walks_quality.py --seeds 0 1
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import vitegraph as vg
from vitegraph.apps import node_classification
from vitegraph.datasets import load_dataset
from vitegraph.models import skipgram

DATA = Path(os.environ.get("VITEGRAPH_DATA", Path(__file__).resolve().parents[1] / ".." /
                           "shared" / "data"))


class HostCopy:
    """A DeviceWalkSampler on CPU tensors whose pools are copied to host pools."""

    def __init__(self, inner):
        self.inner = inner

    def reseed(self, seed):
        self.inner.reseed(seed)

    def fill(self, pool):
        from vitegraph.sampling.device_walks import DevicePool
        dp = DevicePool(pool.capacity, "cpu")
        self.inner.fill(dp)
        pool.data[:2] = dp.data.numpy()
        pool.offsets[:] = (0, pool.capacity)
        return pool

    def close(self):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args()
    g, labels = load_dataset("blogcatalog", DATA)
    original = skipgram.SkipGram.prepare

    def device_prepare(self, graph, rc, partition):
        from vitegraph.sampling.device_walks import DeviceWalkSampler
        problem = original(self, graph, rc, partition)
        problem.sampler.close()
        inner = DeviceWalkSampler(graph.indptr, graph.indices, graph.weights,
                                  walk_length=rc.walk_length,
                                  augmentation_step=rc.augmentation_step, device="cpu",
                                  seed=rc.seed)
        return type(problem)(HostCopy(inner), problem.constants)

    scores = {"host": [], "device": []}
    for seed in args.seeds:
        for name in ("host", "device"):
            skipgram.SkipGram.prepare = device_prepare if name == "device" else original
            t0 = time.perf_counter()
            m = vg.DeepWalk(seed=seed, progress=False).fit(g)
            r = node_classification(m.embeddings_.vectors, labels.matrix,
                                    train_ratios=(0.1, 0.5, 0.9), repeats=5, seed=seed)
            f1 = [s.micro_f1 for s in r.scores]
            scores[name].append(f1)
            print(f"seed {seed} {name:6s} {time.perf_counter() - t0:6.1f} s  Micro-F1 "
                  + " / ".join(f"{x:.2f}" for x in f1), flush=True)
    skipgram.SkipGram.prepare = original
    for name, s in scores.items():
        print(f"mean {name:6s} " + " / ".join(f"{x:.2f}" for x in np.mean(s, axis=0)))


if __name__ == "__main__":
    main()
