"""Big graphs on one machine: `vitegraph embed` on 10M nodes / 100M edges.

    python bench/make_big_graph.py -o bench/_work/big/big10m.txt          # once
    python bench/make_big_graph.py --nodes 1000000 --edges 10000000 \\
        -o bench/_work/big/big1m.txt                                       # once
    python bench/big_graph.py --rounds 2

Runs, interleaved, ``vitegraph embed FILE -o OUT.npz --no-checkpoint`` under
``/usr/bin/time -v`` on the 10M-node graph (``--epochs 1``: 100M samples) and
on the 1M-node graph (``--epochs 10``: the same 100M samples), and reports for
each: peak RSS, read time, setup (everything before the first sample: tables,
sampler, pools), training samples/s, save time, wall.  ``--extra`` adds
options to both (``--extra "--table-storage bench/_work/big/tables"``);
``--cgroup NAME`` runs the commands inside an existing cgroup-v1 memory group
(to emulate a smaller machine); ``--runs PATH:EPOCHS,...`` times other graphs.

A smaller machine, emulated (5M nodes, 5 GB of tables, 3 GiB of memory)::

    python bench/make_big_graph.py --nodes 5000000 --edges 25000000 \
        -o bench/_work/big/big5m.txt
    mkdir /sys/fs/cgroup/memory/vg3g
    echo 3221225472 > /sys/fs/cgroup/memory/vg3g/memory.limit_in_bytes
    python bench/big_graph.py --rounds 1 --runs bench/_work/big/big5m.txt:4
    python bench/big_graph.py --rounds 1 --runs bench/_work/big/big5m.txt:4 \
        --cgroup vg3g --extra "--table-storage bench/_work/big/tables \
        --table-memory 1610612736"
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "_work", "big")


def run_one(graph: str, epochs: int, extra: str, cgroup: str | None) -> dict:
    out = os.path.join(WORK, "out", os.path.basename(graph) + ".npz")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    vg = os.path.join(os.path.dirname(sys.executable), "vitegraph")
    cmd = (f"/usr/bin/time -v {shlex.quote(vg)} embed {shlex.quote(graph)} -o "
           f"{shlex.quote(out)} --epochs {epochs} --no-checkpoint -q {extra}")
    if cgroup:
        cmd = f"echo $$ > /sys/fs/cgroup/memory/{cgroup}/cgroup.procs && exec {cmd}"
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    text = p.stdout + p.stderr
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {cmd}\n{text[-3000:]}")

    def grab(pattern, cast=float):
        m = re.search(pattern, text)
        return cast(m.group(1)) if m else None

    r = {"graph": os.path.basename(graph), "epochs": epochs,
         "peak_gib": grab(r"Maximum resident set size \(kbytes\): (\d+)") / 2**20,
         "read_s": grab(r"read in ([\d.]+) s"),
         "setup_s": grab(r"setup ([\d.]+) s"),
         "train_s": grab(r"training ([\d.]+) s"),
         "msps": grab(r"\(([\d.]+) M samples/s\)"),
         "save_s": grab(r"\) in ([\d.]+) s;"),
         "wall_s": grab(r"([\d.]+) s in all"),
         "paged": re.search(r"paged .*? s", text).group(0) if "paged" in text else ""}
    os.unlink(out)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", default=os.path.join(WORK, "big10m.txt"))
    ap.add_argument("--small", default=os.path.join(WORK, "big1m.txt"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--extra", default="")
    ap.add_argument("--cgroup", default=None)
    ap.add_argument("--only", choices=("big", "small"), default=None)
    ap.add_argument("--runs", default=None,
                    help="other graphs instead: 'PATH:EPOCHS,PATH:EPOCHS'")
    args = ap.parse_args()
    runs = [(args.big, 1), (args.small, 10)]
    if args.only:
        runs = [runs[0]] if args.only == "big" else [runs[1]]
    if args.runs:
        runs = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1])) for r in args.runs.split(",")]
    print(f"# {datetime.date.today()} {platform.node()} {os.cpu_count()} CPUs; "
          f"extra options: {args.extra or '-'}; cgroup: {args.cgroup or '-'}")
    print("| graph | epochs | read s | setup s | train s | M samples/s | save s | wall s | "
          "peak RSS GiB | paging |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for _ in range(args.rounds):
        for graph, epochs in runs:
            r = run_one(graph, epochs, args.extra, args.cgroup)
            print(f"| {r['graph']} | {epochs} | {r['read_s']} | {r['setup_s']} | "
                  f"{r['train_s']} | {r['msps']} | {r['save_s']} | {r['wall_s']} | "
                  f"{r['peak_gib']:.2f} | {r['paged'] or '-'} |", flush=True)


if __name__ == "__main__":
    main()
