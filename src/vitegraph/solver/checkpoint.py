"""Training checkpoints: named tables, progress, and what they belong to.

A checkpoint is one ``.npz`` (format version 2): the stored tables in partition
order as ``table.<name>``, and JSON metadata with the episodes completed, the
resolved config and a fingerprint of the data.  A run stopped inside an
episode also records which of that episode's tasks were trained
(``partial_done``) and the GLOBAL tables' lane copies (``lanes.<name>``), so
that resuming trains exactly the rest.  It is written to a temporary
sibling and renamed into place, so a crash or Ctrl-C during the write leaves
the previous checkpoint intact.  Resuming with different data or different
training options is refused with a :class:`~vitegraph.errors.CheckpointError`
that names what differs; version-1 checkpoints (vitegraph 0.1) are refused with
a message saying so.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .._atomic import atomic_write
from .._version import __version__
from ..errors import CheckpointError

FORMAT = "vitegraph.checkpoint"
FORMAT_VERSION = 2

# options that may change between a run and its resumption without changing
# what is being trained (the sampler's thread count is not one: it decides the
# pools' contents; threads_per_block only decides the Hogwild interleaving,
# except for the lane copies of a run stopped inside an episode, checked apart)
FREE_OPTIONS = {"progress", "num_workers", "threads_per_block", "device_memory",
                "memory_budget", "table_storage", "table_memory", "dist_timeout",
                "dist_sampling", "dist_backend"}


@dataclass
class Checkpoint:
    tables: dict            # name -> array, partition order
    episode: int            # episodes completed
    samples_done: int
    config: dict            # resolved config
    data: dict              # fingerprint
    stats: dict
    partial_done: Optional[list] = None   # tasks of episode `episode` already trained
    lanes: dict = field(default_factory=dict)   # GLOBAL tables' lane copies then
    partial_loss: float = 0.0             # loss and samples of those tasks
    partial_count: int = 0


def save_checkpoint(path, ckpt: Checkpoint) -> None:
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "vitegraph": __version__,
            "episode": ckpt.episode, "samples_done": ckpt.samples_done,
            "config": ckpt.config, "data": ckpt.data, "stats": ckpt.stats,
            "tables": list(ckpt.tables), "partial_done": ckpt.partial_done,
            "partial_loss": ckpt.partial_loss, "partial_count": ckpt.partial_count,
            "lanes": list(ckpt.lanes)}
    arrays = {f"table.{name}": a for name, a in ckpt.tables.items()}
    arrays.update({f"lanes.{name}": a for name, a in ckpt.lanes.items()})
    atomic_write(path, lambda f: np.savez(f, meta=np.array(json.dumps(meta)), **arrays),
                 suffix=".npz")


def load_checkpoint(path) -> Checkpoint:
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT:
                raise CheckpointError(f"{path}: not a vitegraph checkpoint")
            version = meta.get("format_version", 0)
            if version > FORMAT_VERSION:
                raise CheckpointError(f"{path}: written by a newer vitegraph "
                                      f"({meta.get('vitegraph')}, checkpoint format "
                                      f"{version}); upgrade to resume it")
            if version < FORMAT_VERSION:
                raise CheckpointError(f"{path}: written by vitegraph {meta.get('vitegraph')} "
                                      f"(checkpoint format {version}), which this version "
                                      "cannot resume; start the run anew")
            tables = {name: z[f"table.{name}"] for name in meta["tables"]}
            lanes = {name: z[f"lanes.{name}"] for name in meta.get("lanes", [])}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    return Checkpoint(tables, int(meta["episode"]), int(meta["samples_done"]),
                      meta["config"], meta["data"], meta.get("stats", {}),
                      meta.get("partial_done"), lanes, float(meta.get("partial_loss", 0.0)),
                      int(meta.get("partial_count", 0)))


def check_compatible(path, ckpt: Checkpoint, config: dict, data: dict,
                     lane_shapes: Optional[dict] = None) -> None:
    """Raise :class:`CheckpointError` unless ``ckpt`` continues this run;
    ``lane_shapes``: the shapes this run's lane copies have."""
    if ckpt.data != data:
        diff = [k for k in data if ckpt.data.get(k) != data[k]]
        raise CheckpointError(f"{path}: the checkpoint is of another graph "
                              f"(differs in {', '.join(diff)})")
    diff = sorted(k for k in set(config) | set(ckpt.config)
                  if k not in FREE_OPTIONS and config.get(k) != ckpt.config.get(k))
    if diff:
        pairs = ", ".join(f"{k}: {ckpt.config.get(k)!r} -> {config.get(k)!r}" for k in diff)
        raise CheckpointError(f"{path}: the checkpoint was made with other training "
                              f"options ({pairs}); resume with the same options or start anew")
    for name, a in ckpt.lanes.items():
        want = (lane_shapes or {}).get(name)
        if want is not None and tuple(a.shape) != tuple(want):
            raise CheckpointError(
                f"{path}: the run stopped inside an episode with {a.shape[0]} lane copies of "
                f"table {name!r} and would resume with {want[0]}; resume with the same "
                f"num_workers and threads_per_block (then {ckpt.config.get('num_workers')} and "
                f"{ckpt.config.get('threads_per_block')}) or start anew")


def checkpoint_summary(path) -> str:
    """One line on what a checkpoint file holds ("an interrupted run of deepwalk,
    episode 3 of 20"), or why it cannot be read."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        return f"an unreadable checkpoint ({exc})"
    if meta.get("format") != FORMAT:
        return "a file that is not a vitegraph checkpoint"
    cfg = meta.get("config", {})
    total = cfg.get("total_samples")
    done = meta.get("samples_done")
    share = f", {100 * done / total:.0f}% done" if total and done is not None else ""
    return (f"an interrupted run of {cfg.get('model', '?')} ({meta.get('episode')} "
            f"episodes{share})")
