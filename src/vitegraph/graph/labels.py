"""Node labels: a sparse indicator matrix over a graph's nodes."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import scipy.sparse as sp

from ..errors import InputFormatError, UnknownNodeError
from .graph import Graph

log = logging.getLogger(__name__)


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


def read_labels(path, graph, *, delimiter: str = "auto", header: Any = "auto",
                multilabel: Any = "auto") -> Labels:
    """Read ``node label`` lines (several lines per node for multi-label data).

    Node names are matched against the vocabulary of ``graph`` (a
    :class:`Graph`, or a :class:`Vocabulary` such as an embedding's); an unknown
    node is an error naming the line.  Labels may be ints or strings.
    ``header``: as for :func:`read_edgelist` (``'auto'`` detects ``node,label``
    over integer node ids).

    ``multilabel``: ``'auto'`` reads several lines of one node as several labels
    (a line repeated word for word counts once) and warns, naming the first such
    line, when fewer than 5% of the labelled nodes have several (more likely a
    mistake than multi-label data); ``True`` reads several labels without the
    warning; ``False`` makes a node with two different labels an error.
    """
    from .graph import Vocabulary
    from .io import (_check_policy, _detect_delimiter, _line_of_row, _mark_header,
                     _parse_table, read_bytes)

    _check_policy("read_labels", "multilabel", multilabel, ("auto", True, False))
    _check_policy("read_labels", "header", header, ("auto", True, False))
    vocab = graph if isinstance(graph, Vocabulary) else graph.vocabulary
    num_nodes = len(vocab)

    path = os.fspath(path)
    raw = read_bytes(path)
    delim = (_detect_delimiter(raw, path) if delimiter == "auto"
             else (None if delimiter == " " else delimiter.encode()))
    raw = _mark_header(raw, delim, header, path)
    int_names = vocab.is_identity or vocab.names.dtype.kind in "iu"
    id_type = "auto" if int_names else "str"
    table = _parse_table(raw, delim, id_type, path, (2,), weight_cols=0)
    nodes = table.column(0).to_numpy(zero_copy_only=False)
    labels = table.column(1).to_numpy(zero_copy_only=False)
    if labels.dtype == object:
        labels = labels.astype(str)
    if int_names and nodes.dtype.kind not in "iu":
        # the graph's nodes are integers: name the first line whose node is not
        for r, name in enumerate(nodes.tolist()):
            try:
                int(name)
            except (TypeError, ValueError):
                raise InputFormatError(f"node {name!r} is not an integer, but the graph's "
                                       "nodes are integers", path,
                                       _line_of_row(raw, r)) from None
        nodes = nodes.astype(np.int64)
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
    out = Labels.from_pairs(ids, labels, num_nodes)
    _check_multilabel(out, ids, path, raw, multilabel)
    return out


def _check_multilabel(out: "Labels", ids: np.ndarray, path, raw: bytes, multilabel) -> None:
    from .io import _line_of_row
    counts = np.diff(out.matrix.indptr)
    several = np.flatnonzero(counts > 1)
    if several.size == 0 or multilabel is True:
        return
    # the first line that gives a node its second label
    seen: dict = {}
    first_row = None
    wanted = set(several.tolist())
    for r, node in enumerate(ids.tolist()):
        if node in wanted:
            seen[node] = seen.get(node, 0) + 1
            if seen[node] == 2:
                first_row = r
                break
    line = _line_of_row(raw, first_row) if first_row is not None else None
    labelled = int(np.count_nonzero(counts))
    if multilabel is False:
        raise InputFormatError(f"a second label for a node ({several.size} of {labelled} "
                               "labelled nodes have several) and multilabel=False", path, line)
    if several.size < 0.05 * labelled:
        where = f", first on line {line}" if line else ""
        log.warning("%s: %d of %d labelled nodes have several labels%s: read as multi-label "
                    "data (pass multilabel=False to make this an error, True to accept it "
                    "quietly)", path, several.size, labelled, where)


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
