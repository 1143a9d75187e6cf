"""Quality against training length on every labelled graph of shared/data:
the first release's defaults (400 epochs, lr 0.025) against ``num_epoch=auto``
(12,800 positive samples per node) and 4x that, and a short run (100 epochs)
before and after the learning-rate boost for short runs.

    python bench/training_length.py                     # all labelled graphs
    python bench/training_length.py --datasets cora citeseer --repeats 5

DeepWalk with defaults otherwise; node classification at 10% and 50% labelled
nodes (one-vs-rest logistic regression, ``--repeats`` seeded splits), training
seed 0.  "gap" is Micro-F1 at 50% of 4x auto minus that of auto: the target is
under 1 point on every graph.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import vitegraph as vg
from vitegraph.apps import node_classification
from vitegraph.config import resolve
from vitegraph.datasets import load_dataset
from vitegraph.models import get_model

DATA = Path(os.environ.get("VITEGRAPH_DATA", Path(__file__).resolve().parents[1] / ".." /
                           "shared" / "data"))
CALIBRATION = ["cora", "citeseer", "blogcatalog"]
HELD_OUT = ["pubmed", "github_social", "deezer_europe", "lastfm_asia", "facebook_page_page",
            "twitch_engb", "wikipedia_crocodile", "email_eu_core", "karate"]


def score(g, labels, repeats, **kw):
    t = time.perf_counter()
    m = vg.DeepWalk(progress=False, seed=0, **kw).fit(g)
    secs = time.perf_counter() - t
    r = node_classification(m.embeddings_.vectors, labels.matrix, train_ratios=(0.1, 0.5),
                            repeats=repeats)
    return r.scores[0].micro_f1, r.scores[1].micro_f1, secs, m.config_


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=CALIBRATION + HELD_OUT)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print("| graph | nodes | edges | setting | epochs | samples per node | lr | Micro-F1 "
          "10% | Micro-F1 50% | train s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    gaps = {}
    for name in args.datasets:
        g, labels = load_dataset(name, DATA)
        auto = resolve(vg.TrainConfig(), get_model("deepwalk").describe(g))
        rows = [("first release: 400 epochs, lr 0.025", dict(num_epoch=400, learning_rate=0.025)),
                ("first release: 100 epochs, lr 0.025", dict(num_epoch=100, learning_rate=0.025)),
                ("now: defaults (auto)", {}),
                ("now: 4x auto", dict(num_epoch=4 * auto.num_epoch)),
                ("now: 100 epochs", dict(num_epoch=100))]
        f50 = {}
        for label, kw in rows:
            m10, m50, secs, rc = score(g, labels, args.repeats, **kw)
            f50[label] = m50
            print(f"| {name} | {g.num_nodes:,} | {g.num_edges:,} | {label} | {rc.num_epoch} | "
                  f"{rc.samples_per_row:,.0f} | {rc.learning_rate:.3g} | {m10:.2f} | "
                  f"{m50:.2f} | {secs:.1f} |", flush=True)
        gaps[name] = f50["now: 4x auto"] - f50["now: defaults (auto)"]
    print()
    print("| graph | 4x auto minus auto, Micro-F1 50% |")
    print("|---|---|")
    for name, gap in gaps.items():
        print(f"| {name} | {gap:+.2f} |")


if __name__ == "__main__":
    main()
