"""RotatE on WN18RR: vitegraph against PyKEEN, same settings, same machine.

Same model (RotatE, ``dim`` real = ``dim / 2`` complex coordinates), negatives
per positive (head or tail corrupted), self-adversarial loss with PyKEEN's
``adversarial_temperature`` alpha = 0.5 (vitegraph's / GraphVite's T = 2),
margin 6, Adam, and epochs.  Each contender runs in a fresh process
(``/usr/bin/time -v`` for the peak memory), one after the other, ``--rounds``
times; the table shows the best training time per epoch of each and the test
MRR (filtered, realistic ties; PyKEEN drops test triplets with entities unseen
in train, so vitegraph's figure is given under the same GraphVite protocol).

    python -m venv bench/_work/pykeen-venv
    bench/_work/pykeen-venv/bin/pip install torch==2.13.0 pykeen==1.11.1
    python bench/kg_vs_pykeen.py --pykeen-python bench/_work/pykeen-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("VITEGRAPH_DATA", HERE.parent.parent / "shared" / "data"))

OURS = r'''
import json, sys, time
import vitegraph as vg
a = json.loads(sys.argv[1])
kg = vg.read_knowledge_graph(a["data"])
t = time.perf_counter()
m = vg.RotatE(dim=a["dim"], num_epoch=a["epochs"], num_negative=a["neg"], margin=6.0,
              adversarial_temperature=2.0, learning_rate=a["lr_ours"], progress=False,
              seed=0).fit(kg)
train = time.perf_counter() - t
ev = m.evaluate("test")
print("RESULT", json.dumps({"train_s": train, "mrr": ev.mrr("graphvite"),
                            "mrr_standard": ev.mrr(), "eval_s": ev.seconds}))
'''

THEIRS = r'''
import json, sys, time
import torch
from pykeen.pipeline import pipeline
from pykeen.triples import TriplesFactory
a = json.loads(sys.argv[1])
torch.set_num_threads(a["threads"])
tr = TriplesFactory.from_path(a["data"] + "/train.txt")
kw = dict(entity_to_id=tr.entity_to_id, relation_to_id=tr.relation_to_id)
va = TriplesFactory.from_path(a["data"] + "/valid.txt", **kw)
te = TriplesFactory.from_path(a["data"] + "/test.txt", **kw)
r = pipeline(training=tr, validation=va, testing=te, model="RotatE",
             model_kwargs=dict(embedding_dim=a["dim"] // 2),
             loss="NSSALoss", loss_kwargs=dict(margin=6.0, adversarial_temperature=0.5),
             optimizer="Adam", optimizer_kwargs=dict(lr=a["lr_theirs"]),
             negative_sampler="basic", negative_sampler_kwargs=dict(num_negs_per_pos=a["neg"]),
             training_kwargs=dict(num_epochs=a["epochs"], batch_size=a["batch"]),
             evaluation_kwargs=dict(batch_size=256), random_seed=0, device="cpu")
print("RESULT", json.dumps({"train_s": r.train_seconds,
                            "mrr": r.metric_results.get_metric("both.realistic.inverse_harmonic_mean_rank"),
                            "eval_s": r.evaluate_seconds}))
'''


def run(python, code, args, env=None):
    cmd = ["/usr/bin/time", "-v", python, "-c", code, json.dumps(args)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    m = re.search(r"^RESULT (.*)$", p.stdout, re.M)
    if not m:
        raise RuntimeError(p.stdout[-2000:] + p.stderr[-3000:])
    out = json.loads(m.group(1))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    out["peak_rss_mib"] = int(rss.group(1)) / 1024 if rss else None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pykeen-python", required=True)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--neg", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr-ours", type=float, default=3e-3)
    ap.add_argument("--lr-theirs", type=float, default=1e-3)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    a = dict(data=str(DATA / "wn18rr"), dim=args.dim, neg=args.neg, epochs=args.epochs,
             batch=args.batch, lr_ours=args.lr_ours, lr_theirs=args.lr_theirs,
             threads=os.cpu_count() or 1)
    env = dict(os.environ, PYTHONPATH=str(HERE.parent / "src"))
    res = {"vitegraph": [], "pykeen": []}
    for k in range(args.rounds):
        res["vitegraph"].append(run(sys.executable, OURS, a, env))
        print("vitegraph", res["vitegraph"][-1], flush=True)
        res["pykeen"].append(run(args.pykeen_python, THEIRS, a))
        print("pykeen", res["pykeen"][-1], flush=True)
    best = {k: min(v, key=lambda r: r["train_s"]) for k, v in res.items()}
    print(f"| contender | train s / epoch (best of {args.rounds}) | test MRR (GraphVite "
          "protocol) | peak RSS MiB |")
    print("|---|---|---|---|")
    for k, r in best.items():
        print(f"| {k} | {r['train_s'] / args.epochs:.2f} | {r['mrr']:.3f} | "
              f"{r['peak_rss_mib']:.0f} |")
    print(f"speed-up per epoch: {best['pykeen']['train_s'] / best['vitegraph']['train_s']:.1f}x")


if __name__ == "__main__":
    main()
