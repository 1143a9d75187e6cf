"""Graph storage (CSR + vocabulary), builders, readers and writers."""

from .graph import Graph, Vocabulary
from .io import (from_edge_index, from_edges, from_networkx, from_scipy, read_edgelist,
                 read_mat)
from .labels import Labels, read_labels, read_mat_labels

__all__ = ["Graph", "Vocabulary", "Labels", "read_edgelist", "read_mat", "read_labels",
           "read_mat_labels", "from_edges", "from_scipy", "from_networkx", "from_edge_index"]
