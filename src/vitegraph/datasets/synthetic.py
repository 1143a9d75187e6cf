"""Synthetic labelled graphs with community structure (no download needed)."""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from ..graph import Graph, Labels


def planted_partition(num_nodes: int = 10_000, num_communities: int = 20,
                      degree_in: float = 16.0, degree_out: float = 4.0, *,
                      seed: int = 0) -> tuple[Graph, Labels]:
    """A planted-partition (stochastic block) graph and its community labels.

    Nodes are dealt into ``num_communities`` communities of near-equal size.
    Each node gets on average ``degree_in`` neighbours inside its community and
    ``degree_out`` outside (edges drawn as uniform random pairs, so degrees are
    Poisson-like; repeats merge).  Node ``i``'s label is its community.
    The ratio ``degree_in / degree_out`` sets how hard classification is.
    """
    owner = "planted_partition"
    for name, v, lo in (("num_nodes", num_nodes, 2), ("num_communities", num_communities, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ParameterError(owner, name, f"an int >= {lo}", v)
    if num_communities > num_nodes // 2:
        raise ParameterError(owner, "num_communities", "at most num_nodes // 2",
                             num_communities)
    for name, v in (("degree_in", degree_in), ("degree_out", degree_out)):
        if not isinstance(v, (int, float)) or not v >= 0:
            raise ParameterError(owner, name, "a non-negative number", v)
    if degree_in + degree_out <= 0:
        raise ParameterError(owner, "degree_in", "positive when degree_out is 0", degree_in)
    rng = np.random.default_rng(seed)
    community = np.arange(num_nodes) % num_communities
    rng.shuffle(community)
    members = [np.flatnonzero(community == c) for c in range(num_communities)]
    parts = []
    # inside edges: per community, uniform pairs of members
    sizes = np.array([m.size for m in members])
    m_in = rng.poisson(sizes * degree_in / 2.0)
    for mem, k in zip(members, m_in):
        a = mem[rng.integers(0, mem.size, k)]
        b = mem[rng.integers(0, mem.size, k)]
        parts.append(np.stack([a, b], axis=1))
    # outside edges: uniform pairs across communities
    k = rng.poisson(num_nodes * degree_out / 2.0)
    a = rng.integers(0, num_nodes, int(k * 1.2) + 16)
    b = rng.integers(0, num_nodes, a.size)
    keep = community[a] != community[b]
    parts.append(np.stack([a[keep][:k], b[keep][:k]], axis=1))
    edges = np.concatenate(parts)
    edges = edges[edges[:, 0] != edges[:, 1]]
    g = Graph.from_edges(edges, num_nodes=num_nodes)
    labels = Labels.from_pairs(np.arange(num_nodes), community, num_nodes)
    return g, labels
