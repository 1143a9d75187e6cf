"""Binary graph storage: a folder of ``.npy`` files (memory-mappable) or one
``.npz``.  Writes go to a temporary sibling that is renamed into place, so an
interrupted save never leaves a half-written graph where a good one was."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from .._atomic import atomic_folder, atomic_write
from .._version import __version__
from ..errors import InputFormatError, ParameterError
from .graph import Graph, Vocabulary

FORMAT = "vitegraph.graph"
FORMAT_VERSION = 1


def _arrays(g: Graph) -> dict:
    out = {"indptr": np.asarray(g.indptr), "indices": np.asarray(g.indices)}
    if g.weights is not None:
        out["weights"] = np.asarray(g.weights)
    if not g.vocabulary.is_identity:
        out["node_names"] = np.asarray(g.vocabulary.names)
    return out


def _meta(g: Graph) -> dict:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "vitegraph": __version__,
            "directed": g.directed, "num_edges": g.num_edges, "num_nodes": g.num_nodes}


def save_graph(g: Graph, path, *, format: str = "auto") -> None:
    path = os.fspath(path)
    if format == "auto":
        format = "npz" if path.endswith(".npz") else "folder"
    if format not in ("npz", "folder"):
        raise ParameterError("Graph.save", "format", "'auto', 'npz' or 'folder'", format)
    arrays, meta = _arrays(g), _meta(g)
    if format == "npz":
        atomic_write(path, lambda f: np.savez(f, meta=np.array(json.dumps(meta)), **arrays),
                     suffix=".npz")
        return

    def fill(tmp):
        for name, a in arrays.items():
            np.save(os.path.join(tmp, name + ".npy"), a, allow_pickle=False)
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)

    atomic_folder(path, fill)


def load_graph(path, *, mmap: bool = False) -> Graph:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFormatError("no such file or folder", path)
    try:
        if os.path.isdir(path):
            with open(os.path.join(path, "meta.json")) as f:
                meta = json.load(f)
            mode = "r" if mmap else None
            arrays = {}
            for name in ("indptr", "indices", "weights", "node_names"):
                p = os.path.join(path, name + ".npy")
                if os.path.exists(p):
                    arrays[name] = np.load(p, mmap_mode=mode, allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
        raise InputFormatError(f"not a saved vitegraph graph ({exc})", path) from None
    if meta.get("format") != FORMAT:
        raise InputFormatError("not a saved vitegraph graph (no format tag)", path)
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise InputFormatError(f"saved by a newer vitegraph (format version "
                               f"{meta['format_version']})", path)
    for name in ("indptr", "indices"):
        if name not in arrays:
            raise InputFormatError(f"missing {name}.npy", path)
    indptr, indices = arrays["indptr"], arrays["indices"]
    n = indptr.size - 1
    if n != meta["num_nodes"] or indptr[-1] != indices.size or \
            ("weights" in arrays and arrays["weights"].size != indices.size):
        raise InputFormatError("inconsistent arrays (truncated or mixed files?)", path)
    vocab = Vocabulary(arrays.get("node_names"), n)
    return Graph(indptr, indices, arrays.get("weights"), bool(meta["directed"]),
                 int(meta["num_edges"]), vocab)
