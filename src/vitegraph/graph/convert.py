"""``as_graph``: accept the graph types users already have."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .graph import Graph


def as_graph(obj, **kwargs) -> Graph:
    """A :class:`Graph` from a Graph (returned as is), a scipy.sparse matrix,
    a networkx graph, an (E, 2) edge array, or a (2, E) PyG ``edge_index``
    tensor.  ``kwargs`` go to the matching builder."""
    from .io import from_edge_index, from_edges, from_networkx, from_scipy
    if isinstance(obj, Graph):
        if kwargs:
            raise ParameterError("as_graph", "kwargs", "none for an existing Graph",
                                 sorted(kwargs))
        return obj
    try:
        import scipy.sparse as sp
        if sp.issparse(obj):
            return from_scipy(obj, **kwargs)
    except ImportError:  # pragma: no cover
        pass
    if hasattr(obj, "is_directed") and hasattr(obj, "nodes") and hasattr(obj, "edges"):
        return from_networkx(obj, **kwargs)
    if hasattr(obj, "detach") and getattr(obj, "ndim", 0) == 2 and obj.shape[0] == 2:
        return from_edge_index(obj, **kwargs)
    arr = np.asarray(obj) if not hasattr(obj, "detach") else obj
    if getattr(arr, "ndim", 0) == 2 and arr.shape[1] == 2:
        return from_edges(arr, **kwargs)
    raise ParameterError("as_graph", "graph", "a Graph, scipy.sparse matrix, networkx graph, "
                         "(E, 2) edge array or (2, E) edge_index", type(obj).__name__)
