"""Tables paged through a small memory budget train to the same BlogCatalog quality.

    python bench/paged_blogcatalog.py

DeepWalk with defaults on BlogCatalog, three ways: tables in memory (P = 1);
tables in a folder with ``table_memory`` a quarter of their size (P chosen
automatically, partitions paged in and out every episode); and in memory with
the paged run's P and episode size (its tables must be bitwise equal to the
paged run's).  Node classification by the standard protocol (5 splits).
"""

from __future__ import annotations

import datetime
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

import vitegraph as vg
from vitegraph.apps import node_classification
from vitegraph.datasets import load_dataset

DATA = Path(os.environ.get("VITEGRAPH_DATA", Path(__file__).resolve().parents[1] / ".." /
                           "shared" / "data"))


def main():
    g, labels = load_dataset("blogcatalog", DATA)
    tables = 2 * g.num_nodes * 128 * 4
    print(f"# {datetime.date.today()} {platform.node()} {os.cpu_count()} CPUs; {g!r}; "
          f"tables {tables / 2**20:.1f} MiB")
    print("| run | P | episode | wall s | M samples/s | loads | GiB paged in/out | "
          "Micro-F1 10/50/90 | Macro-F1 10/50/90 |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = {}
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent / "_work") as folder:
        paged_opts = {"table_storage": folder, "table_memory": tables // 4}
        runs = [("in memory, defaults", {}), ("in a folder, table_memory = tables / 4",
                                              paged_opts)]
        for name, opts in runs:
            results[name] = run(name, g, labels, opts)
        rc = results[runs[1][0]][0].config_
        same = {"num_partitions": rc.num_partitions, "episode_size": rc.episode_size}
        name = f"in memory, P = {rc.num_partitions} and the paged run's episode size"
        results[name] = run(name, g, labels, same)
        a, b = results[runs[1][0]][0], results[name][0]
        ta, tb = a.result_.tables, b.result_.tables
        equal = all(np.array_equal(ta[k], tb[k]) for k in ta)
        print(f"\npaged tables bitwise equal to the in-memory run with the same P and "
              f"episode size: {equal}")


def run(name, g, labels, opts):
    t = time.perf_counter()
    m = vg.DeepWalk(progress=False, **opts).fit(g)
    wall = time.perf_counter() - t
    s = m.stats_
    sc = node_classification(m.embeddings_.vectors, labels.matrix, seed=0)
    micro = "/".join(f"{r.micro_f1:.2f}" for r in sc.scores)
    macro = "/".join(f"{r.macro_f1:.2f}" for r in sc.scores)
    paged = (f"{s.bytes_paged_in / 2**30:.2f} / {s.bytes_paged_out / 2**30:.2f}"
             if s.bytes_paged_in else "-")
    print(f"| {name} | {m.config_.num_partitions} | {m.config_.episode_size:,} | {wall:.1f} | "
          f"{s.samples_per_second / 1e6:.2f} | {s.partition_loads} | {paged} | {micro} | "
          f"{macro} |", flush=True)
    return m, sc


if __name__ == "__main__":
    main()
