"""Trained embeddings: vectors with node names, similarity queries, save/load
and export to the word2vec formats that gensim's ``KeyedVectors`` reads."""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any, Optional

import numpy as np

from ._atomic import atomic_write
from ._version import __version__
from .errors import InputFormatError, ParameterError
from .graph.graph import Vocabulary

FORMAT = "vitegraph.embeddings"
FORMAT_VERSION = 1


class Embeddings:
    """Node vectors (``vectors`` float32 [n, d], row i = node id i) with the
    graph's node names; optional ``context`` vectors (the second table of
    DeepWalk/LINE/node2vec, used to score directed links) and ``metadata``
    (config, graph summary, training statistics, library version).

    ``emb["alice"]`` is a node's vector; ``np.asarray(emb)`` the whole table.
    """

    def __init__(self, vectors: np.ndarray, vocabulary: Optional[Vocabulary] = None,
                 context: Optional[np.ndarray] = None, metadata: Optional[dict] = None):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2:
            raise ParameterError("Embeddings", "vectors", "a 2-D array", f"shape {vectors.shape}")
        self.vectors = vectors
        self.vocabulary = vocabulary or Vocabulary(None, vectors.shape[0])
        if len(self.vocabulary) != vectors.shape[0]:
            raise ParameterError("Embeddings", "vocabulary", f"{vectors.shape[0]} names",
                                 f"{len(self.vocabulary)} names")
        if context is not None and np.shape(context) != vectors.shape:
            raise ParameterError("Embeddings", "context", f"shape {vectors.shape}",
                                 f"shape {np.shape(context)}")
        self.context = context
        self.metadata = dict(metadata or {})

    # ---------------------------------------------------------------- access
    @property
    def num_nodes(self) -> int:
        return self.vectors.shape[0]

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @property
    def node_names(self) -> np.ndarray:
        return self.vocabulary.names

    def __len__(self) -> int:
        return self.num_nodes

    def __array__(self, dtype=None, copy=None):
        return self.vectors if dtype is None else self.vectors.astype(dtype)

    def __getitem__(self, name: Any) -> np.ndarray:
        return self.vectors[self.vocabulary.id_of(name)]

    def __contains__(self, name: Any) -> bool:
        try:
            self.vocabulary.id_of(name)
            return True
        except KeyError:
            return False

    def __repr__(self) -> str:
        model = self.metadata.get("config", {}).get("model", "")
        return f"Embeddings({self.num_nodes:,} x {self.dim}{', ' + model if model else ''})"

    def most_similar(self, node: Any, k: int = 10) -> list[tuple[Any, float]]:
        """The ``k`` nodes whose vectors have the highest cosine similarity to
        ``node``'s (itself excluded), as ``(name, similarity)`` pairs."""
        if not isinstance(k, (int, np.integer)) or k <= 0:
            raise ParameterError("most_similar", "k", "a positive int", k)
        i = self.vocabulary.id_of(node)
        v = self.vectors.astype(np.float32, copy=False)
        norms = np.linalg.norm(v, axis=1)
        norms[norms == 0] = 1.0
        sims = (v @ v[i]) / (norms * norms[i])
        sims[i] = -np.inf
        k = min(k, self.num_nodes - 1)
        top = np.argpartition(-sims, k - 1)[:k] if k > 0 else np.empty(0, dtype=np.int64)
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(self.vocabulary.name_of(int(j)), float(sims[j])) for j in top]

    # ---------------------------------------------------------------- files
    def save(self, path) -> None:
        """Write an ``.npz`` (vectors, context, node names) with JSON metadata.
        Atomic: an existing file is replaced only when the new one is complete."""
        arrays = {"vectors": self.vectors}
        if self.context is not None:
            arrays["context"] = self.context
        if not self.vocabulary.is_identity:
            arrays["node_names"] = self.vocabulary.names
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "vitegraph": __version__,
                **self.metadata}
        atomic_write(path, lambda f: np.savez(f, metadata=np.array(json.dumps(meta)),
                                               **arrays))

    @classmethod
    def load(cls, path) -> "Embeddings":
        path = os.fspath(path)
        if not os.path.exists(path):
            raise InputFormatError("no such file", path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["metadata"]))
                vectors = z["vectors"]
                context = z["context"] if "context" in z.files else None
                names = z["node_names"] if "node_names" in z.files else None
        except (OSError, ValueError, KeyError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
            raise InputFormatError(f"not a saved vitegraph embedding ({exc})", path) from None
        if meta.get("format") != FORMAT:
            raise InputFormatError("not a saved vitegraph embedding (no format tag)", path)
        for k in ("format", "format_version"):
            meta.pop(k, None)
        return cls(vectors, Vocabulary(names, vectors.shape[0]), context, meta)

    def to_word2vec(self, path, *, binary: bool = False) -> None:
        """Export in the word2vec text (or binary) format: a ``count dim`` header,
        then one node per line, name then values.  gensim reads it with
        ``KeyedVectors.load_word2vec_format(path, binary=...)``.  Names with
        whitespace cannot be represented and raise an error."""
        names = [str(x) for x in self.vocabulary.names.tolist()]
        bad = next((n for n in names if not n or any(c.isspace() for c in n)), None)
        if bad is not None:
            raise ParameterError("to_word2vec", "names", "node names without whitespace",
                                 bad)
        vec = np.ascontiguousarray(self.vectors, dtype=np.float32)

        def write(f):
            f.write(f"{vec.shape[0]} {vec.shape[1]}\n".encode())
            if binary:
                for name, row in zip(names, vec):
                    f.write(name.encode() + b" " + row.tobytes() + b"\n")
            else:
                chunk = 4096
                for lo in range(0, len(names), chunk):
                    block = vec[lo:lo + chunk]
                    body = np.char.add(np.asarray(names[lo:lo + chunk]), " ")
                    vals = [" ".join(np.char.mod("%.6g", r)) for r in block]
                    f.write("".join(f"{n}{v}\n" for n, v in zip(body, vals)).encode())

        atomic_write(path, write)

    @classmethod
    def from_word2vec(cls, path, *, binary: bool = False) -> "Embeddings":
        """Read the word2vec text or binary format (names become strings)."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise InputFormatError("no such file", path)
        with open(path, "rb") as f:
            header = f.readline().split()
            try:
                n, d = int(header[0]), int(header[1])
            except (IndexError, ValueError):
                raise InputFormatError("expected a 'count dim' header", path, 1) from None
            names: list[str] = []
            vec = np.empty((n, d), dtype=np.float32)
            for i in range(n):
                if binary:
                    name = b""
                    while True:
                        ch = f.read(1)
                        if ch == b" ":
                            break
                        if not ch:
                            raise InputFormatError(f"file ends after {i} of {n} vectors", path)
                        if ch != b"\n":
                            name += ch
                    buf = f.read(4 * d)
                    if len(buf) != 4 * d:
                        raise InputFormatError(f"file ends after {i} of {n} vectors", path)
                    vec[i] = np.frombuffer(buf, dtype=np.float32)
                    names.append(name.decode())
                else:
                    parts = f.readline().split()
                    if len(parts) != d + 1:
                        raise InputFormatError(f"expected a name and {d} values, got "
                                               f"{len(parts)} fields", path, i + 2)
                    names.append(parts[0].decode())
                    vec[i] = np.array(parts[1:], dtype=np.float32)
        return cls(vec, Vocabulary(np.asarray(names), n))

