"""Sample pools: samples of K integer columns routed into the P x P blocks of a
partition.

A model declares its sample layout as column names: ``("head", "tail")`` for the
positive pairs of node embedding, ``("head", "relation", "tail")`` for triplets
...  A :class:`SamplePool` holds ``capacity`` samples as ``data`` (int32
``[K, capacity]``, one contiguous row per column).  The first two columns are
the *routed* ones: column 0 (the head side) decides the block row i, column 1
(the tail side) the block column j, and both hold *local* indices inside their
partitions; any further columns (relation ids ...) are carried along unchanged.
Block ``b = i * P + j`` is the slice ``offsets[b]:offsets[b + 1]`` of every
column, and ``pool.block(i, j)`` returns the K views.

Routing is a counting sort (:class:`~vitegraph.sampling.WalkSampler` does it in
parallel, :meth:`SamplePool.route` serially for simple samplers), so block sizes
follow the sampled data: every draw lands in the pool, no block overflows and
none is left half empty.  GraphVite instead gives every block the same fixed
capacity and has each sampler thread draw until all of its block ranges are
full, dropping samples whose block is already full; the share of draws it
wastes is measured by ``bench/samplers.py`` (docs/design-sampling.md).

Memory: a sample costs ``4 K`` bytes in each pool plus, for P > 1, the walk
sampler's staging buffer of 8 bytes + a block id (1 byte for P <= 16, 2 for P <=
256, else 4) shared between fills (:func:`bytes_per_sample`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numba import njit

from .._validate import check_int
from ..errors import ParameterError
from ..partition import Partition

PAIR = ("head", "tail")


def block_id_dtype(num_partitions: int):
    """Smallest unsigned dtype that holds a block id ``< P * P``."""
    nb = num_partitions * num_partitions
    if nb <= 256:
        return np.uint8
    if nb <= 65536:
        return np.uint16
    return np.int32


def bytes_per_sample(num_columns: int = 2, num_partitions: int = 1, num_pools: int = 2) -> int:
    """Bytes one sample of pool capacity costs: ``4 K`` per pool plus the walk
    sampler's staging buffer (only for ``num_partitions > 1``)."""
    staging = 0 if num_partitions == 1 else 8 + np.dtype(block_id_dtype(num_partitions)).itemsize
    return 4 * num_columns * num_pools + staging


class SamplePool:
    """``capacity`` samples of the columns ``columns``, grouped by block.

    Parameters:
        capacity: number of samples a fill writes.
        partition: the :class:`~vitegraph.partition.Partition` that defines the
            blocks and local indices; ``None`` means one partition (local index =
            global id).
        columns: names of the K >= 2 columns; the first two are routed.

    Attributes: ``data`` int32[K, capacity]; ``heads``, ``tails`` (rows 0 and 1
    of ``data``); ``offsets`` int64[P*P+1] (all zero until the first fill);
    ``num_partitions``, ``columns``.
    """

    def __init__(self, capacity: int, partition: Partition | None = None,
                 columns: Sequence[str] = PAIR):
        capacity = check_int("SamplePool", "capacity", capacity, minimum=1)
        if partition is not None and not isinstance(partition, Partition):
            raise ParameterError("SamplePool", "partition", "a Partition or None", type(partition))
        columns = tuple(columns)
        if len(columns) < 2 or len(set(columns)) != len(columns) or not all(
                isinstance(c, str) and c for c in columns):
            raise ParameterError("SamplePool", "columns", "at least two distinct column names",
                                 columns)
        self.capacity = capacity
        self.partition = partition
        self.columns = columns
        self.num_partitions = 1 if partition is None else partition.num_partitions
        self.data = np.zeros((len(columns), self.capacity), dtype=np.int32)
        self.offsets = np.zeros(self.num_partitions ** 2 + 1, dtype=np.int64)

    @property
    def heads(self) -> np.ndarray:
        return self.data[0]

    @property
    def tails(self) -> np.ndarray:
        return self.data[1]

    def column(self, name: str) -> np.ndarray:
        """The whole column ``name`` (block order)."""
        try:
            return self.data[self.columns.index(name)]
        except ValueError:
            raise ParameterError("SamplePool.column", "name", f"one of {self.columns}",
                                 name) from None

    @property
    def size(self) -> int:
        """Number of samples currently held (``capacity`` after a fill)."""
        return int(self.offsets[-1])

    @property
    def nbytes(self) -> int:
        return self.data.nbytes + self.offsets.nbytes

    def block(self, i: int, j: int) -> tuple[np.ndarray, ...]:
        """Views of block (i, j), one per column (routed columns in local indices)."""
        P = self.num_partitions
        if not (0 <= i < P and 0 <= j < P):
            raise IndexError(f"block ({i}, {j}) outside a {P} x {P} grid")
        b = i * P + j
        lo, hi = self.offsets[b], self.offsets[b + 1]
        return tuple(self.data[k, lo:hi] for k in range(len(self.columns)))

    def block_sizes(self) -> np.ndarray:
        """Samples per block, ``int64[P, P]``."""
        P = self.num_partitions
        return np.diff(self.offsets).reshape(P, P)

    def route(self, samples: np.ndarray) -> "SamplePool":
        """Fill the pool from ``samples``, int[K, capacity] of *global* ids (for
        the routed columns) in sampling order: a stable counting sort into the
        blocks, routed columns turned into local indices.  For samplers that
        produce global ids (the walk sampler routes in its own parallel kernels)."""
        samples = np.asarray(samples)
        if samples.shape != self.data.shape or not np.issubdtype(samples.dtype, np.integer):
            raise ParameterError("SamplePool.route", "samples",
                                 f"an int array of shape {self.data.shape}",
                                 f"{samples.dtype} array of shape {samples.shape}")
        samples = samples.astype(np.int32, copy=False)
        part = self.partition
        if part is None or self.num_partitions == 1:
            self.data[:] = samples
            self.offsets[:] = 0
            self.offsets[1:] = self.capacity
            return self
        for k in (0, 1):
            col = samples[k]
            if col.size and (col.min() < 0 or col.max() >= part.num_nodes):
                raise ParameterError("SamplePool.route", "samples",
                                     f"ids in [0, {part.num_nodes}) in column "
                                     f"{self.columns[k]!r}", "ids out of range")
        _route(samples, part.part_of, part.local_of, np.int64(self.num_partitions),
               self.data, self.offsets)
        return self


@njit(nogil=True, cache=True)
def _route(samples, part_of, local_of, P, out, offsets):
    """Stable counting sort of ``samples`` [K, N] into ``out`` by block
    (part_of[col 0], part_of[col 1]); routed columns become local indices."""
    K, N = samples.shape
    counts = np.zeros(P * P, dtype=np.int64)
    for n in range(N):
        counts[part_of[samples[0, n]] * P + part_of[samples[1, n]]] += 1
    offsets[0] = 0
    for b in range(P * P):
        offsets[b + 1] = offsets[b] + counts[b]
    cursor = offsets[:-1].copy()
    for n in range(N):
        h = samples[0, n]
        t = samples[1, n]
        b = part_of[h] * P + part_of[t]
        c = cursor[b]
        out[0, c] = local_of[h]
        out[1, c] = local_of[t]
        for k in range(2, K):
            out[k, c] = samples[k, n]
        cursor[b] = c + 1


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
