"""Training checkpoints: tables, progress and what they belong to.

A checkpoint is one ``.npz`` written to a temporary sibling and renamed into
place, so a crash or Ctrl-C during the write leaves the previous checkpoint
intact.  It records the config and a fingerprint of the graph; resuming with a
different graph or different training options is refused with a
:class:`~vitegraph.errors.CheckpointError` that names what differs.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from .._atomic import atomic_write
from .._version import __version__
from ..errors import CheckpointError

FORMAT = "vitegraph.checkpoint"
FORMAT_VERSION = 1

# options that may change between a run and its resumption without changing
# what is being trained
_FREE_OPTIONS = {"progress", "num_workers", "num_sampler_threads"}


def graph_fingerprint(graph) -> dict:
    """Cheap identity of a graph: sizes and CRC32 of its CSR arrays."""
    crc = zlib.crc32(np.ascontiguousarray(graph.indptr).view(np.uint8))
    crc = zlib.crc32(np.ascontiguousarray(graph.indices).view(np.uint8), crc)
    if graph.weights is not None:
        crc = zlib.crc32(np.ascontiguousarray(graph.weights).view(np.uint8), crc)
    return {"num_nodes": graph.num_nodes, "num_edges": graph.num_edges,
            "num_stored_edges": graph.num_stored_edges, "directed": graph.directed,
            "crc32": int(crc)}


@dataclass
class Checkpoint:
    vertex: np.ndarray      # permuted row order
    context: np.ndarray
    episode: int            # episodes completed
    samples_done: int
    config: dict            # resolved config
    graph: dict             # fingerprint
    stats: dict


def save_checkpoint(path, ckpt: Checkpoint) -> None:
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "vitegraph": __version__,
            "episode": ckpt.episode, "samples_done": ckpt.samples_done,
            "config": ckpt.config, "graph": ckpt.graph, "stats": ckpt.stats}
    arrays = {"vertex": ckpt.vertex}
    if ckpt.context is not ckpt.vertex:
        arrays["context"] = ckpt.context
    atomic_write(path, lambda f: np.savez(f, meta=np.array(json.dumps(meta)), **arrays),
                 suffix=".npz")


def load_checkpoint(path) -> Checkpoint:
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            vertex = z["vertex"]
            context = z["context"] if "context" in z.files else vertex
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a vitegraph checkpoint")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer vitegraph")
    return Checkpoint(vertex, context, int(meta["episode"]), int(meta["samples_done"]),
                      meta["config"], meta["graph"], meta.get("stats", {}))


def check_compatible(path, ckpt: Checkpoint, config: dict, graph: dict) -> None:
    """Raise :class:`CheckpointError` unless ``ckpt`` continues this run."""
    if ckpt.graph != graph:
        diff = [k for k in graph if ckpt.graph.get(k) != graph[k]]
        raise CheckpointError(f"{path}: the checkpoint is of another graph "
                              f"(differs in {', '.join(diff)})")
    diff = sorted(k for k in set(config) | set(ckpt.config)
                  if k not in _FREE_OPTIONS and config.get(k) != ckpt.config.get(k))
    if diff:
        pairs = ", ".join(f"{k}: {ckpt.config.get(k)!r} -> {config.get(k)!r}" for k in diff)
        raise CheckpointError(f"{path}: the checkpoint was made with other training "
                              f"options ({pairs}); resume with the same options or start anew")
