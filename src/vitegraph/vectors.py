"""Reading vectors to lay out (``vitegraph visualize``) and their labels.

Inputs, by extension:

- ``.npy``: one [n, d] array;
- ``.npz``: an embedding file ``vitegraph embed`` wrote (its primary table and
  node names), or any npz with one 2-D array (or one named ``X``,
  ``vectors`` or ``data``; a 1-D ``labels`` or ``y`` array is read as labels);
- ``.csv`` / ``.tsv`` / ``.txt`` (optionally ``.gz``): numbers, comma or
  tab / space separated, an optional header row; ``label_column`` picks a
  column as the labels (``-1``: the last);
- ``.w2v`` / ``.vec`` / ``.bin``: word2vec embeddings.

Labels (:func:`read_row_labels`): one per line in row order (``.txt``), a
``.npy`` array, or, for embeddings with node names, a ``node label`` file.
"""

from __future__ import annotations

import gzip
import os
from typing import Optional

import numpy as np

from .errors import InputFormatError, ParameterError


def _text_rows(path: str) -> list:
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            return f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputFormatError(f"cannot read ({e})", path) from None


def _read_table(path: str, label_column: Optional[int]):
    base = path[:-3] if path.endswith(".gz") else path
    sep = "," if base.endswith(".csv") else None
    lines = [ln for ln in _text_rows(path) if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise InputFormatError("no rows", path)
    split = (lambda s: s.split(sep)) if sep else (lambda s: s.split())
    first = 0
    try:
        [float(x) for x in split(lines[0])]
    except ValueError:
        first = 1           # a header row
    table = [split(line) for line in lines[first:]]
    if not table:
        raise InputFormatError("a header but no rows", path)
    width = len(table[0])
    if all(len(row) == width for row in table):
        # whole-array conversion; the row-by-row pass below only finds the
        # first bad line for the message
        cells = np.asarray(table)
        if label_column is not None:
            if not -width <= label_column < width:
                raise ParameterError("read_vectors", "label_column", f"a column of the "
                                     f"{width} in {path}", label_column)
            labels = cells[:, label_column]
            cells = np.delete(cells, label_column, axis=1)
        try:
            X = cells.astype(np.float32)
            return X, (labels if label_column is not None else None)
        except ValueError:
            pass
    for no, parts in enumerate(table, start=first + 1):
        if len(parts) != width:
            raise InputFormatError(f"{len(parts)} columns, expected {width} as in the first "
                                   "row", path, no)
        if label_column is not None:
            parts = parts[:label_column] + parts[label_column:][1:]
        try:
            [float(x) for x in parts]
        except ValueError as e:
            raise InputFormatError(f"not a number ({e})", path, no) from None
    raise InputFormatError("not a table of numbers", path)


def read_vectors(path, *, label_column: Optional[int] = None):
    """``(X float32 [n, d], labels or None, names or None)`` of a vector file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFormatError("no such file", path)
    low = path.lower()
    if low.endswith(".npy"):
        try:
            X = np.load(path, allow_pickle=False)
        except Exception as e:
            raise InputFormatError(f"not a numpy .npy file ({e})", path) from None
        return X, None, None
    if low.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            files = set(z.files)
            if "metadata" not in files:     # not an embedding file
                keys = [k for k in ("X", "vectors", "data") if k in files]
                two = [k for k in z.files if z[k].ndim == 2]
                key = keys[0] if keys else (two[0] if len(two) == 1 else None)
                if key is None:
                    raise InputFormatError("an npz needs one 2-D array (or one named X, "
                                           f"vectors or data); it holds {sorted(files)}",
                                           path)
                lab = next((z[k] for k in ("labels", "y") if k in files and z[k].ndim == 1),
                           None)
                return z[key], lab, None
    if low.endswith((".npz", ".w2v", ".vec", ".bin")):
        from .embeddings import Embeddings
        emb = Embeddings.read(path)
        return emb.vectors, None, emb.vocabulary
    if low.endswith((".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")):
        X, labels = _read_table(path, label_column)
        return X, labels, None
    raise InputFormatError("unknown vector format (use .npy, .npz, .csv, .tsv, .txt, "
                           ".w2v, .vec or .bin)", path)


def read_row_labels(path, num_rows: int, vocabulary=None) -> np.ndarray:
    """Labels of ``num_rows`` rows: a ``.npy`` array, a text file with one label
    per line, or (with a ``vocabulary`` of node names) a ``node label`` file;
    the result is an array of ``num_rows`` labels (``""`` = none)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFormatError("no such file", path)
    if path.lower().endswith(".npy"):
        lab = np.load(path, allow_pickle=False)
    elif vocabulary is not None and not vocabulary.is_identity:
        from .graph import read_labels
        labels = read_labels(path, vocabulary)
        m = labels.matrix
        first = np.asarray(m.argmax(axis=1)).ravel()
        lab = np.where(labels.labelled, labels.classes[first].astype(str), "")
    else:
        lab = np.asarray([ln.strip() for ln in _text_rows(path) if ln.strip()])
    if lab.ndim != 1 or lab.shape[0] != num_rows:
        raise ParameterError("visualize", "labels", f"one label per row ({num_rows})",
                             f"{lab.shape[0] if lab.ndim == 1 else lab.shape} in {path}")
    return lab
