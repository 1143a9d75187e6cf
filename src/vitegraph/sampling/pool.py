"""Sample pools: positive pairs routed into the P x P blocks of a partition.

A :class:`SamplePool` holds ``capacity`` pairs of *local* indices in two flat
arrays ``heads``/``tails`` (int32); block ``b = i * P + j`` (i = partition of the
head / vertex side, j = partition of the tail / context side) is the slice
``offsets[b]:offsets[b + 1]``.  A worker training block (i, j) reads
``pool.block(i, j)`` and indexes vertex rows ``offsets_p[i] + heads`` and
context rows ``offsets_p[j] + tails`` of the permuted embedding tables.

Routing is a parallel counting sort (see :class:`~vitegraph.sampling.WalkSampler`),
so block sizes follow the sampled data: every draw lands in the pool, no block
overflows and none is left half empty.  GraphVite instead gives every block the
same fixed capacity and has each sampler thread draw until all of its block
ranges are full, dropping samples whose block is already full; the share of
draws it wastes is measured by ``bench/samplers.py`` (docs/design-sampling.md).

Memory: a pair costs 8 bytes in each pool plus, for P > 1, a staging buffer of
8 bytes + a block id (1 byte for P <= 16, 2 for P <= 256, else 4) that the
sampler shares between fills.  :func:`pool_capacity` turns a byte budget into a
capacity for ``num_pools`` pools (2 for double buffering: the solver fills one
while it trains on the other).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..partition import Partition


def block_id_dtype(num_partitions: int):
    """Smallest unsigned dtype that holds a block id ``< P * P``."""
    nb = num_partitions * num_partitions
    if nb <= 256:
        return np.uint8
    if nb <= 65536:
        return np.uint16
    return np.int32


def bytes_per_pair(num_partitions: int = 1, num_pools: int = 2) -> int:
    """Bytes one pair of capacity costs: ``8 * num_pools`` plus the staging
    buffer (only for ``num_partitions > 1``)."""
    staging = 0 if num_partitions == 1 else 8 + np.dtype(block_id_dtype(num_partitions)).itemsize
    return 8 * num_pools + staging


def pool_capacity(memory_budget: int, num_partitions: int = 1, num_pools: int = 2) -> int:
    """Pairs per pool that fit ``memory_budget`` bytes for ``num_pools`` pools
    and the shared staging buffer."""
    for name, value in (("memory_budget", memory_budget), ("num_partitions", num_partitions),
                        ("num_pools", num_pools)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError("pool_capacity", name, "a positive int", value)
    cap = int(memory_budget) // bytes_per_pair(int(num_partitions), int(num_pools))
    if cap < 1:
        raise ParameterError("pool_capacity", "memory_budget",
                             f"at least {bytes_per_pair(num_partitions, num_pools)} bytes",
                             memory_budget)
    return cap


class SamplePool:
    """``capacity`` positive pairs in local indices, grouped by block.

    Parameters:
        capacity: number of pairs a fill writes.
        partition: the :class:`~vitegraph.partition.Partition` that defines the
            blocks and local indices; ``None`` means one partition (local index =
            global id).

    Attributes: ``heads``, ``tails`` int32[capacity]; ``offsets`` int64[P*P+1]
    (all zero until the first fill); ``num_partitions``.
    """

    def __init__(self, capacity: int, partition: Partition | None = None):
        if (isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer))
                or capacity < 1):
            raise ParameterError("SamplePool", "capacity", "a positive int", capacity)
        if partition is not None and not isinstance(partition, Partition):
            raise ParameterError("SamplePool", "partition", "a Partition or None", type(partition))
        self.capacity = int(capacity)
        self.partition = partition
        self.num_partitions = 1 if partition is None else partition.num_partitions
        self.heads = np.zeros(self.capacity, dtype=np.int32)
        self.tails = np.zeros(self.capacity, dtype=np.int32)
        self.offsets = np.zeros(self.num_partitions ** 2 + 1, dtype=np.int64)

    @property
    def size(self) -> int:
        """Number of pairs currently held (``capacity`` after a fill)."""
        return int(self.offsets[-1])

    @property
    def nbytes(self) -> int:
        return self.heads.nbytes + self.tails.nbytes + self.offsets.nbytes

    def block(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Views ``(heads, tails)`` of block (i, j), in local indices."""
        P = self.num_partitions
        if not (0 <= i < P and 0 <= j < P):
            raise IndexError(f"block ({i}, {j}) outside a {P} x {P} grid")
        b = i * P + j
        lo, hi = self.offsets[b], self.offsets[b + 1]
        return self.heads[lo:hi], self.tails[lo:hi]

    def block_sizes(self) -> np.ndarray:
        """Pairs per block, ``int64[P, P]``."""
        P = self.num_partitions
        return np.diff(self.offsets).reshape(P, P)

    def global_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """All pairs as global ids (block order), for tests and tools."""
        if self.partition is None:
            return self.heads[:self.size].copy(), self.tails[:self.size].copy()
        P = self.num_partitions
        sizes = self.block_sizes()
        rows = np.repeat(np.arange(P), sizes.sum(axis=1))
        cols = np.repeat(np.tile(np.arange(P), P), sizes.ravel())
        part = self.partition
        return (part.to_global(rows, self.heads[:self.size]),
                part.to_global(cols, self.tails[:self.size]))


def make_pools(memory_budget: int, partition: Partition | None = None,
               num_pools: int = 2) -> list[SamplePool]:
    """``num_pools`` pools sized by :func:`pool_capacity` (two for double buffering)."""
    P = 1 if partition is None else partition.num_partitions
    cap = pool_capacity(memory_budget, P, num_pools)
    return [SamplePool(cap, partition) for _ in range(num_pools)]


@njit(nogil=True, cache=True)
def scatter_blocks(stage_h, stage_t, stage_b, lo, hi, cursor, heads, tails):
    """Stable scatter of staging slots ``[lo, hi)`` to their blocks.

    ``cursor[b]`` is where this thread's next pair of block b goes; it is advanced.
    """
    for k in range(lo, hi):
        b = stage_b[k]
        c = cursor[b]
        heads[c] = stage_h[k]
        tails[c] = stage_t[k]
        cursor[b] = c + 1
