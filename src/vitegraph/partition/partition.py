"""Node partitions for parallel negative sampling (DESIGN.md section 1, idea 2).

Nodes are sorted by degree (largest first, ties broken by the smaller node id)
and dealt into ``P`` partitions in zig-zag order: ranks ``0..P-1`` go to
partitions ``0..P-1``, ranks ``P..2P-1`` to ``P-1..0``, and so on.  Node counts
then differ by at most one, and every partition receives one node from each
"round" of ``P`` consecutive degrees, alternating the direction, so degree sums
stay close (the difference is bounded by the largest degree).

A node's local index is the round in which it was dealt, so within a partition
nodes are in decreasing degree order.  Embedding tables are stored in the
permuted order :attr:`Partition.order` (partition 0's nodes, then partition 1's
...) so that a partition is a contiguous row slice
``offsets[p]:offsets[p+1]``.  With ``P = 1`` the permutation is the identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError


@dataclass(frozen=True, eq=False)
class Partition:
    """An assignment of ``num_nodes`` nodes to ``num_partitions`` partitions.

    Attributes:
        num_partitions: P.
        part_of: ``int32[V]``, partition of each global node id.
        local_of: ``int32[V]``, index of each node inside its partition.
        order: ``int32[V]``, global ids in permuted order: partition 0's nodes
            by local index, then partition 1's, ...
        offsets: ``int64[P+1]``, partition p is ``order[offsets[p]:offsets[p+1]]``.

    Node ``n`` lives at permuted row ``offsets[part_of[n]] + local_of[n]`` and
    ``order[that row] == n``.
    """

    num_partitions: int
    part_of: np.ndarray
    local_of: np.ndarray
    order: np.ndarray
    offsets: np.ndarray

    @property
    def num_nodes(self) -> int:
        return int(self.part_of.size)

    def sizes(self) -> np.ndarray:
        """Number of nodes in each partition, ``int64[P]``."""
        return np.diff(self.offsets)

    def rows(self, nodes) -> np.ndarray:
        """Permuted row of each global id in ``nodes`` (``int64``)."""
        nodes = np.asarray(nodes)
        return self.offsets[self.part_of[nodes]] + self.local_of[nodes]

    def to_global(self, part, local) -> np.ndarray:
        """Global ids of ``(part, local)`` pairs (arrays or scalars)."""
        return self.order[self.offsets[np.asarray(part)] + np.asarray(local)]

    def members(self, part: int) -> np.ndarray:
        """Global ids of partition ``part``, by local index (a view)."""
        return self.order[self.offsets[part]:self.offsets[part + 1]]


def partition_nodes(degree, num_partitions: int) -> Partition:
    """Deal nodes into ``num_partitions`` partitions by degree, zig-zag.

    ``degree`` is any non-negative numeric array of length V (an out-degree, or
    a weighted degree).  Deterministic: ties in degree go by node id.
    ``num_partitions`` must be between 1 and max(V, 1).
    """
    degree = np.asarray(degree)
    if degree.ndim != 1:
        raise ParameterError("partition_nodes", "degree", "a 1-D array", degree.shape)
    num_nodes = degree.size
    if (isinstance(num_partitions, bool) or not isinstance(num_partitions, (int, np.integer))
            or not 1 <= num_partitions <= max(num_nodes, 1)):
        raise ParameterError("partition_nodes", "num_partitions",
                             f"an int in [1, {max(num_nodes, 1)}]", num_partitions)
    if num_nodes >= 2**31:
        raise ParameterError("partition_nodes", "degree", "shorter than 2**31", num_nodes)
    P = int(num_partitions)
    if P == 1:
        ident = np.arange(num_nodes, dtype=np.int32)
        return Partition(1, np.zeros(num_nodes, np.int32), ident, ident.copy(),
                         np.array([0, num_nodes], dtype=np.int64))
    # rank 0 = largest degree; stable sort of -degree keeps ties by node id
    by_degree = np.argsort(-degree.astype(np.float64), kind="stable")
    rank = np.arange(num_nodes, dtype=np.int64)
    rnd, pos = np.divmod(rank, P)
    part_by_rank = np.where(rnd % 2 == 0, pos, P - 1 - pos)
    part_of = np.empty(num_nodes, dtype=np.int32)
    local_of = np.empty(num_nodes, dtype=np.int32)
    part_of[by_degree] = part_by_rank
    local_of[by_degree] = rnd
    sizes = np.bincount(part_of, minlength=P).astype(np.int64)
    offsets = np.zeros(P + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    order = np.empty(num_nodes, dtype=np.int32)
    order[offsets[part_of] + local_of] = np.arange(num_nodes, dtype=np.int32)
    return Partition(P, part_of, local_of, order, offsets)
