"""Training checkpoints: named tables, progress, and what they belong to.

A checkpoint is one ``.npz`` (format version 3; version 2 is read too): the
stored tables in partition order as ``table.<name>``, and JSON metadata with
the episodes completed, the resolved config and a fingerprint of the data.  A
run stopped inside an episode also records which of that episode's tasks
were trained (``partial_done``) and the GLOBAL tables' lane copies
(``lanes.<name>``), so that resuming trains exactly the rest.  It is written
to a temporary sibling and renamed into place, so a crash or Ctrl-C during
the write leaves the previous checkpoint intact.  Resuming with different
data or different training options is refused with a
:class:`~vitegraph.errors.CheckpointError` that names what differs;
version-1 checkpoints (vitegraph 0.1) are refused with a message saying so.

**Sharded** (a run on several processes): every process writes the
partitions it holds to a shard file of its own beside the checkpoint
(``<name>.shard-<token>-<rank>-of-<W>.npz``; nothing is gathered in one
process), then rank 0 writes the checkpoint itself as a manifest: the same
metadata, the GLOBAL tables, the partition offsets and, per shard file, which
partitions it holds.  Shards carry a fresh token per checkpoint, so the
previous manifest and its shards stay valid until the new manifest is renamed
into place; rank 0 then deletes the old shards.  Every process must see the
checkpoint's folder (a shared file system across machines): each checks that
it sees every shard, and all stop with an error otherwise.  Loading assembles
the tables (or, for a resumed run on several processes, only the partitions
the process starts with).
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .._atomic import atomic_write
from .._version import __version__
from ..errors import CheckpointError

FORMAT = "vitegraph.checkpoint"
FORMAT_VERSION = 3
OLDEST_READ = 2         # version 2: the same, never sharded

# options that may change between a run and its resumption without changing
# what is being trained (the sampler's thread count is not one: it decides the
# pools' contents; threads_per_block only decides the Hogwild interleaving,
# except for the lane copies of a run stopped inside an episode, checked apart)
FREE_OPTIONS = {"progress", "num_workers", "threads_per_block", "device_memory",
                "memory_budget", "table_storage", "table_memory", "dist_timeout",
                "dist_sampling", "dist_backend", "dist_overlap"}


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
    offsets: Optional[list] = None        # sharded: the partition offsets it was cut at


@dataclass
class TableShard:
    """One process's part of the tables for a sharded checkpoint: ``parts``
    (table name, partition) -> the rows of the partitions it holds, ``whole``
    the tables every process has whole (GLOBAL), ``offsets`` the partition
    row offsets and ``shapes`` the partitioned tables' full shapes."""

    parts: dict
    whole: dict
    offsets: np.ndarray
    shapes: dict

    def items(self):
        """(label, array) of every piece, as a dict of tables gives them."""
        for (name, p), a in self.parts.items():
            yield f"{name} (partition {p})", a
        yield from self.whole.items()


def _meta(ckpt: Checkpoint, tables: list) -> dict:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "vitegraph": __version__,
            "episode": ckpt.episode, "samples_done": ckpt.samples_done,
            "config": ckpt.config, "data": ckpt.data, "stats": ckpt.stats,
            "tables": tables, "partial_done": ckpt.partial_done,
            "partial_loss": ckpt.partial_loss, "partial_count": ckpt.partial_count,
            "lanes": list(ckpt.lanes)}


def _old_shards(path: str) -> list:
    """The shard files the checkpoint now at ``path`` lists (none when it is
    a single file, missing or unreadable)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile):
        return []
    folder = os.path.dirname(os.path.abspath(path))
    return [os.path.join(folder, s["file"]) for s in meta.get("shards", [])]


def _shard_files(path: str) -> list:
    """Every shard file of the checkpoint at ``path`` (listed or not)."""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = os.path.basename(path) + ".shard-"
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names if n.startswith(prefix)
            and n.endswith(".npz")]


def _remove(paths, quiet: bool = False) -> None:
    """Delete ``paths`` (gone already is fine; ``quiet``: so is any error)."""
    for f in paths:
        try:
            os.unlink(f)
        except FileNotFoundError:
            pass
        except OSError:
            if not quiet:
                raise


def save_checkpoint(path, ckpt: Checkpoint) -> None:
    path = os.fspath(path)
    old = _old_shards(path)
    meta = _meta(ckpt, list(ckpt.tables))
    arrays = {f"table.{name}": a for name, a in ckpt.tables.items()}
    arrays.update({f"lanes.{name}": a for name, a in ckpt.lanes.items()})
    atomic_write(path, lambda f: np.savez(f, meta=np.array(json.dumps(meta)), **arrays),
                 suffix=".npz")
    _remove(old)        # a sharded checkpoint it replaces


def save_sharded_checkpoint(path, ckpt: Checkpoint, shard: TableShard, ranks) -> None:
    """Every process of a run: write its shard, then rank 0 the manifest (see
    the module docstring).  ``ranks``: :class:`~vitegraph.solver.distributed.Ranks`
    (``rank``, ``world``, ``all_gather(obj, what)``); ``ckpt.tables`` is unused."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    token = ranks.all_gather(secrets.token_hex(4), "naming a checkpoint's shards")[0]
    base = os.path.basename(path)
    file = f"{base}.shard-{token}-{ranks.rank:05d}-of-{ranks.world:05d}.npz"
    mine = os.path.join(folder, file)
    arrays = {f"part.{name}.{p}": a for (name, p), a in shard.parts.items()}
    error = None
    try:
        atomic_write(mine, lambda f: np.savez(f, **arrays), suffix=".npz")
    except (OSError, ValueError) as exc:       # (OutputError is an OSError too)
        error = str(exc)
    listed = ranks.all_gather((file, sorted([n, p] for n, p in shard.parts), error),
                              "listing a checkpoint's shards")
    unseen = [f for f, _, _ in listed if not os.path.exists(os.path.join(folder, f))]
    unseen = ranks.all_gather(unseen, "checking a checkpoint's shards")
    problem = next((f"rank {r} could not write its shard ({e})"
                    for r, (_, _, e) in enumerate(listed) if e), None) or next(
        (f"rank {r} does not see the shard {missing[0]} another process wrote beside it; "
         "a run on several machines needs its checkpoint on a file system every process "
         "sees" for r, missing in enumerate(unseen) if missing), None)
    if problem is None and ranks.rank == 0:
        old = _old_shards(path)
        meta = _meta(ckpt, list(shard.shapes) + list(shard.whole))
        meta.update(shards=[{"file": f, "parts": parts} for f, parts, _ in listed],
                    offsets=[int(x) for x in shard.offsets],
                    shapes={name: list(shape) for name, shape in shard.shapes.items()})
        arrays = {f"table.{name}": a for name, a in shard.whole.items()}
        arrays.update({f"lanes.{name}": a for name, a in ckpt.lanes.items()})
        try:
            atomic_write(path, lambda f: np.savez(f, meta=np.array(json.dumps(meta)),
                                                  **arrays), suffix=".npz")
        except (OSError, ValueError) as exc:
            problem = f"rank 0 could not write it ({exc})"
        else:     # the old checkpoint's shards, and any a crash left unlisted
            keep = {os.path.join(folder, f) for f, _, _ in listed}
            _remove((set(old) | set(_shard_files(path))) - keep, quiet=True)
    # every rank learns whether the checkpoint is in place (rank 0's manifest)
    problem = next((p for p in ranks.all_gather(problem, "writing a checkpoint") if p), None)
    if problem is not None:
        _remove([mine])          # the checkpoint before stays as it was
        raise CheckpointError(f"{path}: {problem}; the checkpoint before it is kept")


def remove_checkpoint(path) -> None:
    """Delete the checkpoint at ``path`` (a finished run's), shards included."""
    path = os.fspath(path)
    shards = set(_old_shards(path)) | set(_shard_files(path))
    _remove([path])
    _remove(shards)


def _assemble(path: str, meta: dict, wanted) -> dict:
    """The partitioned tables of a sharded checkpoint: zeros (untouched
    pages) but for the partitions ``wanted(name, p)`` accepts, read from
    their shards."""
    folder = os.path.dirname(os.path.abspath(path))
    offsets = meta["offsets"]
    tables = {name: np.zeros(tuple(shape), dtype=np.float32)
              for name, shape in meta["shapes"].items()}
    for s in meta["shards"]:      # all there, whichever this process reads
        if not os.path.exists(os.path.join(folder, s["file"])):
            raise CheckpointError(f"{path}: its shard {s['file']} is missing (a checkpoint "
                                  "of a run on several processes keeps each process's "
                                  "partitions in a file beside it)")
    for s in meta["shards"]:
        parts = [(n, p) for n, p in s["parts"] if wanted is None or wanted(n, p)]
        if not parts:
            continue
        f = os.path.join(folder, s["file"])
        try:
            with np.load(f, allow_pickle=False) as z:
                for name, p in parts:
                    tables[name][offsets[p]:offsets[p + 1]] = z[f"part.{name}.{p}"]
        except FileNotFoundError:
            raise CheckpointError(f"{path}: its shard {s['file']} is missing (a checkpoint "
                                  "of a run on several processes keeps each process's "
                                  "partitions in a file beside it)") from None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise CheckpointError(f"{path}: its shard {s['file']} is not readable "
                                  f"({exc})") from None
    return tables


def load_checkpoint(path, wanted=None) -> Checkpoint:
    """The checkpoint at ``path``; of a sharded one, only the partitions
    ``wanted(table name, partition)`` accepts are read (default: all)."""
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
            if version < OLDEST_READ:
                raise CheckpointError(f"{path}: written by vitegraph {meta.get('vitegraph')} "
                                      f"(checkpoint format {version}), which this version "
                                      "cannot resume; start the run anew")
            sharded = "shards" in meta
            parts = _assemble(path, meta, wanted) if sharded else {}
            tables = {name: parts[name] if name in parts else z[f"table.{name}"]
                      for name in meta["tables"]}
            lanes = {name: z[f"lanes.{name}"] for name in meta.get("lanes", [])}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    return Checkpoint(tables, int(meta["episode"]), int(meta["samples_done"]),
                      meta["config"], meta["data"], meta.get("stats", {}),
                      meta.get("partial_done"), lanes, float(meta.get("partial_loss", 0.0)),
                      int(meta.get("partial_count", 0)), meta.get("offsets"))


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
    shards = meta.get("shards")
    where = f", in {len(shards)} shards" if shards else ""
    return (f"an interrupted run of {cfg.get('model', '?')} ({meta.get('episode')} "
            f"episodes{share}{where})")
