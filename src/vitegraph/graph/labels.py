"""Node labels: a sparse indicator matrix over a graph's nodes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import numpy as np
import scipy.sparse as sp

from ..errors import InputFormatError, UnknownNodeError
from .graph import Graph


@dataclass(frozen=True, eq=False)
class Labels:
    """Labels of a graph's nodes.

    ``matrix`` is a CSR ``int8`` indicator ``[num_nodes, num_classes]``: row ``i``
    marks the classes of node ``i`` (rows of unlabelled nodes are empty).
    ``classes`` names the columns (sorted).
    """

    matrix: sp.csr_matrix
    classes: np.ndarray

    @property
    def num_classes(self) -> int:
        return self.matrix.shape[1]

    @property
    def num_nodes(self) -> int:
        return self.matrix.shape[0]

    @property
    def labelled(self) -> np.ndarray:
        """Boolean mask of nodes with at least one label."""
        return np.diff(self.matrix.indptr) > 0

    @property
    def is_multilabel(self) -> bool:
        return bool(np.any(np.diff(self.matrix.indptr) > 1))

    def __repr__(self) -> str:
        kind = "multi-label" if self.is_multilabel else "single-label"
        return (f"Labels({int(self.labelled.sum()):,} of {self.num_nodes:,} nodes labelled, "
                f"{self.num_classes} classes, {kind})")

    @classmethod
    def from_pairs(cls, node_ids: np.ndarray, labels: np.ndarray, num_nodes: int) -> "Labels":
        """From parallel arrays of node ids (``0..num_nodes-1``) and label names."""
        classes, col = np.unique(np.asarray(labels), return_inverse=True)
        data = np.ones(col.size, dtype=np.int8)
        m = sp.csr_matrix((data, (np.asarray(node_ids, dtype=np.int64), col)),
                          shape=(num_nodes, classes.size))
        m.sum_duplicates()
        m.data[:] = 1
        return cls(m, classes)


def read_labels(path, graph, *, delimiter: str = "auto") -> Labels:
    """Read ``node label`` lines (several lines per node for multi-label data).

    Node names are matched against the vocabulary of ``graph`` (a
    :class:`Graph`, or a :class:`Vocabulary` such as an embedding's); an unknown
    node is an error naming the line.  Labels may be ints or strings.
    """
    from .graph import Vocabulary
    from .io import _detect_delimiter, _line_of_row, _parse_table, read_bytes

    vocab = graph if isinstance(graph, Vocabulary) else graph.vocabulary
    num_nodes = len(vocab)

    path = os.fspath(path)
    raw = read_bytes(path)
    delim = (_detect_delimiter(raw, path) if delimiter == "auto"
             else (None if delimiter == " " else delimiter.encode()))
    id_type = "str" if not vocab.is_identity and vocab.names.dtype.kind == "U" else "auto"
    table = _parse_table(raw, delim, id_type, path, (2,), weight_cols=0)
    nodes = table.column(0).to_numpy(zero_copy_only=False)
    labels = table.column(1).to_numpy(zero_copy_only=False)
    if labels.dtype == object:
        labels = labels.astype(str)
    try:
        ids = vocab.ids_of(nodes)
    except UnknownNodeError:
        # find the first unknown one for the message (error path only)
        for r, name in enumerate(nodes.tolist()):
            try:
                vocab.id_of(name)
            except UnknownNodeError:
                raise InputFormatError(f"node {name!r} is not a node of the graph",
                                       path, _line_of_row(raw, r)) from None
        raise
    return Labels.from_pairs(ids, labels, num_nodes)


def read_mat_labels(path, graph: Optional[Graph] = None, *, variable: str = "group") -> Labels:
    """Labels from the indicator matrix ``variable`` of a ``.mat`` file
    (BlogCatalog's ``group``); rows are node ids."""
    from .io import _load_mat

    mat = _load_mat(path)
    if variable not in mat:
        found = ", ".join(k for k in mat if not k.startswith("__")) or "none"
        raise InputFormatError(f"no variable {variable!r} (found: {found})", path)
    m = sp.csr_matrix(mat[variable])
    if graph is not None and m.shape[0] != graph.num_nodes:
        raise InputFormatError(f"variable {variable!r} has {m.shape[0]} rows but the graph has "
                               f"{graph.num_nodes} nodes", path)
    m = (m != 0).astype(np.int8).tocsr()
    m.sort_indices()
    return Labels(m, np.arange(m.shape[1]))
