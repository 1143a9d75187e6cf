"""vitegraph: fast graph embeddings after the GraphVite design.

Data flows one way: ``graph`` (CSR storage and readers) -> ``sampling``
(online random-walk augmentation) -> ``partition`` (blocks and schedules) ->
``kernels`` (training loops) -> ``solver`` -> ``apps`` (evaluation, export).
"""

from ._version import __version__
from . import errors
from .graph import (Graph, Labels, Vocabulary, from_edge_index, from_edges, from_networkx,
                    from_scipy, read_edgelist, read_labels, read_mat, read_mat_labels)

__all__ = ["__version__", "errors", "Graph", "Labels", "Vocabulary", "read_edgelist",
           "read_mat", "read_labels", "read_mat_labels", "from_edges", "from_scipy",
           "from_networkx", "from_edge_index"]
