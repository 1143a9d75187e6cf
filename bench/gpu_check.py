"""The device check's figures (issue 10), most important first; every step
writes ``gpu_check.json`` again, so a run cut short keeps what it measured.

1. kernel samples/s at d = 128 on 1.1M-row tables (Triton: programs of 8..64
   samples, atomic adds or plain stores, fp32 or bf16 tables; the torch
   reference), with the share of the memory-bandwidth bound;
2. the YouTube-size power-law graph (1.14M nodes, 4.9M edges, planted
   communities): sampler pairs/s on the host's cores and on the device;
   DeepWalk end to end on the GPU (walks on the device, and on the host) and
   with numba on the host's cores at equal samples, the quality of each
   (Micro-F1 on the communities), and the time GraphVite's 4000 epochs would
   take at the measured rate;
3. knowledge graphs (issue 11): RotatE on FB15k-237 with the Triton kernel,
   the CPU config (dim 256, 40 epochs) trained on the GPU with its test MRR
   (the CPU reached .305 in 305 s), and the training rate at GraphVite's sizes
   (dim 2048, 64 negatives) with the time its 1000 epochs would take;
4. BlogCatalog quality on the GPU and with numba (defaults, same seed);
5. peak device memory of each step.

    python bench/gpu_check.py --out DIR            # on a GPU machine (gpu_check.sh)
    TRITON_INTERPRET=1 python bench/gpu_check.py --smoke --out DIR   # anywhere, tiny

``--smoke`` runs every step at toy sizes on CPU tensors (Triton's interpreter),
to keep the script working on machines without a GPU.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import vitegraph as vg  # noqa: E402
from vitegraph.apps import node_classification  # noqa: E402
from vitegraph.kernels import skipgram_torch as torch_kernel  # noqa: E402
from vitegraph.kernels import skipgram_triton as tk  # noqa: E402
from vitegraph.sampling import WalkSampler  # noqa: E402
from vitegraph.sampling.alias import build_alias  # noqa: E402

FIGURES: dict = {}
OUT = Path(".")


def save():
    (OUT / "gpu_check.json").write_text(json.dumps(FIGURES, indent=1, default=float))


def step(name):
    def wrap(fn):
        def run(*a, **kw):
            t0 = time.perf_counter()
            print(f"== {name}", flush=True)
            if DEVICE.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            try:
                FIGURES[name] = fn(*a, **kw)
            except Exception as e:  # keep going: later steps still count
                FIGURES[name] = {"error": f"{type(e).__name__}: {e}",
                                 "traceback": traceback.format_exc()[-3000:]}
                print(FIGURES[name]["traceback"], flush=True)
            if DEVICE.type == "cuda" and isinstance(FIGURES[name], dict):
                FIGURES[name]["peak_device_GiB"] = torch.cuda.max_memory_allocated() / 2**30
            if isinstance(FIGURES[name], dict):
                FIGURES[name]["step_seconds"] = time.perf_counter() - t0
            print(json.dumps({k: v for k, v in FIGURES[name].items() if k != "traceback"},
                             default=float)[:3000], flush=True)
            save()
        return run
    return wrap


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def best_time(fn, repeats):
    fn()
    sync()
    best = float("inf")
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


# ---------------------------------------------------------------- 1. kernel

@step("kernel")
def kernel_rates(rows, dim, samples, repeats):
    g = torch.Generator(device="cpu").manual_seed(0)
    heads = torch.randint(rows, (samples,), generator=g, dtype=torch.int32).to(DEVICE)
    tails = torch.randint(rows, (samples,), generator=g, dtype=torch.int32).to(DEVICE)
    weights = (np.arange(rows, 0, -1, dtype=np.float64) ** -0.5) ** 0.75   # skewed
    prob, alias = build_alias(weights)
    prob = torch.from_numpy(prob).to(DEVICE)
    alias = torch.from_numpy(alias).long().to(DEVICE)
    bytes_per_sample = (2 + 1) * 2 * 4 * dim
    out = {"rows": rows, "dim": dim, "samples_per_launch": samples,
           "table_bytes_per_sample": bytes_per_sample, "rates": []}
    for dtype in (torch.float32, torch.bfloat16):
        vertex = (torch.rand(rows, dim, device=DEVICE) - 0.5).div_(dim).to(dtype)
        context = torch.zeros(rows, dim, device=DEVICE, dtype=dtype)
        for block in (8, 16, 32, 64) if not SMOKE else (None,):
            for atomic in (True, False):
                name = f"triton {str(dtype)[6:]} block={block} {'atomic' if atomic else 'store'}"
                try:
                    def run():
                        tk._launch(vertex, context, heads, tails, None, prob, alias, 1, 5.0,
                                   0.005, 0.025, 0.02, 1, 0, block, atomic)
                    t = best_time(run, repeats)
                    rate = samples / t
                    out["rates"].append({"kernel": name, "samples_per_s": rate,
                                         "GB_per_s": rate * bytes_per_sample / 1e9})
                except Exception as e:
                    out["rates"].append({"kernel": name, "error": f"{type(e).__name__}: {e}"[:300]})
                print(out["rates"][-1], flush=True)
        del vertex, context
    vertex = (torch.rand(rows, dim, device=DEVICE) - 0.5).div_(dim)
    context = torch.zeros(rows, dim, device=DEVICE)
    gen = torch.Generator(device=DEVICE)
    n_ref = min(samples, 1 << 22)
    t = best_time(lambda: torch_kernel.train_block(
        vertex, context, heads[:n_ref], tails[:n_ref], prob, alias, num_negative=1,
        negative_weight=5.0, weight_decay=0.005, lr_start=0.025, lr_end=0.02,
        generator=gen, batch_size=65536), max(1, repeats // 2))
    out["rates"].append({"kernel": "torch reference batch=65536", "samples_per_s": n_ref / t,
                         "GB_per_s": n_ref / t * bytes_per_sample / 1e9})
    ok = [r for r in out["rates"] if "samples_per_s" in r and r["kernel"].startswith(
        "triton float32")]
    if ok:
        best = max(ok, key=lambda r: r["samples_per_s"])
        out["best_fp32"] = best
        if DEVICE.type == "cuda":
            props = torch.cuda.get_device_properties(DEVICE)
            out["device"] = props.name
    return out


# ---------------------------------------------------------------- 2. YouTube size

def classify(vectors, labels, nodes, seed=0):
    sub = labels.matrix[nodes]
    r = node_classification(vectors[nodes], sub, train_ratios=(0.1, 0.5), repeats=2,
                            seed=seed)
    return {f"micro_f1_{int(s.train_ratio * 100)}": s.micro_f1 for s in r.scores}


@step("youtube_size")
def youtube_size(num_nodes, num_edges, epochs, dim, host_threads):
    from vitegraph.datasets import power_law_communities
    from vitegraph.sampling.device_walks import DevicePool, DeviceWalkSampler
    from vitegraph.sampling.walks import default_augmentation_step
    t0 = time.perf_counter()
    g, labels = power_law_communities(num_nodes, num_edges, 50, seed=0)
    out = {"graph": repr(g), "generate_s": time.perf_counter() - t0}
    rng = np.random.default_rng(0)
    deg = np.diff(g.indptr)
    nodes = np.sort(rng.choice(np.flatnonzero(deg > 0), min(20_000, int((deg > 0).sum())),
                               replace=False))
    s = default_augmentation_step(g.num_edges, g.num_nodes, 40)
    pool_size = 1 << (24 if not SMOKE else 14)
    # samplers: host threads against the device
    host = WalkSampler(g.indptr, g.indices, num_edges=g.num_edges, walk_length=40,
                       augmentation_step=s, shuffle_base=1, p=1.0, q=1.0,
                       num_threads=host_threads, seed=0)
    from vitegraph.sampling import SamplePool
    hp = SamplePool(pool_size)
    t = best_time(lambda: host.fill(hp), 3)
    out["host_sampler_pairs_per_s"] = pool_size / t
    out["host_sampler_threads"] = host_threads
    host.close()
    dev = DeviceWalkSampler(g.indptr, g.indices, walk_length=40, augmentation_step=s,
                            device=DEVICE)
    dp = DevicePool(pool_size, DEVICE)
    t = best_time(lambda: dev.fill(dp), 3)
    out["device_sampler_pairs_per_s"] = pool_size / t
    del dev, dp
    runs = {}
    common = dict(dim=dim, num_epoch=epochs, seed=0, progress=False)
    for name, kw in (("gpu, walks on the device", dict(backend="triton", device=DEV_NAME,
                                                        sampler="device")),
                     ("gpu, walks on the host", dict(backend="triton", device=DEV_NAME,
                                                      sampler="host",
                                                      num_sampler_threads=host_threads)),
                     ("numba on the host", dict(backend="numba"))):
        t0 = time.perf_counter()
        m = vg.DeepWalk(**common, **kw).fit(g)
        wall = time.perf_counter() - t0
        st = m.stats_
        loop = st.seconds - st.setup_seconds
        runs[name] = {"wall_s": wall, "setup_s": st.setup_seconds, "loop_s": loop,
                      "train_s": st.train_seconds, "fill_s": st.fill_seconds,
                      "wait_s": st.wait_seconds, "samples": st.samples_done,
                      "samples_per_s": st.samples_done / loop,
                      **classify(m.embeddings_.vectors, labels, nodes)}
        print(name, runs[name], flush=True)
        del m
    out["runs"] = runs
    out["total_samples"] = epochs * g.num_edges
    gpu = runs["gpu, walks on the device"]["samples_per_s"]
    out["graphvite_4000_epochs_s_extrapolated"] = 4000 * num_edges / gpu
    return out


# ---------------------------------------------------------------- 3. knowledge graphs

def _toy_kg(n=80, relations=3, seed=0):
    """Relation k maps entity e to e + 3 (k + 1) (the smoke test's data)."""
    rng = np.random.default_rng(seed)
    r = rng.integers(0, relations, 1500)
    h = rng.integers(0, n - 3 * (r + 1))
    rows = np.unique(np.stack([h, r, h + 3 * (r + 1)], 1), axis=0)
    rng.shuffle(rows)
    k = len(rows) // 10
    names = lambda a: (a[:, 0].astype(str), a[:, 1].astype(str), a[:, 2].astype(str))  # noqa
    return vg.KnowledgeGraph.from_names({"train": names(rows[2 * k:]),
                                         "valid": names(rows[k:2 * k]),
                                         "test": names(rows[:k])})


@step("kg")
def knowledge_graph(data_dir, epochs, rate_epochs):
    if SMOKE:
        kg = _toy_kg()
        sizes = dict(cpu=dict(dim=32, num_epoch=epochs, num_negative=8, margin=6.0,
                              learning_rate=2e-2),
                     graphvite=dict(dim=64, num_epoch=rate_epochs, num_negative=16,
                                    margin=9.0))
    else:
        kg = vg.read_knowledge_graph(Path(data_dir) / "fb15k-237")
        sizes = dict(cpu=dict(dim=256, num_epoch=epochs, num_negative=32, margin=9.0,
                              learning_rate=3e-3),
                     graphvite=dict(dim=2048, num_epoch=rate_epochs, num_negative=64,
                                    margin=9.0))
    out = {"graph": kg.summary()}
    for name, kw in sizes.items():
        t0 = time.perf_counter()
        m = vg.RotatE(adversarial_temperature=2.0, seed=0, progress=False, backend="triton",
                      device=DEV_NAME, **kw).fit(kg)
        wall = time.perf_counter() - t0
        st = m.stats_
        loop = st.seconds - st.setup_seconds
        run = {"config": kw, "wall_s": wall, "loop_s": loop, "train_s": st.train_seconds,
               "samples": st.samples_done, "samples_per_s": st.samples_done / loop}
        if name == "cpu":
            ev = m.evaluate("test")
            run.update(mrr_standard=ev.mrr(), mrr_graphvite=ev.mrr("graphvite"),
                       eval_s=ev.seconds)
        else:
            run["graphvite_1000_epochs_s_extrapolated"] = (
                1000 * kg.train.shape[0] / run["samples_per_s"])
        out[name] = run
        print(name, run, flush=True)
        del m
    return out


# ---------------------------------------------------------------- 4. BlogCatalog

@step("blogcatalog")
def blogcatalog(data_dir, repeats):
    from vitegraph.datasets import load_dataset
    g, labels = load_dataset("blogcatalog", data_dir)
    out = {}
    for name, kw in (("gpu", dict(backend="triton", device=DEV_NAME)),
                     ("numba", dict(backend="numba"))):
        t0 = time.perf_counter()
        m = vg.DeepWalk(seed=0, progress=False, **kw).fit(g)
        wall = time.perf_counter() - t0
        r = node_classification(m.embeddings_.vectors, labels.matrix,
                                train_ratios=(0.1, 0.5, 0.9), repeats=repeats, seed=0)
        out[name] = {"wall_s": wall, "sampler": m.config_.sampler,
                     "micro_f1": [round(s.micro_f1, 2) for s in r.scores],
                     "macro_f1": [round(s.macro_f1, 2) for s in r.scores]}
    out["micro_f1_gap"] = [a - b for a, b in zip(out["gpu"]["micro_f1"],
                                                 out["numba"]["micro_f1"])]
    return out


def main():
    global OUT, SMOKE, DEVICE, DEV_NAME
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="bench/out/gpu")
    ap.add_argument("--smoke", action="store_true", help="toy sizes on CPU tensors")
    ap.add_argument("--epochs", type=int, default=200,
                    help="YouTube-size DeepWalk epochs (200: 0.94G samples)")
    ap.add_argument("--data", default=os.environ.get("VITEGRAPH_DATA",
                                                     str(ROOT / "bench" / "_work" / "data")))
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    OUT = Path(args.out)
    OUT.mkdir(parents=True, exist_ok=True)
    SMOKE = args.smoke
    DEVICE = torch.device("cuda" if torch.cuda.is_available() and not SMOKE else "cpu")
    DEV_NAME = str(DEVICE)
    FIGURES["meta"] = {"date": str(datetime.date.today()), "host": platform.node(),
                       "cpus": os.cpu_count(), "torch": torch.__version__,
                       "device": (torch.cuda.get_device_name() if DEVICE.type == "cuda"
                                  else "cpu (smoke)")}
    try:
        import triton
        FIGURES["meta"]["triton"] = triton.__version__
    except ImportError:
        pass
    save()
    want = (lambda s: args.only is None or s in args.only)
    cpus = os.cpu_count() or 1
    if SMOKE:
        if want("kernel"):
            kernel_rates(1000, 32, 2048, 1)
        if want("youtube_size"):
            youtube_size(3000, 12000, 2, 16, 2)
        if want("kg"):
            knowledge_graph(None, 20, 2)
    else:
        if want("kernel"):
            kernel_rates(1_138_499, 128, 1 << 24, 5)
        if want("youtube_size"):
            youtube_size(1_138_499, 4_945_382, args.epochs, 128, cpus)
        if want("kg") and Path(args.data, "fb15k-237").exists():
            knowledge_graph(args.data, 40, 3)
        if want("blogcatalog") and Path(args.data, "blogcatalog").exists():
            blogcatalog(args.data, 5)
    FIGURES["meta"]["finished"] = True
    save()


SMOKE = False
DEVICE = torch.device("cpu")
DEV_NAME = "cpu"

if __name__ == "__main__":
    main()
