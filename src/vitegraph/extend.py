"""New nodes without retraining: extend a trained embedding to a grown graph.

Given embeddings trained on a graph and the graph grown since (new nodes and
their edges; node names match), :func:`embed_new_nodes` gives the new nodes
rows and leaves every old row bitwise as it was:

``method="neighbours"`` (closed form, no training)
    each new node's row is the weighted mean of its neighbours' rows, with
    the old rows fixed: the harmonic extension of the embedding, i.e. the
    solution of ``x_u = sum_v w_uv x_v / sum_v w_uv`` for every new node u,
    found by Jacobi iteration (new nodes next to old ones settle at once;
    chains of new nodes take a few rounds), then scaled to the old rows'
    mean length (a mean of many rows is shorter than they are).  Every node
    table (vertex and context) is extended the same way.  Instant, but on
    BlogCatalog 7 points of Micro-F1 below a retrain (docs/benchmarks.md).
``method="train"``
    a short run of the embedding's model on the grown graph that trains only
    the new nodes' rows (vertex and context), the old rows frozen; within
    2 points of a retrain on BlogCatalog, in a seventh of its time:
    :func:`vitegraph.train` with ``init=embeddings, freeze_existing=True``
    (walks start at the new nodes; the automatic length gives each new row
    the usual samples per row).

**Fallback.**  A new node with no path to any old node (a new component, or
an isolated node) has nothing to be estimated from: ``neighbours`` gives it
a zero row (so a classifier falls back to its prior) and warns with their
count; ``train`` embeds such components among themselves, which places them
arbitrarily with respect to the old nodes.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ._validate import check_float, check_int
from .errors import ParameterError

log = logging.getLogger(__name__)

METHODS = ("neighbours", "train")


def embed_new_nodes(embeddings, graph, *, method: str = "neighbours",
                    max_iterations: int = 100, tolerance: float = 1e-4, **train_options):
    """``embeddings`` (an :class:`~vitegraph.Embeddings` or a saved file)
    extended to every node of ``graph`` (anything :func:`vitegraph.as_graph`
    accepts; node names as in the embedding), as a new Embeddings in the
    graph's node order; old rows are bitwise unchanged.  ``method``:
    ``"neighbours"`` (closed form) or ``"train"`` (a frozen short run;
    ``train_options`` go to :func:`vitegraph.train`, the model defaults to
    the one that trained ``embeddings``).  ``metadata["new_nodes"]`` records
    the method, the number of new nodes and of those with no old node in
    reach."""
    from .embeddings import Embeddings
    from .graph.convert import as_graph
    owner = "embed_new_nodes"
    if method not in METHODS:
        raise ParameterError(owner, "method", " or ".join(map(repr, METHODS)), method)
    if not isinstance(embeddings, Embeddings):
        embeddings = Embeddings.read(embeddings)
    graph = as_graph(graph)
    rows = embeddings.rows_for(graph.vocabulary)
    new = rows < 0
    lost = len(embeddings.vocabulary_of(embeddings.primary)) - int((~new).sum())
    if lost:
        log.warning("%d node(s) of the embedding are not in the graph: their rows are left "
                    "out", lost)
    reach = _reaches_old(graph, ~new)
    unreachable = int((new & ~reach).sum())
    if unreachable:
        log.warning("%d new node(s) have no path to a node of the embedding: %s", unreachable,
                    "zero rows" if method == "neighbours" else "placed by training alone")
    t0 = time.perf_counter()
    if method == "train":
        if train_options.pop("init", None) is not None or "freeze_existing" in train_options:
            raise ParameterError(owner, "train_options", "without init or freeze_existing "
                                 "(set by this function)", "given")
        from .solver import train
        model = train_options.pop("model", embeddings.metadata.get("model", "deepwalk"))
        train_options.setdefault("dim", embeddings.vectors.shape[1])
        train_options.setdefault("progress", False)
        result = train(graph, model, init=embeddings, freeze_existing=True,
                       **train_options)
        out = result.embeddings()
    else:
        max_iterations = check_int(owner, "max_iterations", max_iterations, minimum=1)
        tolerance = check_float(owner, "tolerance", tolerance, minimum=0)
        tables = {}
        for name, table in embeddings.tables.items():
            vocab = embeddings.vocabulary_of(name)
            if vocab is not embeddings.vocabulary and name != embeddings.primary:
                continue        # rows of another kind (relations ...): not nodes
            r = rows if name == embeddings.primary else embeddings.rows_for(graph.vocabulary,
                                                                              name)
            tables[name] = harmonic_extension(graph, table, r, max_iterations, tolerance)
        primary = tables.pop(embeddings.primary)
        out = Embeddings(primary, graph.vocabulary, tables=tables, primary=embeddings.primary,
                         metadata=dict(embeddings.metadata))
    out.metadata["new_nodes"] = {"method": method, "count": int(new.sum()),
                                 "unreachable": unreachable,
                                 "seconds": time.perf_counter() - t0}
    log.info("embedded %d new node(s) by %s in %.2f s", int(new.sum()), method,
             time.perf_counter() - t0)
    return out


def harmonic_extension(graph, table: np.ndarray, rows: np.ndarray, max_iterations: int = 100,
                       tolerance: float = 1e-4) -> np.ndarray:
    """Rows for every node of ``graph``: ``table[rows[u]]`` where ``rows[u] >=
    0``, else the harmonic extension (each such node the weighted mean of its
    neighbours), iterated until no row moves by more than ``tolerance`` times
    the table's mean row norm, or ``max_iterations``; float32."""
    import scipy.sparse as sp
    n = graph.num_nodes
    table = np.asarray(table)
    x = np.zeros((n, table.shape[1]), dtype=np.float32)
    known = rows >= 0
    x[known] = table[rows[known]]
    new = np.flatnonzero(~known)
    if new.size == 0:
        return x
    indptr, indices = graph.indptr, graph.indices
    w = graph.weights
    data = np.ones(indices.size, np.float32) if w is None else np.asarray(w, np.float32)
    a = sp.csr_matrix((data, indices, indptr), shape=(n, n))[new]
    strength = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, strength, out=np.zeros_like(strength), where=strength > 0)
    inv = inv.astype(np.float32)[:, None]
    scale = float(np.sqrt((x[known] ** 2).sum(axis=1)).mean()) if known.any() else 1.0
    for it in range(max_iterations):
        step = (a @ x) * inv
        moved = float(np.abs(step - x[new]).max())
        x[new] = step
        if moved <= tolerance * scale:
            break
    # a mean of many rows is shorter than they are (and a classifier reads short
    # rows as unsure): new rows get the old rows' mean length
    norms = np.sqrt(np.einsum("ij,ij->i", x[new], x[new]))
    ok = norms > 0
    x[new[ok]] *= (scale / norms[ok]).astype(np.float32)[:, None]
    log.info("harmonic extension of %d rows: %d iteration(s), last change %.2g", new.size,
             it + 1, moved)
    return x


def _reaches_old(graph, old: np.ndarray) -> np.ndarray:
    """Nodes with a path (either direction) to a node flagged in ``old``."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    n = graph.num_nodes
    a = sp.csr_matrix((np.ones(graph.indices.size, np.int8), graph.indices, graph.indptr),
                      shape=(n, n))
    _, comp = connected_components(a, directed=True, connection="weak")
    has_old = np.zeros(comp.max() + 1, dtype=bool)
    has_old[comp[old]] = True
    return has_old[comp]
