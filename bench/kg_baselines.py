"""Run the knowledge-graph baseline configs and tabulate their MRR.

    python bench/kg_baselines.py --data ../shared/data --out runs/kg            # all, CPU configs
    python bench/kg_baselines.py --only "wn18rr rotate" --out runs/kg
    python bench/kg_baselines.py --collect runs/kg                              # table only

Each run is ``vitegraph baseline DATASET MODEL cpu`` into ``OUT/DATASET_MODEL``;
the table reads their ``results.json``: training seconds and samples, valid MRR,
test MRR under the standard and GraphVite's protocols (realistic ties), and
Hits@10 (standard).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

RUNS = [(d, m) for d in ("wn18rr", "fb15k-237")
        for m in ("rotate", "transe", "distmult", "complex", "simple", "quate")]


def row(folder: Path) -> str | None:
    f = folder / "results.json"
    if not f.exists():
        return None
    r = json.loads(f.read_text())
    ev = r["evaluation"]
    t = ev["test"]["metrics"]
    std, gv = t["standard"]["realistic"]["both"], t["graphvite"]["realistic"]["both"]
    valid = ev["valid"]["metrics"]["standard"]["realistic"]["both"]["mrr"]
    tr = r["training"]
    return (f"| {folder.name} | {r['seconds']['train']:.0f} | {tr['samples'] / 1e6:.1f}M | "
            f"{valid:.3f} | {std['mrr']:.3f} | {gv['mrr']:.3f} | {std['hits@10']:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/kg")
    ap.add_argument("--data", default=None, help="the data folder (--data-dir)")
    ap.add_argument("--only", nargs="*", default=None, help='"dataset model" pairs')
    ap.add_argument("--collect", default=None, help="only tabulate this folder's runs")
    args = ap.parse_args()
    out = Path(args.collect or args.out)
    if not args.collect:
        todo = RUNS if not args.only else [tuple(s.split()) for s in args.only]
        for data, model in todo:
            cmd = [sys.executable, "-m", "vitegraph.cli.main", "baseline", data, model, "cpu",
                   "--output", str(out / f"{data}_{model}"), "-q", "--restart"]
            if args.data:
                cmd += ["--data-dir", args.data]
            print(" ".join(cmd), flush=True)
            subprocess.run(cmd, check=False)
    print("| run | train s | samples | valid MRR | test MRR | test MRR (GraphVite) | "
          "test Hits@10 |")
    print("|---|---|---|---|---|---|---|")
    for data, model in RUNS:
        line = row(out / f"{data}_{model}")
        if line:
            print(line)


if __name__ == "__main__":
    main()
