"""Before and after: DeepWalk on BlogCatalog with two vitegraph source trees and
gensim, interleaved in fresh processes (one contender after the other, round
after round), best time of each.

Use it to check that a change keeps the speed and the speed ratio to gensim:

    git worktree add /tmp/vg_old <older commit>
    python bench/compare_versions.py --old /tmp/vg_old/src --epochs 200 400 --rounds 3

Each vitegraph process loads the graph, warms numba's cache with one epoch, then
times ``DeepWalk(num_epoch=E).fit`` (and the extra settings of ``--kw``); the
gensim process times walks + Word2Vec as ``bench/deepwalk_vs_gensim.py`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEW_SRC = HERE.parent / "src"

OURS = r'''
import json, sys, time, vitegraph as vg
from vitegraph.datasets import load_dataset
g, _ = load_dataset("blogcatalog", sys.argv[1])
vg.DeepWalk(num_epoch=1, progress=False).fit(g)
kw = json.loads(sys.argv[3])
out = {}
for e in json.loads(sys.argv[2]):
    t = time.perf_counter()
    vg.DeepWalk(num_epoch=e, progress=False, seed=0, **kw).fit(g)
    out[str(e)] = time.perf_counter() - t
print(json.dumps(out))
'''

GENSIM = r'''
import json, sys
sys.path.insert(0, sys.argv[2])
from deepwalk_vs_gensim import peer
from vitegraph.datasets import load_dataset
g, _ = load_dataset("blogcatalog", sys.argv[1])
_, info = peer(g, 2, 0, 1)
print(json.dumps({"gensim": info["seconds"]}))
'''


def run(code: str, args: list[str], src: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    res = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                         text=True)
    if res.returncode:
        raise SystemExit(f"contender failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="src folder of the older vitegraph")
    ap.add_argument("--epochs", type=int, nargs="+", default=[200, 400])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--kw", default="{}", help="extra DeepWalk options as JSON")
    ap.add_argument("--no-gensim", action="store_true")
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    args = ap.parse_args()
    times: dict = {}
    for r in range(args.rounds):
        row = {}
        if not args.no_gensim:
            row.update(run(GENSIM, [args.data, str(HERE)], NEW_SRC))
        for tag, src in (("old", Path(args.old)), ("new", NEW_SRC)):
            for e, t in run(OURS, [args.data, json.dumps(args.epochs), args.kw], src).items():
                row[f"{tag} {e}"] = t
        print(f"round {r}: " + ", ".join(f"{k} {v:.2f} s" for k, v in row.items()), flush=True)
        for k, v in row.items():
            times.setdefault(k, []).append(v)
    best = {k: min(v) for k, v in times.items()}
    print("| contender | best s (all) | new / old | speed-up vs gensim |")
    print("|---|---|---|---|")
    for k, v in times.items():
        tag, _, e = k.partition(" ")
        ratio = f"{best[k] / best['old ' + e]:.3f}" if tag == "new" else ""
        vs = f"{best['gensim'] / best[k]:.1f}x" if "gensim" in best and k != "gensim" else ""
        print(f"| {k} | {best[k]:.2f} ({', '.join(f'{x:.2f}' for x in v)}) | {ratio} | {vs} |")


if __name__ == "__main__":
    main()
