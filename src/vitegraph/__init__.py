"""vitegraph: fast graph embeddings after the GraphVite design.

Data flows one way: ``graph`` (CSR storage and readers) -> ``sampling``
(online random-walk augmentation) -> ``partition`` (blocks and schedules) ->
``kernels`` (training loops) -> ``solver`` (episodes, pools, workers) ->
``models`` (estimators) -> ``apps`` (evaluation).

The training side is imported on first use, so ``import vitegraph`` stays cheap.
"""

from importlib import import_module

from ._version import __version__
from . import errors
from .graph import (Graph, Labels, Vocabulary, from_edge_index, from_edges, from_networkx,
                    from_scipy, read_edgelist, read_labels, read_mat, read_mat_labels)
from .graph.convert import as_graph

_LAZY = {
    "DeepWalk": "vitegraph.models", "LINE": "vitegraph.models", "Node2Vec": "vitegraph.models",
    "train": "vitegraph.solver", "TrainConfig": "vitegraph.config",
    "Embeddings": "vitegraph.embeddings",
}

__all__ = ["__version__", "errors", "Graph", "Labels", "Vocabulary", "read_edgelist",
           "read_mat", "read_labels", "read_mat_labels", "from_edges", "from_scipy",
           "from_networkx", "from_edge_index", "as_graph", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vitegraph' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
