"""The immutable CSR graph every other layer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from ..errors import GraphError, UnknownNodeError
from .build import DuplicateEdgeError, build_csr_chunks


class Vocabulary:
    """Node names <-> contiguous ids ``0..n-1``.

    ``names`` is ``None`` for the identity vocabulary (node ``i`` is named ``i``),
    an int64 array, or a numpy unicode array.  Lookups go through a hash map that
    is built on first use.
    """

    __slots__ = ("_names", "_n", "_index")

    def __init__(self, names: Optional[np.ndarray], num_nodes: int):
        if names is not None:
            names = np.asarray(names)
            if names.dtype.kind in "iu":
                names = names.astype(np.int64, copy=False)
                if np.array_equal(names, np.arange(num_nodes)):
                    names = None
            elif names.dtype.kind in "OUS":
                names = names.astype(str)
            else:
                raise GraphError(f"node names must be ints or strings, got dtype {names.dtype}")
        if names is not None:
            if names.size != num_nodes:
                raise GraphError(f"{names.size} node names for {num_nodes} nodes")
            names.setflags(write=False)
        self._names = names
        self._n = int(num_nodes)
        self._index: Optional[dict] = None

    @property
    def is_identity(self) -> bool:
        return self._names is None

    @property
    def names(self) -> np.ndarray:
        """Name of every node, in id order (an int64 ``arange`` for the identity)."""
        return np.arange(self._n, dtype=np.int64) if self._names is None else self._names

    def __len__(self) -> int:
        return self._n

    def _lookup(self) -> dict:
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self._names.tolist())}
        return self._index

    def id_of(self, name: Any) -> int:
        """Id of one node name; raises :class:`UnknownNodeError`."""
        if self._names is None:
            try:
                i = int(name)
            except (TypeError, ValueError):
                raise UnknownNodeError(f"unknown node {name!r}: node names are ints "
                                       f"0..{self._n - 1}") from None
            if i != name or not 0 <= i < self._n:
                raise UnknownNodeError(f"unknown node {name!r}: node names are ints "
                                       f"0..{self._n - 1}")
            return i
        key = name
        if self._names.dtype.kind == "U":
            key = str(name)
        elif isinstance(name, (np.integer,)):
            key = int(name)
        try:
            return self._lookup()[key]
        except (KeyError, TypeError):
            raise UnknownNodeError(f"unknown node {name!r}") from None

    def ids_of(self, names: Iterable[Any]) -> np.ndarray:
        """Ids of many names (vectorised for arrays); raises on the first unknown one."""
        arr = np.asarray(list(names) if not isinstance(names, np.ndarray) else names)
        if arr.size == 0:
            return np.empty(0, dtype=np.int64)
        if self._names is None:
            if arr.dtype.kind not in "iu":
                return np.array([self.id_of(x) for x in arr.tolist()], dtype=np.int64)
            bad = (arr < 0) | (arr >= self._n)
            if bad.any():
                raise UnknownNodeError(f"unknown node {arr[bad][0]!r}: node names are ints "
                                       f"0..{self._n - 1}")
            return arr.astype(np.int64)
        look = self._lookup()
        conv = str if self._names.dtype.kind == "U" else int
        out = np.empty(arr.size, dtype=np.int64)
        for i, x in enumerate(arr.tolist()):  # one dict probe per name, no numpy per item
            try:
                out[i] = look[conv(x)]
            except (KeyError, ValueError, TypeError):
                raise UnknownNodeError(f"unknown node {x!r}") from None
        return out

    def name_of(self, node_id: int) -> Any:
        if not 0 <= node_id < self._n:
            raise UnknownNodeError(f"node id {node_id} out of range 0..{self._n - 1}")
        return int(node_id) if self._names is None else self._names[node_id].item()


@dataclass(frozen=True, eq=False)
class Graph:
    """An immutable graph in CSR form with a node vocabulary.

    Arrays (read-only):

    - ``indptr`` int64[num_nodes + 1]: row ``u`` spans ``indptr[u]:indptr[u+1]``;
    - ``indices`` int32[nnz] (int64 beyond 2**31 nodes): neighbours, each row
      sorted ascending without repeats;
    - ``weights`` float32[nnz] or ``None`` for an unweighted graph.

    An undirected graph stores every edge in both rows (a self-loop once), so
    ``num_stored_edges`` is about twice ``num_edges``; ``num_edges`` counts edges
    as the input gives them (an undirected edge once).

    Build one with :meth:`from_edges` or the readers in :mod:`vitegraph.graph.io`
    (``vg.read_edgelist``, ``vg.from_scipy``, ``vg.from_networkx``,
    ``vg.from_edge_index``, ``vg.read_mat``).
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: Optional[np.ndarray]
    directed: bool
    num_edges: int
    vocabulary: Vocabulary = field(repr=False)

    def __post_init__(self):
        for a in (self.indptr, self.indices, self.weights):
            if a is not None and a.flags.writeable:
                a.setflags(write=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_edges(cls, edges, weights=None, *, num_nodes: Optional[int] = None,
                   nodes: Optional[Sequence[Any]] = None, directed: bool = False,
                   duplicates: str = "auto", self_loops: str = "keep") -> "Graph":
        """Graph from an ``(E, 2)`` array of node names (ints or strings).

        - ``num_nodes``: names are ints in ``[0, num_nodes)`` used as ids directly;
          nodes without edges are kept.
        - ``nodes``: the full list of node names, in id order; edges may only name
          these (isolated nodes are kept).
        - neither: the names are collected from the edges and numbered in sorted
          order (so ``0..n-1`` ints keep their ids).
        """
        from .io import _edges_from_array  # validation lives with the readers
        return _edges_from_array(edges, weights, num_nodes=num_nodes, nodes=nodes,
                                 directed=directed, duplicates=duplicates,
                                 self_loops=self_loops, source="edges")

    @classmethod
    def _from_ids(cls, src: np.ndarray, dst: np.ndarray, weights: Optional[np.ndarray],
                  vocabulary: Vocabulary, *, directed: bool, duplicates: str,
                  self_loops: str) -> "Graph":
        """Build from validated integer ids (internal; readers call this)."""
        return cls._from_chunks([src], [dst], None if weights is None else [weights],
                                vocabulary, directed=directed, duplicates=duplicates,
                                self_loops=self_loops)

    @classmethod
    def _from_chunks(cls, src: list, dst: list, weights: Optional[list],
                     vocabulary: Vocabulary, *, directed: bool, duplicates: str,
                     self_loops: str) -> "Graph":
        """Build from lists of id chunks, which are emptied as they are used
        (internal; the streamed reader hands over its batches)."""
        n = len(vocabulary)
        try:
            csr = build_csr_chunks(src, dst, weights, n, directed=directed,
                                   duplicates=duplicates, self_loops=self_loops)
        except DuplicateEdgeError as exc:
            raise GraphError(
                f"duplicate edge ({vocabulary.name_of(exc.u)!r}, {vocabulary.name_of(exc.v)!r})"
                " and duplicates='error'") from None
        return cls(csr.indptr, csr.indices, csr.weights, bool(directed), csr.num_edges,
                   vocabulary)

    # ------------------------------------------------------------ properties
    @property
    def num_nodes(self) -> int:
        return self.indptr.size - 1

    @property
    def num_stored_edges(self) -> int:
        """Number of stored directed entries (CSR nnz)."""
        return int(self.indptr[-1])

    @property
    def is_weighted(self) -> bool:
        return self.weights is not None

    @property
    def degree(self) -> np.ndarray:
        """Out-degree (number of stored neighbours) of every node, int64."""
        return np.diff(self.indptr)

    @property
    def weighted_degree(self) -> np.ndarray:
        """Sum of out-edge weights of every node, float64 (the degree if unweighted)."""
        if self.weights is None:
            return self.degree.astype(np.float64)
        rows = np.repeat(np.arange(self.num_nodes), self.degree)
        return np.bincount(rows, weights=self.weights, minlength=self.num_nodes)

    @property
    def node_names(self) -> np.ndarray:
        return self.vocabulary.names

    @property
    def nbytes(self) -> int:
        """Bytes held by the CSR arrays."""
        return sum(a.nbytes for a in (self.indptr, self.indices, self.weights) if a is not None)

    # --------------------------------------------------------------- queries
    def neighbors(self, node: Any) -> np.ndarray:
        """Ids of the out-neighbours of node ``node`` (given by name)."""
        u = self.vocabulary.id_of(node)
        return self.indices[self.indptr[u]:self.indptr[u + 1]]

    def edges(self, unique: bool = True) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
        """``(src, dst, weights)`` id arrays; for an undirected graph with
        ``unique=True`` each edge once, as ``src <= dst``."""
        src = np.repeat(np.arange(self.num_nodes, dtype=self.indices.dtype), self.degree)
        dst = np.asarray(self.indices)
        w = self.weights
        if unique and not self.directed:
            keep = src <= dst
            src, dst = src[keep], dst[keep]
            w = None if w is None else w[keep]
        return src, dst, w

    def to_scipy(self):
        """The adjacency as a ``scipy.sparse.csr_matrix`` (shares no memory)."""
        import scipy.sparse as sp
        data = (np.ones(self.num_stored_edges, dtype=np.float32) if self.weights is None
                else np.array(self.weights))
        return sp.csr_matrix((data, np.array(self.indices), np.array(self.indptr)),
                             shape=(self.num_nodes, self.num_nodes))

    def summary(self) -> dict:
        """Plain-data description (for logs, metadata and ``vitegraph info``)."""
        return {
            "num_nodes": self.num_nodes,
            "num_edges": self.num_edges,
            "num_stored_edges": self.num_stored_edges,
            "directed": self.directed,
            "weighted": self.is_weighted,
            "named_nodes": not self.vocabulary.is_identity,
        }

    def fingerprint(self) -> dict:
        """Cheap identity of the graph: sizes and the CRC32 of its CSR arrays
        (recorded in checkpoints, so a run is never resumed on another graph)."""
        import zlib
        crc = zlib.crc32(np.ascontiguousarray(self.indptr).view(np.uint8))
        crc = zlib.crc32(np.ascontiguousarray(self.indices).view(np.uint8), crc)
        if self.weights is not None:
            crc = zlib.crc32(np.ascontiguousarray(self.weights).view(np.uint8), crc)
        return {"num_nodes": self.num_nodes, "num_edges": self.num_edges,
                "num_stored_edges": self.num_stored_edges, "directed": self.directed,
                "crc32": int(crc)}

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        w = ", weighted" if self.is_weighted else ""
        return (f"Graph({self.num_nodes:,} nodes, {self.num_edges:,} edges, {kind}{w})")

    # ------------------------------------------------------------------ io
    def save(self, path, *, format: str = "auto") -> None:
        """Save to a folder of ``.npy`` files (memory-mappable) or one ``.npz``
        (``format='npz'``, or a path ending in ``.npz``).  Atomic: an existing
        file or folder is replaced only once the new one is complete."""
        from .store import save_graph
        save_graph(self, path, format=format)

    @classmethod
    def load(cls, path, *, mmap: bool = False) -> "Graph":
        """Load what :meth:`save` wrote; ``mmap=True`` maps a folder's arrays."""
        from .store import load_graph
        return load_graph(path, mmap=mmap)
