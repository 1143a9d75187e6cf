"""vitegraph: fast graph embeddings after the GraphVite design.

Data flows one way: ``graph`` (CSR storage and readers) -> ``sampling``
(online random-walk augmentation, sample pools) -> ``partition`` (blocks and
schedules) -> ``solver`` (coordinator, executors running ``kernels`` on the
tables of a ``models`` spec) -> ``embeddings`` -> ``apps`` (evaluation).

The training side is imported on first use, so ``import vitegraph`` stays cheap.
"""

from ._lazy import lazy_attributes
from ._version import __version__
from . import errors
from .graph import (Graph, Labels, Vocabulary, from_edge_index, from_edges, from_networkx,
                    from_scipy, read_edgelist, read_labels, read_mat, read_mat_labels)
from .graph.convert import as_graph

_LAZY = {
    "DeepWalk": "vitegraph.models", "LINE": "vitegraph.models", "Node2Vec": "vitegraph.models",
    "LargeVis": "vitegraph.models", "ProNE": "vitegraph.models",
    "knn_graph": "vitegraph.graph.knn", "propagate": "vitegraph.spectral",
    "embed_new_nodes": "vitegraph.extend",
    "train": "vitegraph.solver", "TrainConfig": "vitegraph.config",
    "Embeddings": "vitegraph.embeddings",
    **{name: "vitegraph.models" for name in ("TransE", "DistMult", "ComplEx", "SimplE",
                                             "RotatE", "QuatE")},
    "KnowledgeGraph": "vitegraph.graph.triplets",
    "read_knowledge_graph": "vitegraph.graph.triplets",
    "read_triplets": "vitegraph.graph.triplets",
    "evaluate_kg": "vitegraph.apps.kg_eval",
}

__all__ = ["__version__", "errors", "Graph", "Labels", "Vocabulary", "read_edgelist",
           "read_mat", "read_labels", "read_mat_labels", "from_edges", "from_scipy",
           "from_networkx", "from_edge_index", "as_graph", *_LAZY]

__getattr__ = lazy_attributes("vitegraph", globals(), _LAZY)


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
