"""Training on several processes against one, on one machine (issue 14).

Runs `vitegraph run` on a baseline config as one process (all cores) and
under `torchrun --nproc-per-node W` (one training thread per process, the
sampling shared and routed, or walked whole by every process), interleaved A
B C A B C; reads each run's results.json (written by rank 0): training
seconds, Micro-F1, partition transfers and bytes moved, pairs routed, set
against the placement plan's prediction (`partition.placement`).

    python bench/distributed.py --dataset blogcatalog --world 2 --rounds 2
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from vitegraph.partition.placement import column_owner, placement_plan  # noqa: E402
from vitegraph.partition.schedule import orthogonal_rounds  # noqa: E402

BIN = Path(sys.executable).parent


def run_one(kind, cfg, data_dir, world, workdir):
    out = Path(workdir) / kind.replace(" ", "_")
    shutil.rmtree(out, ignore_errors=True)
    sets = ["--set", f"output.dir={out}", "--set", "output.checkpoint=false"]
    if "P = 2W" in kind:      # two blocks per process and round: moves can overlap
        sets += ["--set", f"train.num_partitions={2 * world}",
                 "--set", f"train.dist_overlap={'false' if 'between' in kind else 'true'}"]
    if kind == "one process":
        cmd = [str(BIN / "vitegraph"), "run", cfg, "--data-dir", data_dir, "-q", *sets]
    else:
        sampling = "share" if "share" in kind else "all"
        cmd = [str(BIN / "torchrun"), "--nproc-per-node", str(world), "-m", "vitegraph",
               "run", cfg, "--data-dir", data_dir, "-q", *sets,
               "--set", "train.num_workers=1", "--set", f"train.dist_sampling={sampling}"]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{p.stderr[-3000:]}")
    res = json.loads((out / "results.json").read_text())
    cfg_out = (out / "config.yaml").read_text()
    return wall, res, cfg_out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="blogcatalog")
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--world", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--overlap", action="store_true",
                    help="instead: P = 2W partitions, the next round's moves overlapping "
                         "the round's blocks against all moves between rounds")
    args = ap.parse_args(argv)
    cfg = str(ROOT / "src" / "vitegraph" / "baselines" / f"{args.dataset}_deepwalk.yaml")
    kinds = ["one process", f"{args.world} processes, share", f"{args.world} processes, all"]
    if args.overlap:
        kinds = [f"{args.world} processes, share, P = 2W, overlapped",
                 f"{args.world} processes, share, P = 2W, between rounds"]
    rows = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as work:
        for _ in range(args.rounds):
            for k in kinds:
                rows[k].append(run_one(k, cfg, args.data_dir, args.world, work))
    print(f"# {args.dataset} DeepWalk (defaults), {datetime.datetime.now():%Y-%m-%d %H:%M}; "
          f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")
    print(f"# command: python bench/distributed.py --dataset {args.dataset} "
          f"--world {args.world} --rounds {args.rounds}{' --overlap' if args.overlap else ''}\n")
    if args.overlap:
        print("| run | train s (best; all) | rank 0 s waiting for moves and the round's "
              "all-reduce (best) | partitions sent while still training | Micro-F1 10 / 50 / "
              "90% |")
        print("|---|---|---|---|---|")
        for k in kinds:
            best = min(rows[k], key=lambda r: r[1]["seconds"]["train"])
            tr = best[1]["training"]
            f1 = " / ".join(f"{s['micro_f1']:.2f}" for s in best[1]["evaluation"]["scores"])
            trains = ", ".join(f"{r[1]['seconds']['train']:.1f}" for r in rows[k])
            print(f"| {k} | {best[1]['seconds']['train']:.1f} ({trains}) | "
                  f"{min(r[1]['training']['transfer_seconds'] for r in rows[k]):.1f} | "
                  f"{tr.get('sends_overlapped', 0)} | {f1} |")
        return
    print("| run | train s (best) | wall s (best) | M samples/s | Micro-F1 10 / 50 / 90% | "
          "episodes | partition transfers | moved per episode MiB (predicted) | pairs routed "
          "per episode | rank 0 peak RSS MiB while training |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k in kinds:
        best = min(rows[k], key=lambda r: r[1]["seconds"]["train"])
        wall, res, _ = best
        tr = res["training"]
        ev = res["evaluation"]["scores"]
        f1 = " / ".join(f"{s['micro_f1']:.2f}" for s in ev)
        episodes = max(1, tr["episodes"])
        moved = tr["bytes_sent"] + tr["bytes_received"]   # rank 0's: all of it for W = 2
        pred = ""
        if k != "one process":
            n = res["graph"]["num_nodes"]
            P = args.world                       # num_partitions auto: one per process
            # the plan over as many passes as the run trained (P rounds each)
            plan = placement_plan(orthogonal_rounds(P, P), args.world,
                                  owner=column_owner(args.world), passes=tr["rounds"] // P)
            predicted = plan.count() * (n / P) * 128 * 4 / episodes
            pred = f" ({predicted / 2**20:.0f})"
        routed = (tr["pairs_sent"] + tr["pairs_received"]) / episodes
        print(f"| {k} | {res['seconds']['train']:.1f} "
              f"({min(r[1]['seconds']['train'] for r in rows[k]):.1f}) | "
              f"{min(r[0] for r in rows[k]):.1f} | {tr['samples_per_second'] / 1e6:.2f} | {f1} "
              f"| {tr['episodes']} | {tr['partition_transfers']} | "
              f"{moved / episodes / 2**20:.0f}{pred} | {routed / 1e6:.2f} M | "
              f"{tr.get('max_rss_training', 0) / 2**20:.0f} |")


if __name__ == "__main__":
    main()
