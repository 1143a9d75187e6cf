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


def power_law_communities(num_nodes: int = 1_138_499, num_edges: int = 4_945_382,
                          num_communities: int = 50, *, exponent: float = 2.2,
                          mixing: float = 0.3, max_degree: int | None = None,
                          seed: int = 0) -> tuple[Graph, Labels]:
    """A Chung-Lu graph with power-law expected degrees and planted communities,
    and the communities as labels.  Defaults: the size of YouTube (1.14M
    nodes, 4.9M edges), the graph GraphVite times DeepWalk on.

    Node i gets the expected degree ``w_i ~ (i + i0) ** (-1 / (exponent - 1))``
    (a degree distribution with tail ``exponent``, largest ``max_degree``,
    default ``sqrt(2 * num_edges)``) and a community (uniform).  Each edge
    draws its first end by weight; its second end by weight within the first's
    community with probability ``1 - mixing``, else by weight anywhere.
    Repeats and self-loops are dropped, so the graph has slightly fewer than
    ``num_edges`` edges.  Vectorised: YouTube's size takes a few seconds.
    """
    owner = "power_law_communities"
    for name, v, lo in (("num_nodes", num_nodes, 2), ("num_edges", num_edges, 1),
                        ("num_communities", num_communities, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ParameterError(owner, name, f"an int >= {lo}", v)
    if num_communities > num_nodes // 2:
        raise ParameterError(owner, "num_communities", "at most num_nodes // 2",
                             num_communities)
    if not (isinstance(exponent, (int, float)) and exponent > 2):
        raise ParameterError(owner, "exponent", "a number > 2", exponent)
    if not (isinstance(mixing, (int, float)) and 0 <= mixing <= 1):
        raise ParameterError(owner, "mixing", "a number in [0, 1]", mixing)
    rng = np.random.default_rng(seed)
    n, m = int(num_nodes), int(num_edges)
    top = float(max_degree) if max_degree else float(np.sqrt(2.0 * m))
    a = 1.0 / (exponent - 1.0)
    i = np.arange(n, dtype=np.float64)
    w = (i + 1.0) ** -a
    # scale so the mean degree is 2m / n, then cap at `top` and renormalise once
    w *= 2.0 * m / w.sum()
    np.minimum(w, top, out=w)
    w *= 2.0 * m / w.sum()
    rng.shuffle(w)
    community = rng.integers(0, num_communities, n)
    order = np.argsort(community, kind="stable")
    bounds = np.searchsorted(community[order], np.arange(num_communities + 1))
    cum_all = np.cumsum(w)
    cum_in = np.cumsum(w[order])           # by community, contiguous
    src = np.searchsorted(cum_all, rng.random(m) * cum_all[-1], side="right")
    src = np.minimum(src, n - 1)
    dst = np.searchsorted(cum_all, rng.random(m) * cum_all[-1], side="right")
    inside = rng.random(m) >= mixing
    c = community[src[inside]]
    lo = np.where(bounds[c] > 0, cum_in[np.maximum(bounds[c] - 1, 0)], 0.0)
    lo[bounds[c] == 0] = 0.0
    hi = cum_in[bounds[c + 1] - 1]
    pick = np.searchsorted(cum_in, lo + rng.random(c.size) * (hi - lo), side="right")
    pick = np.clip(pick, bounds[c], bounds[c + 1] - 1)
    dst[inside] = order[pick]
    dst = np.minimum(dst, n - 1)
    edges = np.stack([src, dst], axis=1)
    edges = edges[edges[:, 0] != edges[:, 1]]
    g = Graph.from_edges(edges, num_nodes=n)
    labels = Labels.from_pairs(np.arange(n), community, n)
    return g, labels
