"""Knowledge graphs: ``head relation tail`` triplets with named splits.

:func:`read_triplets` reads one file (tabs or runs of spaces, ``#`` comments,
``.gz`` / ``.bz2`` / ``.xz``); :func:`read_knowledge_graph` reads a folder's
``train.txt`` / ``valid.txt`` / ``test.txt`` (or given files) into a
:class:`KnowledgeGraph`, whose entity and relation vocabularies are shared by
all splits.  Names are kept as strings ("00260881" stays "00260881").

Entities and relations that occur only in valid or test are kept, as the
standard protocol does: they get ids after those of train (so a model's rows
for them stay at their initial values) and are counted in
:attr:`KnowledgeGraph.unseen`; a log line says how many.  GraphVite's
protocol instead drops the test triples that name such an entity (see
:mod:`vitegraph.apps.kg_eval`).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from ..errors import InputFormatError, ParameterError
from .graph import Vocabulary
from .io import read_bytes

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")


def _parse(raw: bytes, path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(heads, relations, tails) as byte-string arrays; errors name the line."""
    heads, rels, tails = [], [], []
    for no, line in enumerate(raw.split(b"\n"), start=1):
        s = line.strip()
        if not s or s[:1] == b"#":
            continue
        parts = s.split(b"\t") if b"\t" in s else s.split()
        parts = [p.strip() for p in parts]
        if len(parts) != 3 or not all(parts):
            raise InputFormatError(
                f"expected 3 columns (head relation tail, separated by tabs or spaces), "
                f"found {len(parts)}: {s[:80].decode('utf-8', 'replace')!r}", path, no)
        heads.append(parts[0])
        rels.append(parts[1])
        tails.append(parts[2])
    return np.array(heads), np.array(rels), np.array(tails)


def _decode(a: np.ndarray, path) -> np.ndarray:
    try:
        return np.char.decode(a, "utf-8") if a.size else a.astype(str)
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                               path) from None


def read_triplets(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``(heads, relations, tails)`` names of a triplet file, as string arrays."""
    raw = read_bytes(path)
    h, r, t = _parse(raw, path)
    return _decode(h, path), _decode(r, path), _decode(t, path)


@dataclass(frozen=True, eq=False)
class KnowledgeGraph:
    """Entities, relations and splits of ``(head, relation, tail)`` id triplets.

    ``splits[name]`` is int32 ``[n, 3]``; ``train`` is what models are trained
    on.  ``unseen`` counts what valid and test name that train lacks:
    ``entities``, ``relations`` and ``triplets`` (of valid + test) touching one.
    """

    entities: Vocabulary
    relations: Vocabulary
    splits: Mapping[str, np.ndarray]
    num_train_entities: int
    num_train_relations: int
    unseen: Mapping[str, int] = field(default_factory=dict)

    @property
    def num_entities(self) -> int:
        return len(self.entities)

    @property
    def num_relations(self) -> int:
        return len(self.relations)

    @property
    def train(self) -> np.ndarray:
        return self.splits["train"]

    def split(self, name: str) -> np.ndarray:
        if name not in self.splits:
            raise ParameterError("KnowledgeGraph.split", "name", f"one of "
                                 f"{sorted(self.splits)}", name)
        return self.splits[name]

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.splits):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.splits[name]).tobytes())
        h.update(str((self.num_entities, self.num_relations)).encode())
        return h.hexdigest()[:16]

    def summary(self) -> dict:
        return {"num_entities": self.num_entities, "num_relations": self.num_relations,
                **{f"num_{k}": int(v.shape[0]) for k, v in self.splits.items()},
                "unseen": dict(self.unseen)}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k} {v.shape[0]:,}" for k, v in self.splits.items())
        return (f"KnowledgeGraph({self.num_entities:,} entities, {self.num_relations:,} "
                f"relations; {sizes})")

    @classmethod
    def from_names(cls, splits: Mapping[str, tuple]) -> "KnowledgeGraph":
        """From ``{split: (heads, relations, tails)}`` name arrays; ``train``
        first: its names get the first ids (sorted), the others' new names after."""
        if "train" not in splits:
            raise ParameterError("KnowledgeGraph", "splits", "a 'train' split", sorted(splits))
        order = ["train"] + [k for k in splits if k != "train"]
        h, r, t = (np.asarray(x).astype(str) for x in splits["train"])
        if h.size == 0:
            raise ParameterError("KnowledgeGraph", "train", "at least one triplet", "none")
        ent = np.unique(np.concatenate([h, t]))
        rel = np.unique(r)
        n_ent, n_rel = ent.size, rel.size
        extra_e, extra_r = [], []
        for name in order[1:]:
            sh, sr, st = (np.asarray(x).astype(str) for x in splits[name])
            extra_e.append(np.setdiff1d(np.concatenate([sh, st]), ent))
            extra_r.append(np.setdiff1d(sr, rel))
        new_e = np.unique(np.concatenate(extra_e)) if extra_e else np.array([], dtype=str)
        new_r = np.unique(np.concatenate(extra_r)) if extra_r else np.array([], dtype=str)
        all_e = np.concatenate([ent, new_e]).astype(str)
        all_r = np.concatenate([rel, new_r]).astype(str)
        entities = Vocabulary(all_e, all_e.size)
        relations = Vocabulary(all_r, all_r.size)
        lookup_e, lookup_r = _Lookup(all_e), _Lookup(all_r)
        out = {}
        touching = 0
        for name in order:
            sh, sr, st = (np.asarray(x).astype(str) for x in splits[name])
            ids = np.stack([lookup_e(sh), lookup_r(sr), lookup_e(st)], axis=1)
            out[name] = ids.astype(np.int32)
            if name != "train":
                touching += int(((ids[:, 0] >= n_ent) | (ids[:, 2] >= n_ent)
                                 | (ids[:, 1] >= n_rel)).sum())
        unseen = {"entities": int(new_e.size), "relations": int(new_r.size),
                  "triplets": touching}
        return cls(entities, relations, out, n_ent, n_rel, unseen)


class _Lookup:
    """Vectorised name -> id for names that are all present."""

    def __init__(self, names: np.ndarray):
        self.order = np.argsort(names, kind="stable")
        self.sorted = names[self.order]

    def __call__(self, query: np.ndarray) -> np.ndarray:
        return self.order[np.searchsorted(self.sorted, query)]


def read_knowledge_graph(folder=None, *, train=None, valid=None, test=None
                         ) -> KnowledgeGraph:
    """A :class:`KnowledgeGraph` from ``folder``'s ``train.txt``, ``valid.txt``
    and ``test.txt`` (valid and test optional), or from the files given."""
    files = {"train": train, "valid": valid, "test": test}
    if folder is not None:
        folder = os.fspath(folder)
        if not os.path.isdir(folder):
            raise InputFormatError("no such folder", folder)
        for name in SPLITS:
            if files[name] is None:
                for ext in (".txt", ".txt.gz", ".tsv", ".tsv.gz"):
                    p = os.path.join(folder, name + ext)
                    if os.path.exists(p):
                        files[name] = p
                        break
    if files["train"] is None:
        raise InputFormatError("no train.txt (head relation tail per line)", folder)
    names = {}
    for name, path in files.items():
        if path is None:
            continue
        h, r, t = read_triplets(path)
        if h.size == 0:
            raise InputFormatError(f"the {name} split holds no triplets", path)
        names[name] = (h, r, t)
    kg = KnowledgeGraph.from_names(names)
    u = kg.unseen
    if u["entities"] or u["relations"]:
        log.info("%s: valid/test name %d entities and %d relations that train lacks; the "
                 "%d triplets touching them are kept (standard protocol) and score with "
                 "untrained rows", folder or files["train"], u["entities"], u["relations"],
                 u["triplets"])
    if u["relations"]:
        log.warning("%d relations occur only in valid or test: their triplets cannot be "
                    "predicted better than chance", u["relations"])
    return kg


def as_knowledge_graph(data) -> KnowledgeGraph:
    """A KnowledgeGraph, a folder path, or an int array [n, 3] of (h, r, t) ids."""
    if isinstance(data, KnowledgeGraph):
        return data
    if isinstance(data, (str, os.PathLike)):
        return read_knowledge_graph(data)
    a = np.asarray(data)
    if a.ndim == 2 and a.shape[1] == 3 and a.dtype.kind in "iu":
        if a.size and a.min() < 0:
            raise ParameterError("as_knowledge_graph", "data", "non-negative ids", "negative")
        n_e = int(max(a[:, 0].max(), a[:, 2].max())) + 1 if a.size else 0
        n_r = int(a[:, 1].max()) + 1 if a.size else 0
        return KnowledgeGraph(Vocabulary(None, n_e), Vocabulary(None, n_r),
                              {"train": a.astype(np.int32)}, n_e, n_r,
                              {"entities": 0, "relations": 0, "triplets": 0})
    raise ParameterError("as_knowledge_graph", "data", "a KnowledgeGraph, a folder of "
                         "train/valid/test.txt, or an int array [n, 3]", type(data).__name__)
