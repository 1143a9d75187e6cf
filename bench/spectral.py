"""ProNE and spectral propagation: against nodevectors, lift on skip-gram, scale.

Whole processes against nodevectors' ProNE, the lift propagation gives the
skip-gram models, and ProNE on a 1M-node / 5M-edge graph.

    python bench/spectral.py peer --rounds 5
    python bench/spectral.py lift --datasets blogcatalog cora citeseer
    python bench/spectral.py scale

``peer``: on BlogCatalog, ``vitegraph embed EDGES --model prone`` (A) and the
nodevectors peer ``bench/prone_peer.py`` in its own venv (B), run A B A B ...
as whole processes (wall clock from launch to exit; peak RSS from
``/usr/bin/time``), after one untimed run of each (numba's cache, the page
cache).  Then quality: each method with seeds 0 and 1, node classification at
10/50/90% on 10 splits per seed (split seed = method seed); mean over the 20
splits and the standard error of that mean (the splits share 2 embeddings, so
it understates the seed-to-seed spread).

``lift``: per dataset, DeepWalk / LINE / node2vec with defaults (seed 0), and
ProNE's factorisation alone (``propagate=False``), each evaluated raw and after
``vg.propagate`` of its Embeddings (vertex + context for the skip-gram models,
as the ``propagate`` option does; 10 splits); then BlogCatalog DeepWalk trained with
``propagate=True`` on seeds 0 and 1, 20 splits at 50/90% (target 42.2 / 43.8).

``scale``: ``vitegraph embed --model prone -v`` on a planted-partition graph of
1M nodes and 5M edges (written by make_big_graph.py unless ``--edges``).

``--blas-threads N`` (any subcommand) caps BLAS threads here and in the child
processes; the header says which setting a table was measured with.  (Before
ProNE ran its dense products on its own threads with one BLAS thread each, the
default 2-thread OpenBLAS stalled them 4-20x on this shared 2-vCPU machine
whenever another process was busy.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work" / "spectral"
VITEGRAPH = Path(sys.executable).parent / "vitegraph"
PEER_PY = HERE / "_work" / "prone-venv" / "bin" / "python"
PEER = HERE / "prone_peer.py"
RATIOS = (0.1, 0.5, 0.9)
# what `vitegraph embed` prints (-v adds the two log lines of ProNE's steps)
READ, SOLVED, ALL = r"read in ([\d.]+) s", r"solved .*? in ([\d.]+) s", r"([\d.]+) s in all"
FACTOR, PROP = r"factorisation: .*? in ([\d.]+) s", r"propagation: .*? in ([\d.]+) s"


def header(title: str) -> None:
    cpu = "?"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    print(f"# {title}, {datetime.datetime.now():%Y-%m-%d %H:%M}")
    print(f"# command: {shlex.join([sys.executable] + sys.argv)}")
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "library default")
    print(f"# machine: nproc {len(os.sched_getaffinity(0))} ({os.cpu_count()} CPUs), {cpu}; "
          f"BLAS threads: {blas}\n")


def timed(cmd: list) -> tuple[float, float, str]:
    """(wall s from launch to exit, peak RSS MiB, stdout + stderr) of ``cmd``."""
    WORK.mkdir(parents=True, exist_ok=True)
    rss_file = WORK / "time.txt"
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-o", str(rss_file), "-f", "%M"] + [str(c) for c in cmd],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t
    text = p.stdout + p.stderr
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {shlex.join(map(str, cmd))}\n{text[-3000:]}")
    return wall, int(rss_file.read_text().split()[-1]) / 1024, text


def grab(pattern: str, text: str):
    m = re.search(pattern, text)
    return float(m.group(1)) if m else float("nan")


def vitegraph_cmd(edges, out, *extra) -> list:
    return [VITEGRAPH, "embed", edges, "--model", "prone", "--dim", "128", "-o", out,
            "--no-checkpoint", *extra]


def peer_cmd(edges, out, seed=0) -> list:
    return [PEER_PY, PEER, edges, out, "--dim", "128", "--seed", str(seed)]


def load_vitegraph(path, n: int) -> np.ndarray:
    """The saved table in node-id order (checked against the vocabulary)."""
    import vitegraph as vg
    emb = vg.Embeddings.load(path)
    if np.array_equal(np.asarray(emb.node_names), np.arange(n)):
        return emb.vectors
    print(f"note: {path} rows are not in id order; reordered by name")
    return emb.vectors[emb.rows_for(vg.Vocabulary(None, n))]


def scores(x, labels, seed: int, repeats: int = 10):
    from vitegraph.apps import node_classification
    return node_classification(x, labels.matrix, train_ratios=RATIOS, repeats=repeats,
                               seed=seed).scores


def fmt(vals) -> str:
    return " / ".join(f"{v:.2f}" for v in vals)


# ------------------------------------------------------------------ peer

def cmd_peer(args) -> None:
    import vitegraph as vg
    edges = Path(args.data_dir) / args.dataset / "edges.txt"
    labels_path = edges.parent / "labels.txt"
    out_a, out_b = WORK / "peer_vitegraph.npz", WORK / "peer_nodevectors.npy"
    header(f"ProNE whole process on {args.dataset}: vitegraph embed vs nodevectors")
    runs = {"vitegraph": ([], [], []), "nodevectors": ([], [], [])}
    timed(vitegraph_cmd(edges, out_a, "-q"))          # untimed warm-up of each
    timed(peer_cmd(edges, out_b))
    print("| round | method | wall s | peak RSS MiB | inside: read / solve s (vitegraph), "
          "import / graph / fit s (nodevectors) |")
    print("|---|---|---|---|---|")
    for r in range(args.rounds):
        for name in runs:
            if name == "vitegraph":
                wall, rss, text = timed(vitegraph_cmd(edges, out_a, "-q"))
                inner = f"{grab(READ, text):.1f} / {grab(SOLVED, text):.1f}"
            else:
                wall, rss, text = timed(peer_cmd(edges, out_b))
                j = json.loads(text.strip().splitlines()[-1])
                inner = f"{j['import_s']:.2f} / {j['graph_s']:.2f} / {j['fit_s']:.2f}"
            runs[name][0].append(wall)
            runs[name][1].append(rss)
            print(f"| {r + 1} | {name} | {wall:.2f} | {rss:.0f} | {inner} |", flush=True)
    print("\n| method | best s | median s | peak RSS MiB (max of runs) |")
    print("|---|---|---|---|")
    for name, (walls, rss, _) in runs.items():
        print(f"| {name} | {min(walls):.2f} | {np.median(walls):.2f} | {max(rss):.0f} |")
    best = {k: min(v[0]) for k, v in runs.items()}
    med = {k: np.median(v[0]) for k, v in runs.items()}
    print(f"\nratio of bests (nodevectors / vitegraph): "
          f"{best['nodevectors'] / best['vitegraph']:.2f}x; "
          f"of medians: {med['nodevectors'] / med['vitegraph']:.2f}x")

    g = vg.read_edgelist(edges)
    labels = vg.read_labels(labels_path, g)
    if not g.vocabulary.is_identity:
        raise SystemExit(f"{edges}: node ids are not 0..n-1; rows cannot be matched")
    pooled = {k: ([], []) for k in runs}
    for seed in (0, 1):
        a, b = WORK / f"q_vitegraph_{seed}.npz", WORK / f"q_nodevectors_{seed}.npy"
        timed(vitegraph_cmd(edges, a, "-q", "--seed", str(seed)))
        timed(peer_cmd(edges, b, seed))
        for name, x in (("vitegraph", load_vitegraph(a, g.num_nodes)),
                        ("nodevectors", np.load(b))):
            assert x.shape == (g.num_nodes, 128), x.shape
            sc = scores(x, labels, seed)
            pooled[name][0].append([s.micro_f1_runs for s in sc])
            pooled[name][1].append([s.macro_f1_runs for s in sc])
    print("\nquality: seeds 0 and 1 x 10 splits; mean ± std of the mean (n = 20)\n")
    print("| method | Micro-F1 10% | 50% | 90% | Macro-F1 10% | 50% | 90% |")
    print("|---|---|---|---|---|---|---|")
    for name, (mi, ma) in pooled.items():
        cells = []
        for arr in (np.concatenate(mi, axis=1), np.concatenate(ma, axis=1)):
            for row in arr:
                cells.append(f"{row.mean():.2f} ± {row.std(ddof=1) / np.sqrt(row.size):.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


# ------------------------------------------------------------------ lift

def cmd_lift(args) -> None:
    import vitegraph as vg
    header("spectral propagation on skip-gram embeddings (seed 0, 10 splits)")
    print("| dataset | model | Micro-F1 10% raw -> prop | 50% | 90% | Macro-F1 50% | "
          "train s | propagate s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        folder = Path(args.data_dir) / name
        g = vg.read_edgelist(folder / "edges.txt")
        labels = vg.read_labels(folder / "labels.txt", g)
        kind = "multi-label" if labels.is_multilabel else "single-label"
        name_cell = f"{name} ({g.num_nodes:,} nodes, {labels.num_classes} classes, {kind})"
        for model in args.models + ["prone"]:
            opts = {"propagate": False} if model == "prone" else {"progress": False}
            t = time.perf_counter()
            emb = vg.train(g, model, seed=0, **opts).embeddings()
            raw = emb.vectors
            t_train = time.perf_counter() - t
            t = time.perf_counter()
            prop = vg.propagate(emb, g).vectors      # vertex + context, as propagate=True
            t_prop = time.perf_counter() - t
            before, after = scores(raw, labels, 0), scores(prop, labels, 0)
            cells = [f"{b.micro_f1:.2f} -> {a.micro_f1:.2f}" for b, a in zip(before, after)]
            label = "prone (factorisation -> +propagation)" if model == "prone" else model
            print(f"| {name_cell} | {label} | " + " | ".join(cells) +
                  f" | {before[1].macro_f1:.2f} -> {after[1].macro_f1:.2f} | {t_train:.1f} | "
                  f"{t_prop:.2f} |", flush=True)
    if "blogcatalog" in args.datasets and "deepwalk" in args.models and not args.no_target:
        g = vg.read_edgelist(Path(args.data_dir) / "blogcatalog" / "edges.txt")
        labels = vg.read_labels(Path(args.data_dir) / "blogcatalog" / "labels.txt", g)
        runs = [[], []]
        for seed in (0, 1):
            res = vg.train(g, "deepwalk", propagate=True, seed=seed, progress=False)
            sc = scores(res.embeddings().vectors, labels, seed)
            runs[0] += sc[1].micro_f1_runs
            runs[1] += sc[2].micro_f1_runs
        m50, m90 = (np.mean(r) for r in runs)
        s50, s90 = (np.std(r, ddof=1) / np.sqrt(len(r)) for r in runs)
        print(f"\nBlogCatalog DeepWalk, propagate=True, seeds 0 and 1 x 10 splits: Micro-F1 "
              f"50% {m50:.2f} ± {s50:.2f}, 90% {m90:.2f} ± {s90:.2f} (target >= 42.2 / 43.8: "
              f"{'met' if m50 >= 42.2 and m90 >= 43.8 else 'NOT met'})")


# ------------------------------------------------------------------ scale

def cmd_scale(args) -> None:
    edges = Path(args.edges) if args.edges else WORK / f"pp_{args.nodes}_{args.num_edges}.txt"
    if not edges.exists():
        subprocess.run([sys.executable, HERE / "make_big_graph.py", "--nodes", str(args.nodes),
                        "--edges", str(args.num_edges), "-o", edges], check=True)
    header(f"ProNE on {edges.name} ({edges.stat().st_size / 2**20:.0f} MiB)")
    out = WORK / "scale_out.npz"
    print("| run | wall s | peak RSS GiB | read s | factorisation s | propagation s | "
          "solve s | in all s (command's own) | memory plan |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in range(args.rounds):
        wall, rss, text = timed(vitegraph_cmd(edges, out, "-v"))
        plan = re.search(r"memory plan: about ([\d.]+ \w+)", text)
        print(f"| {r + 1} | {wall:.1f} | {rss / 1024:.2f} | "
              + " | ".join(f"{grab(pat, text):.1f}" for pat in (READ, FACTOR, PROP, SOLVED, ALL))
              + f" | {plan.group(1) if plan else '?'} |",
              flush=True)
        out.unlink(missing_ok=True)
    if args.show_log:
        print("\n" + text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    data = str(HERE.parent / ".." / "shared" / "data")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--blas-threads", type=int, default=None,
                        help="BLAS threads here and in the child processes (default: the "
                        "libraries' own, one per CPU)")
    p = sub.add_parser("peer", parents=[common],
                       help="whole-process race and quality against nodevectors")
    p.add_argument("--data-dir", default=data)
    p.add_argument("--dataset", default="blogcatalog")
    p.add_argument("--rounds", type=int, default=5)
    p = sub.add_parser("lift", parents=[common], help="propagation on DeepWalk / LINE / node2vec")
    p.add_argument("--data-dir", default=data)
    p.add_argument("--datasets", nargs="+", default=["blogcatalog", "cora", "citeseer"])
    p.add_argument("--models", nargs="+", default=["deepwalk", "line", "node2vec"])
    p.add_argument("--no-target", action="store_true",
                   help="skip the BlogCatalog DeepWalk 2-seed line")
    p = sub.add_parser("scale", parents=[common], help="ProNE on a 1M-node / 5M-edge graph")
    p.add_argument("--edges", default=None, help="an edge list instead of the generated one")
    p.add_argument("--nodes", type=int, default=1_000_000)
    p.add_argument("--num-edges", type=int, default=5_000_000)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--show-log", action="store_true", help="print the last run's output")
    args = ap.parse_args()
    if args.blas_threads:
        from threadpoolctl import threadpool_limits
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)      # the children
        threadpool_limits(args.blas_threads, user_api="blas")  # this process
    {"peer": cmd_peer, "lift": cmd_lift, "scale": cmd_scale}[args.cmd](args)


if __name__ == "__main__":
    main()
