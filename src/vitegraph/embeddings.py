"""Trained embeddings: named tables of vectors with row names, similarity
queries, save/load and export to the word2vec formats that gensim's
``KeyedVectors`` reads.

Tables
------
A model's output is one or more *tables*: 2-D arrays whose rows are vectors,
each under a name.  Node embedding has ``"vertex"`` (the node vectors) and
``"context"`` (the second table of DeepWalk/LINE/node2vec, used to score
directed links); first-order LINE has one array that is both ``"vertex"`` and
``"context"``; a knowledge-graph model has ``"entity"`` and ``"relation"``.

The *primary* table (``"vertex"`` unless told otherwise) is the one the object
stands for: ``emb["alice"]``, ``np.asarray(emb)``, ``emb.vectors``,
``most_similar`` and ``to_word2vec`` use it by default.  Its rows are named by
``vocabulary``.  Every other table shares that vocabulary (same row count, row
i = the same node) unless it is given its own (e.g. relation names).

Only what the caller passes is kept: optimiser state (Adagrad sums, momentum
...) is not a table and is never saved.

File format (``save`` / ``load``)
---------------------------------
An ``.npz`` archive (``numpy.savez``, no pickles) with a JSON string array
``metadata``.  Its ``format`` is ``"vitegraph.embeddings"``.

- Version 2 (written now): arrays ``table.<name>`` for each distinct array
  (a table that is the very same array as an earlier one is stored once and
  listed in ``aliases``), ``names.<name>`` for the primary table and each
  table with its own vocabulary, unless those names are the identity
  ``0..n-1``.  The JSON holds ``format``, ``format_version`` (2),
  ``vitegraph`` (the writing version), ``primary``, ``tables`` (all names, in
  order, primary first), ``aliases`` ({alias: stored table}),
  ``own_vocabulary`` (names of the tables with their own vocabulary) and
  ``metadata`` (the user metadata).
- Version 1 (read only): arrays ``vectors``, optional ``context`` and
  ``node_names``; the JSON holds ``format``, ``format_version`` (1) and the
  user metadata (with ``vitegraph``) at the top level.  It loads as primary
  ``"vertex"`` plus ``"context"``.

A file with a larger ``format_version`` is refused (written by a newer
vitegraph).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from typing import Any, Mapping, Optional

import numpy as np

from ._atomic import atomic_write
from ._npz import MappedNpz
from ._version import __version__
from .errors import GraphError, InputFormatError, ParameterError
from .graph.graph import Vocabulary

FORMAT = "vitegraph.embeddings"
FORMAT_VERSION = 2

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
_INT = re.compile(rb"-?(0|[1-9][0-9]*)\Z")
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _name_key(x):
    """A node name for matching: ints as ints, strings of decimal digits
    (without leading zeros) as the int they spell, other strings as they are."""
    if isinstance(x, (int, np.integer)):
        return int(x)
    s = str(x)
    return int(s) if _INT.match(s.encode()) else s
_EXTENSIONS = {".npz": "npz", ".txt": "text", ".w2v": "text", ".vec": "text",
               ".bin": "binary"}


def _json_default(obj):
    """numpy scalars and arrays in metadata (training statistics) as plain JSON."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


class Embeddings:
    """Named tables of vectors (see the module docstring for *table* and
    *primary table*) with row names and ``metadata`` (config, graph summary,
    training statistics, library version).

    - ``vectors``: the primary table, a 2-D array (row i = node id i), named by
      ``vocabulary`` (a :class:`~vitegraph.graph.Vocabulary`; default the
      identity names ``0..n-1``) and stored under the name ``primary``.
    - ``context=``: shorthand for ``tables={"context": ...}``.
    - ``tables=``: further tables, ``{name: 2-D array}``.  A table may be the
      very same array as another (first-order LINE passes ``context=vectors``);
      the identity is kept, also through ``save``/``load``.
    - ``vocabularies=``: ``{name: Vocabulary}`` for tables whose rows are not
      the primary's nodes (e.g. relations).  A table without one must have the
      primary's row count; a table with one must have ``len(vocabulary)`` rows.

    Table names are letters, digits, ``_`` and ``-`` (starting with a letter
    or ``_``).  Optimiser state is not a table: callers do not pass it, so it
    is never saved.

    ``emb["alice"]`` is a node's vector (primary table); ``np.asarray(emb)``
    the whole primary table; ``emb.table("relation")`` another table.
    """

    def __init__(self, vectors, vocabulary: Optional[Vocabulary] = None, *,
                 context=None, tables: Optional[Mapping[str, Any]] = None,
                 vocabularies: Optional[Mapping[str, Vocabulary]] = None,
                 primary: str = "vertex", metadata: Optional[dict] = None):
        owner = "Embeddings"
        if not isinstance(primary, str) or not _NAME.match(primary):
            raise ParameterError(owner, "primary", "a table name (letters, digits, '_', '-')",
                                 primary)
        if tables is not None and not isinstance(tables, Mapping):
            raise ParameterError(owner, "tables", "a mapping of name to 2-D array",
                                 type(tables).__name__)
        if vocabularies is not None and not isinstance(vocabularies, Mapping):
            raise ParameterError(owner, "vocabularies", "a mapping of table name to "
                                 "Vocabulary", type(vocabularies).__name__)
        given: dict[str, Any] = {}
        if context is not None:
            if primary == "context":
                raise ParameterError(owner, "context", "given as vectors (it is the primary "
                                     "table 'context'), not again as context=", "both")
            given["context"] = context
        for name, arr in (tables or {}).items():
            if name == "context" and context is not None:
                raise ParameterError(owner, "context", "given once (either context= or a "
                                     "'context' key in tables=)", "both")
            if not isinstance(name, str) or not _NAME.match(name):
                raise ParameterError(owner, "tables", "table names made of letters, digits, "
                                     "'_' and '-'", name)
            if name == primary:
                raise ParameterError(owner, name, f"given as vectors (it is the primary "
                                     f"table {primary!r}), not again in tables=", "both")
            if arr is None:
                raise ParameterError(owner, name, "a 2-D array", None)
            given[name] = arr

        converted: dict[int, np.ndarray] = {}  # id(input) -> array: keeps aliases aliased

        def as_table(name: str, arr) -> np.ndarray:
            key = id(arr)
            if key not in converted:
                a = np.asarray(arr)
                if a.ndim != 2:
                    raise ParameterError(owner, name, "a 2-D array", f"shape {a.shape}")
                converted[key] = a
            return converted[key]

        main = as_table("vectors", vectors)
        if vocabulary is None:
            vocabulary = Vocabulary(None, main.shape[0])
        elif not isinstance(vocabulary, Vocabulary):
            raise ParameterError(owner, "vocabulary", "a Vocabulary", type(vocabulary).__name__)
        if len(vocabulary) != main.shape[0]:
            raise ParameterError(owner, "vocabulary", f"{main.shape[0]} names",
                                 f"{len(vocabulary)} names")

        own: dict[str, Vocabulary] = {}
        for name, voc in (vocabularies or {}).items():
            if name == primary:
                if voc is vocabulary:
                    continue
                raise ParameterError(owner, "vocabularies", f"no entry for the primary table "
                                     f"{primary!r} (its names are the vocabulary argument)",
                                     name)
            if name not in given:
                raise ParameterError(owner, "vocabularies", "names of given tables "
                                     f"({', '.join(map(repr, given)) or 'none'})", name)
            if not isinstance(voc, Vocabulary):
                raise ParameterError(owner, "vocabularies", f"a Vocabulary for {name!r}",
                                     type(voc).__name__)
            if voc is not vocabulary:  # the primary's own object: simply shared
                own[name] = voc

        self._tables: dict[str, np.ndarray] = {primary: main}
        for name, arr in given.items():
            a = as_table(name, arr)
            rows = len(own[name]) if name in own else main.shape[0]
            if a.shape[0] != rows:
                why = "rows (one per name of its vocabulary)" if name in own else \
                    f"rows (one per node of the primary table {primary!r})"
                raise ParameterError(owner, name, f"{rows} {why}", f"shape {a.shape}")
            self._tables[name] = a
        self.primary = primary
        self.vocabulary = vocabulary
        self._vocabularies = own
        self.metadata = dict(metadata or {})

    # ---------------------------------------------------------------- tables
    @property
    def vectors(self) -> np.ndarray:
        """The primary table."""
        return self._tables[self.primary]

    @property
    def tables(self) -> dict[str, np.ndarray]:
        """All tables, ``{name: array}``, primary first (a new dict each time;
        aliases are the same array object)."""
        return dict(self._tables)

    @property
    def context(self) -> Optional[np.ndarray]:
        """The ``"context"`` table, or ``None``."""
        return self._tables.get("context")

    def _check_table(self, name: str, owner: str) -> str:
        if name not in self._tables:
            raise ParameterError(owner, "table", "one of " + ", ".join(map(repr, self._tables)),
                                 name)
        return name

    def table(self, name: str) -> np.ndarray:
        """The table called ``name`` (a ParameterError lists the known names)."""
        return self._tables[self._check_table(name, "Embeddings.table")]

    def vocabulary_of(self, name: str) -> Vocabulary:
        """The names of table ``name``'s rows: its own vocabulary, or the primary's."""
        self._check_table(name, "Embeddings.vocabulary_of")
        return self._vocabularies.get(name, self.vocabulary)

    def rows_for(self, vocabulary: Optional[Vocabulary], table: Optional[str] = None
                 ) -> np.ndarray:
        """Row of ``table`` (default: the primary) holding each node of
        ``vocabulary`` (another graph's names, in its id order), or -1 where
        the node has none: int64[len(vocabulary)].  ``None``: the identity
        names ``0..n-1`` of this table's rows.  An int name matches the string
        of its decimal digits (as word2vec files name nodes)."""
        name = table or self.primary
        rows = self._tables[name].shape[0]
        mine = self.vocabulary_of(name)
        mine = Vocabulary(None, rows) if mine is None else mine
        theirs = (Vocabulary(None, rows) if vocabulary is None else vocabulary).names
        if mine.names.dtype.kind == "i" and theirs.dtype.kind == "i":
            if mine.is_identity:
                return np.where((theirs >= 0) & (theirs < rows), theirs, -1).astype(np.int64)
            if rows == 0:
                return np.full(len(theirs), -1, dtype=np.int64)
            order = np.argsort(mine.names, kind="stable")
            ranked = mine.names[order]
            at = np.minimum(np.searchsorted(ranked, theirs), ranked.size - 1)
            return np.where(ranked[at] == theirs, order[at], -1).astype(np.int64)
        index = {_name_key(x): i for i, x in enumerate(mine.names.tolist())}
        return np.fromiter((index.get(_name_key(x), -1) for x in theirs.tolist()),
                           dtype=np.int64, count=len(theirs))

    def _aliases(self) -> dict[str, str]:
        """{table name: earlier table name holding the very same array}."""
        first: dict[int, str] = {}
        out = {}
        for name, arr in self._tables.items():
            if id(arr) in first:
                out[name] = first[id(arr)]
            else:
                first[id(arr)] = name
        return out

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
        model = self.metadata.get("config", {}).get("model", "") \
            if isinstance(self.metadata.get("config"), dict) else ""
        text = f"Embeddings({self.num_nodes:,} x {self.dim}{', ' + model if model else ''}"
        if len(self._tables) > 1:
            aliases = self._aliases()
            parts = []
            for name, arr in self._tables.items():
                if name in aliases:
                    parts.append(f"{name}={aliases[name]}")
                elif name in self._vocabularies:
                    parts.append(f"{name} {arr.shape[0]:,} x {arr.shape[1]}")
                else:
                    parts.append(name)
            text += "; tables: " + ", ".join(parts)
        return text + ")"

    def most_similar(self, node: Any, k: int = 10, *,
                     table: Optional[str] = None) -> list[tuple[Any, float]]:
        """The ``k`` rows of ``table`` (default: the primary) whose vectors have
        the highest cosine similarity to ``node``'s (itself excluded), as
        ``(name, similarity)`` pairs; ``node`` and the names come from that
        table's vocabulary."""
        if not isinstance(k, (int, np.integer)) or k <= 0:
            raise ParameterError("most_similar", "k", "a positive int", k)
        name = self.primary if table is None else \
            self._check_table(table, "most_similar")
        voc = self.vocabulary_of(name)
        i = voc.id_of(node)
        v = self._tables[name].astype(np.float32, copy=False)
        norms = np.linalg.norm(v, axis=1)
        norms[norms == 0] = 1.0
        sims = (v @ v[i]) / (norms * norms[i])
        sims[i] = -np.inf
        k = min(int(k), v.shape[0] - 1)
        top = np.argpartition(-sims, k - 1)[:k] if k > 0 else np.empty(0, dtype=np.int64)
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(voc.name_of(int(j)), float(sims[j])) for j in top]

    # ---------------------------------------------------------------- files
    def save(self, path) -> None:
        """Write the ``.npz`` format version 2 (see the module docstring): each
        distinct table once, aliases recorded, row names, JSON metadata.
        Atomic: an existing file is replaced only when the new one is complete."""
        aliases = self._aliases()
        arrays = {f"table.{n}": a for n, a in self._tables.items() if n not in aliases}
        for name in [self.primary, *self._vocabularies]:
            voc = self.vocabulary_of(name)
            if not voc.is_identity:
                arrays[f"names.{name}"] = voc.names
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "vitegraph": __version__,
                "primary": self.primary, "tables": list(self._tables), "aliases": aliases,
                "own_vocabulary": list(self._vocabularies), "metadata": self.metadata}
        try:
            text = json.dumps(meta, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise ParameterError("Embeddings.save", "metadata", "JSON-serialisable",
                                 str(exc)) from None
        atomic_write(path, lambda f: np.savez(f, metadata=np.array(text), **arrays))

    @classmethod
    def load(cls, path, *, mmap: bool = False) -> "Embeddings":
        """Read a file written by :meth:`save` (format version 2, or version 1
        from earlier vitegraph releases).
        ``mmap=True`` maps the tables read-only instead of reading them (an
        uncompressed archive, as :meth:`save` writes): a file of many GiB
        opens at once and pages are read as they are used."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise InputFormatError("no such file", path)
        try:
            if mmap and zipfile.is_zipfile(path):
                z = MappedNpz(path)
            else:
                z = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise InputFormatError(f"not a saved vitegraph embedding ({exc})", path) from None
        if not isinstance(z, (np.lib.npyio.NpzFile, MappedNpz)):
            raise InputFormatError("not a saved vitegraph embedding (a single array, not an "
                                   ".npz archive)", path)
        with z:
            try:
                meta = json.loads(str(z["metadata"]))
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                raise InputFormatError(f"not a saved vitegraph embedding ({exc})",
                                       path) from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise InputFormatError("not a saved vitegraph embedding (no format tag)", path)
            version = meta.get("format_version")
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise InputFormatError(f"unsupported embedding format version {version!r}",
                                       path)
            if version > FORMAT_VERSION:
                raise InputFormatError(
                    f"written by a newer vitegraph ({meta.get('vitegraph', 'unknown version')}, "
                    f"embedding format version {version}); this vitegraph {__version__} reads "
                    f"versions up to {FORMAT_VERSION}: upgrade vitegraph to load it", path)
            try:
                if version == 1:
                    return cls._from_v1(z, meta, path)
                return cls._from_v2(z, meta, path)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                if isinstance(exc, InputFormatError):
                    raise
                raise InputFormatError(f"not a saved vitegraph embedding ({exc})",
                                       path) from None

    @classmethod
    def _from_v1(cls, z, meta: dict, path: str) -> "Embeddings":
        vectors = z["vectors"]
        context = z["context"] if "context" in z.files else None
        names = z["node_names"] if "node_names" in z.files else None
        user = {k: v for k, v in meta.items() if k not in ("format", "format_version")}
        try:
            return cls(vectors, Vocabulary(names, vectors.shape[0]), context=context,
                       metadata=user)
        except (ParameterError, GraphError) as exc:
            raise InputFormatError(f"inconsistent embedding file ({exc})", path) from None

    @classmethod
    def _from_v2(cls, z, meta: dict, path: str) -> "Embeddings":
        def bad(why: str):
            return InputFormatError(f"inconsistent embedding file ({why})", path)

        primary, names = meta.get("primary"), meta.get("tables")
        aliases, own = meta.get("aliases", {}), meta.get("own_vocabulary", [])
        user = meta.get("metadata", {})
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)
                and primary in names and isinstance(aliases, dict)
                and isinstance(own, list) and isinstance(user, dict)):
            raise bad("malformed table list")
        arrays: dict[str, np.ndarray] = {}
        for name in names:
            if name in aliases:
                continue
            if f"table.{name}" not in z.files:
                raise bad(f"missing array 'table.{name}'")
            arrays[name] = z[f"table.{name}"]
        for name, target in aliases.items():
            if name not in names or target not in arrays:
                raise bad(f"alias {name!r} -> {target!r} names no stored table")
            arrays[name] = arrays[target]

        def vocab(name: str) -> Vocabulary:
            key = f"names.{name}"
            n = np.shape(arrays[name])[0] if np.ndim(arrays[name]) else 0
            return Vocabulary(z[key] if key in z.files else None, n)

        try:
            if any(n not in names or n == primary for n in own):
                raise GraphError(f"own vocabulary for unknown tables {own}")
            vocabularies = {n: vocab(n) for n in own}
            tables = {n: arrays[n] for n in names if n != primary}
            user = dict(user)
            user.setdefault("vitegraph", meta.get("vitegraph"))
            return cls(arrays[primary], vocab(primary), tables=tables,
                       vocabularies=vocabularies, primary=primary, metadata=user)
        except (ParameterError, GraphError) as exc:
            raise bad(str(exc)) from None

    @classmethod
    def read(cls, path) -> "Embeddings":
        """Open any file ``vitegraph embed`` writes, chosen by extension:
        ``.npz`` (:meth:`load`), ``.txt``/``.w2v``/``.vec`` (word2vec text),
        ``.bin`` (word2vec binary).  Word2vec names that are all integers
        (``-?[0-9]+`` without leading zeros, in int64 range) become int names,
        so they match integer node ids; otherwise they stay strings."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        kind = _EXTENSIONS.get(ext)
        if kind is None:
            raise InputFormatError(f"unknown embedding file extension {ext or '(none)'!r}; "
                                   f"expected one of {', '.join(_EXTENSIONS)}", path)
        if kind == "npz":
            return cls.load(path)
        raw, vec = _read_word2vec(path, binary=kind == "binary")
        if all(_INT.match(r) for r in raw):
            ints = [int(r) for r in raw]
            if all(_INT64[0] <= x <= _INT64[1] for x in ints):
                return cls(vec, Vocabulary(np.array(ints, dtype=np.int64), len(ints)))
        return cls(vec, Vocabulary(np.array(_decode(raw, path), dtype=str), len(raw)))

    def to_word2vec(self, path, *, binary: bool = False, table: Optional[str] = None) -> None:
        """Export one table (default: the primary) in the word2vec text (or
        binary) format: a ``count dim`` header, then one row per line, its name
        (from the table's vocabulary) then values.  gensim reads it with
        ``KeyedVectors.load_word2vec_format(path, binary=...)``.  Names with
        whitespace cannot be represented and raise an error."""
        name = self.primary if table is None else self._check_table(table, "to_word2vec")
        names = check_word2vec_names(self.vocabulary_of(name), path)
        vec = np.ascontiguousarray(self._tables[name], dtype=np.float32)

        def write(f):
            f.write(f"{vec.shape[0]} {vec.shape[1]}\n".encode())
            if binary:
                for n, row in zip(names, vec):
                    f.write(n.encode() + b" " + row.tobytes() + b"\n")
            else:
                chunk = 4096
                for lo in range(0, len(names), chunk):
                    block = vec[lo:lo + chunk]
                    body = np.char.add(np.asarray(names[lo:lo + chunk]), " ")
                    vals = [" ".join(np.char.mod("%.6g", r)) for r in block]
                    f.write("".join(f"{n}{v}\n" for n, v in zip(body, vals)).encode())

        atomic_write(path, write)

    def to_tsv(self, path, *, table: Optional[str] = None) -> None:
        """Export one table (default: the primary) as tab-separated text: the
        row's name, then its values, one row per line (for knowledge graphs:
        ``table="relation"`` for the relation rows).  Names holding a tab or a
        newline raise an error."""
        name = self.primary if table is None else self._check_table(table, "to_tsv")
        names = [str(n) for n in self.vocabulary_of(name).names.tolist()]
        bad = next((n for n in names if "\t" in n or "\n" in n), None)
        if bad is not None:
            raise InputFormatError(f"row name {bad!r} holds a tab or newline; TSV cannot "
                                   "hold it (use .npz)", path)
        vec = np.ascontiguousarray(self._tables[name], dtype=np.float32)

        def write(f):
            chunk = 4096
            for lo in range(0, len(names), chunk):
                rows = ["\t".join(np.char.mod("%.6g", r)) for r in vec[lo:lo + chunk]]
                f.write("".join(f"{n}\t{v}\n" for n, v in zip(names[lo:lo + chunk],
                                                              rows)).encode())

        atomic_write(path, write)

    @classmethod
    def from_word2vec(cls, path, *, binary: bool = False) -> "Embeddings":
        """Read the word2vec text or binary format (names become strings;
        :meth:`read` turns all-integer names into ints)."""
        path = os.fspath(path)
        raw, vec = _read_word2vec(path, binary=binary)
        return cls(vec, Vocabulary(np.array(_decode(raw, path), dtype=str), len(raw)))


def _decode(raw: list[bytes], path: str) -> list[str]:
    try:
        return [r.decode() for r in raw]
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"a name is not UTF-8 ({exc})", path) from None


def _read_word2vec(path: str, *, binary: bool) -> tuple[list[bytes], np.ndarray]:
    """Names (raw bytes) and float32 vectors of a word2vec text or binary file."""
    if not os.path.exists(path):
        raise InputFormatError("no such file", path)
    with open(path, "rb") as f:
        if not binary:
            header = f.readline().split()
            n, d = _header(header, path)
            names: list[bytes] = []
            vec = np.empty((n, d), dtype=np.float32)
            for i in range(n):
                parts = f.readline().split()
                if len(parts) != d + 1:
                    raise InputFormatError(f"expected a name and {d} values, got "
                                           f"{len(parts)} fields", path, i + 2)
                names.append(parts[0])
                try:
                    vec[i] = np.array(parts[1:], dtype=np.float32)
                except ValueError:
                    raise InputFormatError("values must be numbers", path, i + 2) from None
            return names, vec
        data = f.read()
    end = data.find(b"\n")
    n, d = _header(data[:end if end >= 0 else len(data)].split(), path)
    pos = end + 1 if end >= 0 else len(data)
    if n * 4 * d > len(data) - pos:
        raise InputFormatError(f"header says {n} vectors of dim {d} but the file has only "
                               f"{len(data)} bytes", path)
    names = []
    vec = np.empty((n, d), dtype=np.float32)
    for i in range(n):
        try:
            space = data.index(b" ", pos)
        except ValueError:
            raise InputFormatError(f"file ends after {i} of {n} vectors", path) from None
        if space + 1 + 4 * d > len(data):
            raise InputFormatError(f"file ends after {i} of {n} vectors", path)
        names.append(data[pos:space].lstrip(b"\n"))
        vec[i] = np.frombuffer(data, dtype=np.float32, count=d, offset=space + 1)
        pos = space + 1 + 4 * d
    return names, vec


def _header(fields: list[bytes], path: str) -> tuple[int, int]:
    try:
        n, d = int(fields[0]), int(fields[1])
    except (IndexError, ValueError):
        raise InputFormatError("expected a 'count dim' header", path, 1) from None
    if n < 0 or d <= 0:
        raise InputFormatError("expected a 'count dim' header", path, 1)
    return n, d


def check_word2vec_names(vocabulary: Vocabulary, path) -> list[str]:
    """The names as word2vec writes them, or an :class:`~vitegraph.errors.OutputError`
    naming ``path`` and a name the format cannot hold (empty, or with whitespace).
    Callers check before training, so that the run is not lost at the end."""
    from .errors import OutputError
    names = [str(x) for x in vocabulary.names.tolist()]
    bad = next((n for n in names if not n or any(c.isspace() for c in n)), None)
    if bad is not None:
        raise OutputError(f"{os.fspath(path)}: the word2vec format cannot hold the node "
                          f"name {bad!r} (empty or with whitespace); write a .npz instead")
    return names
